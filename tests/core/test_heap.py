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


_ARENAS_SCRIPT = r"""
import ctypes, sys, tempfile, threading
from common.heap import limit_arenas

if sys.argv[1] != "default":
    assert limit_arenas(int(sys.argv[1]))
barrier = threading.Barrier(8)
held = []

def work():
    barrier.wait()  # all at once, so that each thread contends for an arena
    held.append([bytearray(32 << 10) for _ in range(64)])  # malloc'd blocks, below the mmap threshold
    barrier.wait()

threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
with tempfile.NamedTemporaryFile(suffix=".xml") as report:
    stream = libc.fopen(report.name.encode(), b"w")
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fclose(ctypes.c_void_p(stream))
    print(open(report.name).read().count("<heap nr="))
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_threads_share_the_arenas_they_are_limited_to():
    """glibc's malloc_info lists the arenas: 8 threads allocating at once get several of their
    own, and share the main one and one more once the process is limited to 2."""
    def arenas(limit: str) -> int:
        done = subprocess.run([sys.executable, "-c", _ARENAS_SCRIPT, limit], capture_output=True, text=True,
                              check=True, cwd=str(Path(__file__).resolve().parents[2]),
                              env={k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"})
        return int(done.stdout)

    assert arenas("default") > 2
    assert arenas("2") <= 2
