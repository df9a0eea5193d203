"""The demo glossary: real entries for Chinese news translation, shipped with the code.

``termbase.tsv`` is in the table format of :mod:`glossary.formats.table` (one row per term).
Names follow the English forms the bodies themselves use, as far as known to the editor; they
were written without network access and not re-checked online for this build. Where a fact is
uncertain (the Chinese characters of a byline, an English house form, a founding date) the
entry's note says so. Forbidden and deprecated terms follow the house style of China's central
media (CPC, not CCP; Belt and Road Initiative, not OBOR) and common English news usage (Kyiv,
not Kiev).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from glossary.core.model import Entry
from glossary.formats.table import read_table

TERMBASE_PATH = Path(__file__).with_name("termbase.tsv")


@lru_cache(maxsize=1)
def _entries() -> tuple[Entry, ...]:
    return tuple(read_table(TERMBASE_PATH))


def load_demo_entries() -> list[Entry]:
    """The demo glossary's entries, in file order (read once; entries are immutable)."""
    return list(_entries())
