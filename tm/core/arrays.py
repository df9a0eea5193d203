"""Row tables backed by (possibly memory-mapped) numpy arrays, with a small writable overlay.

An index loaded from a snapshot (tm.index_snapshot) must not turn its million rows into Python
objects: a list of a million ints and a dict from id to row cost ~120 MB in every process,
where the arrays they come from are shared by every process that maps the same files. These
classes answer the few operations the indexes use (``[i]``, ``append``, ``[i] = None``,
``get``/``pop``/``in``) from the frozen arrays, and keep what changes after loading (units
added, removed or replaced since the snapshot) in plain Python containers beside them: the
worker's own delta, small until the next snapshot replaces it. Pure: numpy only.
"""
from __future__ import annotations

from array import array
from collections.abc import Iterator

import numpy as np


class FrozenList:
    """A list of ints (unit ids) whose first ``len(frozen)`` items are an int64 array; items may
    be appended, or set to None (a removed row), as the indexes do with their row lists."""

    def __init__(self, frozen: np.ndarray) -> None:
        self._frozen = frozen
        self._size = int(frozen.size)
        self._tail: list[int | None] = []
        self._cleared: set[int] = set()

    def __len__(self) -> int:
        return self._size + len(self._tail)

    def __getitem__(self, row: int) -> int | None:
        if row >= self._size:
            return self._tail[row - self._size]
        if row < 0:
            raise IndexError(row)
        return None if row in self._cleared else int(self._frozen[row])

    def __setitem__(self, row: int, value: None) -> None:
        if value is not None:
            raise ValueError("rows of a frozen list are only ever cleared")
        if row >= self._size:
            self._tail[row - self._size] = None
        else:
            self._cleared.add(row)

    def append(self, value: int | None) -> None:
        self._tail.append(value)

    def __iter__(self) -> Iterator[int | None]:
        cleared = self._cleared
        for row, value in enumerate(self._frozen.tolist()):
            yield None if row in cleared else value
        yield from self._tail


class FrozenStrings:
    """A list of strings whose first rows are one array of code points (``points``) cut by
    ``offsets`` (row r is points[offsets[r]:offsets[r + 1]]); appended rows are str, and any
    row may be set to None (removed). A row is decoded when read: a lookup reads a few dozen."""

    def __init__(self, points: np.ndarray, offsets: np.ndarray) -> None:
        self._points = points
        self._offsets = offsets
        self._size = int(offsets.size) - 1
        self._tail: list[str | None] = []
        self._cleared: set[int] = set()

    def __len__(self) -> int:
        return self._size + len(self._tail)

    def __getitem__(self, row: int) -> str | None:
        if row >= self._size:
            return self._tail[row - self._size]
        if row < 0:
            raise IndexError(row)
        if row in self._cleared:
            return None
        start, end = self._offsets[row], self._offsets[row + 1]
        return self._points[start:end].tobytes().decode("utf-32-le")

    def many(self, rows: np.ndarray) -> list[str | None]:
        """``[self[r] for r in rows]``, the frozen rows gathered and decoded at once (a search
        rescores up to thousands of rows: one decode, not one per row)."""
        rows = np.asarray(rows, dtype=np.int64)
        simple = rows < self._size
        if self._cleared:
            simple &= ~np.isin(rows, np.fromiter(self._cleared, dtype=np.int64, count=len(self._cleared)))
        picked = rows[simple]
        starts = self._offsets[picked]
        lengths = self._offsets[picked + 1] - starts
        ends = np.cumsum(lengths)
        # Each picked row's points, one after another: positions start + 0 .. length - 1.
        at = np.repeat(starts - (ends - lengths), lengths) + np.arange(int(ends[-1]) if ends.size else 0)
        text = self._points[at].tobytes().decode("utf-32-le")
        bounds = [0, *ends.tolist()]
        decoded: list[str | None] = [text[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]
        if picked.size == rows.size:
            # Every row frozen and present, as nearly always: no second pass over the rows
            # (that pass was a fifth of a lookup's time on a 1M-unit snapshot).
            return decoded
        each = iter(decoded)
        return [next(each) if fast else self[row] for row, fast in zip(rows.tolist(), simple.tolist(), strict=True)]

    def __setitem__(self, row: int, value: None) -> None:
        if value is not None:
            raise ValueError("rows of frozen strings are only ever cleared")
        if row >= self._size:
            self._tail[row - self._size] = None
        else:
            self._cleared.add(row)

    def append(self, value: str | None) -> None:
        self._tail.append(value)

    def __iter__(self) -> Iterator[str | None]:
        for row in range(len(self)):
            yield self[row]


def encode_strings(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(points, offsets) of ``texts`` as FrozenStrings reads them: UTF-32 code points, in one
    array, and where each text starts (plus the end)."""
    points = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype="<u4")
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)), out=offsets[1:])
    return points, offsets


class FrozenMap:
    """An int -> int mapping whose frozen part is two arrays, ``keys`` sorted with their
    ``values``; keys set or removed after freezing live in a dict and a set beside them."""

    def __init__(self, keys: np.ndarray, values: np.ndarray) -> None:
        self._keys = keys
        self._values = values
        self._extra: dict[int, int] = {}
        self._removed: set[int] = set()

    @classmethod
    def of(cls, keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The (sorted keys, values) arrays a FrozenMap of ``keys[i] -> values[i]`` takes."""
        order = np.argsort(keys, kind="stable")
        return np.ascontiguousarray(keys[order]), np.ascontiguousarray(values[order])

    def _frozen(self, key: int) -> int | None:
        if key in self._removed or not self._keys.size:
            return None
        at = int(np.searchsorted(self._keys, key))
        if at < self._keys.size and int(self._keys[at]) == key:
            return int(self._values[at])
        return None

    def get(self, key: int, default: int | None = None) -> int | None:
        found = self._extra.get(key)
        if found is not None:
            return found
        found = self._frozen(key)
        return default if found is None else found

    def __getitem__(self, key: int) -> int:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, (int, np.integer)) and self.get(int(key)) is not None

    def __setitem__(self, key: int, value: int) -> None:
        if self._frozen(key) is not None:
            self._removed.add(key)
        self._extra[key] = value

    def pop(self, key: int, default: int | None = None) -> int | None:
        found = self._extra.pop(key, None)
        if found is not None:
            return found
        found = self._frozen(key)
        if found is None:
            return default
        self._removed.add(key)
        return found

    def __len__(self) -> int:
        return int(self._keys.size) - len(self._removed) + len(self._extra)

    def __bool__(self) -> bool:
        return len(self) > 0


class Column:
    """A growable column of numbers (per-row lengths, groups): a numpy array, then the rows
    appended since in an ``array`` of ``typecode``. From a snapshot, the array is the mapped
    file itself (``copy_on_write``: a row written, a removed one's length, makes only its page
    this process's), where a copy cost every worker 12 bytes a row of each index (~45 MB at a
    million units). Indexing, assignment, ``append``, iteration, and ``take(rows)`` for numpy."""

    def __init__(self, typecode: str, frozen: np.ndarray | None = None) -> None:
        self._tail = array(typecode)
        self.dtype = np.dtype(self._tail.typecode)
        self._frozen = np.empty(0, dtype=self.dtype) if frozen is None else frozen
        if self._frozen.dtype != self.dtype:
            raise ValueError(f"a {self._frozen.dtype} array for a column of {self.dtype}")
        self._size = int(self._frozen.size)

    def __len__(self) -> int:
        return self._size + len(self._tail)

    @property
    def nbytes(self) -> int:
        return self.dtype.itemsize * len(self)

    def __getitem__(self, row: int) -> int:
        if row >= self._size:
            return self._tail[row - self._size]
        if row < 0:
            raise IndexError(row)
        return int(self._frozen[row])

    def __setitem__(self, row: int, value: int) -> None:
        if row >= self._size:
            self._tail[row - self._size] = value
        else:
            self._frozen[row] = value

    def append(self, value: int) -> None:
        self._tail.append(value)

    def __iter__(self) -> Iterator[int]:
        yield from self._frozen.tolist()
        yield from self._tail

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The values of ``rows`` (row numbers, any integer array) as a new array."""
        if not self._tail:
            taken: np.ndarray = self._frozen[rows]
            return taken
        tail = np.frombuffer(self._tail, dtype=self.dtype)
        old = rows < self._size
        out = np.empty(rows.shape, dtype=self.dtype)
        out[old] = self._frozen[rows[old]]
        out[~old] = tail[rows[~old] - self._size]
        return out

    def numpy(self) -> np.ndarray:
        """The whole column as one array (a copy when rows were appended)."""
        if not self._tail:
            return self._frozen
        return np.concatenate([self._frozen, np.frombuffer(self._tail, dtype=self.dtype)])


def copy_on_write(frozen: np.ndarray) -> np.ndarray:
    """``frozen`` made writable without copying it: a read-only memory-mapped array is mapped
    again privately (pages shared until written); any other array is copied."""
    if isinstance(frozen, np.memmap) and not frozen.flags.writeable and frozen.filename:
        return np.memmap(frozen.filename, dtype=frozen.dtype, mode="c", offset=frozen.offset, shape=frozen.shape)
    return np.array(frozen)
