"""The ``jobs`` table: one row per piece of long work, the only record of its state."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base
from common.timeutil import utcnow

STATES = ("queued", "running", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_user_created", "user", "created_at"),
        Index("ix_jobs_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(12), default="queued")
    # Who started it (a user name, as import runs record it); None for the service itself
    # (a training it starts after an import).
    user: Mapped[str | None] = mapped_column(String(80))
    # What the handler needs (a memory name, the saved upload's path...): JSON, never the data.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # In the job's own unit (an import counts bytes of its file: gigabytes, hence 64 bits).
    done: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int | None] = mapped_column(BigInteger)
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[dict | None] = mapped_column(JSON)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    # "host:pid" of the worker running it, and when that worker last said it was alive: a
    # starting worker fails the jobs of dead ones (jobs.service.recover_interrupted).
    worker: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
