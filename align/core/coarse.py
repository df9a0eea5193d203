"""The coarse pass: where in the grid the fine search has to look.

A long pair of texts is first aligned coarsely, on the mean vectors of blocks of sentences, and
the fine search runs only in a corridor around that coarse path (the FastDTW idea, applied
recursively: a long coarse problem is itself searched coarse-to-fine). Cost so grows linearly
with the texts.
"""
from __future__ import annotations

import numpy as np

from align.core.beads import Weights
from align.core.embedding import unit
from align.core.evidence import take_runs
from align.core.search import Band, banded_products, full_band, viterbi

__all__ = ["corridor"]

#: Gain of the first block of a gap in the coarse pass, which only has to find the corridor.
COARSE_SKIP = -0.3
#: Below this many DP cells the whole grid is searched; above it, coarse-to-fine.
FULL_GRID_CELLS = 400_000
#: Sentences per block at each coarse level, and the corridor kept around the coarse path, in
#: sentences: wide enough for a coarse block misplaced by one and a long bead on either side.
COARSE_FACTOR = 8
CORRIDOR_RADIUS = 12


def corridor(zv: np.ndarray, ev: np.ndarray, lz: np.ndarray, le: np.ndarray, log_ratio: float,
             w: Weights) -> Band:
    """The band of DP cells to search: the whole grid when small, else a corridor of
    ``CORRIDOR_RADIUS`` sentences around the path found on blocks of sentences: ``zv``, ``ev``
    are the sentence vectors of each side, ``lz``, ``le`` their lengths in characters."""
    n, m = len(zv), len(ev)
    if (n + 1) * (m + 1) <= FULL_GRID_CELLS:
        return full_band(n, m)
    blocks = max(1, n // COARSE_FACTOR)
    # Same number of blocks on both sides, so the coarse alignment is close to diagonal.
    zb = np.linspace(0, n, blocks + 1).round().astype(np.int64)
    eb = np.linspace(0, m, blocks + 1).round().astype(np.int64)
    cz = unit(np.add.reduceat(zv * lz[:, None], zb[:-1], axis=0))
    ce = unit(np.add.reduceat(ev * le[:, None], eb[:-1], axis=0))
    clz, cle = np.add.reduceat(lz, zb[:-1]), np.add.reduceat(le, eb[:-1])
    coarse = corridor(cz, ce, clz, cle, log_ratio, w)
    quality: dict[tuple[int, int], np.ndarray] = {}
    rows = np.arange(blocks + 1)[:, None]
    cols = coarse.cols
    for a, b in [(1, 1), (1, 2), (2, 1)]:
        # An array to start from keeps the sum an array (the built-in's 0 would type it int).
        zrun = unit(sum((np.roll(cz, -d, axis=0) for d in range(a)), start=np.zeros_like(cz)))
        erun = unit(sum((np.roll(ce, -d, axis=0) for d in range(b)), start=np.zeros_like(ce)))
        cos = banded_products(zrun, erun, coarse, a, b)
        lzr = take_runs(np.convolve(clz, np.ones(a), "valid"), rows - a)
        ler = take_runs(np.convolve(cle, np.ones(b), "valid"), cols - b)
        ratio = np.log(ler / np.maximum(lzr, 1.0)) - log_ratio
        quality[(a, b)] = (a + b) * (cos - w.length * ratio**2)
    # A passage one text lacks spans whole blocks: gaps here are cheap to extend too, or the
    # coarse path bends round a long one and the corridor loses the true path.
    path = viterbi(blocks, blocks, coarse, quality, COARSE_SKIP, w.gap_extend)
    lo = np.full(n + 1, m, dtype=np.int64)
    hi = np.zeros(n + 1, dtype=np.int64)
    for s, t, a, b in path:
        r0, r1 = zb[s], zb[s + a]
        c0, c1 = eb[t], eb[t + b]
        lo[r0 : r1 + 1] = np.minimum(lo[r0 : r1 + 1], c0)
        hi[r0 : r1 + 1] = np.maximum(hi[r0 : r1 + 1], c1)
    r = CORRIDOR_RADIUS
    padded_lo = np.concatenate([np.full(r, lo[0]), lo, np.full(r, lo[-1])])
    padded_hi = np.concatenate([np.full(r, hi[0]), hi, np.full(r, hi[-1])])
    windows = 2 * r + 1
    lo = np.lib.stride_tricks.sliding_window_view(padded_lo, windows).min(axis=1) - r
    hi = np.lib.stride_tricks.sliding_window_view(padded_hi, windows).max(axis=1) + r
    return Band(np.clip(lo, 0, m), np.clip(hi, 0, m))
