"""Storage of the translation memory: small functions over a SQLAlchemy ``Session``.

They never commit: the caller (a view or CLI command) owns the transaction, so an import
that fails half-way leaves nothing behind.
"""
from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Integer, Row, Select, any_, bindparam, func, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from common.db import insert_ignoring_conflicts, year_month
from common.fieldlimits import fit, fit_language_tag
from common.timeutil import isoformat, utcnow
from tm.core.text import normalize, tokenize_en
from tm.formats.records import Status, UnitRecord
from tm.models import ImportRun, Memory, Unit, UnitEvent

#: Rows per INSERT batch: large enough to amortise round trips, small enough to keep memory flat.
IMPORT_BATCH = 2000

#: Processes computing search keys during a large import: one per core.
KEY_WORKERS = max(1, os.cpu_count() or 1)
#: Batches keyed in this process before a pool of key workers is worth starting.
INLINE_BATCHES = 5

#: Unit fields a client may set by hand or through the API.
EDITABLE_FIELDS = (
    "zh", "en", "status", "note", "props", "origin_file", "doc_title", "doc_url",
    "context_prev", "context_next", "usage_count",
)


def pair_hash(zh: str, en: str) -> str:
    """Identity of a pair as written: the same pair twice is a duplicate, a new translation is not."""
    return hashlib.sha1(f"{zh}\x00{en}".encode()).hexdigest()


#: The derived columns lookups and concordance read (see Unit.zh_key), in key_row's order.
KEY_COLUMNS = ("zh_key", "en_key", "en_tokens")


def key_row(zh: str, en: str) -> tuple[str, str, str]:
    """The values of KEY_COLUMNS for a pair: each text normalised once, the English key
    tokenised once (the tokens are of the key, so nothing is folded twice)."""
    en_key = normalize(en, "en")
    return normalize(zh, "zh"), en_key, " ".join(tokenize_en(en_key))


def search_keys(zh: str, en: str) -> dict[str, str]:
    """The derived columns lookups and concordance read (see Unit.zh_key)."""
    return dict(zip(KEY_COLUMNS, key_row(zh, en), strict=True))


# ------------------------------------------------------------------ memories

def memories(session: Session) -> Sequence[Memory]:
    return session.scalars(select(Memory).order_by(Memory.name)).all()


def memory_by_name(session: Session, name: str) -> Memory | None:
    if "\x00" in name:
        return None  # no stored name holds one (fieldlimits.NUL), and PostgreSQL refuses the query
    return session.scalar(select(Memory).where(Memory.name == name))


def get_or_create_memory(session: Session, name: str) -> Memory:
    return create_memory(session, name)[0]


def create_memory(session: Session, name: str) -> tuple[Memory, bool]:
    """The memory called ``name``, made if new, and whether this call made it. Of two
    transactions making the same name at once, the second waits for the first to commit and
    gets its memory (no unique violation)."""
    memory = memory_by_name(session, name)
    if memory is not None:
        return memory, False
    statement = (insert_ignoring_conflicts(session, Memory.__table__, "name")
                 .values(name=name, description="", priority=0, created_at=utcnow())
                 .returning(Memory.__table__.c.id))
    created = session.execute(statement).scalar() is not None
    memory = memory_by_name(session, name)
    if memory is None:  # inserted just now, or by the transaction the insert waited for
        raise LookupError(f"memory {name!r} is missing right after its insert")
    return memory, created


#: First key of the PostgreSQL advisory locks that serialise writes of many units into one memory
#: (the second key is the memory's id); any constant other code does not use.
MEMORY_WRITE_LOCK = 0x64_7A_69  # "dzi"


def lock_memory_for_bulk_write(session: Session, memory: Memory) -> None:
    """Hold ``memory`` against other bulk writes (imports, batches) until this transaction ends.

    Two imports that insert overlapping pairs in different orders each wait for a row the other
    inserted: a deadlock on PostgreSQL. Imports into one memory therefore take turns; imports into
    different memories do not wait for each other. SQLite needs nothing: it has a single writer.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:kind, :memory_id)"),
                        {"kind": MEMORY_WRITE_LOCK, "memory_id": memory.id})
        # psycopg prepares a statement run five times, and PostgreSQL then keeps one generic
        # plan for it, made while the table was small: for the duplicate check of each batch
        # (pair_hash IN 2,000 values) a sequential scan, of a table this very transaction grows.
        # A 1M-unit import spent seconds a batch there by its 500th batch (quadratic: most of
        # its time, in the server). Each statement is planned for the table as it is instead.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def memory_sizes(session: Session) -> dict[int, int]:
    rows = session.execute(select(Unit.memory_id, func.count()).group_by(Unit.memory_id))
    return dict(rows.all())


def memory_size(session: Session, memory_id: int) -> int:
    """How many units one memory holds (one indexed count, without loading any)."""
    return session.scalar(select(func.count()).select_from(Unit).where(Unit.memory_id == memory_id)) or 0


def units_created_per_month(session: Session) -> dict[int, dict[str, int]]:
    """{memory id: {"YYYY-MM": units created that month}}."""
    month = year_month(session, Unit.created_at).label("month")
    rows = session.execute(select(Unit.memory_id, month, func.count()).group_by(Unit.memory_id, month)).all()
    out: dict[int, dict[str, int]] = {}
    for memory_id, key, count in rows:
        out.setdefault(memory_id, {})[key] = count
    return out


# ------------------------------------------------------------------ units

def unit_snapshot(unit: Unit) -> dict:
    """A unit as plain data, for the event log and the API."""
    return {
        "id": unit.id,
        "memory": unit.memory.name if unit.memory else None,
        "zh": unit.zh,
        "en": unit.en,
        "status": unit.status,
        "note": unit.note,
        "props": unit.props or [],
        "origin_file": unit.origin_file,
        "doc_title": unit.doc_title,
        "doc_url": unit.doc_url,
        "context_prev": unit.context_prev,
        "context_next": unit.context_next,
        "usage_count": unit.usage_count,
        "created_at": isoformat(unit.created_at),
        "created_by": unit.created_by,
        "changed_at": isoformat(unit.changed_at),
        "changed_by": unit.changed_by,
    }


def get_unit(session: Session, unit_id: int) -> Unit | None:
    return session.get(Unit, unit_id)


def units_by_ids(session: Session, ids: Sequence[int]) -> list[Unit]:
    if not ids:
        return []
    return list(session.scalars(select(Unit).where(Unit.id.in_(ids))))


#: What ranking and a lookup's answer read of a unit (tm.lookup): not its keys, tokens or props.
RANKING_COLUMNS = (Unit.id, Unit.zh, Unit.en, Unit.status, Unit.note, Unit.origin_file, Unit.doc_title,
                   Unit.context_prev, Unit.context_next, Unit.usage_count, Unit.created_by, Unit.changed_at,
                   Unit.changed_by)


@dataclass(frozen=True)
class RankedUnit:
    """A lookup candidate's unit with what ranking needs of its memory."""

    #: A row of RANKING_COLUMNS, read by attribute like a Unit (``unit.status``, ``unit.zh``).
    unit: Row
    memory_name: str
    memory_priority: int


def _ranking_statement(*, some_memories: bool) -> Select:
    top = select(func.max(Memory.priority))
    if some_memories:
        top = top.where(Memory.id.in_(bindparam("memory_ids", expanding=True)))
    return (select(*RANKING_COLUMNS, Memory.name.label("memory_name"), Memory.priority.label("memory_priority"),
                   top.scalar_subquery().label("top_priority"))
            .join(Memory, Unit.memory_id == Memory.id).where(Unit.id.in_(bindparam("ids", expanding=True))))


#: The statement of every lookup, built once with its lists as parameters, of plain columns:
#: built per lookup (the IN list's bound values, and the cache key SQLAlchemy walks over them at
#: each execution) and loading whole Unit objects, it cost more CPU than the rest of the
#: request's storage work (2.3-3.4 ms a lookup against 1.5-1.7 ms, 30 units, measured in-process).
_RANKING_ALL = _ranking_statement(some_memories=False)
_RANKING_SOME = _ranking_statement(some_memories=True)


def units_for_ranking(session: Session, ids: Sequence[int],
                      memory_ids: Iterable[int] | None) -> tuple[list[RankedUnit], int]:
    """The units ``ids`` (as rows of RANKING_COLUMNS) with their memories' names and priorities,
    and the highest priority of the memories searched (``memory_ids``, or all): one statement,
    where a lookup took three (the memories, the units, each unit's memory)."""
    if not ids:
        return [], 0
    if memory_ids is None:
        rows = session.execute(_RANKING_ALL, {"ids": list(ids)}).all()
    else:
        rows = session.execute(_RANKING_SOME, {"ids": list(ids), "memory_ids": list(memory_ids)}).all()
    top_priority = rows[0].top_priority if rows else 0
    return [RankedUnit(row, row.memory_name, row.memory_priority) for row in rows], top_priority or 0


def find_pair(session: Session, memory: Memory, zh: str, en: str) -> Unit | None:
    return session.scalar(
        select(Unit).where(Unit.memory_id == memory.id, Unit.pair_hash == pair_hash(zh, en))
    )


def create_unit(session: Session, memory: Memory, fields: dict, *, user: str | None) -> tuple[Unit, bool]:
    """Add a unit, or find the same pair already in the memory: (unit, True when added). The pair
    is inserted only if absent, in one statement, so of many requests adding one pair at once
    exactly one adds it and the others get that unit."""
    now = utcnow()
    row = {
        "memory_id": memory.id,
        "pair_hash": pair_hash(fields["zh"], fields["en"]),
        "created_at": now,
        "created_by": user,
        "changed_at": now,
        "changed_by": user,
        **search_keys(fields["zh"], fields["en"]),
        **{k: v for k, v in fields.items() if k in EDITABLE_FIELDS},
    }
    statement = (insert_ignoring_conflicts(session, Unit.__table__, "memory_id", "pair_hash")
                 .values(row).returning(Unit.__table__.c.id))
    unit_id = session.execute(statement).scalar()
    if unit_id is None:
        existing = find_pair(session, memory, fields["zh"], fields["en"])
        if existing is None:  # the insert found it, after waiting for the transaction that added it
            raise LookupError("the pair an insert conflicted with is missing")
        return existing, False
    unit = session.get_one(Unit, unit_id)
    _log(session, unit, "create", user, before=None, after=unit_snapshot(unit))
    return unit, True


def update_unit(session: Session, unit: Unit, fields: dict, *, user: str | None) -> Unit:
    before = unit_snapshot(unit)
    for name, value in fields.items():
        if name in EDITABLE_FIELDS:
            setattr(unit, name, value)
    unit.pair_hash = pair_hash(unit.zh, unit.en)
    for name, value in search_keys(unit.zh, unit.en).items():
        setattr(unit, name, value)
    unit.changed_at = utcnow()
    unit.changed_by = user
    session.flush()
    _log(session, unit, "update", user, before=before, after=unit_snapshot(unit))
    return unit


def delete_unit(session: Session, unit: Unit, *, user: str | None) -> None:
    _log(session, unit, "delete", user, before=unit_snapshot(unit), after=None)
    session.delete(unit)
    session.flush()


def _log(session: Session, unit: Unit, action: str, user: str | None, *, before, after) -> None:
    session.add(
        UnitEvent(unit_id=unit.id, memory_id=unit.memory_id, action=action, user=user,
                  before=before, after=after)
    )


def unit_history(session: Session, unit_id: int) -> Sequence[UnitEvent]:
    return session.scalars(
        select(UnitEvent).where(UnitEvent.unit_id == unit_id).order_by(UnitEvent.id)
    ).all()


# ------------------------------------------------------------------ bulk import

@dataclass
class ImportCounts:
    read: int = 0
    added: int = 0
    duplicates: int = 0


def start_import(session: Session, memory: Memory, *, filename: str, file_format: str,
                 user: str | None) -> ImportRun:
    # A file's name is a record of where units came from, not a key: cut to fit, not refused.
    run = ImportRun(memory_id=memory.id, filename=fit(ImportRun.filename, filename), file_format=file_format,
                    user=user)
    session.add(run)
    session.flush()
    return run


def import_records(session: Session, memory: Memory, run: ImportRun,
                   records: Iterable[UnitRecord], *, progress=None) -> ImportCounts:
    """Insert ``records`` into ``memory`` in batches, without ORM objects (memory stays flat);
    pairs already in the memory, or earlier in the file, are counted as duplicates and skipped.
    ``progress(n)`` is called after each batch with the records read so far.

    Where a million-unit file's time goes (cProfile, 2 cores): the search keys (Moses above all)
    about two thirds, reading the TMX and building rows a sixth, the inserts the rest. So a
    duplicate is found by its hash before its keys are computed (a file imported twice costs no
    tokenising), the keys are computed in worker processes once the file proves large, and rows
    go to the database as plain tuples: one executemany on SQLite, COPY on PostgreSQL."""
    lock_memory_for_bulk_write(session, memory)
    counts = ImportCounts()
    writer = _UnitWriter(session)
    try:
        for batch, keys in _keyed_batches(_fresh_batches(session, memory, records, counts)):
            now = utcnow()
            writer.insert([_row_from_record(record, digest, memory.id, run, now) + key
                           for (record, digest), key in zip(batch, keys, strict=True)])
            if progress:
                progress(counts.read)
    except BaseException:
        writer.close(raise_error=False)  # the first error is the one to report
        raise
    writer.close()
    # Counted once at the end: a pair in two batches keyed at once, or one added by hand
    # meanwhile, is skipped by the insert itself, which does not say how many rows it skipped.
    counts.added = session.scalar(select(func.count()).select_from(Unit).where(Unit.import_id == run.id)) or 0
    counts.duplicates = counts.read - counts.added
    run.added, run.duplicates, run.finished_at = counts.added, counts.duplicates, utcnow()
    session.add(UnitEvent(import_id=run.id, memory_id=memory.id, action="import", user=run.user,
                          after={"file": run.filename, "added": counts.added,
                                 "duplicates": counts.duplicates}))
    session.flush()
    return counts


_Fresh = list[tuple[UnitRecord, str]]


def _fresh_batches(session: Session, memory: Memory, records: Iterable[UnitRecord],
                   counts: ImportCounts) -> Iterator[_Fresh]:
    """Batches of (record, pair hash) without the pairs the memory holds already or that came
    earlier in the batch: those are duplicates, and their keys are never computed. Earlier
    batches are in the database by the time a batch is read, except the few still being keyed;
    a pair repeated across those is keyed twice and skipped by the insert (no set of every hash
    in the file is kept, so memory stays flat).

    A memory that held no unit when the import began (the writers' lock is held by then) is not
    asked at all: only the import's own earlier batches could match, and the insert skips those
    (file order is kept, so the first of two copies is stored). On PostgreSQL the question cost
    more than the answer was worth: without statistics for a table the import itself fills, the
    planner read ``pair_hash IN (...)`` through the index on (memory_id, changed_at) and filtered
    every unit of the memory, a check growing with each batch (8.9 of a 200,000-unit import's
    28 s of server CPU, 140-180 ms a batch by its end; most of the server's 194 s at 1M)."""
    check = session.scalar(select(Unit.id).where(Unit.memory_id == memory.id).limit(1)) is not None
    for batch in _batched(records, IMPORT_BATCH):
        counts.read += len(batch)
        hashes = [pair_hash(r.zh, r.en) for r in batch]
        stored = _stored_hashes(session, memory, hashes) if check else set()
        fresh = []
        for record, digest in zip(batch, hashes, strict=True):
            if digest not in stored:
                stored.add(digest)
                fresh.append((record, digest))
        yield fresh


def _stored_hashes(session: Session, memory: Memory, hashes: list[str]) -> set[str]:
    """Which of ``hashes`` ``memory`` holds already."""
    return set(session.scalars(
        select(Unit.pair_hash).where(Unit.memory_id == memory.id, Unit.pair_hash.in_(set(hashes)))))


def keys_of_batch(pairs: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """key_row of each pair: what a key worker computes (tuples: cheaper to send back than dicts)."""
    return [key_row(zh, en) for zh, en in pairs]


def _keyed_batches(batches: Iterable[_Fresh]) -> Iterator[tuple[_Fresh, list[tuple[str, str, str]]]]:
    """Batches with their search keys, in order. Keys cost more than reading and inserting
    together, so once a file proves large the keys are computed in worker processes while this
    one reads and inserts. Starting workers costs seconds, so the first INLINE_BATCHES batches
    with something to key are keyed here and a small file never starts a pool."""
    pool: ProcessPoolExecutor | None = None
    pending: deque = deque()
    keyed_here = 0
    try:
        for batch in batches:
            pairs = [(record.zh, record.en) for record, _digest in batch]
            if pool is None and (keyed_here < INLINE_BATCHES or not pairs):
                keyed_here += bool(pairs)
                yield batch, keys_of_batch(pairs)
                continue
            if pool is None:
                pool = ProcessPoolExecutor(max_workers=KEY_WORKERS,
                                           mp_context=multiprocessing.get_context("spawn"),  # no fork: the
                                           initializer=_key_worker_init,  # parent holds DB connections
                                           initargs=(os.getpid(),))
            pending.append((batch, pool.submit(keys_of_batch, pairs)))
            # A bounded read-ahead keeps memory flat however large the file.
            if len(pending) > 2 * KEY_WORKERS:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


#: Seconds between a key worker's checks that the importing process is still alive.
PARENT_CHECK_INTERVAL = 0.5


def _key_worker_init(parent_pid: int) -> None:
    """Make a key worker end with the import that started it.

    A worker waits on a queue whose other end it holds itself, so when the importing process
    is killed (kill -9, an OOM kill, a gunicorn timeout) nothing ever wakes it: it would run
    on forever. A daemon thread watches the parent and ends the process once it is gone; and
    SIGTERM takes its default action again, in case the parent's environment ignored it.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def watch() -> None:
        # The worker is re-parented (to init or a subreaper) when its parent dies.
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_INTERVAL)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _batched(records: Iterable[UnitRecord], size: int) -> Iterator[list[UnitRecord]]:
    iterator = iter(records)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


#: The columns an import writes, in the order of _row_from_record's tuple and then KEY_COLUMNS.
IMPORT_COLUMNS = (
    "memory_id", "zh", "en", "zh_lang", "en_lang", "pair_hash", "status", "note", "props",
    "origin_file", "doc_title", "doc_url", "context_prev", "context_next", "usage_count",
    "created_at", "created_by", "changed_at", "changed_by", "import_id", *KEY_COLUMNS,
)


class _UnitWriter:
    """Inserts an import's rows, skipping a pair the memory already holds (one added by hand
    since the batch was read, or repeated across batches keyed at once) instead of failing.

    The ORM's insert of a batch cost more per row than the database's work (parameters
    compiled and processed row by row); here each column's bind processor (SQLite's dates and
    JSON, psycopg's JSON) is looked up once and the driver gets tuples. On PostgreSQL the rows
    are COPYed into a temporary table and moved with one INSERT ... SELECT ... ON CONFLICT DO
    NOTHING, in file order: several times faster than a multi-row INSERT, and the temporary
    table goes with the transaction.

    On PostgreSQL a batch is stored by a thread while this one reads, checks and builds the next:
    the server's work for a batch (the move above all: four indexes and two foreign keys a row)
    took about as long as this process's own, and they ran one after the other. One batch at a
    time is in the thread (memory stays flat); batches are stored in file order; an error in the
    thread is raised here by the next insert or by close(), which waits for the last batch."""

    _STAGING = "import_staging"

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()
        dialect = self.connection.dialect
        table = Unit.__table__
        columns = [table.c[name] for name in IMPORT_COLUMNS]
        self.processors = [(i, p) for i, c in enumerate(columns)
                           if (p := c.type.dialect_impl(dialect).bind_processor(dialect)) is not None]
        names = ", ".join(IMPORT_COLUMNS)
        self.postgresql = dialect.name == "postgresql"
        conflict = "ON CONFLICT (memory_id, pair_hash) DO NOTHING"
        if self.postgresql:
            self.connection.exec_driver_sql(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {self._STAGING} ON COMMIT DROP AS "
                f"SELECT {names}, 0 AS position FROM units WITH NO DATA")
            self.copy = f"COPY {self._STAGING} ({names}, position) FROM STDIN"
            self.move = (f"INSERT INTO units ({names}) SELECT {names} FROM {self._STAGING} "
                         f"ORDER BY position {conflict}")
            # psycopg serialises the connection's users, so a statement of the main thread
            # (a batch's duplicate check) waits for the thread's COPY or move to end.
            self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
            driver = self.connection.connection.driver_connection
            assert driver is not None  # a live connection of this session's transaction
            self.driver = driver
            self.pending: Future | None = None
        else:
            marks = ", ".join("?" for _ in IMPORT_COLUMNS)
            self.statement = f"INSERT INTO units ({names}) VALUES ({marks}) {conflict}"

    def insert(self, rows: list[tuple]) -> None:
        if not rows:
            return
        if self.processors:
            processed = []
            for row in rows:
                values = list(row)
                for i, process in self.processors:
                    values[i] = process(values[i])
                processed.append(tuple(values))
            rows = processed
        if not self.postgresql:
            self.connection.exec_driver_sql(self.statement, rows)
            return
        self._wait()
        self.pending = self.thread.submit(self._store, rows)

    def _wait(self) -> None:
        if self.postgresql and self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def close(self, *, raise_error: bool = True) -> None:
        """Wait for the batch being stored (raising its error unless told not to), and end the
        thread: the caller may use the connection, commit or roll back once this returns."""
        if not self.postgresql:
            return
        try:
            self._wait()
        except Exception:
            if raise_error:
                raise
        finally:
            self.thread.shutdown(wait=True)

    def _store(self, rows: list[tuple]) -> None:
        with self.driver.cursor() as cursor:
            with cursor.copy(self.copy) as copy:
                for position, row in enumerate(rows):
                    copy.write_row((*row, position))
            cursor.execute(self.move)
            cursor.execute(f"TRUNCATE {self._STAGING}")


def _row_from_record(record: UnitRecord, digest: str, memory_id: int, run: ImportRun,
                     now: datetime) -> tuple:
    """A record's values for IMPORT_COLUMNS, up to the keys."""
    created = _to_naive_utc(record.creationdate) or now
    # A file's metadata is another tool's: the user cannot shorten it, and nothing matches on
    # it, so what exceeds a column is cut to fit (README, "Over-long values") on every engine.
    return (
        memory_id,
        record.zh,
        record.en,
        fit_language_tag(Unit.zh_lang, record.zh_lang),
        fit_language_tag(Unit.en_lang, record.en_lang),
        digest,
        record.status,
        record.note,
        [list(p) for p in record.props] or None,
        fit(Unit.origin_file, record.origin_file or run.filename),
        fit(Unit.doc_title, record.doc_title),
        fit(Unit.doc_url, record.doc_url),
        record.context_prev,
        record.context_next,
        record.usagecount,
        created,
        fit(Unit.created_by, record.creationid or run.user),
        _to_naive_utc(record.changedate) or created,
        fit(Unit.changed_by, record.changeid or record.creationid or run.user),
        run.id,
    )


def _to_naive_utc(moment: datetime | None) -> datetime | None:
    offset = moment.utcoffset() if moment is not None else None
    if moment is None or offset is None:
        return moment
    return (moment - offset).replace(tzinfo=None)


# ------------------------------------------------------------------ export

def iter_units(session: Session, memory_ids: Sequence[int] | None = None,
               *, chunk: int = 2000) -> Iterator[Unit]:
    """Units in id order, fetched in chunks so a million-unit export streams."""
    query = select(Unit).order_by(Unit.id).execution_options(yield_per=chunk)
    if memory_ids is not None:
        query = query.where(Unit.memory_id.in_(memory_ids))
    yield from session.scalars(query)


def record_from_unit(unit: Unit) -> UnitRecord:

    return UnitRecord(
        zh=unit.zh,
        en=unit.en,
        zh_lang=unit.zh_lang or "zh",
        en_lang=unit.en_lang or "en",
        creationdate=unit.created_at.replace(tzinfo=UTC) if unit.created_at else None,
        changedate=unit.changed_at.replace(tzinfo=UTC) if unit.changed_at else None,
        creationid=unit.created_by,
        changeid=unit.changed_by,
        usagecount=unit.usage_count,
        note=unit.note,
        props=tuple(tuple(p) for p in (unit.props or [])),
        origin_file=unit.origin_file,
        doc_title=unit.doc_title,
        doc_url=unit.doc_url,
        context_prev=unit.context_prev,
        context_next=unit.context_next,
        status=cast(Status, unit.status),  # the record checks it is one of STATUSES
    )


def prop_columns(session: Session, memory_ids: Sequence[int] | None) -> list[str]:
    """``prop:TYPE`` table columns enough for every unit's props (a type repeated n times
    in one unit needs n columns)."""
    query = select(Unit.props).where(Unit.props.is_not(None)).execution_options(yield_per=5000)
    if memory_ids is not None:
        query = query.where(Unit.memory_id.in_(memory_ids))
    most: dict[str, int] = {}
    for props in session.scalars(query):
        per_unit: dict[str, int] = {}
        for prop_type, _value in props or []:
            per_unit[prop_type] = per_unit.get(prop_type, 0) + 1
        for prop_type, count in per_unit.items():
            most[prop_type] = max(most.get(prop_type, 0), count)
    return [f"prop:{t}" for t in sorted(most) for _ in range(most[t])]


# ------------------------------------------------------------------ concordance

def concordance_rows(session: Session, key: str, lang: str, memory_ids: Sequence[int] | None,
                     *, offset: int, limit: int) -> tuple[list[Unit], int]:
    """Units whose match key in ``lang`` contains ``key``; a page of them and the total."""
    column = Unit.zh_key if lang == "zh" else Unit.en_key
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    condition = column.like(f"%{escaped}%", escape="\\")
    query = select(Unit).where(condition)
    if memory_ids is not None:
        query = query.where(Unit.memory_id.in_(memory_ids))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Unit.id).offset(offset).limit(limit)).all()
    return list(rows), total or 0


# ------------------------------------------------------------------ change feed

def last_event_id(session: Session) -> int:
    return session.scalar(select(func.max(UnitEvent.id))) or 0


def event_ids_between(session: Session, after: int, upto: int) -> list[int]:
    """Ids of the committed events with ``after`` < id <= ``upto``, ascending."""
    return list(session.scalars(select(UnitEvent.id).where(UnitEvent.id > after, UnitEvent.id <= upto)
                                .order_by(UnitEvent.id)))


def last_memory_event(session: Session, memory_id: int) -> tuple[int, datetime | None]:
    """The id and time of the latest event of one memory's units; (0, None) when it has none."""
    row = session.execute(select(UnitEvent.id, UnitEvent.at).where(UnitEvent.memory_id == memory_id)
                          .order_by(UnitEvent.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (0, None)


def page_of_units(session: Session, memory_ids: Sequence[int] | None, *, offset: int,
                  limit: int) -> tuple[list[Unit], int]:
    query = select(Unit)
    if memory_ids is not None:
        query = query.where(Unit.memory_id.in_(memory_ids))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(session.scalars(query.order_by(Unit.id).offset(offset).limit(limit))), total


def unit_count(session: Session) -> int:
    """Units in every memory."""
    return session.scalar(select(func.count()).select_from(Unit)) or 0


def unit_pairs(session: Session, *, chunk: int) -> Iterator[tuple[int, str, str]]:
    """(id, zh, en) of every unit in id order, fetched ``chunk`` rows at a time."""
    query = select(Unit.id, Unit.zh, Unit.en).order_by(Unit.id).execution_options(yield_per=chunk)
    yield from ((unit_id, zh, en) for unit_id, zh, en in session.execute(query))


#: Ids per statement in ``unit_texts``: SQLite allows 32,766 bound parameters; a lookup's
#: fragments sample far fewer, a large batch's may not.
_IDS_PER_QUERY = 30_000
# Selected by the tables' columns, not the mapped classes' attributes: the same SQL without the
# ORM's compiling and row processing, 0.6 ms less a call for 94 ids at a million units (2.0
# against 1.4 ms on PostgreSQL, 6.6 against 5.8 on SQLite with the ids spread over the file).
_UNITS, _MEMORIES = Unit.__table__, Memory.__table__
# The memory's name by a subquery per row, not a join, which PostgreSQL planned as a hash join
# over the memories: 1.04 against 1.38 ms for 94 ids at a million units (0.38 against 0.65 on
# SQLite; alternating, 400 calls each).
_UNIT_TEXTS = select(_UNITS.c.id, _UNITS.c.zh, _UNITS.c.en,
                     select(_MEMORIES.c.name).where(_MEMORIES.c.id == _UNITS.c.memory_id).scalar_subquery())
# On PostgreSQL the ids go as one array: a list of a hundred parameters, a statement of its own
# for every count, cost about 1 ms more a call, once or twice a lookup (3.1-3.3 against 1.9-2.3
# ms for 94 ids at a million units).
_UNIT_TEXTS_BY_ARRAY = _UNIT_TEXTS.where(_UNITS.c.id == any_(bindparam("ids", type_=postgresql.ARRAY(Integer))))
_UNIT_TEXTS_BY_LIST = _UNIT_TEXTS.where(_UNITS.c.id.in_(bindparam("ids", expanding=True)))


def unit_texts(session: Session, ids: Sequence[int]) -> list[tuple[int, str, str, str]]:
    """(id, zh, en, memory name) of the units with these ids (those that still exist)."""
    rows: list[tuple[int, str, str, str]] = []
    query = _UNIT_TEXTS_BY_ARRAY if session.get_bind().dialect.name == "postgresql" else _UNIT_TEXTS_BY_LIST
    for start in range(0, len(ids), _IDS_PER_QUERY):
        chunk = list(ids[start:start + _IDS_PER_QUERY])
        rows.extend((unit_id, zh, en, memory) for unit_id, zh, en, memory in session.execute(query, {"ids": chunk}))
    return rows
