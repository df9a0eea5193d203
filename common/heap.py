"""Giving the memory a process has freed back to the system. No Flask here.

CPython returns small objects' memory to its allocator, and large blocks to glibc's malloc;
glibc keeps freed blocks inside its heap for reuse instead of unmapping them, unless they sit at
its top. A worker that dropped a large delta (units it applied itself until a new index snapshot
replaced them) so kept its resident memory at the peak: memory no other process can use, counted
against each worker. ``malloc_trim`` hands the free pages back.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


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
