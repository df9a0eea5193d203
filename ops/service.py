"""Readiness of one process: can it reach the database, and is its lookup index built and
current? No Flask here: the view passes the session and the process's index in."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from jobs import repository as jobs_repo
from jobs.models import STATES
from tm import repository as repo
from tm.live_index import LiveIndex


@dataclass(frozen=True)
class IndexStatus:
    built: bool
    units: int
    #: The newest event in the TM's event log and the newest this process has applied: what a
    #: lookup here would still have to read (other workers' writes, an import) before answering.
    event_log_last_id: int | None
    index_event_id: int
    events_behind: int | None
    #: Seconds since this process last read the event log (None: never).
    seconds_since_refresh: float | None
    #: The snapshot this process maps (tm.index_snapshot; None: built from the database), the
    #: event it reflects, how many events of the log came after it (what this process applied
    #: into its own delta, or has still to), and whether this process asked for a newer one.
    snapshot: str | None = None
    snapshot_event_id: int | None = None
    snapshot_events_behind: int | None = None
    snapshot_wanted: bool = False
    #: Large imports this process leaves to the next snapshot (their units not found here yet).
    deferred_imports: int = 0


@dataclass(frozen=True)
class Readiness:
    database: bool
    index: IndexStatus
    problems: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ready": self.ready, "database": self.database, "index": asdict(self.index),
                "problems": self.problems}


def index_status(index: LiveIndex, event_log_last_id: int | None) -> IndexStatus:
    applied = index.cursor.last_id
    since = time.monotonic() - index.last_poll if index.built and index.last_poll else None
    behind = max(event_log_last_id - applied, 0) if event_log_last_id is not None and index.built else None
    snapshot = index.snapshot if index.built else None
    snapshot_behind = None
    if snapshot is not None:
        newest = max(applied, event_log_last_id or 0)
        snapshot_behind = max(newest - snapshot.last_event_id, 0)
    return IndexStatus(built=index.built, units=len(index), event_log_last_id=event_log_last_id,
                       index_event_id=applied, events_behind=behind,
                       seconds_since_refresh=None if since is None else round(since, 3),
                       snapshot=snapshot.name if snapshot else None,
                       snapshot_event_id=snapshot.last_event_id if snapshot else None,
                       snapshot_events_behind=snapshot_behind, snapshot_wanted=index.snapshot_wanted,
                       deferred_imports=len(index.deferred))


def readiness(session: Session, index: LiveIndex) -> Readiness:
    """Ready when the database answers and the index is built. An index some events behind is
    still ready: the next lookup applies them first (the lag is reported, not judged)."""
    problems = []
    last_id: int | None = None
    try:
        session.execute(text("SELECT 1"))
        last_id = repo.last_event_id(session)
        database = True
    except SQLAlchemyError as err:
        session.rollback()
        database = False
        problems.append(f"database unreachable: {type(err).__name__}")
    if not index.built:
        # Built at start-up with WARM_UP=1 (gunicorn.conf.py), else by the first lookup.
        problems.append("lookup index not built")
    return Readiness(database=database, index=index_status(index, last_id), problems=problems)


def event_log_last_id(session: Session) -> int | None:
    """The newest TM event id, or None when the database cannot be read."""
    try:
        return repo.last_event_id(session)
    except SQLAlchemyError:
        session.rollback()
        return None


def job_counts(session: Session) -> dict[str, int]:
    """Jobs by state, every state present (0 when none): ``queued`` is the queue's depth."""
    try:
        found = jobs_repo.counts_by_state(session)
    except SQLAlchemyError:
        session.rollback()
        return {}
    return {state: found.get(state, 0) for state in STATES}
