"""Small functions over the ``jobs`` table, each taking a ``Session``; the caller commits.

State changes are conditional updates (``... WHERE state = 'queued'``), so a worker starting a
job and a user cancelling it at the same moment cannot both win.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from common.timeutil import utcnow
from jobs.models import FINISHED, Job

#: Jobs a listing shows at most (newest first).
LIST_LIMIT = 100


def create_job(session: Session, *, kind: str, user: str | None, params: dict[str, Any]) -> Job:
    job = Job(kind=kind, user=user, params=params, state="queued", done=0)
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id, populate_existing=True)


def jobs_of(session: Session, user: str | None, *, limit: int = LIST_LIMIT) -> Sequence[Job]:
    """The newest jobs ``user`` started (every job when ``user`` is None: the operator's view)."""
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if user is not None:
        query = query.where(Job.user == user)
    return session.scalars(query).all()


def start(session: Session, job_id: int, *, worker: str) -> bool:
    """Mark a queued job running on ``worker``; False when it is no longer queued (cancelled,
    or another worker took it)."""
    now = utcnow()
    changed = session.execute(
        update(Job).where(Job.id == job_id, Job.state == "queued", Job.cancel_requested.is_(False))
        .values(state="running", worker=worker, started_at=now, heartbeat_at=now))
    return bool(getattr(changed, "rowcount", 0))


def set_progress(session: Session, job_id: int, done: int, total: int | None) -> None:
    session.execute(update(Job).where(Job.id == job_id)
                    .values(done=done, total=total, heartbeat_at=utcnow()))


def cancel_requested(session: Session, job_id: int) -> bool:
    return bool(session.scalar(select(Job.cancel_requested).where(Job.id == job_id)))


def finish(session: Session, job_id: int, state: str, *, result: dict | None = None,
           error: dict | None = None, done: int | None = None, total: int | None = None) -> None:
    values: dict[str, Any] = {"state": state, "result": result, "error": error, "finished_at": utcnow()}
    if done is not None:
        values["done"] = done
    if total is not None:
        values["total"] = total
    session.execute(update(Job).where(Job.id == job_id, Job.state.not_in(FINISHED)).values(**values))


def request_cancel(session: Session, job_id: int) -> None:
    """A queued job is cancelled at once; a running one is flagged, and its worker stops it at
    its next check (between chunks) and rolls its work back."""
    session.execute(update(Job).where(Job.id == job_id, Job.state == "queued")
                    .values(state="cancelled", cancel_requested=True, finished_at=utcnow()))
    session.execute(update(Job).where(Job.id == job_id, Job.state == "running").values(cancel_requested=True))


def running(session: Session) -> Sequence[Job]:
    return session.scalars(select(Job).where(Job.state == "running").order_by(Job.id)).all()


def queued_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Job.id).where(Job.state == "queued").order_by(Job.id)))


def active_of_kind(session: Session, kind: str) -> bool:
    """Whether a job of ``kind`` is queued or running."""
    return session.scalar(select(func.count()).select_from(Job)
                          .where(Job.kind == kind, Job.state.in_(("queued", "running")))) != 0


def counts_by_state(session: Session) -> dict[str, int]:
    return {state: count for state, count in session.execute(select(Job.state, func.count()).group_by(Job.state))}


def fail_interrupted(session: Session, job_id: int, *, error: dict, since: datetime | None = None) -> None:
    session.execute(update(Job).where(Job.id == job_id, Job.state == "running")
                    .values(state="failed", error=error, finished_at=since or utcnow()))


def finished_with_result_before(session: Session, before: datetime) -> Sequence[Job]:
    """Done jobs that finished by ``before`` and whose result file has not been removed."""
    query = select(Job).where(Job.state == "done", Job.finished_at <= before).order_by(Job.id)
    return [job for job in session.scalars(query)
            if isinstance((job.result or {}).get("file"), dict) and "removed_at" not in job.result["file"]]  # type: ignore[index]


def result_paths_kept(session: Session) -> list[str]:
    """The result files jobs still have or will have: those of done jobs not yet cleaned up and
    of jobs queued or running."""
    query = select(Job).where(Job.state.in_(("queued", "running", "done")))
    paths = []
    for job in session.scalars(query):
        path = (job.params or {}).get("result")
        file = (job.result or {}).get("file")
        if isinstance(path, str) and (job.state != "done" or (isinstance(file, dict) and "removed_at" not in file)):
            paths.append(path)
    return paths


def active_uploads(session: Session) -> list[str]:
    """The saved uploads queued or running jobs will read."""
    query = select(Job.params).where(Job.state.in_(("queued", "running")))
    return [params["upload"] for params in session.scalars(query) if isinstance((params or {}).get("upload"), str)]


def set_result(session: Session, job_id: int, result: dict) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(result=result))
