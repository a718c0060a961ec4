"""Every number tuned for one embedding model, kept together: the model profile.

The ranker's weights, the query centroids, the chat policy and the content-gap
clustering threshold are all measured on one model's scores; another model's cosines
live on another scale, so its numbers would be quietly wrong. A profile is a
directory

    profile.json          model_id, ranker, policy, clustering_threshold
    query_centroids.npz   per-language query means (optional)

written by `chatbot eval fit-ranker` / `fit-policy` and loaded config-first:
`CHATBOT_MODEL_PROFILE` when set (refused if fitted for another model), else the
bundled profile fitted for the serving model, else an uncalibrated profile and a
loud warning. The index manifest records which profile served with it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from chatbot.dialogue.policy import PolicyProfile
from chatbot.embedding.centering import QueryCentroids
from chatbot.errors import ConfigurationError
from chatbot.retrieval.ranker import LinearRanker

log = logging.getLogger(__name__)

PROFILE_FILE = "profile.json"
CENTROIDS_FILE = "query_centroids.npz"
BUNDLED_PROFILES = "profiles"
"""Directory of the bundled profiles inside the `chatbot` package, one per model."""

UNCALIBRATED_RANKER = LinearRanker(
    {"centred_rank": 1.0, "dense_rank": 1.0, "lex_all_rank": 1.0},
    trained_on="uncalibrated: rank fusion of dense, centred and BM25, not fitted for this model")
"""Ranks carry no model's scale, so their fusion is a fair start for any model."""

DEFAULT_CLUSTERING_THRESHOLD = 0.86
"""Only meaningful for multilingual-e5-small (see editorial/content_gaps.py); an
uncalibrated profile uses it for want of a measured one."""


class ModelProfileError(ConfigurationError):
    """A profile that cannot be read, or one fitted for another model."""


@dataclass(frozen=True)
class ModelProfile:
    model_id: str
    ranker: LinearRanker
    policy: PolicyProfile
    query_centroids: QueryCentroids | None
    clustering_threshold: float
    source: str
    calibrated: bool = True

    @property
    def digest(self) -> str:
        """A short hash of the numbers, recorded in index manifests and logs."""
        centroids = (b"" if self.query_centroids is None else b"".join(
            self.query_centroids.means[k].tobytes() for k in sorted(self.query_centroids.means)))
        payload = json.dumps(self._document(), sort_keys=True).encode() + centroids
        return hashlib.sha256(payload).hexdigest()[:12]

    @property
    def label(self) -> str:
        return f"{self.source} ({self.digest})" if self.calibrated else self.source

    def replace(self, **changes: Any) -> ModelProfile:
        return dataclasses.replace(self, **changes)

    def _document(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "ranker": self.ranker.as_dict(),
                "policy": self.policy.as_dict(),
                "clustering_threshold": self.clustering_threshold}

    def save(self, directory: Path) -> None:
        """Write the profile; each file is replaced atomically so a server reading
        it meanwhile never sees half a file."""
        directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self._document(), indent=2, ensure_ascii=False) + "\n"
        _atomic_write(directory / PROFILE_FILE, text.encode("utf-8"))
        if self.query_centroids is not None:
            with tempfile.NamedTemporaryFile(dir=directory, suffix=".npz", delete=False) as tmp:
                self.query_centroids.save(Path(tmp.name))
            os.replace(tmp.name, directory / CENTROIDS_FILE)

    @classmethod
    def load(cls, directory: Path) -> ModelProfile:
        path = directory / PROFILE_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            model_id = str(raw["model_id"])
            ranker = LinearRanker.from_dict(raw["ranker"])
            policy = PolicyProfile.from_dict(raw["policy"])
            threshold = float(raw["clustering_threshold"])
            centroids = QueryCentroids.load(directory / CENTROIDS_FILE)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ModelProfileError(f"model profile {directory}: {exc!r}") from exc
        if policy.model_id != model_id:
            raise ModelProfileError(f"model profile {directory}: its policy was fitted for "
                                    f"{policy.model_id!r}, the profile is for {model_id!r}")
        if centroids is not None and centroids.model_id != model_id:
            raise ModelProfileError(f"model profile {directory}: its query centroids were "
                                    f"fitted for {centroids.model_id!r}, not {model_id!r}")
        if not 0.0 < threshold < 1.0:
            raise ModelProfileError(f"model profile {directory}: clustering_threshold "
                                    f"{threshold} is not a cosine between 0 and 1")
        return cls(model_id=model_id, ranker=ranker, policy=policy, query_centroids=centroids,
                   clustering_threshold=threshold, source=str(directory))


def profile_slug(model_id: str) -> str:
    """A directory name for a model id (ids hold '/', spaces and parentheses)."""
    return re.sub(r"[^a-z0-9.]+", "-", model_id.lower()).strip("-") or "model"


def bundled_profiles_dir() -> Path:
    return Path(str(resources.files("chatbot").joinpath(BUNDLED_PROFILES)))


def bundled_profile_dir(model_id: str) -> Path:
    """Where the profile for `model_id` is (or would be) bundled."""
    return bundled_profiles_dir() / profile_slug(model_id)


def load_model_profile(model_id: str, configured: Path | None = None) -> ModelProfile:
    """The profile to serve `model_id` with: the configured one (which must fit the
    model), else the bundled one for the model, else uncalibrated with a warning."""
    if configured is not None:
        profile = ModelProfile.load(configured)
        if profile.model_id != model_id:
            raise ModelProfileError(
                f"CHATBOT_MODEL_PROFILE {configured} was fitted for {profile.model_id!r}, but "
                f"the embedding model is {model_id!r}; fit one for this model with "
                "`chatbot eval fit-ranker` and `chatbot eval fit-policy --profile DIR`")
        return profile
    bundled = bundled_profile_dir(model_id)
    if (bundled / PROFILE_FILE).is_file():
        profile = ModelProfile.load(bundled)
        if profile.model_id == model_id:
            return profile.replace(source=f"bundled {bundled.name}")
    log.warning(
        "no model profile for the embedding model %r: searching with an uncalibrated rank "
        "fusion, and the chat escalates every question (offering the best article) until a "
        "profile is fitted: `chatbot eval fit-ranker --profile DIR ...` and `chatbot eval "
        "fit-policy --profile DIR`, then set CHATBOT_MODEL_PROFILE=DIR (README, 'Model "
        "profile')", model_id)
    return uncalibrated_profile(model_id)


def uncalibrated_profile(model_id: str) -> ModelProfile:
    """Numbers that assume nothing about the model's scale: rank fusion for search,
    and a policy that never answers on its own (it escalates, suggesting the best
    article) because no threshold on an unmeasured score can be trusted."""
    return ModelProfile(
        model_id=model_id, ranker=UNCALIBRATED_RANKER,
        policy=PolicyProfile.uncalibrated(model_id), query_centroids=None,
        clustering_threshold=DEFAULT_CLUSTERING_THRESHOLD,
        source="uncalibrated (no profile fitted for this model)", calibrated=False)


def _atomic_write(path: Path, data: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, path)
