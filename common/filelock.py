"""One process at a time per machine, across processes: an flock on a file, which the kernel
releases if the holder dies (a killed training or snapshot build never leaves a stale lock)."""
from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(path: str | Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold the lock on ``path`` (made with its folder if missing); yields True. When ``wait`` is
    False and another process holds it, yields False at once, holding nothing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
