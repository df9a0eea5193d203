"""The jobs' web side: the queue and signals set up per app, starting a job from a request,
saving an upload for the worker, and a job as JSON (the API and the import page share these)."""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import IO, Any

from flask import Flask, current_app, url_for

import db
from common.messages import from_data
from common.timeutil import isoformat
from jobs import repository as repo
from jobs import service
from jobs.models import Job
from jobs.queue import JobQueue
from web.extensions import db_sessionmaker, install_jobs, job_kinds, job_queue, job_signals
from web.i18n import translate_message


def jobs_dir(app: Flask | None = None) -> Path:
    """Where uploads wait for their worker (and, on SQLite, the running jobs' signals):
    ``JOBS_DIR``, else ``instance/jobs``. Every web process and worker must see the same folder."""
    app = app or current_app
    return Path(app.config.get("JOBS_DIR") or Path(app.instance_path) / "jobs")


def init_app(app: Flask) -> None:
    url = app.config.get("JOBS_QUEUE") or f"sqlite:///{Path(app.instance_path) / 'jobs' / 'queue.sqlite3'}"

    def run(job_id: int) -> str:
        # In the worker (or, in immediate mode, inside the request that queued it).
        with app.app_context():
            return service.run_job(db_sessionmaker(app), job_id, kinds=job_kinds(app), signals=job_signals(app))

    signals: service.Signals
    if app.config["DATABASE_URL"].startswith("sqlite"):
        signals = service.FileSignals(lambda: jobs_dir(app) / "signals")
    else:
        signals = service.TableSignals(db_sessionmaker(app))
    install_jobs(app, JobQueue(url, run), signals)


def save_upload(stream: IO[bytes], filename: str) -> Path:
    """Copy an upload to the jobs folder for the worker; the job removes it when it ends."""
    folder = jobs_dir() / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{Path(filename).suffix[:16]}"
    with open(path, "wb") as out:
        shutil.copyfileobj(stream, out, 1024 * 1024)
    return path


def submit(kind: str, *, user: str | None, params: dict[str, Any]) -> Job:
    """Record a job and queue it. The row is committed before the id is queued (the worker
    reads it); in immediate mode the job has run when this returns."""
    session = db.db_session()
    job = repo.create_job(session, kind=kind, user=user, params=params)
    session.commit()
    try:
        job_queue().enqueue(job.id)
    except Exception:
        # The queue is unreachable: the job would wait for ever; say so rather than leave it.
        if "upload" in params:
            Path(params["upload"]).unlink(missing_ok=True)
        repo.finish(session, job.id, "failed", error={"status": 503, "message": "the job queue is unreachable"})
        session.commit()
        raise
    session.refresh(job)
    return job


def translated_error(error: dict[str, Any] | None) -> dict[str, Any] | None:
    """A failed job's error in the reader's language (it is stored as message data)."""
    if error is None:
        return None
    shown = dict(error)
    for name in ("message", "reason"):
        if name in shown:
            shown[name] = translate_message(from_data(shown[name]))
    return shown


def job_json(job: Job) -> dict[str, Any]:
    data = service.view(job, job_signals())
    data["error"] = translated_error(data["error"])
    for name in ("created_at", "started_at", "finished_at"):
        data[name] = isoformat(data[name])
    data["url"] = url_for("jobs_api.get_job", job_id=job.id)
    return data


def visible_job(job_id: int, user: str, *, admin: bool) -> Job | None:
    """The job if this user may see it: their own, or any for an admin."""
    job = repo.get_job(db.db_session(), job_id)
    if job is None or (job.user != user and not admin):
        return None
    return job
