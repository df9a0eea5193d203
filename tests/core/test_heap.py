"""common.heap: memory freed inside glibc's heap goes back to the system when asked."""
from __future__ import annotations

import os
import platform

import pytest

from common.heap import release_free_memory


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_freed_blocks_below_a_live_one_go_back_to_the_system():
    # 200 MB in 4 KB blocks (malloc's, not Python's small-object arenas), then one kept above
    # them: freed, they stay in the heap, whose top is held.
    blocks = [bytearray(4096) for _ in range(50_000)]
    kept = bytearray(4096)
    before = _resident_mb()
    del blocks
    assert _resident_mb() > before - 50  # kept by the allocator
    assert release_free_memory()
    assert _resident_mb() < before - 150
    assert kept is not None
