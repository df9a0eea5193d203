"""Storage of alignment jobs: small functions over a ``Session``; the caller commits.

Stored pairs go into the TM through ``tm.repository``'s importer, not from here.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from align.models import AlignmentJob
from common.timeutil import utcnow


def add_job(session: Session, *, title: str, url: str | None, doc_date: str | None, zh_text: str,
            en_text: str, state: dict, warnings: list, created_by: str | None,
            now: datetime) -> AlignmentJob:
    """A new job at version 1, under review; flushed, so it has its id."""
    job = AlignmentJob(title=title, url=url, doc_date=doc_date, zh_text=zh_text, en_text=en_text,
                       state=state, warnings=warnings, status="review", created_by=created_by,
                       created_at=now, changed_at=now, version=1)
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> AlignmentJob | None:
    return session.get(AlignmentJob, job_id)


def recent_jobs(session: Session, *, limit: int) -> list[AlignmentJob]:
    """The jobs changed last, newest first."""
    query = select(AlignmentJob).order_by(AlignmentJob.changed_at.desc(), AlignmentJob.id.desc())
    return list(session.scalars(query.limit(limit)))


def replace_state(session: Session, job: AlignmentJob, state: dict, *, expected_version: int) -> bool:
    """Write ``state`` and step the version, only if the job is still at ``expected_version``;
    ``job`` is reloaded either way. Whether it was written."""
    # Compare-and-set in the database, so two workers saving at once cannot both win. An UPDATE
    # without RETURNING gives a CursorResult, which SQLAlchemy's typing leaves to the caller to say.
    result = cast(CursorResult[Any], session.execute(
        update(AlignmentJob)
        .where(AlignmentJob.id == job.id, AlignmentJob.version == expected_version)
        .values(state=state, version=AlignmentJob.version + 1, changed_at=utcnow())
        .execution_options(synchronize_session=False)
    ))
    session.refresh(job)
    return result.rowcount == 1


def mark_stored(session: Session, job: AlignmentJob, memory_id: int) -> None:
    """The job's approved pairs are in the memory ``memory_id``."""
    job.status = "stored"
    job.memory_id = memory_id
    job.changed_at = utcnow()
    session.flush()
