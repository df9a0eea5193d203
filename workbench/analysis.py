"""Match bands and the analysis report of an article: pure functions over plain data.

The bands are the ones CAT tools report (Trados, memoQ): context match (101), 100, 95–99,
85–94, 75–84, 50–74, no match, plus repetitions: a segment that occurred earlier in the same
article is counted once as a repetition instead of in its band, since the translator will
translate it once and reuse it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

#: Band keys, best first, with the lowest score each admits; ``None`` is "no match".
BANDS: tuple[tuple[str, float | None], ...] = (
    ("context", 101.0),
    ("exact", 100.0),
    ("95-99", 95.0),
    ("85-94", 85.0),
    ("75-84", 75.0),
    ("50-74", 50.0),
    ("none", None),
)
REPETITION = "repetition"
#: Report rows in display order: the bands, then repetitions.
ROWS = tuple(key for key, _ in BANDS) + (REPETITION,)
#: The lowest score worth reporting; a lookup for analysis asks for matches from here.
LOWEST_BAND = 50.0

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’.-][A-Za-z0-9]+)*")
_SPACE = re.compile(r"\s+")


def band(score: float | None) -> str:
    """The band key for a best-match score (None or below 50: "none")."""
    if score is None:
        return "none"
    for key, floor in BANDS:
        if floor is not None and score >= floor:
            return key
    return "none"


def chinese_characters(text: str) -> int:
    """Han characters in ``text`` (the unit Chinese translation work is counted in)."""
    return len(_HAN.findall(text))


def english_words(text: str) -> int:
    """Words of Latin letters or digits in ``text`` (``don't``, ``U.S.``, ``2.5`` count as one)."""
    return len(_WORD.findall(text))


def repetition_key(text: str) -> str:
    """What makes two segments "the same" for repetitions: whitespace and case folded."""
    return _SPACE.sub(" ", text).strip().casefold()


@dataclass
class BandCount:
    segments: int = 0
    chinese_characters: int = 0
    english_words: int = 0

    def add(self, text: str) -> None:
        self.segments += 1
        self.chinese_characters += chinese_characters(text)
        self.english_words += english_words(text)

    def to_dict(self) -> dict:
        return {"segments": self.segments, "chinese_characters": self.chinese_characters,
                "english_words": self.english_words}


@dataclass
class Analysis:
    """Counts per row (``ROWS``) and the band of each segment, in article order."""

    rows: dict[str, BandCount] = field(default_factory=lambda: {key: BandCount() for key in ROWS})
    segment_bands: list[str] = field(default_factory=list)

    @property
    def total(self) -> BandCount:
        total = BandCount()
        for count in self.rows.values():
            total.segments += count.segments
            total.chinese_characters += count.chinese_characters
            total.english_words += count.english_words
        return total

    def to_dict(self) -> dict:
        return {"rows": {key: count.to_dict() for key, count in self.rows.items()},
                "total": self.total.to_dict(), "segment_bands": list(self.segment_bands)}


def analyse(segments: Sequence[str], best_scores: Iterable[float | None]) -> Analysis:
    """Count ``segments`` into bands by their best match score (None: no match).

    The second and later occurrences of a segment count as repetitions, whatever their score.
    """
    result = Analysis()
    seen: set[str] = set()
    for text, score in zip(segments, best_scores, strict=True):
        key = repetition_key(text)
        row = REPETITION if key in seen else band(score)
        seen.add(key)
        result.rows[row].add(text)
        result.segment_bands.append(row)
    return result


def chart_bars(analysis: Analysis, *, measure: str = "segments") -> list[tuple[str, int, float]]:
    """(row key, value, share of the largest value in 0..1) for a bar chart of ``measure``."""
    values = [(key, getattr(analysis.rows[key], measure)) for key in ROWS]
    largest = max((v for _, v in values), default=0) or 1
    return [(key, value, value / largest) for key, value in values]
