"""Photos with a defect report: base64 in the JSON body, checked by size and by their
first bytes (never by the name or the declared type)."""

from __future__ import annotations

import base64
import binascii

from chatbot.errors import InvalidInputError

PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")


def sniff_image(data: bytes) -> str | None:
    """The image type from the magic bytes: JPEG, PNG or WebP; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def decode_photo(encoded: str, *, max_bytes: int) -> tuple[bytes, str]:
    """(bytes, type) of a base64 photo (a `data:` URL prefix is allowed); an
    InvalidInputError on the field `photo` names what is wrong."""
    text = encoded.strip()
    if text.startswith("data:"):
        text = text.partition(",")[2]
    # base64 grows by a third: refuse before decoding what is clearly too big.
    if len(text) > (max_bytes * 4) // 3 + 8:
        raise InvalidInputError("photo", f"the photo is larger than {max_bytes} bytes")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError("photo", "the photo is not valid base64") from None
    if not data:
        raise InvalidInputError("photo", "the photo is empty")
    if len(data) > max_bytes:
        raise InvalidInputError("photo", f"the photo is larger than {max_bytes} bytes")
    kind = sniff_image(data)
    if kind is None:
        raise InvalidInputError("photo", "the photo must be a JPEG, PNG or WebP image")
    return data, kind
