"""JSON API of a translator's documents under ``/api/v1/documents``: start, list, open, confirm a
segment (with the version it started from: 409 and the other's text when stale), export. Thin."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from accounts.auth import check_permission
from common.errors import DuizhaoError
from common.languages import source_and_target
from common.messages import N_, Message
from db import db_session
from web.extensions import live_index
from web.util import api_guard, json_body
from workbench import documents
from workbench.webutil import document_download

bp = Blueprint("workbench_api", __name__, url_prefix="/api/v1/documents")

bp.before_request(api_guard)


@bp.get("")
def list_documents():
    identity = check_permission("propose")
    return jsonify({"documents": documents.documents_of(db_session(), identity.name)})


@bp.post("")
def create_document():
    """``{"title", "text", "memory", "src", "tgt"}``: the text split into segments."""
    identity = check_permission("propose")
    body = json_body()
    for name in ("title", "text", "memory"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise DuizhaoError(Message(N_("Field {field!r} must be a non-empty string."), field=name), field=name)
    src, tgt = source_and_target(body.get("src"), body.get("tgt"), body["text"])
    session = db_session()
    document = documents.create_document(session, owner=identity.name, title=body["title"], text=body["text"],
                                         src=src, tgt=tgt, memory=body["memory"])
    session.commit()
    return jsonify(documents.document_dict(document)), 201


@bp.get("/<int:document_id>")
def get_document(document_id: int):
    check_permission("propose")
    return jsonify(documents.document_dict(documents.get_document(db_session(), document_id)))


@bp.put("/<int:document_id>/segments/<int:position>")
def confirm_segment(document_id: int, position: int):
    """``{"target", "version"}``: confirm a segment's translation, stored in the document and as a
    unit of its memory. 409 with ``current`` (the other's confirmed text, version, who, when)
    when ``version`` is not the segment's any more."""
    identity = check_permission("propose")
    body = json_body()
    session = db_session()
    document = documents.get_document(session, document_id)
    editor = identity.user.has_role("editor")
    documents.check_may_write(document, identity.name, editor=editor)
    confirmed = documents.confirm_segment(session, document, position, target=body.get("target"),
                                          version=body.get("version"), user=identity.name, approved=editor)
    session.commit()
    live_index().changed()
    return jsonify(documents.segment_dict(confirmed.segment) | {"outcome": confirmed.outcome})


@bp.get("/<int:document_id>/export")
def export_document(document_id: int) -> Response:
    """The translated document: ``format`` txt (default), tmx, xliff12 or xliff20."""
    check_permission("propose")
    document = documents.get_document(db_session(), document_id)
    return document_download(document, request.args.get("format", "txt"))
