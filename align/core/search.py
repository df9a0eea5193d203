"""The banded search: the best monotone sequence of beads and gaps, by dynamic programming
over a band of the grid of sentence pairs.

Rows are Chinese sentence boundaries (nodes 0..n), columns English ones (0..m); a bead of a
Chinese and b English sentences steps from (i - a, j - b) to (i, j). Only the cells of a band
(``Band``: columns lo[i]..hi[i] for each row) are stored and searched, so cost grows with the
band, not the grid: the whole grid for short texts, a corridor round a coarse path for long
ones (``align.core.coarse``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Band", "banded_products", "full_band", "monotone", "viterbi"]


@dataclass
class Band:
    """For each row i, the allowed columns lo[i]..hi[i] (inclusive); rows are DP nodes."""

    lo: np.ndarray
    hi: np.ndarray
    width: int = field(init=False)
    #: Column index of every banded cell, shape (rows, width).
    cols: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.width = int((self.hi - self.lo).max()) + 1
        self.cols = self.lo[:, None] + np.arange(self.width)[None, :]

    def take(self, values: np.ndarray, rows: np.ndarray, cols: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """values[rows, cols] for banded ``values``; ``fill`` outside the band."""
        n = len(self.lo)
        r = np.clip(rows, 0, n - 1)
        k = cols - self.lo[r]
        ok = (rows >= 0) & (rows < n) & (k >= 0) & (cols <= self.hi[r])
        out = values[r, np.clip(k, 0, self.width - 1)]
        return np.where(ok, out, fill)


def full_band(n: int, m: int) -> Band:
    """Every cell of the (n + 1) × (m + 1) grid."""
    return Band(np.zeros(n + 1, dtype=np.int64), np.full(n + 1, m, dtype=np.int64))


def banded_products(x: np.ndarray, y: np.ndarray, band: Band, dx: int, dy: int) -> np.ndarray:
    """cos(x[i - dx], y[j - dy]) for every banded node (i, j); NaN where a run does not exist.

    Computed blockwise with dense matrix products over the columns a block of rows spans,
    which costs a small constant times the band instead of the whole grid.
    """
    rows, width = len(band.lo), band.width
    out = np.full((rows, width), np.nan, dtype=np.float32)
    block = 64
    for r0 in range(0, rows, block):
        r1 = min(rows, r0 + block)
        xs = np.arange(r0, r1) - dx
        c0, c1 = int(band.lo[r0:r1].min()), int(band.hi[r0:r1].max())
        ys = np.arange(c0, c1 + 1) - dy
        vx = (xs >= 0) & (xs < len(x))
        vy = (ys >= 0) & (ys < len(y))
        if not vx.any() or not vy.any():
            continue
        dense = np.full((r1 - r0, c1 - c0 + 1), np.nan, dtype=np.float32)
        dense[np.ix_(vx, vy)] = x[xs[vx]] @ y[ys[vy]].T
        k = band.cols[r0:r1] - c0
        inside = k <= (band.hi[r0:r1] - c0)[:, None]
        got = np.take_along_axis(dense, np.clip(k, 0, dense.shape[1] - 1), axis=1)
        out[r0:r1] = np.where(inside, got, np.nan)
    return out


def monotone(band: Band) -> tuple[np.ndarray, np.ndarray]:
    """The band's column limits made non-decreasing by widening (the corridor around a
    monotone path nearly is), so rows can be looked up by column with a binary search."""
    lo = np.minimum.accumulate(band.lo[::-1])[::-1]
    hi = np.maximum.accumulate(band.hi)
    return lo, hi


def viterbi(n: int, m: int, band: Band, quality: dict[tuple[int, int], np.ndarray],
             gap_open: float, gap_extend: float) -> list[tuple[int, int, int, int]]:
    """Best monotone path from (0, 0) to (n, m), as (i, j, a, b) steps.

    ``quality[(a, b)]`` holds, banded, the gain of a bead of a Chinese and b English sentences
    ending at each node (NaN/-inf: impossible). Unaligned sentences come in gaps, as in
    Gotoh's affine-gap alignment: a gap gains ``gap_open`` for its first sentence and
    ``gap_extend`` for each further one, whichever side each is on. Two tables: the best path
    to a node ending with a bead (or the start), and the best one ending inside a gap.
    """
    shapes = [s for s in quality if s[0] and s[1]]
    gains = [np.nan_to_num(quality[s], nan=-np.inf) for s in shapes]
    width, cols = band.width, band.cols
    steps = np.arange(width)
    bead = np.full((n + 1, width), -np.inf)
    gap = np.full((n + 1, width), -np.inf)
    # bead_from: 2 * shape index + 1 if the bead follows a gap; gap_from: see _GAP_FROM.
    bead_from = np.full((n + 1, width), -1, dtype=np.int16)
    gap_from = np.full((n + 1, width), -1, dtype=np.int8)
    for i in range(n + 1):
        outside = cols[i] > m
        row = np.full(width, -np.inf)
        came = np.full(width, -1, dtype=np.int16)
        if i == 0:
            row[cols[0] == 0] = 0.0
        for k, (a, b) in enumerate(shapes):
            if i - a < 0:
                continue
            before = np.full(width, i - a)
            after_bead = band.take(bead, before, cols[i] - b, fill=-np.inf)
            after_gap = band.take(gap, before, cols[i] - b, fill=-np.inf)
            cand = np.maximum(after_bead, after_gap) + gains[k][i]
            better = cand > row
            row[better] = cand[better]
            came[better] = 2 * k + (after_gap > after_bead)[better]
        row[outside] = -np.inf
        # A gap reaches (i, j) from above (Chinese sentence i - 1 unaligned) or from the left
        # (English sentence j - 1); along the row, a gap runs on at gap_extend per sentence,
        # which a running maximum solves for the whole row at once.
        above = np.full(width, i - 1)
        entries = np.stack([
            band.take(bead, above, cols[i], fill=-np.inf) + gap_open,
            band.take(gap, above, cols[i], fill=-np.inf) + gap_extend,
            np.concatenate([[-np.inf], row[:-1]]) + gap_open,
        ])
        entry, how = entries.max(axis=0), entries.argmax(axis=0)
        entry[outside] = -np.inf
        with np.errstate(invalid="ignore"):
            running = np.maximum.accumulate(entry - gap_extend * steps) + gap_extend * steps
        runs_on = running > entry + 1e-12
        gap[i] = np.where(runs_on, running, entry)
        gap_from[i] = np.where(runs_on, _GAP_FROM.index("gap left"), how)
        bead[i], bead_from[i] = row, came
    path, i, j = [], n, m
    k = j - band.lo[i]
    in_gap = gap[i, k] > bead[i, k]
    while i > 0 or j > 0:
        k = j - band.lo[i]
        code = int(gap_from[i, k] if in_gap else bead_from[i, k])
        if code < 0:
            raise RuntimeError("alignment corridor lost the path")  # a band bug, not bad input
        if in_gap:
            a, b = (1, 0) if _GAP_FROM[code].endswith("above") else (0, 1)
            in_gap = _GAP_FROM[code].startswith("gap")
        else:
            (a, b), in_gap = shapes[code // 2], bool(code % 2)
        path.append((i - a, j - b, a, b))
        i, j = i - a, j - b
    return path[::-1]


#: Where a gap's last sentence came from, in the order ``viterbi`` stacks the entries.
_GAP_FROM = ("bead above", "gap above", "bead left", "gap left")
