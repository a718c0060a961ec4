"""Secret tokens: citizens' access and cancel tokens, agents' bearer tokens.

Only SHA-256 hashes are stored. A citizen's token must still be answerable when a
request is retried with the same Idempotency-Key (the first response may have been
lost), so it is derived from a random per-row salt, the raw key and the request:
the stored hash of the key is not enough to rebuild it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_salt() -> str:
    return secrets.token_hex(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), stored_hash)


def fingerprint(payload: Any) -> str:
    """A stable hash of a request body, to tell a retry from a different request."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def derive_token(*, salt: str, seed: str, request_fingerprint: str) -> str:
    digest = hmac.new(bytes.fromhex(salt), f"{seed}\x00{request_fingerprint}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def issue_token(*, idempotency_key: str | None, request_fingerprint: str) -> tuple[str, str]:
    """A fresh (token, salt); with an idempotency key the token can be derived again."""
    salt = new_salt()
    seed = idempotency_key if idempotency_key is not None else new_token()
    return derive_token(salt=salt, seed=seed, request_fingerprint=request_fingerprint), salt


def read_only_token(token: str, *, purpose: str, reference: str) -> str:
    """A token for one narrower use (`purpose`, e.g. "ics") derived one-way from a
    citizen's full token: it can go into a link, and whoever reads the link cannot get
    the full token (which cancels) back from it. Derivable again from the full token, so
    an Idempotency-Key replay can show the same link."""
    digest = hmac.new(token.encode("utf-8"), f"{purpose}\x00{reference}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
