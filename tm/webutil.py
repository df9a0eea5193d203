"""What the TM's pages and its JSON APIs share (the web layer: it may use Flask)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from accounts.auth import Identity, check_permission
from common.errors import DuizhaoError, Forbidden, Unauthorized
from common.messages import N_, Message
from db import db_session, new_session
from jobs import repository as jobs_repo
from jobs.models import Job
from jobs.service import JobContext, Kind
from jobs.webutil import save_upload, submit
from tm import fragments, lookup, pretranslate
from tm import jobs as tm_jobs
from tm import repository as repo
from tm import service as tm_service
from web.extensions import (
    add_job_kind,
    fragment_models,
    fragment_term_pairs,
    index_snapshots,
    job_queue,
    live_index,
    lookup_extras,
    qa_checks,
)


def check_may_write_into(session: Session, name: object, *, field: str = "memory") -> None:
    """Writing into a memory that does not exist creates it, and creating memories is the
    admin's: an editor (or an editor's write token) gets 403 naming the memory instead.
    The CLI is the operator and does not ask."""
    if not isinstance(name, str) or not name.strip() or repo.memory_by_name(session, name.strip()) is not None:
        return
    try:
        check_permission("admin")
    except Forbidden:
        raise Forbidden(Message(N_("There is no memory called {name!r}, and only an admin may create one: "
                                   "choose an existing memory or ask an admin to create it."),
                                name=name.strip()), field=field) from None


def segment_qa(session: Session, source: str, target: str, src: str, tgt: str, *,
               on: Any = None) -> list[dict]:
    """A segment's QA issues in reading order, their messages in the reader's language: the
    TM's own checks (numbers, untranslated Chinese: ``tm.core.qa``) and what other areas check
    (the glossary's terms, installed at start-up)."""
    from tm.core import qa
    from web.i18n import translate_message

    if not target.strip():
        return []
    issues: list[dict] = [issue.to_dict() for issue in qa.check_segment(source, target, src, tgt)]
    for check in qa_checks():
        issues += check(session, source, target, src, tgt, on=on)
    return [dict(issue, message=translate_message(issue["message"])) for issue in qa.sort_issues(issues)]


def lookup_answers(session: Session, requests: Sequence[lookup.LookupRequest],
                   results: Sequence[list[dict]]) -> list[dict]:
    """The answers of lookups whose matches are ``results``: with what other areas add (the
    glossary adds "terms", installed at start-up so the TM package needs no import of theirs)
    and the fragments, which leave the glossary's terms alone."""
    answers = []
    for request, matches in zip(requests, results, strict=True):
        answer: dict[str, Any] = {"query": request.q, "src": request.src, "tgt": request.tgt, "matches": matches}
        for extra in lookup_extras():
            answer.update(extra(session, request.q, request.src, request.tgt, on=request.on))
        answers.append(answer)
    spans = [[(term["start"], term["end"]) for term in answer.get("terms", ())] for answer in answers]
    found = lookup.fragments_many(session, live_index(), fragment_models(), requests, spans)
    for answer, shown in zip(answers, found, strict=True):
        if shown is not None:
            answer["fragments"] = shown
    return answers


def train_fragments_after_import(session: Session) -> int | None:
    """Call after an import committed: when the memory has outgrown the fragment model
    (tm.fragments.is_stale), queue a training job, unless one is queued or running already.
    Returns its id, or None. FRAGMENT_TRAIN_AFTER_IMPORT off (tests) turns this off."""
    if not current_app.config.get("FRAGMENT_TRAIN_AFTER_IMPORT"):
        return None
    if not fragments.is_stale(session, fragment_models()):
        return None
    if jobs_repo.active_of_kind(session, tm_jobs.TRAIN_FRAGMENTS):
        return None
    return submit(tm_jobs.TRAIN_FRAGMENTS, user=None, params={}).id


def snapshot_after_import(session: Session, added: int) -> int | None:
    """Call after an import committed: when it added at least INDEX_SNAPSHOT_AFTER_UNITS units,
    queue a snapshot job (tm.jobs.index_snapshot), unless one is queued or running already; every
    worker then switches to the snapshot instead of folding the import into arrays of its own.
    Returns its id, or None."""
    threshold = current_app.config.get("INDEX_SNAPSHOT_AFTER_UNITS", 0)
    if not threshold or added < threshold:
        return None
    return queue_snapshot(session)


def queue_snapshot(session: Session) -> int | None:
    """Queue a snapshot job unless snapshots are off or one is queued or running already."""
    if index_snapshots() is None or jobs_repo.active_of_kind(session, tm_jobs.SNAPSHOT):
        return None
    return submit(tm_jobs.SNAPSHOT, user=None, params={}).id


def want_snapshot(app: Flask) -> Callable[[], None]:
    """What a worker's index calls when its delta has grown past what it would fold in by itself
    (tm.live_index.LiveIndex.want_snapshot): a snapshot job, queued in a session of its own (the
    index asks in the middle of a lookup, whose session only reads)."""

    def ask() -> None:
        with app.app_context():
            session = new_session()
            try:
                if not jobs_repo.active_of_kind(session, tm_jobs.SNAPSHOT):
                    job = jobs_repo.create_job(session, kind=tm_jobs.SNAPSHOT, user=None, params={})
                    session.commit()
                    job_queue().enqueue(job.id)
            except (SQLAlchemyError, OSError) as err:
                # The lookup that asked goes on from its delta; the next import asks again.
                session.rollback()
                current_app.logger.warning("could not queue an index snapshot: %s", err)
            finally:
                session.close()

    return ask


def snapshot_pending(app: Flask) -> Callable[[], bool]:
    """Whether a snapshot job is queued or running, for a worker's index that waits for one
    (tm.live_index.LiveIndex.snapshot_pending), read in a session of its own. When the jobs
    table cannot be read it says no: the worker then applies the import itself."""

    def pending() -> bool:
        with app.app_context():
            session = new_session()
            try:
                return jobs_repo.active_of_kind(session, tm_jobs.SNAPSHOT)
            except SQLAlchemyError:
                session.rollback()
                return False
            finally:
                session.close()

    return pending


def submit_import(stream: IO[bytes], *, memory: str, filename: str, file_format: str | None,
                  user: str) -> Job:
    """Save an upload for the worker and queue its import (tm.jobs.import_upload)."""
    path = save_upload(stream, filename)
    return submit(tm_jobs.IMPORT, user=user, params={"upload": str(path), "memory": memory, "filename": filename,
                                                      "format": file_format})


def add_job_kinds(app: Flask) -> None:
    """The TM's kinds of job (tm.jobs), with what they need of this app."""

    def after_import(_context: JobContext, result: dict) -> None:
        live_index(app).changed()  # this process's index (the request's, in immediate mode)
        train_fragments_after_import(db_session())
        snapshot_after_import(db_session(), int(result.get("added", 0)))

    # On SQLite one import at a time per worker (see jobs.service.Kind.serial); on PostgreSQL
    # imports into different memories run side by side (tm.repository.lock_memory_for_bulk_write).
    serial = app.config["DATABASE_URL"].startswith("sqlite")
    add_job_kind(app, tm_jobs.IMPORT, Kind(tm_jobs.import_upload, after=after_import, serial=serial))
    add_job_kind(app, tm_jobs.TRAIN_FRAGMENTS,
                 Kind(tm_jobs.train_fragments(lambda: fragment_models(app).directory, fragment_term_pairs(app))))
    add_job_kind(app, tm_jobs.SNAPSHOT, Kind(tm_jobs.index_snapshot(lambda: index_snapshots(app))))
    add_job_kind(app, tm_jobs.PRETRANSLATE,
                 Kind(tm_jobs.pretranslate_upload(lambda: live_index(app), lambda: fragment_models(app))))
    add_job_kind(app, tm_jobs.EXPORT, Kind(tm_jobs.export_memories))


def _job_owner(identity: Identity | None, what: Message) -> str:
    """Who a job is for: a job's file goes only to its user, so an anonymous reader starts none."""
    if identity is None:
        raise Unauthorized(what)
    return identity.name


def export_is_large(session: Session, memory_names: Sequence[str] | None) -> bool:
    """Whether an export of these memories has more units than EXPORT_INLINE_UNITS (then it is a job)."""
    return tm_service.export_size(session, memory_names) > int(current_app.config["EXPORT_INLINE_UNITS"])


def submit_export(*, memory_names: Sequence[str] | None, file_format: str, filename: str,
                  identity: Identity | None) -> Job:
    """Queue an export (tm.jobs.export_memories): its file is downloaded from the job."""
    tm_service.check_export_format(file_format)
    user = _job_owner(identity, Message(N_("Log in or send an API token: an export this large is written by a "
                                           "job, whose file only its user downloads.")))
    return submit(tm_jobs.EXPORT, user=user, result_name=f"export.{file_format}",
                  params={"memories": list(memory_names) if memory_names else None, "format": file_format,
                          "filename": filename})


#: Response headers that carry a pre-translation's report (`tm.pretranslate.FileReport`).
PRETRANSLATE_HEADERS = {
    "version": "X-Xliff-Version", "direction": "X-Pretranslate-Direction", "segments": "X-Pretranslate-Segments",
    "filled_exact": "X-Pretranslate-Filled-Exact", "filled_fuzzy": "X-Pretranslate-Filled-Fuzzy",
    "skipped_translated": "X-Pretranslate-Skipped-Translated", "left_empty": "X-Pretranslate-Left-Empty",
    "codes_not_placed": "X-Pretranslate-Codes-Not-Placed", "with_candidates": "X-Pretranslate-With-Candidates",
}
XLIFF_MIMETYPES = pretranslate.XLIFF_MIMETYPES


@dataclass(frozen=True)
class PretranslateOptions:
    """A pre-translation's parameters, checked: the memories (None: all), the score, the mode."""

    memories: list[str] | None
    min_score: float
    mode: str


def pretranslate_options(*, memories: Sequence[str] | None, min_score: object, mode: object) -> PretranslateOptions:
    """The parameters of a pre-translation checked (400 naming the one that is wrong, 404 naming
    an unknown memory) before any work, inline or in a job."""
    from common import params

    check_permission("read")
    score = params.decimal_number(min_score, "min_score", default=pretranslate.DEFAULT_THRESHOLD, low=0, high=101)
    chosen = mode or "both"
    if chosen not in pretranslate.MODES:
        raise DuizhaoError(Message(N_("Parameter {parameter!r} must be one of {choices}."), parameter="mode",
                                   choices=", ".join(pretranslate.MODES)), parameter="mode")
    tm_service.resolve_memories(db_session(), memories)
    return PretranslateOptions(list(memories) if memories else None, score, str(chosen))


def pretranslate_inline_bytes() -> int:
    return int(current_app.config["PRETRANSLATE_INLINE_BYTES"])


def pretranslate_upload(data: bytes, options: PretranslateOptions) -> tuple[bytes, Any]:
    """A translator's XLIFF pre-translated within the request from the memories, nothing
    stored. A file over the inline bounds (PRETRANSLATE_INLINE_BYTES / _SEGMENTS) raises
    `tm.pretranslate.FileTooLarge` before any lookup: the caller queues it instead."""
    if not data.strip():
        raise DuizhaoError(Message(N_("The file is empty.")), parameter="file")
    session = db_session()
    run = lookup.segment_lookup(session, live_index(), memories=options.memories,
                                min_score=min(options.min_score, 100.0), limit=pretranslate.DEFAULT_CANDIDATES)
    pieces = lookup.segment_fragments(session, live_index(), fragment_models(), memories=options.memories)
    return pretranslate.pretranslate_file(data, run, min_score=options.min_score, mode=options.mode, bounded=True,
                                          max_bytes=pretranslate_inline_bytes(),
                                          max_segments=int(current_app.config["PRETRANSLATE_INLINE_SEGMENTS"]),
                                          fragments=pieces)


def submit_pretranslate(*, stream: IO[bytes] | None = None, head: bytes = b"", upload: Path | None = None,
                        filename: str, options: PretranslateOptions, identity: Identity | None) -> Job:
    """Queue the pre-translation of an XLIFF (tm.jobs.pretranslate_upload): the rest of
    ``stream`` after ``head`` saved for the worker (413 past `tm.pretranslate.JOB_MAX_BYTES`),
    or a file already saved (``upload``: the job's own copy, which it removes)."""
    user = _job_owner(identity, Message(N_("Log in or send an API token: a file this large is pre-translated by a "
                                           "job, whose file only its user downloads.")))
    if upload is None:
        if stream is None:
            raise ValueError("a stream or a saved upload is needed")
        if not head.strip() and not (head := head + stream.read(1024)).strip():
            raise DuizhaoError(Message(N_("The file is empty.")), parameter="file")
        upload = save_upload(stream, filename, head=head, most=pretranslate.JOB_MAX_BYTES)
    suffix = Path(filename).suffix.lower() if Path(filename).suffix.lower() in (".xlf", ".xliff", ".xlf2") else ".xlf"
    return submit(tm_jobs.PRETRANSLATE, user=user, result_name=f"pretranslated{suffix}",
                  params={"upload": str(upload), "filename": filename, "memories": options.memories,
                          "min_score": options.min_score, "mode": options.mode})


def xliff_download(body: bytes, report: Any, filename: str) -> Any:
    """The pre-translated file as a download under its own name, the report in headers."""
    from urllib.parse import quote

    from flask import Response

    response = Response(body, mimetype=XLIFF_MIMETYPES[report.version])
    ascii_name = filename.encode("ascii", "ignore").decode().replace('"', "") or "pretranslated.xlf"
    if ascii_name == filename:
        response.headers.set("Content-Disposition", "attachment", filename=filename)
    else:
        response.headers["Content-Disposition"] = (f'attachment; filename="{ascii_name}"; '
                                                   f"filename*=UTF-8''{quote(filename)}")
    for key, header in PRETRANSLATE_HEADERS.items():
        response.headers[header] = str(getattr(report, key))
    return response
