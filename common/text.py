"""Traditional Chinese folded to simplified (OpenCC ``t2s``), shared by the TM's match keys and
the glossary's term recognition.

One converter per process, built on first use (loading it reads OpenCC's dictionaries, and
English-only users never pay for it), behind one lock: the OpenCC binding is not documented as
thread-safe, and a conversion takes microseconds.
"""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

__all__ = ["to_simplified", "to_simplified_in_place"]

_opencc_lock = threading.Lock()


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """``text`` with traditional characters as simplified; a phrase rule may change its length."""
    converter = _t2s()
    with _opencc_lock:
        simplified: str = converter.convert(text)
    return simplified


def to_simplified_in_place(text: str) -> str:
    """Like :func:`to_simplified`, but every character stays where it was, so an offset in the
    result is the offset in ``text``: when a phrase rule changed the length (rare), each
    character is converted on its own instead, at the price of phrase context."""
    converter = _t2s()
    with _opencc_lock:
        out: str = converter.convert(text)
        if len(out) == len(text):
            return out
        chars = []
        for ch in text:
            converted = converter.convert(ch)
            chars.append(converted if len(converted) == 1 else ch)
        return "".join(chars)
