"""The candidate index: finds, without scanning, every stored segment that can reach a score.

One index per language side. Each stored segment is kept as its scoring units (the ``units``
of tm.core.text.match_key: characters for Chinese, one code per Moses token for English) and
posted under its q-grams: character bigrams for Chinese (most Chinese words are two
characters), word bigrams for English (pairs of Moses tokens: rarer than single words, so the
lists read are short; character trigrams were measured slower still). A gram is coded as an
integer (code points of 21 bits each); the posting lists live in one sorted array of gram
codes, an offsets array and one array of 32-bit row numbers, built with numpy in one pass
("frozen"); units added later go to a small dict of per-gram arrays that is folded into the
frozen arrays once it grows past a share of them.

A lookup is exact, not heuristic. Scoring is Levenshtein over units normalised by the longer
side (tm.core.match), which gives two filters no true match can fail:

* length window: score ≥ s needs min(len)/max(len) ≥ s/100;
* count filter (the q-gram lemma): texts at edit distance d share at least
  L − q + 1 − q·d q-grams, L the longer length, d ≤ max_edits(L, s).

So a candidate must share at least T of the query's grams, hence at least one of any
``grams − T + 1`` of them: the rarest ones are read ("rare-term selection"). Reading a few more
rare lists raises the count a candidate must reach in them, which prunes the rest cheaply.
Frozen rows are numbered in order of length, so the length window is one range of rows and
each posting list is cut to it with two binary searches before anything is counted; the count
is then checked against the lemma's bound for each row's own length. Survivors are rescored
exactly with rapidfuzz's Levenshtein and a score cutoff. Queries too short for the lemma to
bound anything scan the rows of their length window instead.

What is exact and what is bounded. Below about 55 the bigram lemma bounds nothing
(L − 1 − 2·⌊L/2⌋ ≤ 0 at 50) and min_score 0 opens the length window to every row, so a search
could rescore the whole index; every request must finish within a bound, whatever its
parameters. So:

* ``limit=None`` (or ``budget=None``) returns every match ≥ min_score, exactly: the caller
  asks for all of them, and pays for it. No request parameter reaches this path.
* With a ``limit``, a search tries EXACT_TIERS of threshold above min_score first, highest
  first, then min_score itself; each tier's result is exact, and complete for the caller once
  the limit-th score minus the slack is at or above the tier (nothing below the tier can
  belong to the answer). At min_score ≥ 50 the answer is exact as long as the count
  filter's survivors, or the window a tier must scan, fit in ``budget`` rows (RESCORE_BUDGET).
* Otherwise the bounded search rescores the ``budget`` rows with the highest upper bound on
  their score (from the grams they share, counted over at most POSTING_BUDGET postings, and
  their length) and returns the best of those; ``SearchStats.exact`` says when the bounds
  prove that nothing left out could have made the answer. What it misses sits where scores
  say little (below 50 or so, where most rows of the query's length tie).

The window's upper length is clamped to the longest stored row, so the range the lemma's
bound is taken over is bounded by what is stored, not by the threshold.
"""
from __future__ import annotations

import itertools
import math
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import numpy as np
from rapidfuzz import process

from common.languages import LANGUAGES
from tm.core.arrays import Column, FrozenList, FrozenMap, FrozenStrings, copy_on_write, encode_strings
from tm.core.match import MIN_SCORE, SCORER, length_window, max_edits
from tm.core.text import MatchKey, scoring_units

#: What the caller identifies its units by (the TM: database ids).
Id = TypeVar("Id", bound=Hashable)

#: Rows -> a bool mask of those a search may return (None: every row).
RowFilter = Callable[[np.ndarray], np.ndarray] | None

#: Gram length per language: character bigrams for Chinese, word bigrams for English. Word
#: unigrams need fewer lists but long ones ("the", "you"): on the 1M-unit benchmark TM bigrams
#: halved the mean English search time (2.55 → 1.29 ms CPU) and p99 (6.8 → 2.7 ms).
GRAM = {"zh": 2, "en": 2}
#: Matches a lookup returns by default: what a translator reads.
CANDIDATE_LIMIT = 10
#: Beyond ``limit``, also return candidates whose base score is within this many points of the
#: last one kept: the penalties tm.core.match.rank applies (folds, numbers) can reorder them.
PENALTY_SLACK = 10.0
#: After the required rare lists, keep reading lists no longer than this share of the rows
#: (and at least EXTRA_LIST_MIN): each raises the count a candidate must reach, so fewer
#: survivors need exact rescoring. On the 1M-unit benchmark TM (zh, CPU time) 1 % gave
#: p99 2.4 ms against 5.1 ms for a fixed 2,000, at the same median.
EXTRA_LIST_SHARE = 0.01
EXTRA_LIST_MIN = 2_000
#: ... or no longer than this many times the postings read so far (an upper bound on the
#: survivors, each of which costs an exact rescoring).
EXTRA_LIST_FACTOR = 4.0
#: Postings of at least 1/this of the window make a dense count over the window's rows
#: cheaper than sorting them.
_DENSE_COUNT_RATIO = 16
#: Rescoring a row exactly costs about as much as reading this many postings: past that many
#: postings per row of the length window, scoring the whole window is cheaper.
_SCAN_RATIO = 32
#: Length recorded for a removed row: outside every length window.
_DEAD = 2**32 - 1
#: Rebuild the rows once removed ones are this share of them and at least _COMPACT_MIN.
_COMPACT_SHARE = 0.5
_COMPACT_MIN = 1_000
#: Fold added units into the frozen posting arrays once their postings pass this share of the
#: frozen ones (and _DELTA_MIN): a fold costs a rebuild, so it is amortised over many adds.
_DELTA_SHARE = 0.25
_DELTA_MIN = 200_000
#: Bits per code point in a gram code: Unicode needs 21.
_CODE_BITS = 21
#: Thresholds a search with a limit tries first, highest first, before the caller's own: at
#: these the count filter of bigrams prunes (it bounds nothing at 50 or below, where
#: L − 1 − 2·⌊L/2⌋ ≤ 0), and most answers are complete at the first.
EXACT_TIERS = (70.0, 60.0)
#: Rows a search with a limit rescores at most (rapidfuzz, about 1–3 µs a row of news-sentence
#: length): a few tens of milliseconds, whatever min_score asks for.
RESCORE_BUDGET = 20_000
#: Postings a search with a limit reads at most where it falls back to the bounded search
#: (the rarest lists first): a few milliseconds of counting with numpy.
POSTING_BUDGET = 1_000_000


def union_with_ranges(rows: np.ndarray, ranges: tuple[tuple[int, int], ...]) -> np.ndarray:
    """The sorted union of ``rows`` (sorted, unique) and the integer ranges [start, stop), in
    ascending order and not overlapping: ``np.union1d(rows, np.r_[ranges])`` in a few slices,
    without its O(n log n) sort."""
    pieces: list[np.ndarray] = []
    taken = 0
    for start, stop in ranges:
        if stop <= start:
            continue
        before, inside = np.searchsorted(rows, [start, stop])
        pieces += [rows[taken:before], np.arange(start, stop, dtype=np.int64)]
        taken = int(inside)
    pieces.append(rows[taken:])
    return np.concatenate(pieces).astype(np.int64, copy=False)


@dataclass
class SearchStats:
    """What one ``CandidateIndex.search`` did: rows rescored, postings read by the bounded
    fallback, and whether the answer is proven exact (see the module docstring)."""

    rescored: int = 0
    postings: int = 0
    exact: bool = True


class CandidateIndex(Generic[Id]):
    """In-memory n-gram index over the scoring units of one language side.

    Unit ids are any hashable values (database ids); ``build``, ``add``, ``remove`` and
    ``update`` keep it current, ``candidates`` answers lookups. English units use token codes
    that belong to this process (tm.core.text.encode_tokens): build the index in the process
    that serves it. Not thread-safe for writes: serve lookups from one writer, or processes.
    """

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unsupported language {lang!r}")
        self.lang = lang
        self.gram = GRAM[lang]
        #: Rebuild the arrays when the delta or the removed rows grow past their share (an
        #: index mapped from a snapshot leaves that to a new snapshot: see tm.live_index).
        self.auto_fold = True
        self._clear()

    def _clear(self) -> None:
        self._ids: list[Id | None] = []
        self._units: list[str | None] = []
        self._lengths = Column("I")
        # A small integer per row (the caller's memory id): lookups restricted to some groups
        # filter rows before the limit, so a restricted lookup still gets its best matches.
        self._groups = Column("q")
        self._rows: dict[Id, int] = {}
        # Longest row ever indexed since the last freeze: bounds the length window (min_score 0
        # opens it to every length) and the range the count filter's bound is taken over.
        self._longest = 0
        self._dead = 0
        # Rows below _frozen_rows are sorted by length (_frozen_lengths, as frozen), so a
        # length window is one contiguous range of rows, and of every posting list.
        self._frozen_rows = 0
        self._frozen_lengths = np.empty(0, dtype=np.uint32)
        # Frozen postings: gram codes (sorted), offsets into _posted, row numbers.
        self._codes = np.empty(0, dtype=np.uint64)
        self._offsets = np.zeros(1, dtype=np.int64)
        self._posted = np.empty(0, dtype=np.int32)
        # Postings of units added since the last freeze.
        self._delta: dict[int, array[int]] = {}
        self._delta_size = 0

    # --- writing ------------------------------------------------------------------------

    def build(self, items: Iterable[tuple[Id, str | MatchKey]]) -> CandidateIndex[Id]:
        """Replace the contents with ``items``: (unit id, source text or its MatchKey)."""
        return self.build_units((unit_id, self._units_of(text)) for unit_id, text in items)

    def build_units(self, items: Iterable[tuple[Any, ...]]) -> CandidateIndex[Id]:
        """Replace the contents with (unit id, precomputed scoring units[, group]) tuples."""
        self._clear()
        for item in items:
            self._append(*item)
        self._freeze()
        return self

    def _units_of(self, text: str | MatchKey) -> str:
        if isinstance(text, MatchKey):
            if text.lang != self.lang:
                raise ValueError(f"a {text.lang} key in the {self.lang} index")
            return text.units
        return scoring_units(text, self.lang)

    def _gram_codes(self, units: str) -> list[int]:
        if self.gram == 1:
            return [ord(c) for c in units]
        return [(ord(a) << _CODE_BITS) | ord(b) for a, b in itertools.pairwise(units)]

    def add(self, unit_id: Id, text: str | MatchKey, *, group: int = 0) -> None:
        """Index one unit; an id already present is replaced (see ``update``)."""
        self.add_units(unit_id, self._units_of(text), group=group)

    def add_units(self, unit_id: Id, units: str, *, group: int = 0) -> None:
        """Index one unit by its precomputed scoring units (``match_key(...).units``), in
        ``group`` (what ``search(groups=...)`` restricts to)."""
        row = self._append(unit_id, units, group)
        codes = set(self._gram_codes(units))
        for code in codes:
            posting = self._delta.get(code)
            if posting is None:
                self._delta[code] = array("i", (row,))
            else:
                posting.append(row)
        self._delta_size += len(codes)
        if self.auto_fold and self._fold_due():
            self._freeze()

    def _append(self, unit_id: Id, units: str, group: int = 0) -> int:
        if unit_id in self._rows:
            self.remove(unit_id)
        row = len(self._ids)
        self._ids.append(unit_id)
        self._units.append(units)
        self._lengths.append(len(units))
        self._groups.append(group)
        self._longest = max(self._longest, len(units))
        self._rows[unit_id] = row
        return row

    def update(self, unit_id: Id, text: str | MatchKey, *, group: int = 0) -> None:
        """The unit's source text (or group) changed."""
        self.add(unit_id, text, group=group)

    def remove(self, unit_id: Id) -> bool:
        """Forget a unit; False when it was not indexed. Its postings go at the next compaction."""
        row = self._rows.pop(unit_id, None)
        if row is None:
            return False
        self._ids[row] = None
        self._units[row] = None
        self._lengths[row] = _DEAD
        self._dead += 1
        if self.auto_fold and self._compaction_due():
            self._compact()
        return True

    def _fold_due(self) -> bool:
        return self._delta_size > max(_DELTA_MIN, _DELTA_SHARE * len(self._posted))

    def _compaction_due(self) -> bool:
        return self._dead >= _COMPACT_MIN and self._dead >= _COMPACT_SHARE * len(self._ids)

    def rebuild_due(self) -> bool:
        """Whether the added units would be folded into the frozen arrays, or the removed rows
        compacted away, by now (``auto_fold`` off leaves that to the caller: ``rebuild``)."""
        return self._fold_due() or self._compaction_due()

    def rebuild(self) -> None:
        """Fold the added units in and drop the removed rows: the arrays are rebuilt."""
        self._freeze()

    def _compact(self) -> None:
        self._freeze()

    def _freeze(self) -> None:
        """Renumber the live rows by length and post them all into the frozen arrays, in one
        vectorised pass. Removed rows go."""
        live = sorted(
            ((len(u), unit_id, u, g)
             for unit_id, u, g in zip(self._ids, self._units, self._groups, strict=True)
             if u is not None and unit_id is not None),  # a removed row has neither
            key=lambda item: item[0],
        )
        ids: list[Id | None] = [unit_id for _, unit_id, _, _ in live]
        self._ids = ids
        units: list[str | None] = [u for _, _, u, _ in live]
        self._units = units
        self._lengths = Column("I", np.fromiter((n for n, _, _, _ in live), dtype=np.uint32, count=len(live)))
        self._groups = Column("q", np.fromiter((g for _, _, _, g in live), dtype=np.int64, count=len(live)))
        self._longest = live[-1][0] if live else 0
        self._rows = {unit_id: row for row, (_, unit_id, _, _) in enumerate(live)}
        self._dead = 0
        self._frozen_rows = len(units)
        self._frozen_lengths = self._lengths.numpy().copy()  # as frozen: removals do not change it
        lengths = self._frozen_lengths.astype(np.int64)
        points = np.frombuffer("".join(cast(list[str], units)).encode("utf-32-le"), dtype=np.uint32)  # live rows only
        rows = np.repeat(np.arange(len(units), dtype=np.int32), lengths)
        points = points.astype(np.uint64)
        if self.gram == 2:
            same_unit = rows[:-1] == rows[1:]
            codes = ((points[:-1] << np.uint64(_CODE_BITS)) | points[1:])[same_unit]
            rows = rows[:-1][same_unit]
        else:
            codes = points
        del points
        # Rows come in ascending order; a stable sort by code keeps each list ascending.
        order = np.argsort(codes, kind="stable")
        codes = codes[order]
        rows = rows[order]
        del order
        if codes.size:
            keep = np.ones(codes.size, dtype=bool)
            keep[1:] = (codes[1:] != codes[:-1]) | (rows[1:] != rows[:-1])
            codes, rows = codes[keep], rows[keep]
            starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        else:
            starts = np.empty(0, dtype=np.int64)
        self._codes = codes[starts]
        self._offsets = np.r_[starts, codes.size].astype(np.int64)
        self._posted = np.ascontiguousarray(rows, dtype=np.int32)
        self._delta = {}
        self._delta_size = 0

    # --- reading ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self._rows

    def units(self, unit_id: Id) -> str:
        """The scoring units stored for ``unit_id``."""
        return self._units[self._rows[unit_id]]  # type: ignore[return-value]

    def grams(self) -> int:
        """How many distinct grams are posted."""
        if not self._delta:
            return int(self._codes.size)
        frozen = set(self._codes.tolist())
        return len(frozen) + sum(1 for code in self._delta if code not in frozen)

    def nbytes(self) -> int:
        """Approximate memory held by the index, in bytes (arrays, units, containers)."""
        total = self._codes.nbytes + self._offsets.nbytes + self._posted.nbytes
        total += self._lengths.nbytes + self._groups.nbytes
        total += sys.getsizeof(self._ids) + sys.getsizeof(self._units) + sys.getsizeof(self._rows)
        total += sum(sys.getsizeof(u) for u in self._units if u is not None)
        total += self._frozen_lengths.nbytes
        total += sys.getsizeof(self._delta) + sum(sys.getsizeof(a) for a in self._delta.values())
        return total

    # --- snapshots ----------------------------------------------------------------------

    #: The arrays ``to_arrays`` gives and ``from_arrays`` takes (tm.index_snapshot saves them).
    ARRAYS = ("ids", "points", "unit_offsets", "lengths", "groups", "codes", "offsets", "posted",
              "id_keys", "id_rows")

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The whole index as plain arrays (frozen first: no delta, no removed rows), for a
        snapshot. Ids must be ints (database ids)."""
        if self._delta or self._dead or self._frozen_rows != len(self._ids):
            self._freeze()
        ids = np.fromiter((int(cast(int, i)) for i in self._ids), dtype=np.int64, count=len(self._ids))
        points, unit_offsets = encode_strings(cast(list[str], list(self._units)))
        id_keys, id_rows = FrozenMap.of(ids, np.arange(ids.size, dtype=np.int64))
        return {"ids": ids, "points": points, "unit_offsets": unit_offsets,
                "lengths": np.asarray(self._frozen_lengths, dtype=np.uint32),
                "groups": self._groups.numpy(), "codes": self._codes,
                "offsets": self._offsets, "posted": self._posted, "id_keys": id_keys, "id_rows": id_rows}

    @classmethod
    def from_arrays(cls, lang: str, arrays: dict[str, np.ndarray]) -> CandidateIndex[int]:
        """An index over ``to_arrays``'s arrays as given (memory-mapped ones stay mapped: the
        posting lists, the units and the ids are shared by every process mapping the same
        files). Only the per-row lengths and groups, which removals and adds change, are
        copied (12 bytes a row). Units added or removed later go to this process's delta."""
        index: CandidateIndex[int] = cls(lang)  # type: ignore[assignment]
        lengths = arrays["lengths"]
        index._ids = cast(Any, FrozenList(arrays["ids"]))
        index._units = cast(Any, FrozenStrings(arrays["points"], arrays["unit_offsets"]))
        index._lengths = Column("I", copy_on_write(lengths))
        index._groups = Column("q", arrays["groups"])
        index._rows = cast(Any, FrozenMap(arrays["id_keys"], arrays["id_rows"]))
        index._longest = int(lengths[-1]) if lengths.size else 0
        index._frozen_rows = int(lengths.size)
        index._frozen_lengths = lengths
        index._codes, index._offsets, index._posted = arrays["codes"], arrays["offsets"], arrays["posted"]
        index.auto_fold = False
        return index

    def candidates(
        self,
        key: str | MatchKey,
        *,
        min_score: float = MIN_SCORE,
        limit: int | None = CANDIDATE_LIMIT,
        slack: float = PENALTY_SLACK,
        groups: Collection[int] | None = None,
        budget: int | None = RESCORE_BUDGET,
    ) -> list[Id]:
        """Ids of the units whose base score against ``key`` is ≥ ``min_score``, best first.

        The best ``limit``, plus any within ``slack`` points of the last of them (penalties
        applied later may reorder those); ``limit=None`` returns all. See ``search``.
        """
        found = self.search(key, min_score=min_score, limit=limit, slack=slack, groups=groups,
                            budget=budget)
        return [unit_id for unit_id, _ in found]

    def search(
        self,
        key: str | MatchKey,
        *,
        min_score: float = MIN_SCORE,
        limit: int | None = CANDIDATE_LIMIT,
        slack: float = PENALTY_SLACK,
        groups: Collection[int] | None = None,
        budget: int | None = RESCORE_BUDGET,
        stats: SearchStats | None = None,
    ) -> list[tuple[Id, float]]:
        """Like ``candidates``, with each id's exact base score (0–100, before penalties).

        ``groups`` keeps only rows indexed in those groups, before the limit is applied.
        With a ``limit``, at most ``budget`` rows are rescored (see the module docstring for
        when the answer is then exact); ``limit=None`` or ``budget=None`` asks for every match
        and bounds nothing: not for untrusted parameters. ``stats``, if given, is filled in.
        An empty query (nothing left after normalisation) finds nothing.
        """
        stats = stats if stats is not None else SearchStats()
        units = self._units_of(key)
        if not units or not self._rows or (limit is not None and limit <= 0):
            return []
        allowed = self._allowed(groups)
        if limit is None or budget is None:
            rows = self._filter(units, min_score, scan_limit=None, allowed=allowed)
            assert rows is not None  # without a scan limit the filter never gives up
            return self._cut(self._rescore(units, rows, min_score, stats), limit, slack)
        budget = max(budget, limit)
        # Tiers of threshold, highest first: the count filter is strong at the top ones, and
        # most lookups are answered completely there (the limit-th score minus the slack is
        # above the tier, so nothing below it can belong to the answer).
        for tier in [t for t in EXACT_TIERS if t > min_score] + [min_score]:
            rows = self._filter(units, tier, scan_limit=budget - stats.rescored, allowed=allowed)
            if rows is None or rows.size > budget - stats.rescored:
                break
            scored = self._rescore(units, rows, tier, stats, limit, slack)
            if tier == min_score or (len(scored) >= limit and scored[limit - 1][1] - slack >= tier):
                return self._cut(scored, limit, slack)
        rows = None  # the last tier's survivors, too many: not held through the bounded search
        scored = self._bounded(units, min_score, max(budget - stats.rescored, limit), allowed, limit,
                               slack, stats)
        return self._cut(scored, limit, slack)

    def _allowed(self, groups: Collection[int] | None) -> RowFilter:
        """A function rows -> bool mask of the rows in ``groups`` (None: every row)."""
        if groups is None:
            return None
        wanted = np.fromiter(groups, dtype=np.int64, count=len(groups))

        def allowed(rows: np.ndarray) -> np.ndarray:
            return np.isin(self._groups.take(rows), wanted)
        return allowed

    def _rescore(self, units: str, rows: np.ndarray, min_score: float, stats: SearchStats,
                 limit: int | None = None, slack: float = 0.0) -> list[tuple[Id, float]]:
        """(id, base score) of ``rows`` scoring ≥ min_score, best first: rapidfuzz, exactly.
        With a ``limit``, only the best ``limit`` and those within ``slack`` of the last."""
        stats.rescored += int(rows.size)
        if rows.size == 0:
            return []
        many = getattr(self._units, "many", None)  # units mapped from a snapshot: decoded at once
        choices = many(rows) if many is not None else [self._units[r] for r in rows.tolist()]
        # One array of scores (no tuple per row): cheap even for a window of many rows.
        scores = 100.0 * process.cdist([units], choices, scorer=SCORER, dtype=np.float64,
                                       score_cutoff=min_score / 100.0)[0]
        keep = np.flatnonzero(scores >= min_score)
        if limit is not None and keep.size > limit:
            floor = np.partition(scores[keep], keep.size - limit)[keep.size - limit] - slack
            keep = keep[scores[keep] >= floor]
        keep = keep[np.argsort(-scores[keep], kind="stable")]
        ids = self._ids
        return [(ids[r], s) for r, s in zip(rows[keep].tolist(), scores[keep].tolist(), strict=True)]

    @staticmethod
    def _cut(scored: list[tuple[Id, float]], limit: int | None,
             slack: float) -> list[tuple[Id, float]]:
        """The best ``limit`` of ``scored`` (sorted) and those within ``slack`` of the last."""
        if limit is not None and len(scored) > limit:
            floor = scored[limit - 1][1] - slack
            keep = limit
            while keep < len(scored) and scored[keep][1] >= floor:
                keep += 1
            scored = scored[:keep]
        return scored

    def containing(self, units: str) -> list[Id]:
        """Ids of the units whose scoring units contain ``units`` as a run (concordance), in
        no particular order. Exact: postings narrow the rows, a substring test decides.

        With two units or more, a row must hold every gram of the needle, so the rarest gram's
        list bounds the work. A single unit (one English word, one Chinese character) has no
        gram of its own; it stands first in grams whose codes form one contiguous range (codes
        are ``first << _CODE_BITS | second``), and second in others found by a mask; a row made
        of that unit alone, or ending in it, is caught by the second case or the scan of rows
        too short to post any gram.
        """
        if not units or not self._rows:
            return []
        q = self.gram
        if len(units) >= q:
            codes = list(dict.fromkeys(self._gram_codes(units)))
            postings = self._postings(codes, 0, self._frozen_rows)
            postings.sort(key=lambda item: item[0])
            size, arrays = postings[0]
            if size == 0:
                return []
            rows = np.unique(np.concatenate(arrays))
            for _size, arrays in postings[1:4]:  # a few more lists prune cheaply; the test decides
                rows = np.intersect1d(rows, np.concatenate(arrays) if arrays else np.empty(0, np.int32),
                                      assume_unique=False)
        else:
            rows = self._rows_with_unit(ord(units))
        texts = self._units
        return [self._ids[r] for r in rows.tolist() if texts[r] is not None and units in texts[r]]

    def _rows_with_unit(self, code: int) -> np.ndarray:
        """Rows in which the unit ``code`` occurs: a superset, tested by the caller."""
        found = []
        if self._codes.size:
            low, high = np.searchsorted(self._codes, np.array([code << _CODE_BITS, (code + 1) << _CODE_BITS],
                                                              dtype=np.uint64))
            found.append(self._posted[self._offsets[low]:self._offsets[high]])
            second = np.flatnonzero((self._codes & np.uint64((1 << _CODE_BITS) - 1)) == code)
            found += [self._posted[self._offsets[i]:self._offsets[i + 1]] for i in second.tolist()]
        # Rows added since the last freeze, and rows too short to post a gram.
        short = np.flatnonzero(self._frozen_lengths[: self._frozen_rows] < self.gram)
        found += [short.astype(np.int32), np.arange(self._frozen_rows, len(self._ids), dtype=np.int32)]
        return np.unique(np.concatenate(found)) if found else np.empty(0, np.int32)

    def _postings(
        self, codes: list[int], first: int, last: int
    ) -> list[tuple[int, list[np.ndarray]]]:
        """(size, arrays) of each gram's postings: the frozen ones within rows [first, last)
        (the length window) plus rows added since."""
        out = []
        if self._codes.size:
            wanted = np.fromiter(codes, dtype=np.uint64, count=len(codes))
            at = np.minimum(np.searchsorted(self._codes, wanted), self._codes.size - 1)
            hit = self._codes[at] == wanted
            starts = np.where(hit, self._offsets[at], 0).tolist()
            ends = np.where(hit, self._offsets[at + 1], 0).tolist()
        else:
            starts = ends = [0] * len(codes)
        posted = self._posted
        bounds = np.array((first, last), dtype=posted.dtype)
        for code, start, end in zip(codes, starts, ends, strict=True):
            arrays = []
            if end > start:
                posting = posted[start:end]
                # Same dtype as the list: a mixed-type searchsorted copies the whole list.
                a, b = np.searchsorted(posting, bounds)
                if b > a:
                    arrays.append(posting[a:b])
            added = self._delta.get(code)
            if added is not None:
                arrays.append(np.frombuffer(added, dtype=np.int32))
            out.append((sum(a.size for a in arrays), arrays))
        return out

    def _window(self, m: int, min_score: float) -> tuple[int, int, int, int]:
        """(low, high, first, last): the lengths a row may have to reach min_score against a
        query of ``m`` units, clamped to the longest row, and frozen rows [first, last)."""
        low, high = length_window(m, min_score)
        high = min(high, max(self._longest, m))
        window_lengths = self._frozen_lengths.dtype.type
        first = int(np.searchsorted(self._frozen_lengths, window_lengths(low), side="left"))
        last = int(np.searchsorted(self._frozen_lengths, window_lengths(high), side="right"))
        return low, high, first, last

    def _need_shared(self, m: int, high: int, min_score: float) -> int:
        """The fewest grams a row of the window must share with the query (the q-gram lemma,
        at its weakest over the longer lengths L in [m, high]). ``high`` is clamped to the
        longest row, so the range is bounded by what is stored, whatever min_score is."""
        q = self.gram
        longer = np.arange(m, max(m, high) + 1, dtype=np.int64)
        return int((longer - q + 1 - q * max_edits(longer, min_score)).min())

    def _filter(self, units: str, min_score: float, *, scan_limit: int | None,
                allowed: RowFilter = None) -> np.ndarray | None:
        """Rows that pass the length window, the count filter and ``allowed``; None when that
        would take scanning a window of more than ``scan_limit`` rows (or reading more than
        POSTING_BUDGET postings to count)."""
        m = len(units)
        low, high, first, last = self._window(m, min_score)
        window = last - first + (len(self._ids) - self._frozen_rows)
        can_scan = scan_limit is None or window <= scan_limit
        q = self.gram
        lengths = self._lengths
        need_shared = self._need_shared(m, high, min_score)
        if need_shared <= 0:
            return self._keep(self._scan_window(first, last, low, high), allowed) if can_scan else None

        counts = Counter(self._gram_codes(units))
        grams = list(counts)
        postings = self._postings(grams, first, last)
        ordered = sorted(range(len(grams)), key=lambda i: postings[i][0])
        total = m - q + 1
        must_cover = total - need_shared + 1
        budget = max(EXTRA_LIST_MIN, EXTRA_LIST_SHARE * len(lengths))
        covered = 0
        read = 0
        lists: list[np.ndarray] = []
        weights: list[int] = []
        for i in ordered:
            size, arrays = postings[i]
            if covered >= must_cover:
                # One more list lifts the count every survivor needs by one: worth it while
                # the list is short, or short against what the survivors would cost to score.
                if size > budget and size > EXTRA_LIST_FACTOR * read:
                    break
            elif can_scan and read + size >= _SCAN_RATIO * window:
                # Reading the lists would cost more than scoring the whole window.
                return self._keep(self._scan_window(first, last, low, high), allowed)
            elif scan_limit is not None and read + size > POSTING_BUDGET:
                return None
            covered += counts[grams[i]]
            read += size
            lists += arrays
            weights += [counts[grams[i]]] * len(arrays)
        if not lists:
            return np.empty(0, dtype=np.int64)
        unread = total - covered
        if need_shared - unread <= 1:
            rows = np.unique(np.concatenate(lists))
            row_lengths = lengths.take(rows)
            return self._keep(rows[(row_lengths >= low) & (row_lengths <= high)], allowed)
        rows, tally = self._tally(lists, weights, first, last, window, at_least=need_shared - unread)
        del lists
        row_lengths = lengths.take(rows).astype(np.int64)
        in_window = (row_lengths >= low) & (row_lengths <= high)
        rows, tally, row_lengths = rows[in_window], tally[in_window], row_lengths[in_window]
        # The lemma's bound for each row's own longer length, not just the weakest one.
        longer = np.maximum(row_lengths, m)
        need = longer - q + 1 - q * max_edits(longer, min_score)
        return self._keep(rows[tally >= need - unread], allowed)

    def _tally(self, lists: list[np.ndarray], weights: list[int], first: int, last: int, window: int,
               *, at_least: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(rows, how many of the read grams each shares, weighted by the query's counts) for
        the rows posted in ``lists`` and sharing at least ``at_least``.

        Its arrays are as large as the postings read (up to POSTING_BUDGET) or the length
        window: each is dropped as soon as it is used, and none is made that a view or an
        operation in place can spare, since glibc keeps a request's peak (common/heap.py)."""
        # Most grams occur once in a query: count without weights then (integer bincount).
        w = None
        if any(weight != 1 for weight in weights):
            w = np.repeat(np.asarray(weights, dtype=np.int32), [a.size for a in lists])
        owned = len(lists) > 1  # a concatenation is ours to change; one list is the index's own
        posted = np.concatenate(lists) if owned else lists[0]
        span = last - first
        if posted.size * _DENSE_COUNT_RATIO >= window:
            # Count over the window only: frozen rows [first, last), then the added rows.
            if self._frozen_rows == len(self._ids):
                slots = np.subtract(posted, first, out=posted if owned else None)
            else:
                slots = np.where(
                    posted >= self._frozen_rows, posted - self._frozen_rows + span, posted - first
                )
            del posted
            tally = np.bincount(slots, weights=w, minlength=window)
            del slots
            hits = np.flatnonzero(tally >= at_least)
            tally = tally[hits]
            if self._frozen_rows == len(self._ids):
                hits += first
                rows = hits
            else:
                rows = np.where(hits >= span, hits - span + self._frozen_rows, hits + first)
        elif w is None:
            # Runs of a sorted copy: np.unique's inverse and argsort would be three more
            # arrays of the postings' size.
            if owned:
                posted.sort()
                ordered = posted
            else:
                ordered = np.sort(posted)
            del posted
            starts = np.flatnonzero(np.diff(ordered, prepend=ordered[:1] - 1))
            rows = ordered[starts]
            tally = np.diff(starts, append=ordered.size)
        else:
            rows, inverse = np.unique(posted, return_inverse=True)
            tally = np.bincount(inverse, weights=w)
        return rows, tally

    @staticmethod
    def _keep(rows: np.ndarray, allowed: RowFilter) -> np.ndarray:
        return rows if allowed is None or rows.size == 0 else rows[allowed(rows)]

    def _scan_window(self, first: int, last: int, low: int, high: int) -> np.ndarray:
        """Every live row in the length window: frozen rows [first, last) and added ones."""
        rows: np.ndarray = np.r_[np.arange(first, last), np.arange(self._frozen_rows, len(self._ids))]
        row_lengths: np.ndarray = self._lengths.take(rows)
        return rows[(row_lengths >= low) & (row_lengths <= high)]

    def _bounded(self, units: str, min_score: float, budget: int, allowed: RowFilter, limit: int,
                 slack: float, stats: SearchStats) -> list[tuple[Id, float]]:
        """The best matches among the ``budget`` rows of the length window with the highest
        upper bound on their score, all scored ≥ ``min_score``; exact (``stats.exact``) when
        every row left out is bounded below the answer's floor.

        A row of L units sharing c of the query's grams (c + unread for lists not read) needs
        at least max(|m − L|, ⌈(max(m, L) − q + 1 − c) / q⌉) edits: that bounds its score from
        above. Rows sharing no gram read are bounded by length alone, so of those only the
        ones nearest the query's length are candidates.
        """
        m = len(units)
        q = self.gram
        low, high, first, last = self._window(m, min_score)
        lengths = self._lengths
        counts = Counter(self._gram_codes(units))
        grams = list(counts)
        postings = sorted(zip(self._postings(grams, first, last), grams, strict=True), key=lambda item: item[0][0])
        total = max(m - q + 1, 0)
        covered = read = 0
        lists: list[np.ndarray] = []
        weights: list[int] = []
        for (size, arrays), gram in postings:
            # The rarest lists first: they say the most per posting read.
            if lists and read + size > POSTING_BUDGET:
                break
            covered += counts[gram]
            read += size
            lists += arrays
            weights += [counts[gram]] * len(arrays)
        stats.postings += read
        unread = total - covered
        window = last - first + (len(self._ids) - self._frozen_rows)
        if lists:
            shared_rows, tally = self._tally(lists, weights, first, last, window)
            del lists
        else:
            shared_rows, tally = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        # Rows sharing no gram read: the frozen ones nearest the query's length (rows are in
        # order of length), and every row added since the last freeze; with a group filter,
        # every allowed row of the window (the nearest-length ones may all be elsewhere).
        if allowed is not None:
            near = self._scan_window(first, last, low, high)
            near = near[allowed(near)]
            complete = True
            near_size = near.size
            rows = np.union1d(shared_rows, near).astype(np.int64)
        else:
            middle = int(np.searchsorted(self._frozen_lengths, np.uint32(min(m, _DEAD - 1))))
            start, stop = max(first, middle - budget), min(last, middle + budget)
            added = (self._frozen_rows, len(self._ids))
            near_size = stop - start + added[1] - added[0]
            complete = start == first and stop == last
            # Merged in order rather than by np.union1d, which sorts every row sharing a gram:
            # that sort was a third of a lookup's time on the 1M-unit benchmark TM.
            rows = union_with_ranges(shared_rows, ((start, stop), added))
        # What follows holds a few arrays of these rows (up to a few hundred thousand) at once:
        # computed in place and dropped early, since glibc keeps a request's peak (common/heap.py).
        row_lengths = lengths.take(rows)
        keep = (row_lengths >= low) & (row_lengths <= high)
        if allowed is not None:
            keep &= allowed(rows)
        rows = rows[keep]
        # Within the window, so below the longest row: 32 bits hold every length and difference.
        row_lengths = row_lengths[keep].astype(np.int32)
        del keep
        shared = np.zeros(rows.size, dtype=tally.dtype)
        if shared_rows.size:
            at = np.searchsorted(shared_rows, rows)
            np.minimum(at, shared_rows.size - 1, out=at)
            hit = shared_rows[at] == rows
            shared[hit] = tally[at[hit]]
            del at, hit
        del shared_rows, tally
        distance = np.abs(row_lengths - m)
        longer = np.maximum(row_lengths, m)
        del row_lengths
        # edits = max(|L − m|, ⌈(max(L, m) − q + 1 − shared − unread) / q⌉), and the bound
        # 100·(1 − edits / max(L, m)), in one float array.
        bound = np.ceil((longer - q + 1 - shared - unread) / q)
        np.maximum(bound, distance, out=bound)
        np.maximum(longer, 1, out=longer)
        bound /= longer
        del longer
        np.subtract(1.0, bound, out=bound)
        bound *= 100.0
        if rows.size > budget:
            # Many rows share a bound (every row of the query's length sharing no gram has
            # the same): among them, those sharing more grams, then nearer in length, first.
            order = 1e-3 * shared
            np.add(bound, order, out=order)
            order -= 1e-6 * distance
            np.negative(order, out=order)
            chosen = np.argpartition(order, budget - 1)[:budget]
            del order
            bound[chosen] = -math.inf
            best_left_out = float(bound.max())
            rows = rows[chosen]
        else:
            best_left_out = -math.inf
        if not complete and near_size:
            # Rows beyond the nearest-length ones share no gram read: bounded by length alone.
            edge = np.array([self._frozen_lengths[start - 1] if start > first else m,
                             self._frozen_lengths[stop] if stop < last else m], dtype=np.int64)
            longer_edge = np.maximum(edge, m)
            edge_edits = np.maximum(np.abs(edge - m), np.ceil((longer_edge - q + 1 - unread) / q))
            best_left_out = max(best_left_out, float((100.0 * (1 - edge_edits / longer_edge)).max()))
        scored = self._rescore(units, rows, min_score, stats, limit, slack)
        floor = min_score
        if len(scored) >= limit:
            floor = max(floor, scored[limit - 1][1] - slack)
        stats.exact = best_left_out < floor
        return scored
