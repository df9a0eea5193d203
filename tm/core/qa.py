"""Per-segment QA of a translation as the translator types: numbers and untranslated Chinese.

Pure: plain strings in, plain issues out. The glossary's checks (terms missing, forbidden or
deprecated renderings) are the glossary's own (``glossary.core.qa``); the web layer adds them
to these through the hook the glossary installs, so ``tm`` never imports ``glossary``.

Numbers are compared by value (``tm.core.numbers``), so 250亿 in the source is found as
"25 billion" or "25,000,000,000" in the target and 1.2万 as "12,000". A source number whose value
the target lacks is *changed* when the target has a number the source lacks (the translator
most likely mistyped it: its span is shown), otherwise *missing*. Month names count as the
month's number (5月 is "May"), and English number words up to twelve as their value ("10个月"
may be "ten months"), since news style spells those out.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from common.messages import N_, Message
from tm.core.numbers import extract_numbers

NUMBER_MISSING = "number_missing"
NUMBER_CHANGED = "number_changed"
UNTRANSLATED = "untranslated"

ERROR = "error"
WARNING = "warning"

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_MONTH_ABBREVIATIONS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
                        "sept": 9, "oct": 10, "nov": 11, "dec": 12}
_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                 "twelve")
_WORD_VALUES = {**{m: i for i, m in enumerate(_MONTHS, 1)}, **_MONTH_ABBREVIATIONS,
                **{w: i for i, w in enumerate(_NUMBER_WORDS, 1)}}
# "May" is a month only with a capital (else the verb); the abbreviations only with a capital and
# a following dot or day ("Sept. 3", "Oct 1"), so "mar" and "dec" in running text stay words.
_WORDS_RE = re.compile(
    r"\b(?:(?P<month>January|February|March|April|May|June|July|August|September|October|November|December)"
    r"|(?P<abbr>Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)(?=\.|\s+\d)"
    r"|(?P<word>(?i:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)))\b"
)
#: A Chinese month or day number written in Chinese numerals is not a number here (see
#: tm.core.numbers), so only Arabic ones pair with month names.
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")


@dataclass(frozen=True)
class SegmentIssue:
    """One problem of a translation. ``source_span``/``target_span`` are (start, end) offsets
    where it shows, or None; ``message`` is a ``common.messages.Message`` (English, translated
    for the reader by the web layer)."""

    kind: str
    severity: str
    message: Message
    source_span: tuple[int, int] | None = None
    target_span: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "message": self.message,
                "source_span": list(self.source_span) if self.source_span else None,
                "target_span": list(self.target_span) if self.target_span else None}


@dataclass(frozen=True)
class _Value:
    value: Decimal
    start: int
    end: int
    text: str
    #: Spelt as a word that need not be a number ("ten", "one of", "May I"): it satisfies a
    #: number of the other text but is never asked for nor taken for a changed number. Month
    #: names other than May are numbers (news Chinese writes 6月 in Arabic digits).
    word: bool = False


#: "30多亿" is "more than 3 billion", "200余万" "over 2 million": 多/余 between a numeral and its
#: scale word (tm.core.numbers reads the numeral alone there).
_APPROXIMATE_SCALE_RE = re.compile(r"[多余](万亿|亿|万)")
_APPROXIMATE_SCALES = {"万亿": Decimal(10) ** 12, "亿": Decimal(10) ** 8, "万": Decimal(10) ** 4}


def _values(text: str, lang: str) -> list[_Value]:
    found = []
    for n in extract_numbers(text):
        approximate = _APPROXIMATE_SCALE_RE.match(text, n.end) if lang == "zh" and n.scale_word is None else None
        if approximate:
            end = approximate.end()
            found.append(_Value(n.value * _APPROXIMATE_SCALES[approximate.group(1)], n.start, end, text[n.start:end]))
        else:
            found.append(_Value(n.value, n.start, n.end, n.text))
    if lang == "en":
        taken = [(v.start, v.end) for v in found]
        for m in _WORDS_RE.finditer(text):
            if not any(s < m.end() and m.start() < e for s, e in taken):
                loose = m.group("word") is not None or m.group() == "May"
                found.append(_Value(Decimal(_WORD_VALUES[m.group().lower()]), m.start(), m.end(), m.group(), loose))
        found.sort(key=lambda v: v.start)
    return found


def check_numbers(source: str, target: str, src: str, tgt: str) -> list[SegmentIssue]:
    """Numbers of ``source`` whose value ``target`` lacks: changed (paired with a number of
    the target the source lacks, in order) or missing."""
    wanted = _values(source, src)
    have = _values(target, tgt)
    unmatched_target = list(have)
    missing: list[_Value] = []
    for number in wanted:
        same = next((v for v in unmatched_target if v.value == number.value), None)
        if same is None:
            if not number.word:  # a word of the source ("May I") that is no number is not asked for
                missing.append(number)
        else:
            unmatched_target.remove(same)
    # A target word that matched nothing is ordinary English ("one of", "May"), never "a changed number".
    extra = [v for v in unmatched_target if not v.word]
    # A missing number pairs with the extra number nearest in magnitude (250亿 with "2.5 billion",
    # not with the "2019" of a mistyped year), nearest pairs first.
    pairs = sorted(((_distance(m.value, e.value), i, j) for i, m in enumerate(missing) for j, e in enumerate(extra)))
    paired: dict[int, _Value] = {}
    used: set[int] = set()
    for _d, i, j in pairs:
        if i not in paired and j not in used:
            paired[i] = extra[j]
            used.add(j)
    issues = []
    for i, number in enumerate(missing):
        other = paired.get(i)
        if other is not None:
            issues.append(SegmentIssue(
                NUMBER_CHANGED, ERROR,
                Message(N_("The number “{number}” of the source is “{found}” in the translation."),
                        number=number.text, found=other.text),
                source_span=(number.start, number.end), target_span=(other.start, other.end)))
        else:
            issues.append(SegmentIssue(
                NUMBER_MISSING, ERROR,
                Message(N_("The number “{number}” of the source is missing from the translation."),
                        number=number.text),
                source_span=(number.start, number.end)))
    return issues


def _distance(a: Decimal, b: Decimal) -> float:
    """How far apart two values are in magnitude (orders of ten), 0 and negatives included."""
    return abs(math.log10(float(abs(a)) + 1) - math.log10(float(abs(b)) + 1))


def check_untranslated(target: str, tgt: str) -> list[SegmentIssue]:
    """Chinese left in an English target, one issue per run of Han characters."""
    if tgt != "en":
        return []
    return [SegmentIssue(UNTRANSLATED, WARNING,
                         Message(N_("Untranslated Chinese “{text}” in the translation."), text=m.group()),
                         target_span=(m.start(), m.end()))
            for m in _HAN_RE.finditer(target)]


def check_segment(source: str, target: str, src: str, tgt: str) -> list[SegmentIssue]:
    """Every issue this module finds in ``target`` as a translation of ``source``, in the order
    they show: the source's first, then the target's. An empty target has none (nothing typed yet)."""
    if src == tgt:
        raise ValueError(f"source and translation are both {src!r}")
    if not target.strip():
        return []
    return sort_issues([*check_numbers(source, target, src, tgt), *check_untranslated(target, tgt)])


def sort_issues(issues: Iterable[Any]) -> list[Any]:
    """Issues (these, or the glossary's dicts beside them) in reading order: those shown in the
    source first by position, then those shown in the translation."""
    def spans(issue: Any) -> tuple[Any, Any]:
        if isinstance(issue, dict):
            return issue.get("source_span"), issue.get("target_span")
        return issue.source_span, issue.target_span

    def key(issue: Any) -> tuple[bool, tuple[int, ...]]:
        source_span, target_span = spans(issue)
        if source_span:
            return False, tuple(source_span)
        return True, tuple(target_span or (0, 0))

    return sorted(issues, key=key)
