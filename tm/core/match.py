"""Fuzzy match scoring, ranking and differences: the formula lives here and only here.

The score is the one CAT tools show: Levenshtein distance over the scoring units of the two
match keys (characters for Chinese, Moses tokens for English; a number is one unit), normalised
by the longer side::

    base  = 100 × (1 − distance / max(len_a, len_b))
    score = base − Σ penalties          (floored to two decimals, never below 0)

100 means the two texts are the same after normalisation *and* as written. What normalisation
folds away is not free but costs a small named penalty, one per kind ("width", "punctuation",
"case", "script", "whitespace": FOLD_PENALTY each), so "臺灣" against "台湾" scores 99, not a band.

Numbers are placeables: each is one unit, compared by position, and a number that differs
costs NUMBER_PENALTY instead of edits. A segment that differs from the query only in numbers
therefore scores 100 − 2 × (numbers changed), e.g. 98 for "2018年" against "2019年"; its
target is adapted ("25 billion" → "30 billion" for "250亿" → "300亿") and marked so. When the
changed number cannot be found in the target, a further UNADAPTED_NUMBER_PENALTY applies:
the translator has to find it by hand. Chosen so that a number-only hit ranks above every
fuzzy hit with one real edit in a segment of fewer than 50 units, and below an exact hit.
Numbers also count as placeables in fuzzy hits (2 points each instead of an edit), but only a
number-only hit has its target adapted: elsewhere the alignment of numbers is a guess.

An exact hit (100) whose stored neighbours equal the neighbours the caller passes scores 101
("in context"). Callers add their own penalties per candidate (draft unit, lower-priority
memory) through ``Candidate.penalties``.
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from rapidfuzz.distance import Levenshtein

from tm.core.numbers import NUMERAL_RE, adapt_numbers
from tm.core.text import FOLDS, NUMBER_UNIT, MatchKey, match_key, normalize

IntOrArray = TypeVar("IntOrArray", int, np.ndarray)

#: Below 70 a fuzzy match usually costs more to edit than to translate afresh (the common
#: default threshold of CAT tools).
MIN_SCORE = 70.0
#: How many matches a translator reads.
LIMIT = 10
EXACT = 100.0
#: An exact match whose neighbours (previous and next segment) are the same as the query's.
IN_CONTEXT = 101.0
#: Each kind of difference that normalisation folds (see tm.core.text.FOLDS) costs one point:
#: enough to rank a verbatim hit first, too little to push a usable hit out of sight.
FOLD_PENALTY = 1.0
#: Differences the folds cannot name (spacing around tokens, composed vs decomposed accents).
FORMATTING_PENALTY = 1.0
#: Per number that differs between query and source: the translator must check the number.
NUMBER_PENALTY = 2.0
#: A changed number that could not be located in the target: it must be found and edited by hand.
UNADAPTED_NUMBER_PENALTY = 3.0

#: Rounding in the score's favour could show 100 for a near-identical long text; floor instead.
_SCORE_PLACES = 2
#: Guards the length window against floating error; errs towards admitting a candidate.
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Penalty:
    """Points taken off a match, with the reason shown to the translator."""

    reason: str
    points: float

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "points": self.points}


#: Hooks for callers: a unit still marked draft, a memory ranked below the project's own.
DRAFT_PENALTY = Penalty("draft", 5.0)
LOWER_PRIORITY_MEMORY_PENALTY = Penalty("lower-priority memory", 1.0)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored unit to score: plain data, as the repository loads it.

    ``prev``/``next`` are the stored neighbouring source segments (None: not known, "": none,
    the unit opened or closed its document).
    """

    unit_id: Any
    source: str
    target: str
    memory: Any = None
    penalties: tuple[Penalty, ...] = ()
    prev: str | None = None
    next: str | None = None
    #: The scoring units if known (CandidateIndex.units(unit_id)): candidates that cannot
    #: make the list are then dropped without computing their match keys.
    units: str | None = None


@dataclass(frozen=True, slots=True)
class DiffOp:
    """One edit turning the matched source into the query.

    ``q`` and ``s`` are [start, end) offsets into the query and the source as written; an
    "insert" has text only in the query, a "delete" only in the source.
    """

    op: str
    q: tuple[int, int]
    s: tuple[int, int]

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "q": list(self.q), "s": list(self.s)}


@dataclass(frozen=True, slots=True)
class Match:
    """A scored translation-memory hit."""

    unit_id: Any
    source: str
    target: str
    memory: Any
    score: float
    base_score: float
    penalties: tuple[Penalty, ...] = ()
    adapted_target: str | None = None
    in_context: bool = False
    diff: tuple[DiffOp, ...] = field(default=())

    @property
    def adapted(self) -> bool:
        """True when ``adapted_target`` carries the query's numbers into the target."""
        return self.adapted_target is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit_id": self.unit_id,
            "source": self.source,
            "target": self.target,
            "memory": self.memory,
            "score": self.score,
            "base_score": self.base_score,
            "penalties": [p.to_dict() for p in self.penalties],
            "adapted": self.adapted,
            "adapted_target": self.adapted_target,
            "in_context": self.in_context,
            "diff": [d.to_dict() for d in self.diff],
        }


# --- the formula ----------------------------------------------------------------------------

#: The scorer, named: rapidfuzz's uniform-weight Levenshtein normalised by the longer side,
#: 1 − distance / max(len_a, len_b). Not WRatio, which inflates partial matches.
SCORER = Levenshtein.normalized_similarity


def base_score(a_units: str, b_units: str, *, score_cutoff: float = 0.0) -> float:
    """100 × (1 − distance / max(len)) over scoring units; 0 when below ``score_cutoff``."""
    similarity: float = SCORER(a_units, b_units, score_cutoff=score_cutoff / 100.0)
    return 100.0 * similarity


def max_edits(length: IntOrArray, min_score: float) -> IntOrArray:
    """The most edits a pair whose longer side has ``length`` units may need to reach
    min_score. ``length`` may be an int or a numpy array of them (the index uses both)."""
    edits = (length * (100.0 - min_score) / 100.0 + _EPS) // 1
    if isinstance(edits, np.ndarray):
        return edits.astype("int64")
    return int(edits)


#: The longest length a window reaches: where the score bounds nothing (both engines' int limit).
_UNBOUNDED = 2**31 - 1


def length_window(length: int, min_score: float) -> tuple[int, int]:
    """Lengths (in units) a text may have to score ≥ min_score against one of ``length``.

    Distance ≥ |len_a − len_b|, so score ≥ s forces min(len)/max(len) ≥ s/100.
    """
    ratio = min_score / 100.0
    # A score so small that it is 0 as a ratio (5e-324) opens the window as 0 does.
    if ratio <= 0 or length / ratio >= _UNBOUNDED:
        return max(0, math.ceil(length * ratio - _EPS)), _UNBOUNDED
    low = math.ceil(length * ratio - _EPS)
    high = math.floor(length / ratio + _EPS)
    return low, high


def _floor(score: float) -> float:
    scale: int = 10**_SCORE_PLACES
    return max(0.0, math.floor(score * scale + _EPS) / scale)


def _key(text: str | MatchKey, lang: str) -> MatchKey:
    return text if isinstance(text, MatchKey) else match_key(text, lang)


def _number_pairs(q: MatchKey, s: MatchKey) -> list[tuple[int, int]]:
    """(query ordinal, source ordinal) of numbers the alignment puts in the same place."""
    if not q.numbers or not s.numbers:
        return []
    if q.units == s.units:
        return list(zip(range(len(q.numbers)), range(len(s.numbers)), strict=True))
    pairs = []
    q_ord = s_ord = 0
    q_pos = s_pos = 0
    for op in Levenshtein.opcodes(s.units, q.units):
        # Count the numbers skipped before this block so ordinals stay right.
        s_ord += s.units.count(NUMBER_UNIT, s_pos, op.src_start)
        q_ord += q.units.count(NUMBER_UNIT, q_pos, op.dest_start)
        s_pos, q_pos = op.src_start, op.dest_start
        if op.tag == "equal":
            for k in range(op.src_end - op.src_start):
                if s.units[op.src_start + k] == NUMBER_UNIT:
                    pairs.append((q_ord, s_ord))
                    q_ord += 1
                    s_ord += 1
            s_pos, q_pos = op.src_end, op.dest_end
    return pairs


def _fold_penalties(query: str, source: str, lang: str, *, mask: bool) -> list[Penalty]:
    """One penalty per kind of folded difference between two texts with the same key."""
    def raw(text: str) -> str:
        return NUMERAL_RE.sub(NUMBER_UNIT, text) if mask else text

    if raw(query) == raw(source):
        return []

    def key(text: str, skip: str | None) -> str:
        folded = normalize(text, lang, skip=skip)
        return NUMERAL_RE.sub(NUMBER_UNIT, folded) if mask else folded

    if key(query, None) != key(source, None):
        # Same tokens, different key text: spacing the tokenizer ignores ("a ." / "a.").
        return [Penalty("whitespace", FOLD_PENALTY)]
    kinds = [
        kind
        for kind in FOLDS
        if not (kind == "script" and lang != "zh") and key(query, kind) != key(source, kind)
    ]
    if not kinds:
        return [Penalty("formatting", FORMATTING_PENALTY)]
    return [Penalty(kind, FOLD_PENALTY) for kind in kinds]


@dataclass(frozen=True, slots=True)
class _Assessment:
    score: float
    base: float
    penalties: tuple[Penalty, ...]
    number_only: bool


def _assess(q: MatchKey, s: MatchKey, *, score_cutoff: float = 0.0) -> _Assessment | None:
    base = base_score(q.units, s.units, score_cutoff=score_cutoff)
    if base < score_cutoff or (base == 0.0 and score_cutoff > 0):
        return None
    penalties: list[Penalty] = []
    changed = sum(1 for i, j in _number_pairs(q, s) if q.numbers[i] != s.numbers[j])
    if changed:
        penalties.append(Penalty("numbers", NUMBER_PENALTY * changed))
    if q.units == s.units:
        penalties.extend(_fold_penalties(q.original, s.original, q.lang, mask=changed > 0))
    score = _floor(base - sum(p.points for p in penalties))
    return _Assessment(score, _floor(base), tuple(penalties), q.units == s.units and changed > 0)


def similarity(a: str | MatchKey, b: str | MatchKey, lang: str) -> float:
    """The match score of ``b`` for the query ``a``, 0–100, penalties included (no context)."""
    assessed = _assess(_key(a, lang), _key(b, lang))
    return assessed.score if assessed else 0.0


# --- differences ----------------------------------------------------------------------------


def _unit_span(key: MatchKey, start: int, end: int) -> tuple[int, int]:
    """Original-text offsets of scoring units [start, end); an empty range is a point."""
    if start < end:
        return key.spans[start][0], key.spans[end - 1][1]
    if start > 0:
        pos = key.spans[start - 1][1]
    else:
        pos = key.spans[0][0] if key.spans else 0
    return pos, pos


def diff(query: str | MatchKey, source: str | MatchKey, lang: str) -> tuple[DiffOp, ...]:
    """The edits turning ``source`` into ``query``, as spans of both texts as written.

    Computed over scoring units, so it agrees with the score; a number the alignment keeps in
    place but whose value changed is reported as a "replace".
    """
    q = _key(query, lang)
    s = _key(source, lang)
    ops: list[DiffOp] = []

    def emit(tag: str, s1: int, s2: int, q1: int, q2: int) -> None:
        if s1 == s2 and q1 == q2:
            return
        ops.append(DiffOp(tag, _unit_span(q, q1, q2), _unit_span(s, s1, s2)))

    for op in Levenshtein.opcodes(s.units, q.units):
        if op.tag != "equal":
            emit(op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end)
            continue
        run = op.src_start
        offset = op.dest_start - op.src_start
        for k in range(op.src_start, op.src_end):
            if s.units[k] == NUMBER_UNIT and s.tokens[k] != q.tokens[k + offset]:
                emit("equal", run, k, run + offset, k + offset)
                emit("replace", k, k + 1, k + offset, k + offset + 1)
                run = k + 1
        emit("equal", run, op.src_end, run + offset, op.dest_end)
    return tuple(ops)


# --- ranking --------------------------------------------------------------------------------


def _same_neighbour(wanted: str | None, stored: str | None, lang: str) -> bool:
    if wanted is None:
        return True  # the caller did not say: that side is not checked
    if stored is None:
        return False  # the unit's neighbour is unknown: no evidence of the same context
    return normalize(wanted, lang) == normalize(stored, lang)


def rank(
    query: str | MatchKey,
    candidates: Iterable[Candidate],
    *,
    lang: str,
    min_score: float = MIN_SCORE,
    limit: int | None = LIMIT,
    prev: str | None = None,
    next: str | None = None,  # the API's own word for the following segment, shadowing the builtin
) -> list[Match]:
    """Score ``candidates`` against ``query``; the best ``limit`` with score ≥ ``min_score``.

    Ties keep the order of ``candidates``. With ``prev`` and/or ``next`` given, an exact hit
    whose stored neighbours are the same (after normalisation) scores 101: each side the
    caller passes is checked ("" means the segment opens or closes its document), a side
    passed as None is not, and a unit whose neighbour is unknown (None) is not in context.
    """
    q = _key(query, lang)
    low, high = length_window(len(q.units), min_score)
    check_context = prev is not None or next is not None

    # Stage 1: base scores from scoring units alone (given, or from the cached match key).
    shortlist: list[tuple[float, int, Candidate]] = []
    for order, cand in enumerate(candidates):
        units = cand.units if cand.units is not None else match_key(cand.source, lang).units
        if not low <= len(units) <= high:
            continue
        base = base_score(q.units, units, score_cutoff=min_score)
        if base >= min_score and base > 0:
            shortlist.append((base, order, cand))
    shortlist.sort(key=lambda item: (-item[0], item[1]))

    # Stage 2: penalties, adaptation and context, best base first. Penalties only lower a
    # score (context lifts 100 to 101 only), so once a base is below the limit-th score so
    # far, no later candidate can enter the list.
    kept: list[tuple[float, float, int, Candidate, MatchKey, tuple[Penalty, ...], str | None, bool]] = []
    best: list[float] = []  # min-heap of the best `limit` scores so far
    for base, order, cand in shortlist:
        if limit is not None and limit > 0 and len(best) >= limit and base < best[0]:
            break
        s = match_key(cand.source, lang)
        assessed = _assess(q, s)
        if assessed is None:
            continue
        penalties = assessed.penalties
        adapted = None
        if assessed.number_only:
            adapted = adapt_numbers(cand.source, q.original, cand.target)
            if adapted is None:
                penalties += (Penalty("numbers not adapted", UNADAPTED_NUMBER_PENALTY),)
            elif adapted == cand.target:
                adapted = None
        penalties += tuple(cand.penalties)
        score = _floor(assessed.base - sum(p.points for p in penalties))
        if score < min_score:
            continue
        in_context = (
            check_context
            and score == EXACT
            and _same_neighbour(prev, cand.prev, lang)
            and _same_neighbour(next, cand.next, lang)
        )
        if in_context:
            score = IN_CONTEXT
        kept.append((score, assessed.base, order, cand, s, penalties, adapted, in_context))
        if limit is not None and limit > 0:
            if len(best) < limit:
                heapq.heappush(best, score)
            elif score > best[0]:
                heapq.heapreplace(best, score)
    kept.sort(key=lambda item: (-item[0], -item[1], item[2]))
    if limit is not None:
        kept = kept[: max(limit, 0)]
    return [
        Match(
            unit_id=cand.unit_id,
            source=cand.source,
            target=cand.target,
            memory=cand.memory,
            score=score,
            base_score=base,
            penalties=penalties,
            adapted_target=adapted,
            in_context=in_context,
            diff=diff(q, s, lang),
        )
        for score, base, _, cand, s, penalties, adapted, in_context in kept
    ]

