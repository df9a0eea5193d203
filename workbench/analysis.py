"""Match bands and the analysis report of an article: pure functions over plain data.

The bands are the ones CAT tools report (Trados, memoQ): context match (101), 100, 95–99,
85–94, 75–84, 50–74, no match, plus repetitions: a segment that occurred earlier in the same
article is counted once as a repetition instead of in its band, since the translator will
translate it once and reuse it.

Fragments (issue 17): per segment and in total, the characters covered by fragments the
memory holds a translation of (``fragment_chinese_characters`` / ``fragment_english_words``,
counted as the rest of the report counts), and a row "fragments only" beside the fuzzy
bands: a new segment with no match of the lowest band but some fragment, which a translator
still does with help (memoQ and Trados report such leverage beside the fuzzy bands too).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat

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
#: A segment below the lowest band that some fragment of the memory covers in part.
FRAGMENTS_ONLY = "fragments"
#: Report rows in display order: the fuzzy bands, fragments only, no match, then repetitions.
ROWS = tuple(key for key, _ in BANDS[:-1]) + (FRAGMENTS_ONLY, "none", REPETITION)
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


def covered_text(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """The parts of ``text`` inside ``spans`` (offsets into it, overlaps merged), joined by a
    space so that words of two spans never run together."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, a), min(len(text), b)) for a, b in spans):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return " ".join(text[a:b] for a, b in merged)


@dataclass
class BandCount:
    segments: int = 0
    chinese_characters: int = 0
    english_words: int = 0
    #: ... of those, inside fragments (see the module docstring).
    fragment_chinese_characters: int = 0
    fragment_english_words: int = 0

    def add(self, text: str, fragment_spans: Iterable[tuple[int, int]] = ()) -> None:
        self.segments += 1
        self.chinese_characters += chinese_characters(text)
        self.english_words += english_words(text)
        covered = covered_text(text, fragment_spans)
        self.fragment_chinese_characters += chinese_characters(covered)
        self.fragment_english_words += english_words(covered)

    def merge(self, other: BandCount) -> None:
        self.segments += other.segments
        self.chinese_characters += other.chinese_characters
        self.english_words += other.english_words
        self.fragment_chinese_characters += other.fragment_chinese_characters
        self.fragment_english_words += other.fragment_english_words

    def to_dict(self) -> dict:
        return {"segments": self.segments, "chinese_characters": self.chinese_characters,
                "english_words": self.english_words,
                "fragment_chinese_characters": self.fragment_chinese_characters,
                "fragment_english_words": self.fragment_english_words}


@dataclass
class Analysis:
    """Counts per row (``ROWS``) and the band of each segment, in article order."""

    rows: dict[str, BandCount] = field(default_factory=lambda: {key: BandCount() for key in ROWS})
    segment_bands: list[str] = field(default_factory=list)
    #: Per segment, in article order: its counts (one segment each), fragments included.
    segment_counts: list[BandCount] = field(default_factory=list)

    @property
    def total(self) -> BandCount:
        total = BandCount()
        for count in self.rows.values():
            total.merge(count)
        return total

    def to_dict(self) -> dict:
        return {"rows": {key: count.to_dict() for key, count in self.rows.items()},
                "total": self.total.to_dict(), "segment_bands": list(self.segment_bands),
                "segments": [count.to_dict() for count in self.segment_counts]}


def analyse(segments: Sequence[str], best_scores: Iterable[float | None],
            fragment_spans: Iterable[Sequence[tuple[int, int]]] | None = None) -> Analysis:
    """Count ``segments`` into bands by their best match score (None: no match).

    ``fragment_spans`` gives, per segment, the (start, end) offsets of the fragments shown for
    it: their characters are counted, and a segment below the lowest band with any of them is
    "fragments only" rather than "no match". The second and later occurrences of a segment
    count as repetitions, whatever their score.
    """
    result = Analysis()
    seen: set[str] = set()
    spans_of = fragment_spans if fragment_spans is not None else repeat(())
    for text, score, spans in zip(segments, best_scores, spans_of, strict=fragment_spans is not None):
        key = repetition_key(text)
        row = REPETITION if key in seen else band(score)
        seen.add(key)
        count = BandCount()
        count.add(text, spans)
        if row == "none" and (count.fragment_chinese_characters or count.fragment_english_words):
            row = FRAGMENTS_ONLY
        result.rows[row].merge(count)
        result.segment_bands.append(row)
        result.segment_counts.append(count)
    return result


def chart_bars(analysis: Analysis, *, measure: str = "segments") -> list[tuple[str, int, float]]:
    """(row key, value, share of the largest value in 0..1) for a bar chart of ``measure``."""
    values = [(key, getattr(analysis.rows[key], measure)) for key in ROWS]
    largest = max((v for _, v in values), default=0) or 1
    return [(key, value, value / largest) for key, value in values]
