"""JSON API of the glossary under ``/api/v1/glossary``. Thin: parse, call the service, commit."""
from __future__ import annotations

import io

from flask import Blueprint, Response, jsonify, request

from accounts.auth import check_permission
from common import params
from common.errors import DuizhaoError
from common.languages import language_of, parse_language, source_and_target
from common.messages import N_, Message
from common.timeutil import isoformat
from db import db_session
from glossary import repository as repo
from glossary import service
from glossary.webutil import issues_for_reader
from web.extensions import glossary_recognizer
from web.util import api_guard, history_json, int_arg, json_body

bp = Blueprint("glossary_api", __name__, url_prefix="/api/v1/glossary")

bp.before_request(api_guard)


def _committed(response):
    db_session().commit()
    glossary_recognizer().changed()
    return response


def _version(body: dict) -> int | None:
    version = body.get("version")
    # bool is an int to Python, and a version past 32 bits is no version (PostgreSQL refuses it).
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)
                                or not 0 <= version < 2**31):
        raise DuizhaoError(Message(N_("Field {field!r} must be the whole number the entry had when you "
                                      "loaded it."), field="version"),
                           field="version")
    return version


@bp.get("/entries")
def list_entries():
    check_permission("read")
    page = int_arg("page", 1, minimum=1, maximum=10**6)
    per_page = int_arg("per_page", 50, minimum=1, maximum=service.MAX_PER_PAGE)
    concept_type = request.args.get("type") or None
    rows, total = repo.search(db_session(), text=request.args.get("q") or None, concept_type=concept_type,
                              offset=(page - 1) * per_page, limit=per_page)
    return jsonify({"page": page, "per_page": per_page, "total": total,
                    "entries": [service.entry_json(r) for r in rows]})


@bp.post("/entries")
def create_entry():
    identity = check_permission("edit")
    row = service.create_entry(db_session(), service.entry_from_json(json_body()), user=identity.name)
    return _committed((jsonify(service.entry_json(row)), 201))


@bp.get("/entries/<int:entry_id>")
def get_entry(entry_id: int):
    check_permission("read")
    return jsonify(service.entry_json(service.get_entry(db_session(), entry_id, include_deleted=True)))


@bp.put("/entries/<int:entry_id>")
def update_entry(entry_id: int):
    identity = check_permission("edit")
    body = json_body()
    row = service.update_entry(db_session(), entry_id, service.entry_from_json(body),
                               expected_version=_version(body), user=identity.name)
    return _committed(jsonify(service.entry_json(row)))


@bp.delete("/entries/<int:entry_id>")
def delete_entry(entry_id: int):
    identity = check_permission("edit")
    version = params.whole_number(request.args.get("version"), "version", low=0, high=2**31 - 1)
    service.delete_entry(db_session(), entry_id, expected_version=version, user=identity.name)
    return _committed(("", 204))


@bp.get("/entries/<int:entry_id>/history")
def entry_history(entry_id: int):
    check_permission("read")
    events = repo.history(db_session(), entry_id)
    if not events:
        raise DuizhaoError(Message(N_("No glossary entry has id {entry_id}, now or before."), entry_id=entry_id),
                           status=404)
    return jsonify({"entry_id": entry_id, "events": history_json(events)})


@bp.post("/entries/<int:entry_id>/merge")
def merge_entry(entry_id: int):
    """Merge the entry named in ``{"merge": ID}`` into this one."""
    identity = check_permission("edit")
    other = json_body().get("merge")
    if not isinstance(other, int):
        raise DuizhaoError(Message(N_("Field {field!r} must be the id of the duplicate entry."), field="merge"),
                           field="merge")
    row = service.merge_entries(db_session(), entry_id, other, user=identity.name)
    return _committed(jsonify(service.entry_json(row)))


@bp.get("/proposals")
def list_proposals():
    check_permission("read")
    state = request.args.get("state", "open")
    return jsonify({"proposals": [_proposal_json(p) for p in repo.proposals(db_session(), state=state or None)]})


@bp.post("/proposals")
def create_proposal():
    """A translator proposes an entry (``{"entry": {...}}``) or terms for one (``{"entry_id", "terms"}``)."""
    identity = check_permission("propose")
    body = json_body()
    entry_id = body.get("entry_id")
    if entry_id is not None and not isinstance(entry_id, int):
        raise DuizhaoError(Message(N_("Field {field!r} must be an entry's id."), field="entry_id"),
                           field="entry_id")
    data = {"terms": body.get("terms")} if entry_id is not None else body.get("entry")
    proposal = service.propose(db_session(), data, user=identity.name, entry_id=entry_id)
    db_session().commit()
    return jsonify(_proposal_json(proposal)), 201


@bp.post("/proposals/<int:proposal_id>/<any(accept, reject):decision>")
def decide_proposal(proposal_id: int, decision: str):
    identity = check_permission("edit")
    proposal = service.decide(db_session(), proposal_id, accept=decision == "accept", user=identity.name)
    return _committed(jsonify(_proposal_json(proposal)))


def _proposal_json(p) -> dict:
    return {"id": p.id, "entry_id": p.entry_id, "payload": p.payload, "proposed_by": p.proposed_by,
            "proposed_at": isoformat(p.proposed_at), "state": p.state, "decided_by": p.decided_by}


@bp.route("/recognize", methods=["GET", "POST"])
def recognize():
    """Glossary terms in a text: ``text``, ``lang`` (detected when absent), ``date``."""
    check_permission("read")
    args = json_body() if request.method == "POST" else request.args
    text = args.get("text")
    if not isinstance(text, str) or not text.strip():
        raise DuizhaoError(Message(N_("Parameter {parameter!r} is empty."), parameter="text"), parameter="text")
    lang = args.get("lang")
    lang = parse_language(lang, "lang") if lang not in (None, "") else language_of(text)
    terms = service.recognize(db_session(), glossary_recognizer(), text, lang, on=params.date(args.get("date"), "date"))
    return jsonify({"lang": lang, "terms": terms})


@bp.post("/qa")
def qa():
    """Terminology check of a translation: ``{"source", "translation", "src", "tgt", "date"}``."""
    check_permission("read")
    body = json_body()
    for name in ("source", "translation"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise DuizhaoError(Message(N_("Field {field!r} must be a non-empty string."), field=name), field=name)
    src, tgt = source_and_target(body.get("src"), body.get("tgt"), body["source"])
    if src == tgt:
        raise DuizhaoError(Message(N_("Fields {src!r} and {tgt!r} must name different languages "
                                      "(both are {lang!r})."), src="src", tgt="tgt", lang=src), field="tgt")
    issues = service.qa(db_session(), glossary_recognizer(), source=body["source"], translation=body["translation"],
                        src=src, tgt=tgt, on=params.date(body.get("date"), "date"))
    return jsonify({"src": src, "tgt": tgt, "issues": issues_for_reader(issues)})


@bp.post("/import")
def import_glossary():
    identity = check_permission("edit")
    upload = request.files.get("file")
    if upload is None:
        raise DuizhaoError(Message(N_("No file: send it as multipart field {field!r}."), field="file"))
    report = service.import_entries(db_session(), upload.stream, filename=upload.filename or "upload",
                                    file_format=request.args.get("format"), user=identity.name)
    return _committed((jsonify(report), 201))


@bp.get("/export")
def export_glossary():
    check_permission("read")
    file_format = request.args.get("format", "tbx")
    buffer = io.BytesIO()
    service.export_entries(db_session(), buffer, file_format=file_format)
    extension = "tbx" if file_format.startswith("tbx") else file_format
    return Response(buffer.getvalue(), mimetype=service.EXPORT_MIMETYPES[file_format],
                    headers={"Content-Disposition": f'attachment; filename="glossary.{extension}"'})
