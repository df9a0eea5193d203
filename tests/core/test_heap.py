"""common.heap: memory freed inside glibc's heap goes back to the system when asked."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

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


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_a_serving_process_hands_freed_blocks_back_on_its_own():
    """keep_trimmed's thread notices the grown heap and trims it, with nobody asking."""
    script = r"""
import time
from common.heap import keep_trimmed, anonymous_resident_bytes

assert keep_trimmed(every=0.1, change=16 << 20) is not None
blocks = [bytearray(4096) for _ in range(50_000)]  # 200 MB, then one block kept above them
kept = bytearray(4096)
time.sleep(0.5)  # the thread trims now and again while they are in use: nothing to give back
before = anonymous_resident_bytes()
del blocks
deadline = time.monotonic() + 10
while anonymous_resident_bytes() > before - (150 << 20) and time.monotonic() < deadline:
    time.sleep(0.05)
print((before - anonymous_resident_bytes()) >> 20)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          cwd=str(Path(__file__).resolve().parents[2]))
    assert int(done.stdout) >= 150
