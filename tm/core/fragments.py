"""Fragments: the runs of a query that stored sources already contain, found through an index.

Whole-segment matching helps only when a sentence was translated before; new text is mostly
new sentences built from phrases the memory holds (institutions, titles, set phrases). A
fragment is a maximal run of the query that occurs in some stored source:

* Chinese: at least MIN_HAN Han characters, beginning and ending on jieba word boundaries
  (snapped inward, so no fragment cuts through a word);
* English: at least MIN_WORDS words, at least one of them not in EN_STOPWORDS;
* never numbers or punctuation alone; never starting or ending on punctuation, nor ending on
  a function word that leans on what follows (ZH_NO_END, EN_NO_END) or, in Chinese, starting
  on a particle that leans on what precedes (ZH_NO_START): such edges are trimmed.

Each comes with its offsets into the query as sent (traditional characters, full-width forms
and case are folded as tm.core.text.match_key folds them, and mapped back), how many stored
units contain it, and a sample of their ids for the translation step. ``find_fragments``
returns a non-overlapping cover of the query, longest (then most frequent) fragments first.

The index is a suffix array over the fragment keys of one language side: for Chinese the match
key text (a code point per folded character, numbers as written), for English a code point per
Moses token of the match key (tm.core.text.encode_tokens with literal numbers: a stored
"September 17" does not contain "September 29", although fuzzy matching treats them alike).
So one structure serves both languages, built from what the database already keeps for the
candidate index (``Unit.zh_key``, ``Unit.en_tokens``) without tokenising again. The longest
stored prefix of each query position is one binary search over the suffix array plus the
common prefix with its two neighbours; how many units hold a run is the size of the run's
suffix interval mapped to rows (a row-start array and np.searchsorted), counted once per unit
however often the unit repeats it. See FragmentIndex for how units added later are indexed.
"""
from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from common.languages import LANGUAGES
from tm.core.arrays import Column, FrozenList, FrozenMap
from tm.core.lexicon import jieba_tokenizer
from tm.core.text import MatchKey, encode_tokens, match_key, normalize, tokenize_en

#: Shortest Chinese fragment in Han characters: two-character words are the common case, and
#: a single stored word is the glossary's and the dictionary's business, not a fragment's.
MIN_HAN = 4
#: Shortest English fragment in words (tokens with a letter or digit) ...
MIN_WORDS = 3
#: ... of which at least this many carry content (have a letter and are not stop words).
MIN_CONTENT_WORDS = 1
#: Unit ids a fragment carries for the translation step: enough to group renderings across
#: units and find the most frequent, few enough to align within a lookup's budget.
SAMPLE = 50
#: Parts of a fragment (``fragment_parts``) offered when the whole has no rendering to show:
#: the three held by the most units. On the quality bench (zh→en, held out, threshold 0.6)
#: they raise the queries with a right fragment from 20% to 29% at the same precision (0.76);
#: in a first trial, trying every sub-run instead of the top three gained nothing more.
MAX_PARTS = 3
#: Sub-runs whose units are counted, at most, per fragment: a fragment of ten words has about
#: fifty; a whole-segment one would have thousands.
MAX_PART_RUNS = 80
#: Longest run looked for from one position, in units. Runs this long are whole segments, which
#: fuzzy matching already finds; the cap bounds the binary search's string comparisons, whose
#: cost grows with the pattern, for queries up to the lookup's scoring cap (2,000 characters).
MAX_RUN = 256
#: A new segment of the index is merged with the one before it while that one is at most this
#: many times larger: segments then grow geometrically, so a lookup searches O(log n) of them
#: and each unit is re-sorted O(log n) times over its life (Bentley and Saxe's logarithmic
#: method). 4 keeps the count low (about six between a 1M-unit build and a few thousand adds).
MERGE_RATIO = 4
#: Rebuild everything once removed rows are this share of all rows (and at least
#: _COMPACT_MIN): until then a removed unit's text stays in the suffix arrays, uncounted.
_COMPACT_SHARE = 0.5
_COMPACT_MIN = 1_000
#: Texts shorter than this are suffix-sorted on numpy rather than by libdivsufsort (measured
#: here: 0.3 ms against 7 ms at 1,000 characters, even at about 10,000).
_DOUBLING_MAX = 10_000

#: English function words, lower case as match keys fold them: a fragment of these alone
#: ("as well as the") carries nothing to translate. Articles, pronouns, prepositions,
#: conjunctions, auxiliaries and modals, common adverbs of degree and place; about 150, close to
#: the usual IR stop lists (no list ships with the installed packages: sacremoses has only
#: non-breaking prefixes, nltk's data is not installed).
EN_STOPWORDS = frozenset("""
a an the this that these those some any each every either neither no nor not all both half
i me my mine myself we us our ours ourselves you your yours yourself yourselves he him his
himself she her hers herself it its itself they them their theirs themselves one ones
who whom whose which what whatever whoever where when why how whether there here
and or but if then else than so because as while although though unless until since
of to in on at by for from with without within into onto upon over under about above below
after before between among through during against along across around behind beyond near
off out up down per via toward towards like
be am is are was were been being have has had having do does did doing done
will would shall should can could may might must ought
's 't 'll 're 've 'd n't
just only also too very more most much many such own same other another again further
once ever even still yet already now soon then thus hence however therefore
""".split())

#: One-character Chinese words a fragment does not end on: particles, prepositions, conjunctions
#: and adverbs that lean on what follows or close a phrase the fragment cuts off (中国经济的,
#: 俄罗斯在, 还将); their rendering alone ("of", "in") is no translation of anything.
ZH_NO_END = frozenset("的了着过地得之在是和与及或而并也都就将把被对为从向于以其"
                      "这那又还很更最所但却则即让给由使到比跟同等个")
#: ... nor starts on: particles and conjunctions that attach to the word before (了中国特色...).
ZH_NO_START = frozenset("的了着过地得之等和与及或而并也都就又还却则即吗呢吧啊")
#: English words a fragment does not end on, for the same reason ("based on the", "for China
#: to"); a fragment may start on them ("in line with", "the Belt and Road").
EN_NO_END = frozenset("""
a an the of to in on at by for with from into onto upon about as than and or but nor that which
who whom whose is are was were be been being has have had will would shall should can could may
might must do does did 's not no its their his her our your my this these those
""".split())

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: Separates two rows in a segment's text. Never in a pattern: queries have it replaced.
_SEPARATOR = "\x00"
_STAND_IN = "\x01"


@dataclass(frozen=True)
class Fragment:
    """A run of the query that stored sources contain.

    ``start``/``end`` are offsets into the query as sent and ``source`` is ``query[start:end]``;
    ``units`` counts the stored units whose sources contain the run (after folding, each unit
    once); ``unit_ids`` is a sample of at most SAMPLE of them, spread over the index.
    """

    start: int
    end: int
    source: str
    units: int
    unit_ids: tuple[Hashable, ...]
    #: The run's [start, end) in the query's fragment key (characters or tokens), for
    #: ``fragment_parts``; not part of what a lookup shows.
    key_span: tuple[int, int] | None = field(default=None, compare=False, repr=False)
    #: The query's runs it was found among (``fragment_parts`` reuses them); not shown either.
    runs: Any = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "source": self.source, "units": self.units}


def fragment_units(text: str | MatchKey, lang: str) -> str:
    """What FragmentIndex stores for a source: its fragment key (see the module docstring).

    From the database's columns without tokenising again: ``zh_key`` as it is for Chinese,
    ``encode_tokens(en_tokens.split(" "), literal_numbers=True)`` for English.
    """
    if isinstance(text, MatchKey):
        return text.text if text.lang == "zh" else encode_tokens(text.tokens, literal_numbers=True)
    key = normalize(text, lang)
    if lang == "zh":
        return key
    return encode_tokens(tokenize_en(key) if key else (), literal_numbers=True)


# --- the index -------------------------------------------------------------------------------


class _Segment:
    """A suffix array over some rows' units joined by _SEPARATOR; immutable once built."""

    __slots__ = ("text", "sa", "positions", "starts", "rows")

    def __init__(self, texts: Sequence[str], rows: np.ndarray) -> None:
        self.text = _SEPARATOR.join(texts) + _SEPARATOR
        lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
        self.starts = np.zeros(len(texts), dtype=np.int64)
        np.cumsum(lengths[:-1], out=self.starts[1:])
        self.rows = rows
        self.sa = _suffix_array(self.text)
        # bisect over a memoryview reads plain ints, about twice as fast as numpy scalars.
        self.positions = memoryview(self.sa)  # type: ignore[arg-type]  # numpy arrays are buffers; its stubs do not say so

    def __len__(self) -> int:
        return len(self.text)

    def row_units(self) -> list[str]:
        return self.text.split(_SEPARATOR)[:-1]

    def row_text(self) -> str:
        """The rows' units, each followed by _SEPARATOR, as the suffix array indexes them."""
        return self.text

    def longest(self, pattern: str) -> int:
        """Length of the longest prefix of ``pattern`` that occurs in this segment."""
        text, positions = self.text, self.positions
        n = len(pattern)
        at = bisect.bisect_left(positions, pattern, key=lambda p: text[p : p + n])
        best = 0
        for neighbour in (at - 1, at):
            if 0 <= neighbour < len(positions):
                p = positions[neighbour]
                best = max(best, _common_prefix(pattern, text[p : p + n]))
        return best

    def interval(self, run: str, lo: int = 0, hi: int | None = None) -> tuple[int, int]:
        """The suffix array's [lo, hi) of the suffixes that begin with ``run``, searched within
        ``lo``/``hi`` (the interval of a prefix of ``run``: a longer run's lies inside it)."""
        text, positions = self.text, self.positions
        n = len(run)
        hi = len(positions) if hi is None else hi
        lo = bisect.bisect_left(positions, run, lo, hi, key=lambda p: text[p : p + n])
        return lo, bisect.bisect_right(positions, run, lo, hi, key=lambda p: text[p : p + n])

    def rows_with(self, run: str) -> np.ndarray:
        """Global row numbers of the rows whose units contain ``run`` (repeats included)."""
        return self.rows_in(*self.interval(run))

    def rows_in(self, lo: int, hi: int) -> np.ndarray:
        """Global row numbers of the suffixes [lo, hi) of the suffix array (repeats included)."""
        if lo == hi:
            return _NO_ROWS
        local = np.searchsorted(self.starts, self.sa[lo:hi], side="right") - 1
        return self.rows[local]

    def nbytes(self) -> int:
        char = 1 if self.text.isascii() else (2 if max(self.text) <= "\uffff" else 4)
        return len(self.text) * char + self.sa.nbytes + self.starts.nbytes + self.rows.nbytes


_NO_ROWS = np.zeros(0, dtype=np.int64)
#: Occurrences up to which FragmentIndex.count_where counts in Python rather than numpy.
_FEW = 32


class _MappedSegment:
    """A _Segment read from a snapshot's arrays (tm.index_snapshot), which stay memory-mapped:
    the text is big-endian UTF-32 (byte order is then code point order, so the binary search
    compares bytes as _Segment compares strings), the suffix array and row starts as saved."""

    __slots__ = ("_bytes", "_chars", "sa", "positions", "starts", "rows")

    def __init__(self, text: np.ndarray, sa: np.ndarray, starts: np.ndarray, rows: np.ndarray) -> None:
        self._chars = text
        self._bytes = memoryview(text).cast("B") if text.size else memoryview(b"")  # type: ignore[arg-type]  # numpy arrays are buffers
        self.sa = sa
        self.positions = memoryview(sa)  # type: ignore[arg-type]
        self.starts = starts
        self.rows = rows

    def __len__(self) -> int:
        return int(self._chars.size)

    def _at(self, p: int, n: int) -> bytes:
        return bytes(self._bytes[4 * p : 4 * (p + n)])

    def row_text(self) -> str:
        return self._chars.tobytes().decode("utf-32-be", "surrogatepass")

    def row_units(self) -> list[str]:
        return self.row_text().split(_SEPARATOR)[:-1]

    def longest(self, pattern: str) -> int:
        """Length of the longest prefix of ``pattern`` that occurs in this segment."""
        positions, at_ = self.positions, self._at
        n = len(pattern)
        wanted = pattern.encode("utf-32-be", "surrogatepass")
        at = bisect.bisect_left(positions, wanted, key=lambda p: at_(p, n))
        best = 0
        for neighbour in (at - 1, at):
            if 0 <= neighbour < len(positions):
                found = at_(positions[neighbour], n).decode("utf-32-be", "surrogatepass")
                best = max(best, _common_prefix(pattern, found))
        return best

    def interval(self, run: str, lo: int = 0, hi: int | None = None) -> tuple[int, int]:
        """As _Segment.interval."""
        positions, at_ = self.positions, self._at
        n = len(run)
        hi = len(positions) if hi is None else hi
        wanted = run.encode("utf-32-be", "surrogatepass")
        lo = bisect.bisect_left(positions, wanted, lo, hi, key=lambda p: at_(p, n))
        return lo, bisect.bisect_right(positions, wanted, lo, hi, key=lambda p: at_(p, n))

    def rows_with(self, run: str) -> np.ndarray:
        """Global row numbers of the rows whose units contain ``run`` (repeats included)."""
        return self.rows_in(*self.interval(run))

    def rows_in(self, lo: int, hi: int) -> np.ndarray:
        """As _Segment.rows_in."""
        if lo == hi:
            return _NO_ROWS
        local = np.searchsorted(self.starts, self.sa[lo:hi], side="right") - 1
        return self.rows[local]

    def nbytes(self) -> int:
        return int(self._chars.nbytes + self.sa.nbytes + self.starts.nbytes + self.rows.nbytes)


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def _suffix_array(text: str) -> np.ndarray:
    """The suffix array of ``text`` in code point order (Python's str order), as int32.

    Long texts go to libdivsufsort (pydivsufsort, MIT), which sorts bytes: each code point is
    written as a fixed-width big-endian symbol (2 bytes for Chinese text of the Basic
    Multilingual Plane; otherwise its rank among the distinct code points), so byte order is
    symbol order, and only the positions at symbol boundaries are kept. A call costs a fixed
    5-10 ms here, far more than sorting a few sentences, so short texts (the segments of
    single adds) are sorted by prefix doubling on numpy instead.
    """
    if not text:
        return np.zeros(0, dtype=np.int32)
    if len(text) < _DOUBLING_MAX:
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        return _prefix_doubling(np.unique(codes, return_inverse=True)[1])
    from pydivsufsort import divsufsort

    data = text.encode("utf-16-be", "surrogatepass")
    width = 2
    if len(data) != 2 * len(text):  # code points past U+FFFF: rank them
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
        distinct, ranks = np.unique(codes, return_inverse=True)
        del codes
        width = 2 if len(distinct) <= 65536 else 4
        data = ranks.astype(f">u{width}").tobytes()
        del ranks
    sa = np.asarray(divsufsort(data))
    del data
    sa = sa[(sa & (width - 1)) == 0]
    sa //= width
    # A plain native view: ctypes-made arrays export the format "<i", which memoryview (and
    # so the binary search over it) cannot index.
    return sa.view(np.int32) if sa.dtype == np.int32 else np.array(sa, dtype=np.int64)


def _prefix_doubling(ranks: np.ndarray) -> np.ndarray:
    """Suffix array of a sequence of dense ranks (Manber and Myers): sort by the first k
    symbols, then by pairs of k-prefixes, doubling k until every suffix has its own rank."""
    n = len(ranks)
    rank = ranks.astype(np.int64)
    k = 1
    while True:
        second = np.zeros(n, dtype=np.int64)  # past the end sorts first: a shorter suffix
        if k < n:
            second[: n - k] = rank[k:] + 1
        key = rank * (int(rank.max()) + 2) + second
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.concatenate(([0], np.cumsum(ordered[1:] != ordered[:-1])))
        if rank[order[-1]] == n - 1:
            return order.astype(np.int32)
        k *= 2


class FragmentIndex:
    """Suffix-array index over the fragment keys (``fragment_units``) of one language side.

    Unit ids are any hashable values (database ids), with a ``group`` each (the memory) that
    ``find_fragments(groups=...)`` restricts to. ``build_units`` indexes a whole memory in one
    suffix array. Units added later (imports, confirmed translations) go into a new small
    segment, merged with its predecessors by MERGE_RATIO, so an add costs a sort of a small
    segment, never of the whole memory, and a lookup searches a few segments; a removed unit
    is dropped from the counts at once and from the arrays at the next merge or compaction.
    English units use token codes that belong to this process (tm.core.text.encode_tokens):
    build the index in the process that serves it, as CandidateIndex. Not thread-safe for writes.
    """

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unsupported language {lang!r}")
        self.lang = lang
        #: Compact when removed rows pass their share, and merge new segments into a mapped one
        #: (off for an index mapped from a snapshot: a new snapshot does that, tm.live_index).
        self.auto_fold = True
        #: Bumped by every write: what a query's runs counted is valid only while it is unchanged.
        self.version = 0
        self._clear()

    def _clear(self) -> None:
        self.version += 1
        self._segments: list[_Segment] = []
        self._ids: list[Hashable] = []
        self._row_of: dict[Hashable, int] = {}
        self._alive = bytearray()
        self._groups = Column("q")
        self._dead = 0

    # --- writing ------------------------------------------------------------------------

    def build_units(self, items: Iterable[tuple[Any, ...]]) -> FragmentIndex:
        """Replace the contents with (unit id, fragment_units(source)[, group]) tuples."""
        self._clear()
        self._add_segment(items)
        return self

    def add_units(self, unit_id: Hashable, units: str, *, group: int = 0) -> None:
        """Index one unit by its ``fragment_units``; an id already present is replaced."""
        self._add_segment([(unit_id, units, group)])

    def add_many(self, items: Iterable[tuple[Any, ...]]) -> None:
        """Index (unit id, units[, group]) tuples as one segment: an import's units at once."""
        self._add_segment(items)

    def remove(self, unit_id: Hashable) -> bool:
        """Forget a unit; False when it was not indexed."""
        row = self._row_of.pop(unit_id, None)
        if row is None:
            return False
        self._alive[row] = 0
        self._dead += 1
        self.version += 1
        if self.auto_fold and self._compaction_due():
            self._compact()
        return True

    def _compaction_due(self) -> bool:
        return self._dead >= _COMPACT_MIN and self._dead >= _COMPACT_SHARE * len(self._ids)

    def rebuild_due(self) -> bool:
        """Whether removed rows would have been compacted away by now (see ``auto_fold``)."""
        return self._compaction_due()

    def rebuild(self) -> None:
        """Drop the removed rows: one segment, sorted again."""
        self._compact()

    def _add_segment(self, items: Iterable[tuple[Any, ...]]) -> None:
        texts: list[str] = []
        rows: list[int] = []
        for item in items:
            unit_id, units = item[0], item[1]
            group = item[2] if len(item) > 2 else 0
            if unit_id in self._row_of:
                self.remove(unit_id)
            row = len(self._ids)
            self._ids.append(unit_id)
            self._row_of[unit_id] = row
            self._alive.append(1)
            self._groups.append(group)
            texts.append(units.replace(_SEPARATOR, _STAND_IN))
            rows.append(row)
        if not texts:
            return
        self.version += 1
        self._segments.append(_Segment(texts, np.array(rows, dtype=np.int64)))
        while (len(self._segments) > 1 and len(self._segments[-2]) <= MERGE_RATIO * len(self._segments[-1])
               and (self.auto_fold or not isinstance(self._segments[-2], _MappedSegment))):
            newer = self._segments.pop()
            older = self._segments.pop()
            self._segments.append(self._merge([older, newer]))

    def _merge(self, segments: list[_Segment]) -> _Segment:
        texts: list[str] = []
        rows: list[np.ndarray] = []
        for segment in segments:
            keep = np.frombuffer(self._alive, dtype=np.uint8)[segment.rows].astype(bool)
            units = segment.row_units()
            texts.extend(u for u, k in zip(units, keep, strict=True) if k)
            rows.append(segment.rows[keep])
        return _Segment(texts, np.concatenate(rows))

    def _compact(self) -> None:
        alive = np.frombuffer(self._alive, dtype=np.uint8).astype(bool)
        items = []
        for segment in self._segments:
            for row, units in zip(segment.rows.tolist(), segment.row_units(), strict=True):
                if alive[row]:
                    items.append((self._ids[row], units, self._groups[row]))
        self.build_units(items)

    # --- snapshots ----------------------------------------------------------------------

    #: The arrays ``to_arrays`` gives and ``from_arrays`` takes (tm.index_snapshot saves them).
    ARRAYS = ("ids", "groups", "text", "sa", "starts", "rows", "id_keys", "id_rows")

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The index as plain arrays, in one segment without removed rows (compacted first),
        for a snapshot. Ids must be ints (database ids)."""
        if len(self._segments) > 1 or self._dead:
            self._compact()
        ids = np.fromiter((int(cast(int, i)) for i in self._ids), dtype=np.int64, count=len(self._ids))
        id_keys, id_rows = FrozenMap.of(ids, np.arange(ids.size, dtype=np.int64))
        if self._segments:
            segment = self._segments[0]
            text = np.frombuffer(segment.row_text().encode("utf-32-be", "surrogatepass"), dtype=">u4")
            sa, starts, rows = segment.sa, segment.starts, segment.rows
        else:
            text, sa = np.empty(0, dtype=">u4"), np.empty(0, dtype=np.int32)
            starts, rows = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return {"ids": ids, "groups": self._groups.numpy(), "text": text, "sa": sa,
                "starts": starts, "rows": rows, "id_keys": id_keys, "id_rows": id_rows}

    @classmethod
    def from_arrays(cls, lang: str, arrays: dict[str, np.ndarray]) -> FragmentIndex:
        """An index over ``to_arrays``'s arrays as given (memory-mapped ones stay mapped); the
        per-row alive flags are copied (a byte a row), the groups stay mapped. Units added later go into
        segments of this process's own, as after a build."""
        index = cls(lang)
        ids = arrays["ids"]
        index._ids = cast(Any, FrozenList(ids))
        index._row_of = cast(Any, FrozenMap(arrays["id_keys"], arrays["id_rows"]))
        index._alive = bytearray(b"\x01") * int(ids.size)
        index._groups = Column("q", arrays["groups"])
        index.auto_fold = False
        if ids.size:
            index._segments = [cast(_Segment, _MappedSegment(arrays["text"], arrays["sa"], arrays["starts"],
                                                             arrays["rows"]))]
        return index

    # --- reading ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self._row_of

    @property
    def segments(self) -> int:
        return len(self._segments)

    def nbytes(self) -> int:
        """Bytes held by the arrays and texts (not the id list's Python objects)."""
        return sum(s.nbytes() for s in self._segments) + len(self._alive) + self._groups.nbytes

    def longest(self, pattern: str) -> int:
        """Length of the longest prefix of ``pattern`` stored in some unit (removed ones too)."""
        pattern = pattern.replace(_SEPARATOR, _STAND_IN)
        return max((s.longest(pattern) for s in self._segments), default=0)

    def rows_with(self, run: str, groups: Collection[int] | None = None) -> np.ndarray:
        """Distinct rows of live units (in ``groups`` when given) whose units contain ``run``."""
        return self.rows_where(self.where(run), groups)

    def where(self, run: str, within: Sequence[tuple[int, int]] | None = None) -> tuple[tuple[int, int], ...]:
        """Where ``run`` is in each segment: its suffix interval there, searched ``within`` those
        of a prefix of ``run`` (``where`` of it, the index unchanged since)."""
        run = run.replace(_SEPARATOR, _STAND_IN)
        if within is None:
            return tuple(s.interval(run) for s in self._segments)
        return tuple(s.interval(run, lo, hi) if lo < hi else (lo, hi)
                     for s, (lo, hi) in zip(self._segments, within, strict=True))

    def count_where(self, where: Sequence[tuple[int, int]], groups: Collection[int] | None = None) -> int:
        """``len(rows_where(where, groups))``, without numpy's fixed costs when the run occurs
        only a few times (most of the sub-runs ``fragment_parts`` counts)."""
        if sum(hi - lo for lo, hi in where) > _FEW:
            return len(self.rows_where(where, groups))
        alive = self._alive
        rows = {row for s, (lo, hi) in zip(self._segments, where, strict=True) if lo < hi
                for row in s.rows_in(lo, hi).tolist() if alive[row]}
        if groups is not None:
            rows = {row for row in rows if self._groups[row] in groups}
        return len(rows)

    def rows_where(self, where: Sequence[tuple[int, int]], groups: Collection[int] | None = None) -> np.ndarray:
        """``rows_with`` of the run ``where`` gave."""
        found = [s.rows_in(lo, hi) for s, (lo, hi) in zip(self._segments, where, strict=True)]
        rows = np.unique(np.concatenate(found)) if found else _NO_ROWS
        if not len(rows):
            return rows
        rows = rows[np.frombuffer(self._alive, dtype=np.uint8)[rows].astype(bool)]
        if groups is not None and len(rows):
            allowed = np.fromiter(groups, dtype=np.int64)
            rows = rows[np.isin(self._groups.take(rows), allowed)]
        live: np.ndarray = rows
        return live

    def sample_ids(self, rows: np.ndarray, size: int = SAMPLE) -> tuple[Hashable, ...]:
        """Ids of at most ``size`` of ``rows``, spread evenly over them (so over the memory's
        history: rows are numbered in the order units were indexed)."""
        if len(rows) > size:
            rows = rows[np.linspace(0, len(rows) - 1, size).round().astype(np.int64)]
        return tuple(self._ids[r] for r in rows.tolist())


# --- finding ---------------------------------------------------------------------------------


def warm_up() -> None:
    """Load jieba's dictionary now (about a second) rather than in the first lookup."""
    jieba_tokenizer().lcut("预热")


def _is_word(token: str) -> bool:
    return any(c.isalnum() for c in token)


def _boundaries(key: MatchKey) -> tuple[list[bool], list[bool]]:
    """Which positions of the query's fragment key a fragment may start at, and which it may
    end at (index i: the fragment ends before position i): word starts and ends, never at
    punctuation or spaces, nor at the leaning function words."""
    if key.lang == "en":
        n = len(key.tokens)
        can_start = [False] * (n + 1)
        can_end = [False] * (n + 1)
        for i, token in enumerate(key.tokens):
            if _is_word(token):
                can_start[i] = True
                can_end[i + 1] = token not in EN_NO_END
        return can_start, can_end
    n = len(key.text)
    can_start = [False] * (n + 1)
    can_end = [False] * (n + 1)
    offset = 0
    for word in jieba_tokenizer().lcut(key.text):
        start, offset = offset, offset + len(word)
        if _is_word(word):
            can_start[start] = word not in ZH_NO_START
            can_end[offset] = word not in ZH_NO_END
    return can_start, can_end


class _QueryRuns:
    """A query's fragment key, where runs may start and end, and how many stored units hold
    each run looked at: made once per query and kept by its fragments (``Fragment.runs``), so
    that ``fragment_parts`` neither segments the query with jieba again nor counts again the
    runs ``find_fragments`` counted."""

    def __init__(self, query: str, lang: str, index: FragmentIndex, glossary_spans: Iterable[tuple[int, int]],
                 groups: Collection[int] | None) -> None:
        self.query, self.lang, self.index, self.groups = query, lang, index, groups
        self.version = index.version
        self.key = match_key(query, lang)
        self.units = fragment_units(self.key, lang).replace(_SEPARATOR, _STAND_IN)
        self.can_start, self.can_end = _boundaries(self.key)
        self.terms = [(a, b) for a, b in glossary_spans]
        # Prefix counts for ``long_enough``: fragment_parts asks it of every sub-run.
        if lang == "zh":
            han = [bool(_HAN.match(c)) for c in self.key.text]
            self._words = list(itertools.accumulate(han, initial=0))
            self._content = self._words
        else:
            words = [_is_word(t) for t in self.key.tokens]
            content = [w and any(c.isalpha() for c in t) and t not in EN_STOPWORDS
                       for w, t in zip(words, self.key.tokens, strict=True)]
            self._words = list(itertools.accumulate(words, initial=0))
            self._content = list(itertools.accumulate(content, initial=0))
        #: Rows of the runs ``find_fragments`` looks at, dropped when it is done (they may be
        #: large, and a batch keeps every query's runs until its parts are tried); the counts stay.
        self._rows: dict[tuple[int, int], np.ndarray] = {}
        self._counts: dict[tuple[int, int], int] = {}
        self._where: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {}
        #: Counts by suffix intervals: runs in the same places are in the same units, and a run
        #: held by a few units often keeps its places as it grows by a character or a word (the
        #: sub-runs of a long fragment, most of what ``fragment_parts`` counts).
        self._counted: dict[tuple[tuple[int, int], ...], int] = {}

    def serves(self, query: str, lang: str, index: FragmentIndex, glossary_spans: Iterable[tuple[int, int]],
               groups: Collection[int] | None) -> bool:
        """Whether these runs are those of ``query`` against ``index`` as it is now (no unit
        added or removed since: rows are renumbered by a compaction, counts change)."""
        return (self.index is index and self.version == index.version and self.query == query
                and self.lang == lang and self.groups == groups and self.terms == [(a, b) for a, b in glossary_spans])

    def long_enough(self, start: int, end: int) -> bool:
        if self.lang == "zh":
            return self._words[end] - self._words[start] >= MIN_HAN
        return (self._words[end] - self._words[start] >= MIN_WORDS
                and self._content[end] - self._content[start] >= MIN_CONTENT_WORDS)

    def snap_end(self, start: int, end: int) -> int | None:
        """The furthest allowed end at or before ``end`` that leaves a long enough run."""
        for e in range(end, start, -1):
            if self.can_end[e]:
                return e if self.long_enough(start, e) else None
        return None

    def offsets(self, start: int, end: int) -> tuple[int, int]:
        if self.lang == "zh":
            return self.key.to_original(start, end)
        return self.key.spans[start][0], self.key.spans[end - 1][1]

    def in_term(self, start: int, end: int) -> bool:
        a, b = self.offsets(start, end)
        return any(ta <= a and b <= tb for ta, tb in self.terms)

    def where(self, start: int, end: int) -> tuple[tuple[int, int], ...]:
        """The run's suffix intervals (FragmentIndex.where), searched within those of the
        longest prefix of it already looked at: sub-runs are counted start by start, end by end."""
        found = self._where.get((start, end))
        if found is None:
            within = next((self._where[start, e] for e in range(end - 1, start, -1) if (start, e) in self._where), None)
            found = self._where[start, end] = self.index.where(self.units[start:end], within)
        return found

    def rows(self, start: int, end: int) -> np.ndarray:
        found = self._rows.get((start, end))
        if found is None:
            where = self.where(start, end)
            found = self._rows[start, end] = self.index.rows_where(where, self.groups)
            self._counts[start, end] = self._counted[where] = len(found)
        return found

    def count(self, start: int, end: int) -> int:
        """How many live units (in the groups) hold the run."""
        found = self._counts.get((start, end))
        if found is None:
            where = self.where(start, end)
            found = self._counted.get(where)
            if found is None:
                found = self._counted[where] = self.index.count_where(where, self.groups)
            self._counts[start, end] = found
        return found

    def best_end(self, start: int, end: int) -> int | None:
        """The longest allowed run from ``start`` ending by ``end`` that live units (in the
        groups) contain: the longest stored prefix may be only in removed or other units."""
        e = self.snap_end(start, end)
        while e is not None and not self.count(start, e):
            e = self.snap_end(start, e - 1)
        return e

    def fragment(self, start: int, end: int, sample: int) -> Fragment:
        found = self.rows(start, end)
        a, b = self.offsets(start, end)
        return Fragment(a, b, self.query[a:b], len(found), self.index.sample_ids(found, sample), (start, end), self)


def find_fragments(
    query: str,
    lang: str,
    index: FragmentIndex,
    *,
    glossary_spans: Iterable[tuple[int, int]] = (),
    groups: Collection[int] | None = None,
    sample: int = SAMPLE,
) -> list[Fragment]:
    """The fragments of ``query`` (in ``lang``, the index's language), ordered by position.

    ``glossary_spans`` are (start, end) offsets into the query of glossary terms already shown:
    a fragment within one of them is left out (a fragment longer than the term stays).
    ``groups`` restricts the units counted and sampled to those groups (memories).
    """
    if lang != index.lang:
        raise ValueError(f"a {lang} query against the {index.lang} fragment index")
    if not query or not len(index):
        return []
    q = _QueryRuns(query, lang, index, glossary_spans, groups)
    n = len(q.units)

    # Maximal runs: from each word start, the longest stored run, snapped to a word end; one
    # that a run from an earlier start already covers is not maximal.
    runs: list[tuple[int, int]] = []
    reach = 0
    for start in range(n):
        if not q.can_start[start]:
            continue
        longest = index.longest(q.units[start : start + MAX_RUN])
        if start + longest <= reach:
            continue
        end = q.best_end(start, start + longest)
        if end is None or end <= reach:
            continue
        reach = end
        if not q.in_term(start, end):
            runs.append((start, end))

    # Cover: take the longest run (then the one in the most units, then the first); cut the
    # runs it overlaps down to their part outside it, keep the parts still long enough, repeat.
    chosen: list[tuple[int, int]] = []
    while runs:
        runs.sort(key=lambda r: (r[1] - r[0], q.count(*r), -r[0]))
        start, end = runs.pop()
        chosen.append((start, end))
        left = []
        for a, b in runs:
            if b <= start or a >= end:
                left.append((a, b))
                continue
            if a < start:
                first, last = a, q.best_end(a, start)
            else:
                s = next((i for i in range(end, b) if q.can_start[i]), None)
                first, last = (s, q.best_end(s, b)) if s is not None else (a, None)
            if last is not None and not q.in_term(first, last):
                left.append((first, last))
        runs = left

    fragments = [q.fragment(start, end, sample) for start, end in sorted(chosen)]
    q._rows.clear()
    return fragments


def fragment_parts(
    query: str,
    lang: str,
    index: FragmentIndex,
    fragment: Fragment,
    *,
    glossary_spans: Iterable[tuple[int, int]] = (),
    groups: Collection[int] | None = None,
    limit: int = MAX_PARTS,
    sample: int = SAMPLE,
) -> list[Fragment]:
    """Shorter fragments inside ``fragment`` (one ``find_fragments`` gave for ``query``), for
    when no rendering of the whole is trusted enough to show: the ``limit`` maximal sub-runs
    held by the most units (then the longest, then the first; a run is maximal when no longer
    one around it is held by as many), each a fragment by the same rules
    (word boundaries, edges, length, not inside a glossary term). A long fragment is often in
    one or two units, whose projections alone are weak evidence, while a set phrase inside it
    is in more that agree (推动共建“一带一路 in one unit, 共建“一带一路 in three). Every sub-run of a stored
    run is stored, so each part has units."""
    if fragment.key_span is None or lang != index.lang:
        return []
    q = fragment.runs
    if not (isinstance(q, _QueryRuns) and q.serves(query, lang, index, glossary_spans, groups)):
        q = _QueryRuns(query, lang, index, glossary_spans, groups)
    start, end = fragment.key_span
    # Maximal sub-runs: from each start, the longest end at each count of units (the count
    # falls as the run grows), and of runs with the same end and count the one starting first.
    maximal: dict[tuple[int, int], int] = {}  # (end, units) -> start
    counted = 0
    for a in range(start, end):
        if not q.can_start[a]:
            continue
        ends = [b for b in range(a + 1, end + 1)
                if q.can_end[b] and (a, b) != (start, end) and q.long_enough(a, b) and not q.in_term(a, b)]
        for k, b in enumerate(ends):
            counted += 1
            units = q.count(a, b)
            if k + 1 == len(ends) or q.count(a, ends[k + 1]) < units:
                maximal.setdefault((b, units), a)
        if counted >= MAX_PART_RUNS:
            break
    ranked = sorted(((a, b, units) for (b, units), a in maximal.items()), key=lambda r: (-r[2], r[0] - r[1], r[0]))
    parts = [q.fragment(a, b, sample) for a, b, _ in ranked[:limit]]
    q._rows.clear()
    return parts
