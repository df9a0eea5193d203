"""The lookup use case: a segment in, ranked past translations out. No Flask here.

    request -> match key -> candidate ids from the live index (exact base scores)
            -> the units from the database -> tm.core.match.rank (penalties, numbers,
               context, differences) -> matches
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from common import params
from common.errors import DuizhaoError
from common.languages import source_and_target
from common.messages import N_, Message
from common.timeutil import isoformat
from tm import fragments
from tm import repository as repo
from tm.core.index import RESCORE_BUDGET, SearchStats
from tm.core.match import DRAFT_PENALTY, LOWER_PRIORITY_MEMORY_PENALTY, Candidate, rank
from tm.core.text import match_key
from tm.fragments import FragmentQuery, ModelStore
from tm.live_index import LiveIndex
from tm.service import resolve_memories

DEFAULT_MIN_SCORE = 70.0
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
#: Scoring looks at this many characters of a query at most: a 10,000-character paste still
#: answers within a second, while the full text is kept for the caller.
MAX_SCORED_CHARS = 2_000
#: Beyond the limit, rank this many more candidates: penalties applied in rank() (draft,
#: numbers, folds) can lift a candidate the index placed just below the cut.
RANK_SLACK = 20
MAX_BATCH = 1_000
#: Rows one request may have rescored in all (tm.core.index.RESCORE_BUDGET each at most),
#: shared out as the batch goes (what is left over the segments left)...
BATCH_RESCORE_BUDGET = 1_000_000
#: ... and each lookup at least this many: the count filter's survivors at usual thresholds are
#: a few dozen (at most a few thousand on the 1M-unit benchmark TM at 70), and a search that
#: would rescore more falls back to the bounded search. Measured on a 100k-unit TM (zh), a
#: batch of 1,000 new segments at min_score 0 took 3.1 s of CPU with (400k, 500), 4.3 s with
#: (1M, 1,000), 5.2 s with (400k, 2,000).
MIN_RESCORE_BUDGET = 1_000


@dataclass(frozen=True)
class LookupRequest:
    q: str
    src: str
    tgt: str
    min_score: float = DEFAULT_MIN_SCORE
    limit: int = DEFAULT_LIMIT
    memories: tuple[str, ...] | None = None
    prev: str | None = None
    next: str | None = None
    #: The day of the text (for glossary terms with validity periods); None: today's view of all.
    on: dt.date | None = None
    #: Whether the answer carries the query's fragments with their translations.
    fragments: bool = True


def make_request(*, q, src=None, tgt=None, min_score=None, limit=None, memories=None,
                 prev=None, next=None, on=None, fragments=None) -> LookupRequest:
    """Validate raw parameters (from a query string or JSON) into a LookupRequest."""
    q = params.text(q, "q")
    if q is None or not q.strip():
        raise DuizhaoError(Message(N_("Parameter {parameter!r} is empty: give the segment to look up."),
                                   parameter="q"), parameter="q")
    src, tgt = source_and_target(src, tgt, q)
    if src == tgt:
        raise DuizhaoError(Message(N_("Source and target language are both {lang!r}."), lang=src), parameter="tgt")
    score = params.decimal_number(min_score, "min_score", default=DEFAULT_MIN_SCORE, low=0, high=100)
    count = params.whole_number(limit, "limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    prev, next = params.text(prev, "prev"), params.text(next, "next")
    if isinstance(memories, str):
        memories = [m.strip() for m in memories.split(",") if m.strip()]
    if memories is not None and not (isinstance(memories, (list, tuple)) and all(isinstance(m, str) for m in memories)):
        raise DuizhaoError(Message(N_("Parameter {parameter!r} must name memories."), parameter="memory"),
                           parameter="memory")
    return LookupRequest(q, src, tgt, score, count, tuple(memories) if memories else None, prev, next,
                         params.date(on, "date"), _switch(fragments, "fragments"))


_OFF = ("0", "false", "no", "off")
_ON = ("1", "true", "yes", "on")


def _switch(value: object, name: str) -> bool:
    """An on/off parameter, on when absent: 0/1, false/true, no/yes, off/on (or JSON booleans)."""
    if value is None or value == "" or value is True or value is False:
        return value is not False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _OFF + _ON:
        return value.strip().lower() in _ON
    raise DuizhaoError(Message(N_("Parameter {parameter!r} must be 0 or 1."), parameter=name), parameter=name)


def fragments_many(session: Session, index: LiveIndex, store: ModelStore, requests: Sequence[LookupRequest],
                   glossary_spans: Sequence[Sequence[tuple[int, int]]]) -> list[list[dict] | None]:
    """The fragments of each lookup (tm.fragments.fragments_many), offsets into the query as
    sent; None for a request that turned them off. ``glossary_spans`` are the offsets of the
    glossary terms each answer already shows: fragments inside them are left out."""
    memory_cache: dict[tuple[str, ...] | None, frozenset[int] | None] = {}
    queries, positions = [], []
    for position, (request, spans) in enumerate(zip(requests, glossary_spans, strict=True)):
        if not request.fragments:
            continue
        if request.memories not in memory_cache:
            chosen = resolve_memories(session, request.memories)
            memory_cache[request.memories] = frozenset(m.id for m in chosen) if chosen is not None else None
        queries.append(FragmentQuery(request.q, request.src, request.tgt, memory_cache[request.memories],
                                     tuple(spans)))
        positions.append(position)
    out: list[list[dict] | None] = [None] * len(requests)
    if queries:
        index.refresh(session)
        shown = fragments.fragments_many(session, index, store, queries, max_chars=MAX_SCORED_CHARS)
        for position, found in zip(positions, shown, strict=True):
            out[position] = found
    return out


def lookup(session: Session, index: LiveIndex, request: LookupRequest) -> list[dict]:
    """The best matches for ``request``, as dicts ready for JSON, best first."""
    return lookup_many(session, index, [request])[0]


def lookup_many(session: Session, index: LiveIndex, requests: Sequence[LookupRequest],
                *, each: Callable[[], None] | None = None) -> list[list[dict]]:
    """Several lookups with one index refresh (the batch form); ``each()`` after every one (a
    job's progress, and its moment to hear a cancel)."""
    index.refresh(session)
    memory_cache: dict[tuple[str, ...] | None, set[int] | None] = {}
    results = []
    spent = 0
    for position, request in enumerate(requests):
        if request.memories not in memory_cache:
            chosen = resolve_memories(session, request.memories)
            memory_cache[request.memories] = {m.id for m in chosen} if chosen is not None else None
        # The batch's budget is shared out as it goes: a share of what is left per lookup.
        share = (BATCH_RESCORE_BUDGET - spent) // (len(requests) - position)
        stats = SearchStats()
        for _attempt in range(2):
            # Another thread may switch the index to a newer snapshot meanwhile, whose English
            # token codes may differ from those of the key made before (tm.live_index): then once more.
            generation = index.generation
            found = _lookup_one(session, index, request, memory_cache[request.memories],
                                budget=min(RESCORE_BUDGET, max(MIN_RESCORE_BUDGET, share)), stats=stats)
            if index.generation == generation:
                break
        results.append(found)
        spent += stats.rescored
        if each is not None:
            each()
    return results


def _lookup_one(session: Session, index: LiveIndex, request: LookupRequest,
                memory_ids: set[int] | None, *, budget: int, stats: SearchStats) -> list[dict]:
    query = request.q.strip()[:MAX_SCORED_CHARS]
    key = match_key(query, request.src)
    wanted = request.limit + RANK_SLACK
    found = index.search(key, min_score=request.min_score, memory_ids=memory_ids, limit=wanted,
                         budget=budget, stats=stats)
    ids = [unit_id for unit_id, _ in found[:wanted]]
    # A unit deleted since the index last heard is simply not among them.
    stored, top_priority = repo.units_for_ranking(session, ids, memory_ids)
    units = {row.unit.id: row.unit for row in stored}
    position = {unit_id: k for k, unit_id in enumerate(ids)}
    candidates = []
    for row in sorted(stored, key=lambda row: position[row.unit.id]):
        unit = row.unit
        penalties = []
        if unit.status == "draft":
            penalties.append(DRAFT_PENALTY)
        if row.memory_priority < top_priority:
            penalties.append(LOWER_PRIORITY_MEMORY_PENALTY)
        candidates.append(Candidate(
            unit_id=unit.id, source=getattr(unit, request.src), target=getattr(unit, request.tgt),
            memory=row.memory_name, penalties=tuple(penalties),
            prev=unit.context_prev, next=unit.context_next,
            # The indexed units let rank() drop a hopeless candidate without tokenizing it.
            units=index.units(unit.id, request.src),
        ))
    matches = rank(key, candidates, lang=request.src, min_score=request.min_score,
                   limit=request.limit, prev=request.prev, next=request.next)
    out = []
    for match in matches:
        unit = units[match.unit_id]
        data = match.to_dict()
        data.update({
            "status": unit.status, "doc_title": unit.doc_title, "origin_file": unit.origin_file,
            "created_by": unit.created_by, "changed_by": unit.changed_by,
            "changed_at": isoformat(unit.changed_at),
            "usage_count": unit.usage_count, "note": unit.note,
        })
        if not match.adapted:
            data.pop("adapted_target", None)
        out.append(data)
    return out


def segment_lookup(session: Session, index: LiveIndex, *, memories: Sequence[str] | None, min_score: float,
                   limit: int, each: Callable[[], None] | None = None
                   ) -> Callable[[list[str], str, str], list[list[dict]]]:
    """The lookup `tm.pretranslate` takes: a file's segments in order, each with its neighbours
    as context (a segment stored in the same context scores 101), asked in batches of MAX_BATCH;
    ``each()`` after every segment (`lookup_many`)."""
    def run(segments: list[str], src: str, tgt: str) -> list[list[dict]]:
        out: list[list[dict]] = []
        for start in range(0, len(segments), MAX_BATCH):
            requests = [make_request(q=segments[i], src=src, tgt=tgt, min_score=min_score, limit=limit,
                                     memories=list(memories) if memories else None,
                                     prev=segments[i - 1] if i else "",
                                     next=segments[i + 1] if i + 1 < len(segments) else "", fragments=False)
                        for i in range(start, min(start + MAX_BATCH, len(segments)))]
            out.extend(lookup_many(session, index, requests, each=each))
        return out
    return run


#: Segments whose fragments are found together when a job asks between chunks (`segment_fragments`).
FRAGMENT_CHUNK = 200


def segment_fragments(session: Session, index: LiveIndex, store: ModelStore, *, memories: Sequence[str] | None,
                      between: Callable[[], None] | None = None
                      ) -> Callable[[list[str], str, str], list[list[dict]]]:
    """The fragments `tm.pretranslate` may offer where no match was good enough: for each
    segment, the runs of it the memory holds, with their translations (as a lookup shows them).
    With ``between``, in chunks of FRAGMENT_CHUNK segments, ``between()`` after each (a job's
    sign of life and cancel check); each segment's fragments are its own, so chunks change nothing."""
    def run(segments: list[str], src: str, tgt: str) -> list[list[dict]]:
        requests = [make_request(q=text, src=src, tgt=tgt, memories=list(memories) if memories else None)
                    for text in segments]
        step = FRAGMENT_CHUNK if between is not None else max(len(requests), 1)
        out: list[list[dict]] = []
        for start in range(0, len(requests), step):
            chunk = requests[start:start + step]
            out.extend(found or [] for found in fragments_many(session, index, store, chunk, [() for _ in chunk]))
            if between is not None:
                between()
        return out
    return run
