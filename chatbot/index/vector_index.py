"""Which FAISS index holds an index version's vectors: exact (flat) for small corpora,
approximate (IVF) above a size threshold. Chosen at build time, recorded in the manifest.

Measured on this machine (2 cores, shared load, 2026-11-30): an exact top-100 search
over 100,000 384-dimensional vectors took 20-75 ms (a one-off measurement; each
search needs two), over the city's 3,056 chunks well under 1 ms; with the parameters
below IVF kept recall@10 at 1.0 on 100k and 0.968 on 1M synthetic chunks at 0.2-12 ms
per search (`python -m chatbot.benchmarks.suite --parts scale`, README). IVF rather
than HNSW: it builds in minutes where HNSW takes far longer on two cores, and its
recall is steered by one number (`nprobe`) at search time.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from chatbot.index.manifest import VectorIndexInfo

ANN_MIN_CHUNKS = 50_000
"""From this many chunks on, vectors go into an IVF index (see the module docstring)."""
_TRAIN_PER_LIST = 64
"""Training vectors per IVF list (FAISS warns below 39)."""


def choose(count: int, *, ann_min_chunks: int = ANN_MIN_CHUNKS) -> VectorIndexInfo:
    """The index kind for `count` vectors: flat below the threshold, else IVF with
    about 4 sqrt(n) lists, of which 1/32 (at least 8) are searched."""
    if count < ann_min_chunks:
        return VectorIndexInfo()
    nlist = max(16, int(4 * math.sqrt(count)))
    return VectorIndexInfo(kind="ivf", nlist=nlist, nprobe=max(8, nlist // 32))


def build(vectors: npt.NDArray[np.float32], info: VectorIndexInfo, *, seed: int = 0) -> Any:
    """A FAISS inner-product index over `vectors` of the kind `info` names."""
    import faiss

    dimension = vectors.shape[1]
    if info.kind == "flat":
        index = faiss.IndexFlatIP(dimension)
        index.add(vectors)
        return index
    assert info.nlist is not None
    assert info.nprobe is not None
    quantizer = faiss.IndexFlatIP(dimension)
    ivf = faiss.IndexIVFFlat(quantizer, dimension, info.nlist, faiss.METRIC_INNER_PRODUCT)
    sample = vectors
    wanted = info.nlist * _TRAIN_PER_LIST
    if len(vectors) > wanted:
        rows = np.random.default_rng(seed).choice(len(vectors), wanted, replace=False)
        sample = vectors[np.sort(rows)]
    ivf.train(np.ascontiguousarray(sample))
    ivf.add(vectors)
    ivf.nprobe = info.nprobe
    # Needed to read single vectors back (features, related articles, reuse on rebuild).
    ivf.make_direct_map()
    return ivf


def prepare_loaded(index: Any, info: VectorIndexInfo) -> Any:
    """Make a read index usable: IVF needs its direct map and the recorded nprobe."""
    import faiss

    if info.kind == "ivf":
        ivf = faiss.extract_index_ivf(index)
        if ivf.direct_map.type == faiss.DirectMap.NoMap:  # type: ignore[attr-defined]
            ivf.make_direct_map()
        ivf.nprobe = info.nprobe or ivf.nprobe
    return index


def exact_search_params(index: Any) -> Any:
    """Search parameters that make an IVF index scan every list (exact); None for flat."""
    import faiss

    if isinstance(index, faiss.IndexIVF):
        return faiss.SearchParametersIVF(nprobe=index.nlist)  # type: ignore[call-arg]
    return None
