"""JSON API of the translation memory under ``/api/v1/``. Thin: parse, call the service, commit."""
from __future__ import annotations

import io

from flask import Blueprint, Response, jsonify, redirect, request, url_for

from accounts.auth import check_permission
from common import params as checks
from common.errors import DuizhaoError
from common.fieldlimits import length_problem, require_fits
from common.languages import source_and_target
from common.messages import N_, Message
from common.timeutil import isoformat
from db import db_session, read_session
from jobs.webutil import accepted, job_json, prefers_async
from tm import lookup, service
from tm import repository as repo
from tm.formats.records import MAX_SEGMENT_CHARS
from tm.models import Memory
from tm.pretranslate import FileTooLarge
from tm.webutil import (
    check_may_write_into,
    export_is_large,
    lookup_answers,
    pretranslate_inline_bytes,
    pretranslate_options,
    pretranslate_upload,
    segment_qa,
    submit_export,
    submit_import,
    submit_pretranslate,
    xliff_download,
)
from web.extensions import live_index
from web.util import api_guard, history_json, int_arg, json_body, list_arg

bp = Blueprint("tm_api", __name__, url_prefix="/api/v1")

bp.before_request(api_guard)


def _memory_dict(memory, size: int) -> dict:
    return {"name": memory.name, "description": memory.description, "priority": memory.priority,
            "units": size, "created_at": isoformat(memory.created_at)}


# ------------------------------------------------------------------ memories

@bp.get("/memories")
def list_memories():
    check_permission("read")
    session = db_session()
    sizes = repo.memory_sizes(session)
    return jsonify({"memories": [_memory_dict(m, sizes.get(m.id, 0)) for m in repo.memories(session)]})


@bp.post("/memories")
def create_memory():
    check_permission("admin")
    body = json_body()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DuizhaoError(Message(N_("Field {field!r} must be a non-empty string."), field="name"), field="name")
    require_fits(Memory.name, name.strip(), field="name")
    session = db_session()
    memory, created = repo.create_memory(session, name.strip())
    if not created:
        raise DuizhaoError(Message(N_("A memory called {name!r} exists already."), name=name.strip()), status=409)
    memory.description = str(body.get("description") or "")
    priority = body.get("priority", 0)
    if not isinstance(priority, int):
        raise DuizhaoError(Message(N_("Field {field!r} must be a whole number."), field="priority"),
                           field="priority")
    memory.priority = priority
    session.commit()
    return jsonify(_memory_dict(memory, 0)), 201


@bp.post("/memories/<name>/import")
def import_into_memory(name: str):
    """Import a TMX/XLIFF/TSV/CSV upload (multipart field ``file``, or the raw body with
    ``?filename=``) as a job: 202 Accepted with ``Location: /api/v1/jobs/<id>``, whose result is
    the import's report (or whose error is the file's problem, with its line). What can be
    checked before reading the file (a name, a format, the right to create the memory) is
    answered at once with 4xx."""
    identity = check_permission("edit")
    upload = request.files.get("file")
    if upload is not None:
        stream, filename = upload.stream, upload.filename or "upload"
    elif request.data:
        stream, filename = io.BytesIO(request.get_data()), request.args.get("filename", "upload")
    else:
        raise DuizhaoError(Message(N_("No file: send it as multipart field {field!r} or as the request body."),
                                   field="file"))
    file_format = request.args.get("format")
    service.check_import_request(memory_name=name, file_format=file_format)
    check_may_write_into(db_session(), name)
    job = submit_import(stream, memory=name.strip(), filename=filename, file_format=file_format,
                        user=identity.name)
    response = jsonify(job_json(job))
    response.headers["Location"] = url_for("jobs_api.get_job", job_id=job.id)
    return response, 202


@bp.get("/memories/<name>/export")
@bp.get("/export")
def export_memory(name: str | None = None):
    """The memory's units as TMX, TSV or CSV. A memory of more than EXPORT_INLINE_UNITS units (or
    any, with ``Prefer: respond-async``) is exported by a job: 202 with ``Location:
    /api/v1/jobs/<id>``, whose file is then at ``/api/v1/jobs/<id>/result``."""
    identity = check_permission("read")
    file_format = request.args.get("format", "tmx")
    names = [name] if name else (list_arg("memory") or [])
    filename = f"{name or 'duizhao'}.{file_format}"
    session = db_session()
    service.check_export_format(file_format)
    large = export_is_large(session, names or None)  # 404 naming an unknown memory, job or not
    if large and identity is None and file_format == "tmx" and len(names) == 1 and not prefers_async():
        # An anonymous reader owns no job (its file goes only to its user), but one memory's TMX
        # streams from the feed, read in chunks while it is sent: send them there.
        return redirect(url_for("feeds.tm_tmx", memory=names[0]), code=307)
    if large or prefers_async():
        return accepted(submit_export(memory_names=names or None, file_format=file_format, filename=filename,
                                      identity=identity))
    # Small (EXPORT_INLINE_UNITS bounds it): built in memory and sent with its length.
    buffer = io.BytesIO()
    service.export_units(session, memory_names=names, file_format=file_format, stream=buffer)
    return Response(buffer.getvalue(), mimetype=service.EXPORT_MIMETYPES[file_format],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# ------------------------------------------------------------------ units

@bp.get("/units")
def list_units():
    check_permission("read")
    session = db_session()
    page = int_arg("page", 1, minimum=1, maximum=10**6)
    per_page = int_arg("per_page", 50, minimum=1, maximum=500)
    memories = service.resolve_memories(session, list_arg("memory"))
    ids = [m.id for m in memories] if memories is not None else None
    units, total = repo.page_of_units(session, ids, offset=(page - 1) * per_page, limit=per_page)
    return jsonify({"page": page, "per_page": per_page, "total": total,
                    "units": [repo.unit_snapshot(u) for u in units]})


def _memory_field(body: dict) -> str:
    memory_name = body.get("memory")
    if not isinstance(memory_name, str) or not memory_name:
        raise DuizhaoError(Message(N_("Field {field!r} must name a memory."), field="memory"), field="memory")
    return memory_name


@bp.post("/units")
def create_unit():
    identity = check_permission("edit")
    body = json_body()
    memory_name = _memory_field(body)
    session = db_session()
    unit, created = service.create_unit(session, memory_name=memory_name, fields=body, user=identity.name)
    session.commit()
    live_index().changed()
    response = jsonify(repo.unit_snapshot(unit))
    response.headers["Location"] = url_for("tm_api.get_unit", unit_id=unit.id)
    return response, 201 if created else 200


@bp.post("/translations")
def store_translation():
    """Store a translator's translation of one segment: ``{"memory", "source", "target", "src",
    "tgt", "doc_title", "prev", "next"}``. Translators' units are drafts, editors' approved;
    the memory must exist. 201 with the unit when it is new, 200 when the pair was there."""
    identity = check_permission("propose")
    body = json_body()
    memory_name = _memory_field(body)
    source, target = _segment_texts(body, may_be_empty=False)
    src, _tgt = _segment_languages(body, source)
    optional = {}
    for name in ("doc_title", "prev", "next"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise DuizhaoError(Message(N_("Field {field!r} must be a string or null."), field=name), field=name)
        optional[name] = value or None
    session = db_session()
    unit, outcome = service.store_translation(
        session, memory_name=memory_name, source=source, target=target, src=src,
        status="approved" if identity.user.has_role("editor") else "draft", user=identity.name,
        doc_title=optional["doc_title"], context_prev=optional["prev"], context_next=optional["next"])
    session.commit()
    if outcome != service.STORED_UNCHANGED:
        live_index().changed()
    response = jsonify(repo.unit_snapshot(unit) | {"outcome": outcome})
    response.headers["Location"] = url_for("tm_api.get_unit", unit_id=unit.id)
    return response, 201 if outcome == service.STORED_CREATED else 200


@bp.post("/units/batch")
def upsert_units():
    """Add or update units in one transaction: ``{"memory": name, "units": [{...}, ...]}``."""
    identity = check_permission("edit")
    body = json_body()
    memory_name = _memory_field(body)
    session = db_session()
    outcome = service.upsert_units(session, memory_name=memory_name, items=body.get("units"), user=identity.name)
    session.commit()
    live_index().changed()
    return jsonify({k: len(v) for k, v in outcome.items()} | {"ids": outcome})


@bp.get("/units/<int:unit_id>")
def get_unit(unit_id: int):
    check_permission("read")
    return jsonify(repo.unit_snapshot(service.get_unit(db_session(), unit_id)))


@bp.route("/units/<int:unit_id>", methods=["PATCH", "PUT"])
def update_unit(unit_id: int):
    identity = check_permission("edit")
    session = db_session()
    unit = service.update_unit(session, unit_id, json_body(), user=identity.name)
    session.commit()
    live_index().changed()
    return jsonify(repo.unit_snapshot(unit))


@bp.delete("/units/<int:unit_id>")
def delete_unit(unit_id: int):
    identity = check_permission("edit")
    session = db_session()
    service.delete_unit(session, unit_id, user=identity.name)
    session.commit()
    live_index().changed()
    return "", 204


@bp.get("/units/<int:unit_id>/history")
def unit_history(unit_id: int):
    check_permission("read")
    events = repo.unit_history(db_session(), unit_id)
    if not events:
        raise DuizhaoError(Message(N_("No unit has id {unit_id}, now or before."), unit_id=unit_id), status=404)
    return jsonify({"unit_id": unit_id, "events": history_json(events)})


# ------------------------------------------------------------------ concordance

@bp.get("/tm/concordance")
def concordance():
    check_permission("read")
    lang = request.args.get("lang") or None
    result = service.concordance(
        db_session(), q=request.args.get("q", ""), lang=lang, memory_names=list_arg("memory"),
        page=int_arg("page", 1, minimum=1, maximum=service.MAX_PAGE),
        per_page=int_arg("per_page", 20, minimum=1, maximum=service.CONCORDANCE_MAX_PER_PAGE),
        index=live_index(),
    )
    return jsonify(result.to_dict())


# ------------------------------------------------------------------ a translator's XLIFF

@bp.post("/xliff/pretranslate")
def xliff_pretranslate():
    """The uploaded XLIFF (multipart ``file``) back with its empty targets filled from the
    memory, byte for byte the same elsewhere; ``memory`` (repeatable), ``min_score``, ``mode``
    as form fields or query parameters. The report goes in ``X-Pretranslate-*`` headers, or
    alone as JSON for ``Accept: application/json``. A read may do this: nothing is stored.

    A file over PRETRANSLATE_INLINE_BYTES or _SEGMENTS (or any, with ``Prefer: respond-async``)
    is pre-translated by a job instead: 202 with ``Location: /api/v1/jobs/<id>``; the job's
    result is the JSON report, its file at ``/api/v1/jobs/<id>/result``. Past the job's bounds
    (`tm.pretranslate.JOB_MAX_BYTES`, `JOB_MAX_SEGMENTS`) 413."""
    identity = check_permission("read")
    upload = request.files.get("file")
    if upload is None:
        raise DuizhaoError(Message(N_("No file: send the XLIFF as multipart field {field!r}."), field="file"),
                           parameter="file")
    memories = [m.strip() for raw in request.values.getlist("memory") for m in raw.split(",") if m.strip()]
    options = pretranslate_options(memories=memories or None, min_score=request.values.get("min_score"),
                                   mode=request.values.get("mode"))
    filename = upload.filename or "pretranslated.xlf"
    head = upload.stream.read(pretranslate_inline_bytes() + 1)
    if not prefers_async() and len(head) <= pretranslate_inline_bytes():
        try:
            return _pretranslated(*pretranslate_upload(head, options), filename)
        except FileTooLarge:
            pass  # more segments than a request looks up: a job takes it
    return accepted(submit_pretranslate(stream=upload.stream, head=head, filename=filename, options=options,
                                        identity=identity))


def _pretranslated(body: bytes, report, filename: str):
    wanted = request.accept_mimetypes.best_match(["application/xliff+xml", "application/json"],
                                                 default="application/xliff+xml")
    if wanted == "application/json":
        return jsonify({"filename": filename, "report": report.to_dict()})
    return xliff_download(body, report, filename)


# ------------------------------------------------------------------ lookup

@bp.route("/tm/lookup", methods=["GET", "POST"])
def tm_lookup():
    """Fuzzy matches for one segment; GET takes query parameters, POST the same as JSON."""
    session = read_session()
    check_permission("read")
    params = json_body() if request.method == "POST" else {
        "q": request.args.get("q"), "src": request.args.get("src"), "tgt": request.args.get("tgt"),
        "min_score": request.args.get("min_score"), "limit": request.args.get("limit"),
        "memory": list_arg("memory"), "prev": request.args.get("prev"), "next": request.args.get("next"),
        "date": request.args.get("date"), "fragments": request.args.get("fragments"),
    }
    lookup_request = _request_from(params)
    matches = lookup.lookup(session, live_index(), lookup_request)
    return jsonify(lookup_answers(session, [lookup_request], [matches])[0])


@bp.post("/tm/lookup/batch")
def tm_lookup_batch():
    """Many segments at once: ``{"segments": [...], "src", "tgt", "min_score", "limit", "memory"}``;
    a segment is a string or an object with ``q`` (and ``prev``/``next``)."""
    session = read_session()
    check_permission("read")
    body = json_body()
    segments = body.get("segments")
    if not isinstance(segments, list) or not segments:
        raise DuizhaoError(Message(N_("Field {field!r} must be a non-empty list."), field="segments"),
                           field="segments")
    if len(segments) > lookup.MAX_BATCH:
        raise DuizhaoError(Message(N_("At most {count} segments per batch."), count=lookup.MAX_BATCH),
                           field="segments")
    shared = {k: body.get(k) for k in ("src", "tgt", "min_score", "limit", "memory", "date", "fragments")}
    requests = []
    for position, segment in enumerate(segments):
        params = dict(shared, **(segment if isinstance(segment, dict) else {"q": segment}))
        try:
            requests.append(_request_from(params))
        except DuizhaoError as err:
            raise DuizhaoError(Message(N_("Segment {position}: {problem}"), position=position, problem=err.message),
                               segment=position, **err.details) from None
    results = lookup.lookup_many(session, live_index(), requests)
    return jsonify({"results": lookup_answers(session, requests, results)})


# ------------------------------------------------------------------ a segment's QA

def _segment_texts(body: dict, *, target_field: str = "target", may_be_empty: bool = True) -> tuple[str, str]:
    source, target = body.get("source"), body.get(target_field)
    if not isinstance(source, str) or not source.strip():
        raise DuizhaoError(Message(N_("Field {field!r} must be a non-empty string."), field="source"),
                           field="source")
    if not isinstance(target, str) or (not may_be_empty and not target.strip()):
        raise DuizhaoError(Message(N_("Field {field!r} must be a non-empty string."), field=target_field),
                           field=target_field)
    for name, text in (("source", source), (target_field, target)):
        if len(text) > MAX_SEGMENT_CHARS:
            raise DuizhaoError(length_problem(name, text, MAX_SEGMENT_CHARS), field=name)
    return source, target


def _segment_languages(body: dict, source: str) -> tuple[str, str]:
    src, tgt = source_and_target(body.get("src"), body.get("tgt"), source)
    if src == tgt:
        raise DuizhaoError(Message(N_("Fields {src!r} and {tgt!r} must name different languages "
                                      "(both are {lang!r})."), src="src", tgt="tgt", lang=src), field="tgt")
    return src, tgt


@bp.post("/qa")
def qa():
    """A translation's QA as it is typed: ``{"source", "target", "src", "tgt", "date"}`` ->
    ``{"issues": [{kind, severity, message, source_span, target_span}]}``: numbers missing or
    changed (by value: 250亿 is 25 billion), glossary terms missing, forbidden or deprecated
    renderings, Chinese left in an English target."""
    check_permission("read")
    body = json_body()
    source, target = _segment_texts(body)
    src, tgt = _segment_languages(body, source)
    on = checks.date(body.get("date"), "date")
    return jsonify({"src": src, "tgt": tgt, "issues": segment_qa(read_session(), source, target, src, tgt, on=on)})


def _request_from(params: dict) -> lookup.LookupRequest:
    unknown = set(params) - {"q", "src", "tgt", "min_score", "limit", "memory", "prev", "next", "date", "fragments"}
    if unknown:
        raise DuizhaoError(Message(N_("Unknown parameter(s): {parameters}."), parameters=", ".join(sorted(unknown))))
    return lookup.make_request(q=params.get("q"), src=params.get("src"), tgt=params.get("tgt"),
                               min_score=params.get("min_score"), limit=params.get("limit"),
                               memories=params.get("memory"), prev=params.get("prev"),
                               next=params.get("next"), on=params.get("date"),
                               fragments=params.get("fragments"))
