"""JSON API for harvesting TM from article pairs, under ``/api/v1/align``. Thin: parse, call
``align.service``, commit.

    POST /api/v1/align                      align two texts, store nothing          read
    POST /api/v1/align/jobs                 align and keep as a job to review       edit
                                            (long texts: 202, aligned by a job: docs/jobs.md)
    GET  /api/v1/align/jobs/<id>            the job: sentences, beads, version      edit
    PUT  /api/v1/align/jobs/<id>            {"beads": [...], "version": n}          edit
    POST /api/v1/align/jobs/<id>/store      {"memory": name}: approved pairs → TM   edit

Warnings (a legacy encoding, lopsided lengths) are sentences in the reader's language.

Texts come as JSON strings (``{"zh": ..., "en": ...}``) or as a multipart form whose ``zh`` and
``en`` are files (UTF-8, GB18030 or Big5) or text fields. ``hard_wrapped`` (true/false) says the
texts break lines inside paragraphs, so only blank lines end one. Optional job fields: ``title``,
``url`` (http/https), ``date`` (YYYY-MM-DD).
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from accounts.auth import check_permission, current_identity
from align import service
from align.webutil import align_or_queue, aligner_embedder, for_reader, glossary_pairs, translation_model
from common.errors import DuizhaoError
from common.messages import N_, Message
from common.timeutil import isoformat
from db import db_session
from jobs.models import Job
from jobs.webutil import accepted, prefers_async
from tm.webutil import check_may_write_into
from web import extensions
from web.util import json_body, reject_invalid_utf8, require_csrf_header_for_session_writes

bp = Blueprint("align_api", __name__, url_prefix="/api/v1/align")

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


@bp.before_request
def _guard():
    reject_invalid_utf8()
    identity = current_identity()
    require_csrf_header_for_session_writes(identity.via if identity else None)


def request_texts(*, most_bytes: int) -> tuple[dict, dict]:
    """The two texts of this request (uploads as bytes, at most ``most_bytes + 1`` read: the
    service refuses more) and its other fields."""
    if request.mimetype in FORM_TYPES:
        fields = request.form.to_dict()
        texts = {}
        for slot in ("zh", "en"):
            upload = request.files.get(slot)
            if upload is not None and upload.filename:
                texts[slot] = upload.read(most_bytes + 1)
            else:
                texts[slot] = fields.get(slot, "")
    else:
        fields = json_body()
        texts = {slot: fields.get(slot) for slot in ("zh", "en")}
        for slot, value in texts.items():
            if value is not None and not isinstance(value, str):
                raise DuizhaoError(Message(N_("Field {field!r} must be a string."), field=slot), field=slot)
    return texts, fields


def prepare_from_request() -> tuple[service.Prepared, dict]:
    """Align the texts of this request; returns the result and the request's other fields."""
    texts, fields = request_texts(most_bytes=service.MAX_TEXT_BYTES)
    prepared = service.prepare(texts["zh"], texts["en"], glossary_pairs=glossary_pairs(),
                               hard_wrapped=_flag(fields, "hard_wrapped"), embed=aligner_embedder(),
                               translations=translation_model())
    return prepared, fields


def _flag(fields: dict, name: str) -> bool:
    """A yes/no field: a JSON boolean, or a form's "1"/"on"/"true" (absent means no)."""
    value = fields.get(name, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("", "0", "false", "off", "no", "1", "true", "on", "yes"):
        return value.strip().lower() in ("1", "true", "on", "yes")
    raise DuizhaoError(Message(N_("Field {field!r} must be true or false."), field=name), field=name)


@bp.post("")
def align_texts():
    """Align two texts and return sentences with offsets, beads and warnings; stores nothing."""
    check_permission("read")
    prepared, _fields = prepare_from_request()
    return jsonify(for_reader(prepared.to_dict()))


@bp.post("/jobs")
def create_job():
    """Align and keep the result to review (201 with it). Texts longer than a request aligns
    (ALIGN_INLINE_SENTENCES a side, or over ``service.MAX_TEXT_CHARS`` characters), or any with
    ``Prefer: respond-async``, are aligned by a job: 202, ``Location: /api/v1/jobs/<id>``, whose
    result names the alignment (``alignment``, ``review_url``). Past ``service.JOB_MAX_SENTENCES``
    a side, 413."""
    identity = check_permission("edit")
    texts, fields = request_texts(most_bytes=service.JOB_MAX_TEXT_BYTES)
    outcome = align_or_queue(texts["zh"], texts["en"], title=_text(fields, "title"), url=_text(fields, "url"),
                             doc_date=_text(fields, "date"), hard_wrapped=_flag(fields, "hard_wrapped"),
                             user=identity.name, as_job=prefers_async())
    if isinstance(outcome, Job):
        return accepted(outcome)
    session = db_session()
    session.commit()
    response = jsonify(for_reader(service.job_dict(outcome)))
    response.headers["Location"] = url_for("align_api.get_job", job_id=outcome.id)
    return response, 201


def _text(fields: dict, name: str) -> str | None:
    value = fields.get(name)
    if value is not None and not isinstance(value, str):
        raise DuizhaoError(Message(N_("Field {field!r} must be a string."), field=name), field=name)
    return value


@bp.get("/jobs/<int:job_id>")
def get_job(job_id: int):
    check_permission("edit")
    return jsonify(for_reader(service.job_dict(service.get_job(db_session(), job_id))))


@bp.put("/jobs/<int:job_id>")
def save_job(job_id: int):
    check_permission("edit")
    body = json_body()
    session = db_session()
    try:
        job = service.save_job(session, job_id, body.get("beads"), expected_version=body.get("version"))
    except DuizhaoError:
        session.rollback()
        raise
    session.commit()
    return jsonify({"id": job.id, "version": job.version, "status": job.status,
                    "changed_at": isoformat(job.changed_at)})


@bp.post("/jobs/<int:job_id>/store")
def store_job(job_id: int):
    identity = check_permission("edit")
    body = json_body()
    session = db_session()
    try:
        check_may_write_into(session, body.get("memory"))
        report = service.store_job(session, job_id, memory_name=body.get("memory"), user=identity.name)
    except DuizhaoError:
        session.rollback()
        raise
    session.commit()
    extensions.live_index().changed()
    return jsonify(report.to_dict()), 201
