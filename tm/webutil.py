"""What the TM's pages and its JSON APIs share (the web layer: it may use Flask)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from flask import Flask, current_app
from sqlalchemy.orm import Session

from accounts.auth import check_permission
from common.errors import Forbidden
from common.messages import N_, Message
from db import db_session
from jobs import repository as jobs_repo
from jobs.models import Job
from jobs.service import JobContext, Kind
from jobs.webutil import save_upload, submit
from tm import fragments, lookup
from tm import jobs as tm_jobs
from tm import repository as repo
from web.extensions import add_job_kind, fragment_models, fragment_term_pairs, live_index, lookup_extras


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


def submit_import(stream: IO[bytes], *, memory: str, filename: str, file_format: str | None,
                  user: str) -> Job:
    """Save an upload for the worker and queue its import (tm.jobs.import_upload)."""
    path = save_upload(stream, filename)
    return submit(tm_jobs.IMPORT, user=user, params={"upload": str(path), "memory": memory, "filename": filename,
                                                      "format": file_format})


def add_job_kinds(app: Flask) -> None:
    """The TM's kinds of job (tm.jobs), with what they need of this app."""

    def after_import(_context: JobContext, _result: dict) -> None:
        live_index(app).changed()  # this process's index (the request's, in immediate mode)
        train_fragments_after_import(db_session())

    # On SQLite one import at a time per worker (see jobs.service.Kind.serial); on PostgreSQL
    # imports into different memories run side by side (tm.repository.lock_memory_for_bulk_write).
    serial = app.config["DATABASE_URL"].startswith("sqlite")
    add_job_kind(app, tm_jobs.IMPORT, Kind(tm_jobs.import_upload, after=after_import, serial=serial))
    add_job_kind(app, tm_jobs.TRAIN_FRAGMENTS,
                 Kind(tm_jobs.train_fragments(lambda: fragment_models(app).directory, fragment_term_pairs(app))))
