"""Browser pages of the translation memory. Thin: they call the service and render."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from accounts.auth import actor_name, check_permission
from common import params
from common.errors import DuizhaoError
from common.languages import UnsupportedLanguage
from db import db_session
from tm import repository as repo
from tm import service
from tm.formats.records import ImportFormatError
from tm.webutil import check_may_write_into, train_fragments_after_import
from web.extensions import live_index
from web.i18n import translate_message

bp = Blueprint("tm", __name__)


@bp.get("/concordance")
def concordance():
    check_permission("read")
    q = request.args.get("q", "")
    result = error = None
    if q.strip():
        page = params.lenient_page(request.args.get("page"), most=service.MAX_PAGE)
        try:
            result = service.concordance(db_session(), q=q, lang=request.args.get("lang") or None,
                                         memory_names=request.args.getlist("memory") or None, page=page,
                                         index=live_index())
        except DuizhaoError as err:
            error = translate_message(err.message)
    return render_template("tm/concordance.html", q=q, result=result, error=error,
                           memories=repo.memories(db_session()), kwic=service.KWIC_WINDOW)


@bp.route("/import", methods=["GET", "POST"])
def import_page():
    check_permission("edit")
    session = db_session()
    report = error = None
    status = 200
    if request.method == "POST":
        upload = request.files.get("file")
        memory = request.form.get("memory", "").strip()
        if upload is None or not upload.filename:
            error, status = _("Choose a file to import."), 400
        else:
            try:
                check_may_write_into(session, memory)
                report = service.import_file(session, memory_name=memory, stream=upload.stream,
                                             filename=upload.filename, user=actor_name())
                session.commit()
                train_fragments_after_import(session)
            except (DuizhaoError, ImportFormatError, UnsupportedLanguage) as err:
                session.rollback()
                error = translate_message(err.message)
                status = err.status if isinstance(err, DuizhaoError) else 400
    return render_template("tm/import.html", report=report, error=error,
                           memories=repo.memories(session)), status
