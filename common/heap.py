"""Giving the memory a process has freed back to the system. No Flask here.

CPython returns small objects' memory to its allocator, and large blocks to glibc's malloc;
glibc keeps freed blocks inside its heap for reuse instead of unmapping them, unless they sit at
its top. A worker that dropped a large delta (units it applied itself until a new index snapshot
replaced them) so kept its resident memory at the peak: memory no other process can use, counted
against each worker. ``malloc_trim`` hands the free pages back.

The same holds for a lookup's temporaries: a Chinese query's candidate search at 1M units
allocates up to 30-60 MB of numpy arrays, many of them blocks of 0.1-4 MB, which glibc serves
from the heap of the arena of the request's thread (its mmap threshold rises to the largest
block freed) and keeps once they are freed: 30-60 MB a worker of a million-unit TM, measured
with bench/gunicorn_memory.py. A fixed mmap threshold of 128 KB or 1 MB (MALLOC_MMAP_THRESHOLD_)
gave it back but doubled a lookup's CPU time (blocks mapped, unmapped and faulted in again at
every lookup); one of 4 MB kept the speed and the memory alike; fewer arenas (MALLOC_ARENA_MAX=2)
changed neither. So the allocator keeps its speed, and ``keep_trimmed`` trims a serving
process's heap a few seconds after a burst of work.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import threading
import time
from collections.abc import Callable

#: Seconds between two looks at a serving process's memory (keep_trimmed).
TRIM_EVERY = 5.0
#: How far the process's anonymous resident memory must have grown, or the heap's bytes in use
#: moved, since the last trim for the next one to be worth its time (keep_trimmed).
TRIM_AFTER_CHANGE = 8 << 20


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    # glibc only: musl and macOS have no malloc_trim (and their allocators unmap on their own).
    return getattr(libc, "malloc_trim", None)


def release_free_memory() -> bool:
    """Return the C heap's free pages to the system; True when some were (glibc), False where
    there is nothing to call. A walk over the heap: milliseconds, for after a large drop."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


@functools.cache
def _mallinfo2() -> Callable[[], _MallInfo2] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    function = getattr(libc, "mallinfo2", None)  # glibc 2.33 and later
    if function is not None:
        function.restype = _MallInfo2
    return function


def heap_in_use() -> int | None:
    """Bytes the C heap has handed out and not had back (glibc's mallinfo2), None elsewhere."""
    info = _mallinfo2()
    return int(info().uordblks) if info is not None else None


def anonymous_resident_bytes() -> int:
    """Resident memory not backed by a file: /proc/self/statm's resident pages minus its
    file-backed ones (0 where there is no /proc)."""
    try:
        with open("/proc/self/statm") as statm:
            fields = statm.read().split()
    except OSError:
        return 0
    return (int(fields[1]) - int(fields[2])) * os.sysconf("SC_PAGE_SIZE")


#: glibc's mallopt parameter for the number of arenas (malloc.h's M_ARENA_MAX).
_M_ARENA_MAX = -8


def limit_arenas(count: int) -> bool:
    """Let the process's threads share at most ``count`` malloc arenas (MALLOC_ARENA_MAX, set
    at run time): True when glibc took it, False elsewhere. Call it before the threads start.

    glibc gives threads arenas of their own, up to 8 per core, and each keeps its own freed
    blocks and fragments: a gunicorn worker's 64 threads took 10 and more, 74-82 MB private
    per worker at a million units after 200 lookups, against 44-52 MB with 2 arenas
    (bench/gunicorn_memory.py). A worker runs ADMIT_ACTIVE (2) requests at a time, so 2 arenas
    are as many as its threads contend for."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None or _malloc_trim() is None:  # glibc's mallopt only: musl's ignores it
        return False
    return bool(mallopt(_M_ARENA_MAX, max(1, count)))


def keep_trimmed(every: float = TRIM_EVERY, change: int = TRIM_AFTER_CHANGE) -> threading.Thread | None:
    """Start a daemon thread that, every ``every`` seconds, hands the heap's free pages back
    when, since the last time, the process's anonymous resident memory grew by ``change`` bytes
    (lookups came and went, and their blocks stayed) or what the heap has in use moved by as
    much (large blocks in use then were freed since). An idle process is left alone. For a
    serving process, after it forked: None where there is nothing to call (not glibc 2.33+)."""
    if _malloc_trim() is None or heap_in_use() is None:
        return None

    def trim_now_and_then() -> None:
        resident, in_use = anonymous_resident_bytes(), heap_in_use() or 0
        while True:
            time.sleep(every)
            if (anonymous_resident_bytes() - resident > change
                    or abs((heap_in_use() or 0) - in_use) > change):
                release_free_memory()
                resident, in_use = anonymous_resident_bytes(), heap_in_use() or 0

    thread = threading.Thread(target=trim_now_and_then, name="heap-trim", daemon=True)
    thread.start()
    return thread
