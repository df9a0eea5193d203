"""Running jobs: the runner a worker calls with a job id, the channel a running job reports
progress and hears a cancel through, and the recovery of jobs a dead worker left. No Flask here.

A job's work runs in a session (and so a transaction) of its own, committed only when the
handler returns: a failure, a cancel or a crash leaves nothing of it stored. The row in ``jobs``
is changed in short transactions beside it (running, then done/failed/cancelled).

While the work's transaction is open, progress and the cancel flag travel through *signals*:
on PostgreSQL the job's row itself (another connection, another row: nothing waits); on SQLite,
which has one writer for the whole file, an update of the row would wait for the import holding
that lock, so they go through two small files beside the uploads (SQLite is one machine anyway).
The row gets the final figures when the job ends.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from common.messages import N_, Message, to_data
from common.timeutil import utcnow
from jobs import repository as repo
from jobs.models import Job

log = logging.getLogger(__name__)

#: Seconds between two progress reports of one job: the bar moves smoothly enough, and a
#: million-unit import does not write its row 500 times.
REPORT_INTERVAL = 0.5
#: A running job on another host whose worker has said nothing for this long is taken as
#: interrupted by a starting worker. Workers report with every chunk (seconds apart), so this is
#: long, to never fail a job that is merely slow.
STALE_HEARTBEAT = timedelta(minutes=10)


class Cancelled(Exception):
    """Raised inside a job at its next check after a cancel was asked for: its work rolls back."""


class Signals(Protocol):
    def report(self, job_id: int, done: int, total: int | None) -> None: ...
    def cancel_asked(self, job_id: int) -> bool: ...
    def ask_cancel(self, job_id: int) -> None: ...
    def progress(self, job_id: int) -> tuple[int, int | None] | None: ...
    def clear(self, job_id: int) -> None: ...


class TableSignals:
    """Progress and the cancel flag in the job's row, each in a short transaction of its own."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def report(self, job_id: int, done: int, total: int | None) -> None:
        with self.factory.begin() as session:
            repo.set_progress(session, job_id, done, total)

    def cancel_asked(self, job_id: int) -> bool:
        with self.factory() as session:
            return repo.cancel_requested(session, job_id)

    def ask_cancel(self, job_id: int) -> None:
        with self.factory.begin() as session:
            repo.request_cancel(session, job_id)

    def progress(self, job_id: int) -> tuple[int, int | None] | None:
        return None  # the row has it

    def clear(self, job_id: int) -> None:
        pass


class FileSignals:
    """Progress and the cancel flag as files in ``directory`` (for SQLite, see the module doc);
    a callable gives the directory when first needed (an app's instance folder may be set late)."""

    def __init__(self, directory: str | Path | Callable[[], Path]) -> None:
        self._directory = directory

    @property
    def directory(self) -> Path:
        where = self._directory
        return where() if callable(where) else Path(where)

    def _path(self, job_id: int, suffix: str) -> Path:
        return self.directory / f"job-{job_id}.{suffix}"

    def report(self, job_id: int, done: int, total: int | None) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(job_id, "progress")
        partial = path.with_suffix(".progress-partial")
        partial.write_text(json.dumps({"done": done, "total": total}), encoding="utf-8")
        os.replace(partial, path)  # a reader sees the old figures or the new, never half

    def cancel_asked(self, job_id: int) -> bool:
        return self._path(job_id, "cancel").exists()

    def ask_cancel(self, job_id: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._path(job_id, "cancel").touch()

    def progress(self, job_id: int) -> tuple[int, int | None] | None:
        try:
            data = json.loads(self._path(job_id, "progress").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return int(data["done"]), data["total"]

    def clear(self, job_id: int) -> None:
        for suffix in ("progress", "cancel"):
            self._path(job_id, suffix).unlink(missing_ok=True)


@dataclass
class JobContext:
    """What a handler gets besides its session: the job's parameters and who started it, and
    ``progress(done, total)``, which also stops the job (raises :class:`Cancelled`) once a
    cancel was asked for. Handlers call it between chunks."""

    job_id: int
    kind: str
    user: str | None
    params: dict[str, Any]
    signals: Signals
    done: int = 0
    total: int | None = None
    _last_report: float = field(default=0.0, repr=False)

    def progress(self, done: int, total: int | None = None) -> None:
        self.done, self.total = done, total if total is not None else self.total
        now = time.monotonic()
        if now - self._last_report < REPORT_INTERVAL:
            return
        self._last_report = now
        if self.signals.cancel_asked(self.job_id):
            raise Cancelled
        self.signals.report(self.job_id, self.done, self.total)

    def check_cancel(self) -> None:
        if self.signals.cancel_asked(self.job_id):
            raise Cancelled


#: A handler does the work of one kind of job in ``session`` and returns its result (JSON); the
#: runner commits. ``after`` (optional) runs once the work is committed (a follow-up job...).
Handler = Callable[[Session, JobContext], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    handler: Handler
    after: Callable[[JobContext, dict[str, Any]], None] | None = None
    #: Jobs of this kind take turns in a worker process (a worker runs several jobs at once, so
    #: that a long training does not hold up imports; but on SQLite, which has one writer, a
    #: second import would only wait for the first's lock until it timed out).
    serial: bool = False


_SERIAL_LOCKS: dict[str, threading.Lock] = {}
_SERIAL_LOCKS_GUARD = threading.Lock()


def _serial_lock(kind: str) -> threading.Lock:
    with _SERIAL_LOCKS_GUARD:
        return _SERIAL_LOCKS.setdefault(kind, threading.Lock())


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def error_data(err: BaseException) -> dict[str, Any]:
    """A failed job's error as JSON: the shape of the API's error bodies, with the message kept
    translatable (``common.messages.to_data``). An exception with a ``message`` is one the user
    can act on (a malformed file, an unknown memory...); anything else is a fault of ours."""
    message = getattr(err, "message", None)
    if isinstance(err, OperationalError):
        message, status = Message(N_("The database was busy or unreachable; nothing was stored. Start the "
                                     "job again.")), 503
    elif isinstance(message, str):
        status = int(getattr(err, "status", 400))
    else:
        message, status = Message(N_("The job failed unexpectedly ({error}); nothing was stored."),
                                  error=type(err).__name__), 500
    data: dict[str, Any] = {"status": status, "message": to_data(message)}
    details = getattr(err, "details", None)
    if isinstance(details, Mapping):
        data.update({k: to_data(v) if isinstance(v, str) else v for k, v in details.items()})
    for name in ("line", "reason", "supported"):  # an ImportFormatError's or UnsupportedLanguage's
        value = getattr(err, name, None)
        if value is not None:
            data[name] = to_data(value) if isinstance(value, str) else list(value) if isinstance(value, tuple) \
                else value
    return data


def run_job(factory: sessionmaker[Session], job_id: int, *, kinds: Mapping[str, Kind], signals: Signals,
            worker: str | None = None) -> str:
    """Run one job to its end; returns the state it ended in (or "skipped" when it was no
    longer queued: cancelled before it started, or taken by another worker)."""
    with factory.begin() as session:
        if not repo.start(session, job_id, worker=worker or worker_name()):
            return "skipped"
    with factory() as session:
        job = repo.get_job(session, job_id)
        assert job is not None
        context = JobContext(job.id, job.kind, job.user, dict(job.params or {}), signals)
    kind = kinds.get(context.kind)
    state, result, error = "failed", None, None
    work = factory()
    try:
        if kind is None:
            raise LookupError(f"no handler for jobs of kind {context.kind!r}")
        context.check_cancel()
        with _serial_lock(context.kind) if kind.serial else contextlib.nullcontext():
            context.check_cancel()  # a cancel asked while it waited for its turn
            result = kind.handler(work, context)
        # The last word before the commit: a cancel asked during the last chunk still wins.
        context.check_cancel()
        work.commit()
        state = "done"
    except Cancelled:
        work.rollback()
        state, result = "cancelled", None  # a cancel after the handler returned: its result goes too
    except Exception as err:  # every failure ends the job, with its reason; the worker goes on
        work.rollback()
        result = None
        if not hasattr(err, "message"):
            log.exception("job %s (%s) failed", job_id, context.kind)
        error = error_data(err)
    finally:
        work.close()
    total = context.total if context.total is not None else context.done
    done = total if state == "done" else context.done
    with factory.begin() as session:
        repo.finish(session, job_id, state, result=result, error=error, done=done, total=total)
    signals.clear(job_id)
    _remove_files(context.params, keep_result=state == "done")
    if state == "done" and kind is not None and kind.after is not None and result is not None:
        try:
            kind.after(context, result)
        except Exception:  # the job is done and stored; a follow-up that fails is only logged
            log.exception("after job %s (%s)", job_id, context.kind)
    return state


def _remove_files(params: Mapping[str, Any], *, keep_result: bool = False) -> None:
    """A job's own files go when it ends: its saved upload however it ends, and its result file
    (with its folder) unless it is done: a failed or cancelled job leaves nothing to download."""
    upload = params.get("upload")
    if isinstance(upload, str):
        Path(upload).unlink(missing_ok=True)
    result = params.get("result")
    if isinstance(result, str) and not keep_result:
        _remove_result(Path(result))


def _remove_result(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_name(path.name + PARTIAL).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty (a file of someone else's?): left alone
        path.parent.rmdir()


# ------------------------------------------------------------------ result files

#: Suffix of a result file while its job writes it: renamed when complete, so a download never
#: gets half a file.
PARTIAL = ".partial"


@contextlib.contextmanager
def result_stream(context: JobContext) -> Iterator[IO[bytes]]:
    """The job's result file (``params["result"]``, chosen when the job was submitted) open for
    writing; it takes its name only once the block ends without an error."""
    path = Path(context.params["result"])
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + PARTIAL)
    try:
        with open(partial, "wb") as out:
            yield out
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def result_file(context: JobContext, *, name: str, content_type: str) -> dict[str, Any]:
    """What a job's ``result`` says of its file (under ``"file"``): the name it is downloaded
    under, its content type and size. Where it lies stays in the job's params, never shown."""
    return {"name": name, "content_type": content_type, "bytes": Path(context.params["result"]).stat().st_size}


def result_path(job: Job) -> Path | None:
    """The finished job's file, or None when it has none (not done, or no file to give)."""
    path = (job.params or {}).get("result")
    if job.state != "done" or not isinstance(path, str) or not isinstance((job.result or {}).get("file"), dict):
        return None
    return Path(path)


def clean_files(session: Session, *, retention: timedelta, jobs_dir: Path,
                now: datetime | None = None) -> dict[str, int]:
    """Remove the result files of jobs that finished more than ``retention`` ago (their
    ``result.file`` then says ``removed_at``, and a download answers 410), and what no job
    will use any more: result folders of jobs that did not end done, and uploads older than
    ``retention`` that no queued or running job waits for (a page may keep an upload for a
    while: the article page's XLIFF). The caller commits. Returns what was removed, by kind."""
    now = now or utcnow()
    before = now - retention
    removed = {"results": 0, "orphans": 0, "uploads": 0}
    for job in repo.finished_with_result_before(session, before):
        path = result_path(job)
        if path is not None:
            _remove_result(path)
        repo.set_result(session, job.id, {**(job.result or {}),
                                          "file": {**job.result["file"], "removed_at": now.isoformat()}})  # type: ignore[index]
        removed["results"] += 1
    cutoff = before.timestamp()
    results = jobs_dir / "results"
    if results.is_dir():
        kept = {str(Path(p).parent) for p in repo.result_paths_kept(session)}
        for folder in results.iterdir():
            if str(folder) not in kept and folder.stat().st_mtime < cutoff:
                for child in folder.iterdir():
                    child.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    folder.rmdir()
                removed["orphans"] += 1
    uploads = jobs_dir / "uploads"
    if uploads.is_dir():
        waiting = set(repo.active_uploads(session))
        for upload in uploads.iterdir():
            if str(upload) not in waiting and upload.stat().st_mtime < cutoff:
                upload.unlink(missing_ok=True)
                removed["uploads"] += 1
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


INTERRUPTED = Message(N_("The job was interrupted (its worker stopped: a crash or a restart); nothing of it "
                         "was stored. Start it again."))


def recover_interrupted(session: Session, *, host: str | None = None,
                        pid_alive: Callable[[int], bool] = _pid_alive) -> list[int]:
    """Fail the jobs left 'running' by a worker that is gone: on this host, one whose process is
    dead; on another, one silent for STALE_HEARTBEAT. Their work was one transaction that never
    committed, so nothing of it is stored; they are failed rather than retried, so that a job
    that kills its worker (memory, say) does not kill the next one too. Returns their ids."""
    host = host or socket.gethostname()
    failed = []
    stale_before = utcnow() - STALE_HEARTBEAT
    for job in repo.running(session):
        job_host, _, pid = (job.worker or "").rpartition(":")
        if job_host == host:
            gone = not pid.isdigit() or not pid_alive(int(pid))
        else:
            gone = job.heartbeat_at is None or job.heartbeat_at < stale_before
        if gone:
            repo.fail_interrupted(session, job.id, error={"status": 500, "message": to_data(INTERRUPTED),
                                                          "worker": job.worker})
            _remove_files(job.params or {})  # its result too: a failed job has none
            failed.append(job.id)
    return failed


def cancel(session: Session, job: Job, signals: Signals) -> None:
    """Cancel ``job``: a queued one at once (the caller commits), a running one through its
    signals (its worker stops at its next check and rolls back); a finished one stays as it is."""
    if job.state == "queued":
        repo.request_cancel(session, job.id)
    elif job.state == "running":
        signals.ask_cancel(job.id)


def view(job: Job, signals: Signals) -> dict[str, Any]:
    """A job as the API shows it (the error still as data: the web layer translates it)."""
    done, total = job.done, job.total
    if job.state == "running":
        live = signals.progress(job.id)
        if live is not None:
            done, total = live
    return {"id": job.id, "kind": job.kind, "state": job.state, "user": job.user,
            "progress": {"done": done, "total": total}, "result": job.result, "error": job.error,
            "cancel_requested": job.cancel_requested or (job.state == "running" and signals.cancel_asked(job.id)),
            "created_at": job.created_at,
            "started_at": job.started_at, "finished_at": job.finished_at}
