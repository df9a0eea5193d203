"""The candidate indexes of one process, built from the database and kept current.

Each worker process holds a ``LiveIndex``: one ``CandidateIndex`` per language over every
unit, and one ``FragmentIndex`` per language (tm.core.fragments) over the same units' sources.
Other processes change the TM too, so before a lookup the index reads the unit event log
(``tm.models.UnitEvent``) past the last event it applied: ids only grow, and one indexed query
every ``POLL_INTERVAL`` seconds keeps a unit added through any worker findable through every
other within a second or so.

A ``common.eventlog.EventCursor`` makes sure an event committed late by a slow transaction (an
import) is not skipped.

With a ``SnapshotStore`` (tm.index_snapshot), a worker starts from the newest snapshot instead
of the database: it maps its arrays (shared by every process on the machine) and applies the
events after the snapshot's position into its own small delta. Every SNAPSHOT_CHECK_INTERVAL
seconds a refresh looks for a newer snapshot (one directory listing) and switches to it,
dropping the delta: a large import or a compaction is built once, by the snapshot job, not
once per worker. Without a snapshot a worker builds from the database as before.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from common.db import outside_transaction
from common.eventlog import EventCursor
from common.heap import release_free_memory
from tm import repository as repo
from tm.core.arrays import FrozenMap
from tm.core.fragments import Fragment, FragmentIndex, find_fragments, fragment_parts
from tm.core.index import RESCORE_BUDGET, CandidateIndex, SearchStats
from tm.core.numbers import NUMERAL_RE
from tm.core.text import NUMBER_UNIT, MatchKey, encode_tokens
from tm.index_snapshot import Manifest, SnapshotStore
from tm.models import ImportRun, Unit, UnitEvent

#: Seconds between two reads of the event log; lookups in between trust the index as it is.
POLL_INTERVAL = 0.5
#: Rows fetched at a time while building, to keep memory flat.
BUILD_CHUNK = 20_000
#: Seconds between two looks for a newer snapshot (a directory listing, at a refresh).
SNAPSHOT_CHECK_INTERVAL = 3.0
#: How far below the last committed event a build looks for ids still uncommitted: as many
#: events as other transactions commit while one sits between its event's insert and its
#: commit (an import's last moment); each hole costs an id in the next polls' query until it
#: commits or GAP_PATIENCE passes.
BUILD_GAP_WINDOW = 1_000
#: The longest a large import waits for the snapshot that covers it (see LiveIndex.defer_imports_from)
#: before a worker applies it itself: a snapshot job that failed, or no job worker running.
DEFER_LIMIT = 600.0


def cursor_at_high_water(session: Session) -> EventCursor:
    """A cursor at the event log's last committed event that also waits for the ids below it
    not committed yet. An id is taken when a row is inserted and seen at commit: an import
    inserts its event last, then commits, and a unit written meanwhile can take a higher id and
    commit first (PostgreSQL; SQLite has one writer). A build that started from the bare
    high-water mark read its units before that import committed, and never asked for its
    event again: the import's units stayed out of that index, and of a snapshot made from it,
    for good. Holes further down than BUILD_GAP_WINDOW ids are taken for rolled back."""
    last = repo.last_event_id(session)
    floor = max(0, last - BUILD_GAP_WINDOW)
    cursor = EventCursor(floor)
    cursor.advance(repo.event_ids_between(session, floor, last))
    return cursor


def zh_units(zh_key: str) -> str:
    return NUMERAL_RE.sub(NUMBER_UNIT, zh_key)


def en_units(en_tokens: str) -> str:
    return encode_tokens(en_tokens.split(" ") if en_tokens else ())


def en_fragment_units(en_tokens: str) -> str:
    """tm.core.fragments.fragment_units of a stored English key, from its stored tokens."""
    return encode_tokens(en_tokens.split(" ") if en_tokens else (), literal_numbers=True)


class LiveIndex:
    """Candidate indexes over all units, refreshed from the event log; thread-safe."""

    def __init__(self, snapshots: SnapshotStore | Callable[[], SnapshotStore | None] | None = None, *,
                 want_snapshot: Callable[[], object] | None = None,
                 snapshot_pending: Callable[[], bool] | None = None) -> None:
        # A store, or what gives it when first asked (an app's instance path may be set late).
        self._snapshots = snapshots
        #: Counts the snapshots loaded: English match keys made before a load may use token codes
        #: the new snapshot gives to other tokens (tm.core.text.adopt_token_table), so a lookup
        #: that saw this change while it ran looks up again (tm.lookup.lookup_many).
        self.generation = 0
        #: Asked (once per snapshot) for a new snapshot when the events applied since the one in
        #: use have grown past what an index folds or compacts in place: the app queues the
        #: snapshot job, so the rebuild happens once, not in every worker. Without it a worker
        #: rebuilds its own arrays, as a worker without snapshots does.
        self.want_snapshot = want_snapshot
        #: Whether a snapshot job is queued or running (on any host).
        self.snapshot_pending = snapshot_pending
        #: An import of at least this many units (0: none) is left to the snapshot job when there
        #: is one to ask (snapshots, ``want_snapshot`` and ``snapshot_pending``): applying 200k
        #: units takes a worker tens of seconds, during which its lookups wait, and every worker
        #: would do it. Its units are found once the snapshot that covers it is in use; if the
        #: job ends without one here (it ran on another host, or failed), or after DEFER_LIMIT,
        #: the worker applies the import itself.
        self.defer_imports_from = 0
        #: Deferred imports: import id -> (its event id, since when, monotonic).
        self.deferred: dict[int, tuple[int, float]] = {}
        self._reset()
        self._lock = threading.RLock()

    @property
    def snapshots(self) -> SnapshotStore | None:
        """Where this index's snapshots are (None: it always builds from the database)."""
        if callable(self._snapshots):
            self._snapshots = self._snapshots()
        return self._snapshots

    def _reset(self) -> None:
        # Not the lock: build() resets while holding it, and a new lock would let others in.
        self.indexes: dict[str, CandidateIndex[int]] = {"zh": CandidateIndex("zh"), "en": CandidateIndex("en")}
        self.fragment_indexes: dict[str, FragmentIndex] = {"zh": FragmentIndex("zh"), "en": FragmentIndex("en")}
        self.memory_of: dict[int, int] = {}
        self.cursor = EventCursor()
        self.last_poll = 0.0
        self.built = False
        #: The snapshot this index was loaded from (None: built from the database).
        self.snapshot: Manifest | None = None
        self.last_snapshot_check = 0.0
        self.snapshot_wanted = False

    # -------------------------------------------------------------- building

    def build(self, session: Session, *, use_snapshot: bool = True) -> None:
        """(Re)build: from the newest usable snapshot when there is one (its later events are
        applied at the next refresh), else from every unit in the database."""
        with self._lock:
            if use_snapshot and self.snapshots is not None:
                manifest = self.snapshots.newest()
                if manifest is not None and manifest.last_event_id <= repo.last_event_id(session):
                    self._load(manifest)
                    return
            self._build_from_database(session)

    def _build_from_database(self, session: Session) -> None:
        with self._lock:
            self._reset()
            # Read the event high-water mark first: events after it are replayed by refresh(),
            # and replaying an add or delete the build already saw is harmless. Ids below it
            # not yet committed are asked for again (see cursor_at_high_water).
            self.cursor = cursor_at_high_water(session)
            query = select(Unit.id, Unit.memory_id, Unit.zh_key, Unit.en_tokens).execution_options(
                yield_per=BUILD_CHUNK)
            zh_rows, en_rows = [], []
            zh_fragments, en_fragments = [], []
            for unit_id, memory_id, zh_key, en_tokens in session.execute(query):
                zh_rows.append((unit_id, zh_units(zh_key), memory_id))
                en_rows.append((unit_id, en_units(en_tokens), memory_id))
                zh_fragments.append((unit_id, zh_key, memory_id))
                en_fragments.append((unit_id, en_fragment_units(en_tokens), memory_id))
                self.memory_of[unit_id] = memory_id
            # One bulk build per language: adding a million units one by one re-merges often.
            self.indexes["zh"].build_units(zh_rows)
            self.indexes["en"].build_units(en_rows)
            del zh_rows, en_rows
            self.fragment_indexes["zh"].build_units(zh_fragments)
            self.fragment_indexes["en"].build_units(en_fragments)
            self.built = True
            self.last_poll = time.monotonic()

    def _load(self, manifest: Manifest) -> None:
        """Replace the contents with snapshot ``manifest``'s arrays (mapped, not read); the
        events after its position are applied at the next refresh."""
        assert self.snapshots is not None
        switching = self.built
        arrays, _agreed = self.snapshots.load(manifest)
        # Whether or not this process's token codes agreed, everything encoded with the old ones
        # goes here: the indexes are replaced whole (and the match key cache was cleared).

        def part(prefix: str) -> dict:
            return {name.removeprefix(prefix): array for name, array in arrays.items() if name.startswith(prefix)}

        indexes = {lang: CandidateIndex.from_arrays(lang, part(f"cand-{lang}-")) for lang in ("zh", "en")}
        fragment_indexes = {lang: FragmentIndex.from_arrays(lang, part(f"frag-{lang}-")) for lang in ("zh", "en")}
        memory_of = FrozenMap(arrays["memory-keys"], arrays["memory-values"])
        self._reset()
        self.indexes, self.fragment_indexes = indexes, fragment_indexes
        self.memory_of = memory_of  # type: ignore[assignment]  # the same operations as the dict
        cursor = EventCursor(manifest.last_event_id)
        now = time.monotonic()
        cursor.gaps = {gap: now for gap in manifest.gaps}
        self.cursor = cursor
        self.snapshot = manifest
        # Imports the snapshot covers are in it; those after it are read again, still deferred.
        self.deferred = {i: entry for i, entry in self.deferred.items() if entry[0] > manifest.last_event_id}
        self.generation += 1
        self.built = True
        self.last_poll = 0.0
        self.last_snapshot_check = now
        if switching:
            # The delta just dropped (units this worker applied itself: 200k of them took some
            # 250 MB at a million) went back to the allocator, which keeps most of it for reuse;
            # what glibc keeps is handed back here (about 100 MB of it, measured at 1M units).
            release_free_memory()

    def to_arrays(self) -> dict:
        """The index as the arrays a snapshot saves (tm.index_snapshot.SnapshotStore.write)."""
        with self._lock:
            arrays = {}
            for lang in ("zh", "en"):
                arrays.update({f"cand-{lang}-{name}": a for name, a in self.indexes[lang].to_arrays().items()})
                arrays.update({f"frag-{lang}-{name}": a for name, a in self.fragment_indexes[lang].to_arrays().items()})
            ids = arrays["cand-zh-id_keys"]
            arrays["memory-keys"] = ids
            arrays["memory-values"] = np.fromiter((self.memory_of[i] for i in ids.tolist()), dtype=np.int64,
                                                  count=ids.size)
            return arrays

    def _check_snapshot(self, session: Session, now: float) -> None:
        """Switch to a snapshot newer than the one in use (or to one at all), if any."""
        if self.snapshots is None or now - self.last_snapshot_check < SNAPSHOT_CHECK_INTERVAL:
            return
        self.last_snapshot_check = now
        name = self.snapshots.newest_name()
        if name is None or (self.snapshot is not None and name == self.snapshot.name):
            return
        manifest = self.snapshots.newest()
        if manifest is None or manifest.name == (self.snapshot.name if self.snapshot else None):
            return
        if self.snapshot is not None and manifest.last_event_id < self.snapshot.last_event_id:
            return
        if manifest.last_event_id > repo.last_event_id(session):
            return  # not of this database as it is now (made again under the same URL)
        self._load(manifest)

    def _put(self, rows: Iterable[tuple[int, int, str, str]]) -> None:
        """Index (unit id, memory id, zh_key, en_tokens) rows; an id already indexed is replaced.
        The fragment indexes take the rows as one segment: an import batch is sorted once."""
        zh_fragments, en_fragments = [], []
        for unit_id, memory_id, zh_key, en_tokens in rows:
            self.indexes["zh"].add_units(unit_id, zh_units(zh_key), group=memory_id)
            self.indexes["en"].add_units(unit_id, en_units(en_tokens), group=memory_id)
            zh_fragments.append((unit_id, zh_key, memory_id))
            en_fragments.append((unit_id, en_fragment_units(en_tokens), memory_id))
            self.memory_of[unit_id] = memory_id
        self.fragment_indexes["zh"].add_many(zh_fragments)
        self.fragment_indexes["en"].add_many(en_fragments)

    def _drop(self, unit_id: int) -> None:
        if self.memory_of.pop(unit_id, None) is not None:
            self.indexes["zh"].remove(unit_id)
            self.indexes["en"].remove(unit_id)
            self.fragment_indexes["zh"].remove(unit_id)
            self.fragment_indexes["en"].remove(unit_id)

    def __len__(self) -> int:
        return len(self.memory_of)

    def changed(self) -> None:
        """This process just committed a change: read the event log at the next lookup."""
        self.last_poll = 0.0

    # -------------------------------------------------------------- keeping current

    def refresh(self, session: Session, *, force: bool = False) -> None:
        """Apply the events other processes (and this one) logged since the last refresh."""
        if self.built and not force and time.monotonic() - self.last_poll < POLL_INTERVAL:
            return
        if outside_transaction(session) and not self.built:
            # A build reads through server-side cursors, which need a transaction; a read session
            # has none. Reading the event log and a few changed units needs none: each statement
            # of a transaction sees what is committed when it runs anyway (PostgreSQL's read
            # committed), and a session of its own cost a lookup three more round trips (the
            # checkout, BEGIN, ROLLBACK) at every poll and after every write.
            with Session(session.get_bind()) as own:
                self._refresh(own, force=force)
        else:
            self._refresh(session, force=force)

    def _refresh(self, session: Session, *, force: bool) -> None:
        now = time.monotonic()
        if not self.built:
            with self._lock:
                # Looked at again under the lock: the first lookups of a new worker arrive
                # together, and those that waited for the first one's build must not build again.
                if not self.built:
                    self.build(session)
                    if self.snapshot is None:
                        return
                    force = True  # from a snapshot: apply the events after it before answering
        if not force and now - self.last_poll < POLL_INTERVAL:
            return
        with self._lock:
            if self.deferred and self.snapshot_pending is not None and not self.snapshot_pending():
                # The job ended: take its snapshot if it is here, else apply the imports now.
                self.last_snapshot_check = 0.0
                self._check_snapshot(session, now)
                self.deferred = {i: (event, -DEFER_LIMIT) for i, (event, _since) in self.deferred.items()}
            self._check_snapshot(session, now)
            self.last_poll = now
            after, gaps = self.cursor.wanted()
            condition = UnitEvent.id > after
            if gaps:
                condition = or_(condition, UnitEvent.id.in_(gaps))
            events = session.execute(
                select(UnitEvent.id, UnitEvent.unit_id, UnitEvent.import_id, UnitEvent.action)
                .where(condition).order_by(UnitEvent.id)
            ).all()
            self._apply(session, events)
            self.cursor.advance((event[0] for event in events), now=now)
            if self.snapshot is not None and events:
                self._fold_or_ask()

    def _fold_or_ask(self) -> None:
        """An index mapped from a snapshot does not rebuild its arrays by itself (each worker
        would, privately): past the point where it would, ask for a new snapshot instead."""
        indexes: list[CandidateIndex[int] | FragmentIndex] = [*self.indexes.values(), *self.fragment_indexes.values()]
        due = [index for index in indexes if index.rebuild_due()]
        if not due or self.snapshot_wanted:
            return
        if self.want_snapshot is not None:
            self.snapshot_wanted = True
            self.want_snapshot()
        else:
            for index in due:
                index.rebuild()

    def _apply(self, session: Session, events: Iterable[tuple]) -> None:
        changed: set[int] = set()
        deleted: set[int] = set()
        imports: list[tuple[int, int]] = []
        for event_id, unit_id, import_id, action in events:
            if action == "import" and import_id is not None:
                imports.append((event_id, import_id))
            elif action == "delete" and unit_id is not None:
                deleted.add(unit_id)
                changed.discard(unit_id)
            elif unit_id is not None:
                changed.add(unit_id)
                deleted.discard(unit_id)
        for unit_id in deleted:
            self._drop(unit_id)
        columns = (Unit.id, Unit.memory_id, Unit.zh_key, Unit.en_tokens)
        if changed:
            ids = sorted(changed)
            found: list[tuple[int, int, str, str]] = []
            for start in range(0, len(ids), 1000):
                chunk = ids[start:start + 1000]
                rows = session.execute(select(*columns).where(Unit.id.in_(chunk))).all()
                found.extend(rows)
                for gone in set(chunk) - {row[0] for row in rows}:
                    self._drop(gone)  # changed, then deleted in a transaction not yet seen
            self._put(found)
        now = time.monotonic()
        due = [import_id for import_id, (_event, since) in self.deferred.items() if now - since >= DEFER_LIMIT]
        for import_id in due:
            del self.deferred[import_id]
        due += [import_id for event_id, import_id in imports if not self._defer(session, event_id, import_id, now)]
        for import_id in due:
            query = select(*columns).where(Unit.import_id == import_id).execution_options(yield_per=BUILD_CHUNK)
            if outside_transaction(session):  # an import's units come through a server-side cursor
                with Session(session.get_bind()) as own:
                    self._put(own.execute(query))
            else:
                self._put(session.execute(query))

    def _defer(self, session: Session, event_id: int, import_id: int, now: float) -> bool:
        """Whether to leave this import to a snapshot (see ``defer_imports_from``)."""
        if (not self.defer_imports_from or self.snapshots is None or self.want_snapshot is None
                or self.snapshot_pending is None):
            return False
        if import_id in self.deferred:
            return now - self.deferred[import_id][1] < DEFER_LIMIT
        added = session.scalar(select(ImportRun.added).where(ImportRun.id == import_id)) or 0
        if added < self.defer_imports_from:
            return False
        self.deferred[import_id] = (event_id, now)
        self.snapshot_wanted = True
        self.want_snapshot()  # queues one unless one is queued or running already
        return True

    # -------------------------------------------------------------- searching

    def units(self, unit_id: int, lang: str) -> str | None:
        """The scoring units indexed for a unit, or None when the index does not hold it."""
        index = self.indexes[lang]
        return index.units(unit_id) if unit_id in index else None

    def containing(self, units: str, lang: str, *, memory_ids: set[int] | None) -> list[int]:
        """Ids of the units whose scoring units in ``lang`` contain ``units``, ascending."""
        with self._lock:
            found = self.indexes[lang].containing(units)
            if memory_ids is not None:
                found = [i for i in found if self.memory_of.get(i) in memory_ids]
            return sorted(found)

    def fragments(self, query: str, lang: str, *, glossary_spans: Iterable[tuple[int, int]] = (),
                  memory_ids: Collection[int] | None = None) -> list[Fragment]:
        """The fragments of ``query`` that sources in ``memory_ids`` (None: all) contain
        (tm.core.fragments.find_fragments), offsets into ``query`` as given."""
        with self._lock:
            return find_fragments(query, lang, self.fragment_indexes[lang], glossary_spans=glossary_spans,
                                  groups=memory_ids)

    def fragment_parts(self, query: str, lang: str, fragment: Fragment, *,
                       glossary_spans: Iterable[tuple[int, int]] = (),
                       memory_ids: Collection[int] | None = None) -> list[Fragment]:
        """Shorter fragments inside ``fragment`` of ``query`` (tm.core.fragments.fragment_parts),
        for when the whole has no rendering to show."""
        with self._lock:
            return fragment_parts(query, lang, self.fragment_indexes[lang], fragment, glossary_spans=glossary_spans,
                                  groups=memory_ids)

    def search(self, key: MatchKey, *, min_score: float, memory_ids: set[int] | None,
               limit: int | None, slack: float = 0.0, budget: int | None = RESCORE_BUDGET,
               stats: SearchStats | None = None) -> list[tuple[int, float]]:
        """(unit id, base score) of the best ``limit`` units in ``memory_ids`` (None: all)
        whose base score ≥ ``min_score``, best first; at most ``budget`` rows rescored
        (``CandidateIndex.search``)."""
        with self._lock:
            return self.indexes[key.lang].search(key, min_score=min_score, limit=limit, slack=slack,
                                                 groups=memory_ids, budget=budget, stats=stats)


def write_snapshot(session: Session, store: SnapshotStore, *, force: bool = False) -> tuple[Manifest, bool]:
    """Build the index from the database and save it as the newest snapshot of ``store``:
    (its manifest, True), or (the newest, False) when that already reflects the event log's
    last event (``force`` builds anyway). One build at a time per store (its lock): a second
    caller waits, then finds the first one's snapshot current.

    The new snapshot's token codes extend the previous one's when this process's agree with
    them (workers switching to it then keep their cached keys); the index built here is
    dropped once saved.
    """
    with store.building():
        newest = store.newest()
        last = repo.last_event_id(session)
        if newest is not None and not force and newest.last_event_id >= last:
            return newest, False
        if newest is not None:
            store.seed_token_codes(newest)
        started = time.monotonic()
        index = LiveIndex()
        index.build(session, use_snapshot=False)
        arrays = index.to_arrays()
        manifest = store.write(arrays, last_event_id=index.cursor.last_id, gaps=sorted(index.cursor.gaps),
                               units=len(index), build_seconds=time.monotonic() - started)
        return manifest, True
