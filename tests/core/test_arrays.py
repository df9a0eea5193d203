"""tm.core.arrays.Column over a mapped file: rows written stay this process's, the file and
other mappings keep the saved values; appended rows answer like the frozen ones."""
from __future__ import annotations

import numpy as np

from tm.core.arrays import Column, copy_on_write


def test_a_column_over_a_mapped_file_writes_privately(tmp_path):
    path = tmp_path / "lengths.npy"
    np.save(path, np.array([3, 5, 8, 13], dtype=np.uint32))
    mapped = np.load(path, mmap_mode="r")
    column = Column("I", copy_on_write(mapped))
    column[1] = 99  # a removed row's length
    column.append(21)
    column.append(34)
    column[5] = 55
    assert list(column) == [3, 99, 8, 13, 21, 55] and len(column) == 6 and column[4] == 21
    assert column.take(np.array([5, 0, 1, 4])).tolist() == [55, 3, 99, 21]
    assert column.numpy().tolist() == [3, 99, 8, 13, 21, 55] and column.nbytes == 24
    # The file and another process's (here: another) mapping still hold what was saved.
    assert mapped.tolist() == np.load(path).tolist() == [3, 5, 8, 13]


def test_an_empty_column_grows_like_an_array():
    column = Column("q")
    for value in (7, -1, 2**40):
        column.append(value)
    assert column.take(np.array([2, 0])).tolist() == [2**40, 7] and column.numpy().dtype == np.int64
