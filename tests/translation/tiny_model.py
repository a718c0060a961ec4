"""Build a tiny, random-weight `.argosmodel` for the tests: a real sentencepiece model
and a real CTranslate2 model (a one-layer Marian transformer converted by ctranslate2's
own converter), packaged the way argostranslate packages are. The translations are
gibberish; the tests check the plumbing, not the wording."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

SENTENCES = [
    "Den Personalausweis beantragen Sie persönlich im Bürgerbüro.",
    "Der Reisepass kostet 70 Euro und ist zehn Jahre gültig.",
    "You apply for the identity card in person at the citizens' office.",
    "The passport costs 70 euros and is valid for ten years.",
    "Vous demandez la carte d'identité en personne au bureau des citoyens.",
    "Bringen Sie ein biometrisches Passfoto und Ihren alten Ausweis mit.",
    "Bring a biometric passport photo and your old identity card.",
    "Die Anmeldung der Wohnung ist innerhalb von zwei Wochen Pflicht.",
    "Registering your flat within two weeks is compulsory.",
]


class _VocabTokenizer:
    """What ctranslate2's Marian loader asks of a tokenizer: the vocabulary and the
    special tokens."""

    eos_token = "</s>"
    unk_token = "<unk>"

    def __init__(self, pieces: list[str]) -> None:
        self._vocab = {piece: i for i, piece in enumerate(pieces)}

    def get_vocab(self) -> dict[str, int]:
        return dict(self._vocab)


def build_argosmodel(workdir: Path, from_code: str, to_code: str, *, seed: int = 0) -> Path:
    """Write `<from>_<to>.argosmodel` into workdir and return its path."""
    import ctranslate2
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel

    name = f"translate-{from_code}_{to_code}-test"
    root = workdir / name
    root.mkdir(parents=True)
    corpus = workdir / f"{name}.txt"
    corpus.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(root / "sentencepiece"), vocab_size=120,
        character_coverage=1.0, model_type="unigram", minloglevel=2)
    (root / "sentencepiece.vocab").unlink()
    processor = spm.SentencePieceProcessor(model_file=str(root / "sentencepiece.model"))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    pad_id = len(pieces)  # the Marian loader drops a trailing <pad>
    torch.manual_seed(seed)
    config = MarianConfig(
        vocab_size=len(pieces) + 1, decoder_vocab_size=len(pieces) + 1, d_model=16,
        encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
        max_position_embeddings=1024, pad_token_id=pad_id,
        eos_token_id=processor.eos_id(), decoder_start_token_id=pad_id,
        forced_eos_token_id=processor.eos_id(), share_encoder_decoder_embeddings=True)
    hf_dir = workdir / f"{name}-hf"
    MarianMTModel(config).save_pretrained(hf_dir)

    class _Converter(ctranslate2.converters.TransformersConverter):
        def load_tokenizer(self, tokenizer_class: Any, model_name_or_path: str,
                           **kwargs: Any) -> _VocabTokenizer:
            return _VocabTokenizer([*pieces, "<pad>"])

    _Converter(str(hf_dir)).convert(str(root / "model"), quantization="int8", force=True)
    (root / "metadata.json").write_text(json.dumps({
        "package_version": "0.0.1", "argos_version": "1.9.0", "from_code": from_code,
        "from_name": from_code, "to_code": to_code, "to_name": to_code,
        "type": "translate", "links": [],
    }), encoding="utf-8")
    archive = workdir / f"{from_code}_{to_code}.argosmodel"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(root.rglob("*")):
            zipped.write(path, path.relative_to(workdir).as_posix())
    return archive
