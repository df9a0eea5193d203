"""Numbers in segments: find them, compare them, carry a changed number into a translation.

A translation memory hit that differs from the query only in its numbers ("2018" for "2019",
"10个月" for "11个月") is nearly free to reuse: the translator only has to change the numbers in
the stored target. This module finds numbers (Arabic numerals with thousands separators and
decimals, full-width digits, the Chinese scale words 万/亿/千 and the English ones
thousand/million/billion/trillion), gives each its value, and rewrites the numbers of a target
text so that "250亿" → "25 billion" becomes "300亿" → "30 billion".

Numbers written in Chinese numerals (三百, 二〇一八) are not recognised: translators reuse those
rarely and they are easy to mistake for ordinary words (一些, 万一).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９，．", "0123456789,.")
_TO_FULLWIDTH_DIGITS = str.maketrans("0123456789,.", "０１２３４５６７８９，．")

_D = "[0-9\uff10-\uff19]"
#: A numeral: digits grouped by thousands separators (1,000,000) or plain, then decimals.
#: Letters or digits glued to either side make it part of a name (G20, MP3, 3.6bn): not a number.
NUMERAL = (
    rf"(?<![0-9\uff10-\uff19A-Za-z\uff21-\uff3a\uff41-\uff5a])(?<!{_D}[.．])"
    rf"(?:{_D}{{1,3}}(?:[,，]{_D}{{3}})+(?![0-9\uff10-\uff19])|{_D}+)(?:[.．]{_D}+)?"
    rf"(?![0-9\uff10-\uff19A-Za-z\uff21-\uff3a\uff41-\uff5a])(?![.．]{_D})"
)
NUMERAL_RE = re.compile(NUMERAL)

#: Chinese scale words, longest first. 千 before 米/克/瓦... is a unit prefix (千米 km), not 1000.
_ZH_SCALES = {
    "万亿": Decimal(10) ** 12,
    "千亿": Decimal(10) ** 11,
    "百亿": Decimal(10) ** 10,
    "十亿": Decimal(10) ** 9,
    "亿": Decimal(10) ** 8,
    "千万": Decimal(10) ** 7,
    "百万": Decimal(10) ** 6,
    "十万": Decimal(10) ** 5,
    "万": Decimal(10) ** 4,
    "千": Decimal(10) ** 3,
}
_EN_SCALES = {
    "trillion": Decimal(10) ** 12,
    "billion": Decimal(10) ** 9,
    "million": Decimal(10) ** 6,
    "thousand": Decimal(10) ** 3,
}
_ZH_SCALE = "|".join(k if k != "千" else "千(?![米克瓦卡焦帕字])" for k in _ZH_SCALES)
_EN_SCALE = "|".join(_EN_SCALES)
_NUMBER_RE = re.compile(
    rf"(?P<num>{NUMERAL})(?:(?P<zsep>[ \t]?)(?P<zh>{_ZH_SCALE})|(?P<esep>[ \t]+)(?P<en>{_EN_SCALE})\b)?",
    re.IGNORECASE,
)

#: When a re-scaled number would need more decimals than this ("0.00005 billion"), a
#: different scale word reads better.
_MAX_SCALED_DECIMALS = 3


@dataclass(frozen=True, slots=True)
class Number:
    """One number found in a text, with its span (numeral plus any scale word)."""

    start: int
    end: int
    text: str
    numeral: str
    value: Decimal
    scale_word: str | None = None
    scale_sep: str = ""
    grouped: bool = False
    decimals: int = 0
    fullwidth: bool = False

    @property
    def scale(self) -> Decimal:
        if self.scale_word is None:
            return Decimal(1)
        return _ZH_SCALES.get(self.scale_word) or _EN_SCALES[self.scale_word.lower()]


def _parse_numeral(numeral: str) -> Decimal:
    return Decimal(numeral.translate(_FULLWIDTH_DIGITS).replace(",", ""))


def extract_numbers(text: str) -> tuple[Number, ...]:
    """Every number in ``text`` in order, scale words included in value and span."""
    found = []
    for m in _NUMBER_RE.finditer(text):
        numeral = m.group("num")
        try:
            base = _parse_numeral(numeral)
        except InvalidOperation:  # the pattern admits only digits; kept for safety of Decimal
            continue
        word = m.group("zh") or m.group("en")
        sep = m.group("zsep") or m.group("esep") or ""
        ascii_numeral = numeral.translate(_FULLWIDTH_DIGITS)
        number = Number(
            start=m.start(),
            end=m.end(),
            text=m.group(),
            numeral=numeral,
            value=base,
            scale_word=word,
            scale_sep=sep if word else "",
            grouped="," in ascii_numeral,
            decimals=len(ascii_numeral.partition(".")[2]),
            fullwidth=numeral != ascii_numeral,
        )
        if word:
            number = dataclasses.replace(number, value=base * number.scale)
        found.append(number)
    return tuple(found)


def _format_numeral(value: Decimal, *, grouped: bool, decimals: int, fullwidth: bool) -> str:
    places = max(decimals, _needed_decimals(value))
    text = format(value, f"{',' if grouped else ''}.{places}f")
    return text.translate(_TO_FULLWIDTH_DIGITS) if fullwidth else text


def _needed_decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _scales_for(word: str) -> dict[str, Decimal]:
    return _ZH_SCALES if word in _ZH_SCALES else _EN_SCALES


def render_like(value: Decimal, like: Number) -> str:
    """``value`` written the way ``like`` is written: same scale word, separators, digit width.

    When the scale word of ``like`` does not suit the new value (less than one, or too many
    decimals), the nearest scale word of the same language that does is used, and a plain
    numeral when none does.
    """
    word = like.scale_word
    if word is not None:
        scales = _scales_for(word)
        # Compound Chinese scale words (千万, 十亿) are kept when the target used them but
        # never chosen anew: 亿 and 万 are what writers reach for.
        others = [
            (w, s)
            for w, s in scales.items()
            if w != word.lower() and (scales is _EN_SCALES or w in ("亿", "万"))
        ]
        choices = [(word, like.scale)] + sorted(others, key=lambda item: -item[1])
        for candidate, scale in choices:
            scaled = value / scale
            if scaled >= 1 and _needed_decimals(scaled) <= _MAX_SCALED_DECIMALS:
                numeral = _format_numeral(
                    scaled, grouped=like.grouped, decimals=0, fullwidth=like.fullwidth
                )
                if candidate != word and word[0].isupper():
                    candidate = candidate.capitalize()
                return f"{numeral}{like.scale_sep}{candidate}"
    return _format_numeral(
        value,
        grouped=like.grouped or (word is not None and value >= 10000),
        decimals=like.decimals if word is None else 0,
        fullwidth=like.fullwidth,
    )


def adapt_numbers(source: str, query: str, target: str) -> str | None:
    """``target`` with the numbers that changed from ``source`` to ``query`` changed too.

    The i-th number of the query stands for the i-th number of the source (callers use this
    when the two differ only in numbers). A changed number is looked up in the target by value,
    so "250亿" finds "25 billion" and "1.5万" finds "15,000". Returns None when the numbers do
    not pair up or a changed number cannot be found in the target; returns ``target`` itself
    when no value changed.
    """
    src = extract_numbers(source)
    qry = extract_numbers(query)
    if len(src) != len(qry):
        return None
    changes: dict[Decimal, list[Decimal]] = {}
    for s, q in zip(src, qry, strict=True):
        changes.setdefault(s.value, []).append(q.value)
    changes = {old: new for old, new in changes.items() if any(v != old for v in new)}
    if not changes:
        return target
    tgt = extract_numbers(target)
    replacements: dict[int, str] = {}
    for old, news in changes.items():
        places = [n for n in tgt if n.value == old]
        if not places:
            return None
        if len(set(news)) == 1:
            # Every occurrence changes to the same value: a translation may repeat the number.
            pairs = [(n, news[0]) for n in places]
        elif len(places) == len(news):
            pairs = list(zip(places, news, strict=True))
        else:
            return None
        for number, new in pairs:
            replacements[number.start] = render_like(new, number)
    out = []
    last = 0
    for number in tgt:
        if number.start in replacements:
            out.append(target[last : number.start])
            out.append(replacements[number.start])
            last = number.end
    out.append(target[last:])
    return "".join(out)
