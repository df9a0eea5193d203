"""The jobs' web side: the queue and signals set up per app, starting a job from a request,
saving an upload for the worker, and a job as JSON (the API and the import page share these)."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from flask import Flask, Response, current_app, jsonify, request, url_for

import db
from common.errors import DuizhaoError
from common.messages import N_, Message, from_data
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


#: Days a finished job's result file is kept for its download (JOB_RESULTS_DAYS).
DEFAULT_RESULTS_DAYS = 7.0
#: A saved upload's name: random (nobody guesses another's) with the original's suffix.
_UPLOAD_NAME = re.compile(r"[0-9a-f]{32}(\.[0-9A-Za-z]{1,15})?")


def save_upload(stream: IO[bytes], filename: str, *, head: bytes = b"", most: int | None = None) -> Path:
    """Copy an upload to the jobs folder for the worker; the job removes it when it ends.
    ``head``: what was already read of ``stream``. With ``most``, a file of more bytes is
    refused (413) and nothing is kept."""
    folder = jobs_dir() / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = "".join(c for c in Path(filename).suffix[:16] if c.isalnum() or c == ".")
    path = folder / f"{uuid.uuid4().hex}{suffix if len(suffix) > 1 else ''}"
    written = len(head)
    with open(path, "wb") as out:
        out.write(head)
        while block := stream.read(1024 * 1024):
            written += len(block)
            if most is not None and written > most:
                out.close()
                path.unlink(missing_ok=True)
                raise DuizhaoError(Message(N_("The file is larger than {most} MB, the most a job takes."),
                                           most=most // (1024 * 1024)), status=413, parameter="file")
            out.write(block)
    return path


def saved_upload(name: str | None) -> Path | None:
    """A saved upload by the name `save_upload` gave it (a page carries it in a form), or None
    when the name is not one or the file is gone."""
    if not name or not _UPLOAD_NAME.fullmatch(name):
        return None
    path = jobs_dir() / "uploads" / name
    return path if path.is_file() else None


def copy_upload(path: Path) -> Path:
    """A copy of a saved upload for a job of its own (the job removes its copy when it ends)."""
    with open(path, "rb") as stream:
        return save_upload(stream, path.name)


def submit(kind: str, *, user: str | None, params: dict[str, Any], result_name: str | None = None) -> Job:
    """Record a job and queue it. The row is committed before the id is queued (the worker
    reads it); in immediate mode the job has run when this returns. A job that gives a file
    names it ``result_name`` (a safe name: the download takes the user's own from the result):
    it writes it under ``JOBS_DIR/results/<job id>/``."""
    session = db.db_session()
    job = repo.create_job(session, kind=kind, user=user, params=params)
    if result_name is not None:
        job.params = {**params, "result": str(jobs_dir() / "results" / str(job.id) / result_name)}
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
    file = (job.result or {}).get("file")
    if job.state == "done" and isinstance(file, dict) and "removed_at" not in file:
        data["download"] = url_for("jobs_api.job_result", job_id=job.id)
    return data


def prefers_async() -> bool:
    """Whether the client asked for a job whatever the size (``Prefer: respond-async``, RFC 7240)."""
    preferences = request.headers.get("Prefer", "")
    return any(p.split(";")[0].strip().lower() == "respond-async" for p in preferences.split(","))


def accepted(job: Job) -> tuple[Response, int]:
    """``202 Accepted`` with the job and ``Location: /api/v1/jobs/<id>``."""
    response = jsonify(job_json(job))
    response.headers["Location"] = url_for("jobs_api.get_job", job_id=job.id)
    if prefers_async():
        response.headers["Preference-Applied"] = "respond-async"
    return response, 202


def results_retention(app: Flask | None = None) -> timedelta:
    """How long finished jobs' files are kept: ``JOB_RESULTS_DAYS``."""
    app = app or current_app
    days = app.config.get("JOB_RESULTS_DAYS")
    return timedelta(days=float(DEFAULT_RESULTS_DAYS if days is None else days))


def clean_files(app: Flask | None = None) -> dict[str, int]:
    """Remove the job files past their retention (jobs.service.clean_files) and commit."""
    app = app or current_app
    with db_sessionmaker(app).begin() as session:
        return service.clean_files(session, retention=results_retention(app), jobs_dir=jobs_dir(app))


def visible_job(job_id: int, user: str, *, admin: bool) -> Job | None:
    """The job if this user may see it: their own, or any for an admin."""
    job = repo.get_job(db.db_session(), job_id)
    if job is None or (job.user != user and not admin):
        return None
    return job
