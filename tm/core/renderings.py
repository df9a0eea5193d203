"""The translations of one fragment across the stored units that contain it.

Each unit's pair is word-aligned (tm.core.wordalign) and the fragment's span in its source is
projected onto its target; the projected spans are grouped by a normalised form (case,
punctuation and English plural -s folded), the most common surface form of each group is the
one shown, and groups are ranked by how many units agree.

Confidence of a rendering: the probability that it is right, from a logistic model
(``calibrated``) over four features: how many units agree on it (log), their share of the units
tried (a failed projection counts against), the mean projection score (share of the fragment's
content words aligned into the span × mean link posterior, see wordalign.Projection) and the
phrase pair's lexical weighting (log). The weights are fitted by bench/fragments_quality.py --fit, where "right"
means found in the reference translation; the same bench sets MIN_CONFIDENCE.

Pure: no Flask, no SQL.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tm.core.text import detect_language, match_key, normalize
from tm.core.wordalign import Alignment, AlignmentModel, is_function_word, project_scored, tokens

__all__ = [
    "MIN_CONFIDENCE",
    "ProjectedSpan",
    "acceptable",
    "Rendering",
    "StoredUnit",
    "group_renderings",
    "locate",
    "rendering_key",
    "translate_fragment",
]

#: Renderings below this are not shown. On the quality bench (zh→en, each data set scored
#: with weights fitted on the other two) precision by reference match is a plateau, 0.70 to
#: 0.74, for every threshold from 0.45 to 0.75, while the queries with a correct fragment fall
#: from 20% to 7%: a higher threshold buys coverage loss, not precision. 0.5: 0.70 precision,
#: 18% of queries covered. Below 0.45 precision drops fast (0.40: 0.67; 0.35: 0.56).
MIN_CONFIDENCE = 0.5
#: The features of a rendering's confidence: log of its units, their share of the units tried,
#: mean projection score, log mean lexical weight. (Length predicts a match with a reference
#: well but not use to a translator: a long institution name seen once is worth showing.)
FEATURES = ("log_units", "share", "projection", "log_lexical")
#: Intercept then one weight per feature: logistic regression on the quality bench's first
#: renderings (bench/fragments_quality.py --fit, 1,800 queries, both directions pooled).
#: The projection score's negative weight is its overlap with the share, not a preference.
WEIGHTS = (-1.090, 1.087, 1.234, -0.610, 0.057)
#: Renderings returned per fragment.
MAX_RENDERINGS = 3

_PUNCT_RUN = re.compile(r"[\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class StoredUnit:
    """A stored pair in which a fragment occurs; ``source`` is in the fragment's language."""

    unit_id: Hashable
    source: str
    target: str
    memory: str | None = None


@dataclass(frozen=True)
class ProjectedSpan:
    """One unit's translation of the fragment: ``target[start:end]``, with its projection score."""

    unit: StoredUnit
    start: int
    end: int
    score: float
    lexical: float = 0.0

    @property
    def text(self) -> str:
        return self.unit.target[self.start : self.end]


@dataclass(frozen=True)
class Rendering:
    text: str
    units: int
    confidence: float
    example: dict[str, Any] = field(compare=False)
    #: What the confidence was computed from (see ``FEATURES``), for calibration.
    features: tuple[float, ...] = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "units": self.units, "confidence": self.confidence,
                "example": dict(self.example)}


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def calibrated(features: Sequence[float]) -> float:
    """P(the rendering is right), a logistic model over ``FEATURES`` fitted on the bench."""
    z = WEIGHTS[0] + sum(w * x for w, x in zip(WEIGHTS[1:], features, strict=True))
    return 1.0 / (1.0 + math.exp(-z))


def rendering_key(text: str, lang: str) -> str:
    """What two renderings must share to count as one: case, width, script, punctuation and
    (English) plural -s folded. Used by the bench's precision too."""
    folded = normalize(text, lang)
    if lang == "en":
        return " ".join(_singular(w) for w in _PUNCT_RUN.sub(" ", folded).split())
    return _PUNCT_RUN.sub("", folded)


def acceptable(text: str, lang: str) -> bool:
    """Not empty, in the target's script, and holding at least one content word."""
    if not text.strip():
        return False
    if lang == "en":
        if detect_language(text) != "en" or _HAN.search(text):
            return False
    elif not _HAN.search(text) or detect_language(text) != "zh":
        return False
    toks = tokens(text, lang)
    return any(not is_function_word(w, lang, text[a:b]) for w, (a, b) in zip(toks.words, toks.spans, strict=False))


def locate(fragment: str, source: str, lang: str) -> tuple[int, int] | None:
    """Where ``fragment`` occurs in ``source`` (both as written), compared on their match keys
    (width, case, traditional folded), as offsets into ``source``; None if it does not."""
    needle = normalize(fragment, lang)
    if not needle:
        return None
    key = match_key(source, lang)
    at = key.text.find(needle)
    if at < 0:
        return None
    return key.to_original(at, at + len(needle))


def group_renderings(
    projected: Iterable[ProjectedSpan],
    *,
    target_lang: str,
    tried: int | None = None,
    min_confidence: float = MIN_CONFIDENCE,
    limit: int = MAX_RENDERINGS,
) -> list[Rendering]:
    """Renderings of one fragment, most units first (then confidence), those below
    ``min_confidence`` or unacceptable (empty, wrong script, function words only) dropped.
    ``tried`` is how many units were projected, failures included (default: those given)."""
    spans = [p for p in projected if acceptable(p.text, target_lang)]
    total = max(tried if tried is not None else len(spans), len(spans), 1)
    groups: dict[str, list[ProjectedSpan]] = {}
    for p in spans:
        key = rendering_key(p.text, target_lang)
        if key:
            groups.setdefault(key, []).append(p)
    out = []
    for members in groups.values():
        n = len({p.unit.unit_id for p in members})
        features = (
            math.log(n),
            n / total,
            sum(p.score for p in members) / len(members),
            math.log(max(sum(p.lexical for p in members) / len(members), 1e-7)),
        )
        confidence = round(calibrated(features), 3)
        if confidence < min_confidence:
            continue
        surface = Counter(p.text for p in members).most_common(1)[0][0]
        best = max(members, key=lambda p: (p.text == surface, p.score))
        example = {
            "unit_id": best.unit.unit_id,
            "memory": best.unit.memory,
            "source": best.unit.source,
            "target": best.unit.target,
            "target_span": [best.start, best.end],
        }
        out.append(Rendering(surface, n, confidence, example, features))
    out.sort(key=lambda r: (-r.units, -r.confidence, r.text))
    return out[:limit]


def translate_fragment(
    model: AlignmentModel,
    fragment: str,
    lang: str,
    units: Sequence[StoredUnit],
    *,
    align_unit: Callable[[StoredUnit], Alignment] | None = None,
    **options: Any,
) -> list[Rendering]:
    """The renderings of ``fragment`` (in ``lang``) from the stored ``units`` that contain it.

    Each unit's pair is aligned (by ``align_unit`` when given: a cache, or alignments stored
    at training time) and the fragment's span in its source projected; ``options`` go to
    ``group_renderings``.
    """
    target_lang = "en" if lang == "zh" else "zh"
    # A number is never translated by a span without it ("more than 50 million" is not 以上).
    numbers = _DIGITS.findall(normalize(fragment, lang))
    projected = []
    tried = 0
    for unit in units:
        span = locate(fragment, unit.source, lang)
        if span is None:
            continue
        tried += 1
        zh, en = (unit.source, unit.target) if lang == "zh" else (unit.target, unit.source)
        alignment = align_unit(unit) if align_unit is not None else None
        p = project_scored(model, zh, en, span, lang, alignment=alignment)
        if p is None:
            continue
        text = normalize(unit.target[p.start : p.end], target_lang)
        if all(n in text for n in numbers):
            projected.append(ProjectedSpan(unit, p.start, p.end, p.score, p.lexical))
    return group_renderings(projected, target_lang=target_lang, tried=tried, **options)

