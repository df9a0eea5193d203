"""Browser pages of the translation memory. Thin: they call the service and render."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _

from accounts.auth import check_permission
from common import params
from common.errors import DuizhaoError
from db import db_session
from jobs.webutil import job_json, visible_job
from tm import repository as repo
from tm import service
from tm.webutil import check_may_write_into, submit_import
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
    """The import form. Posting it queues the import as a job and redirects (303) to this page
    with ``?job=<id>``, which shows the job's progress (polled by static/import.js; without
    JavaScript, the page as it stands and a link to look again) and then its result."""
    identity = check_permission("edit")
    session = db_session()
    error = None
    status = 200
    job = None
    if request.method == "POST":
        upload = request.files.get("file")
        memory = request.form.get("memory", "").strip()
        if upload is None or not upload.filename:
            error, status = _("Choose a file to import."), 400
        else:
            try:
                service.check_import_request(memory_name=memory, file_format=None)
                check_may_write_into(session, memory)
                job = submit_import(upload.stream, memory=memory, filename=upload.filename, file_format=None,
                                    user=identity.name)
                return redirect(url_for("tm.import_page", job=job.id), 303)
            except DuizhaoError as err:
                session.rollback()
                error = translate_message(err.message)
                status = err.status
    elif request.args.get("job", "").isdigit():
        job = visible_job(int(request.args["job"]), identity.name, admin=identity.user.has_role("admin"))
        if job is None:
            error, status = _("You have no job %(job)s.", job=request.args["job"]), 404
    shown = job_json(job) if job is not None else None
    return render_template("tm/import.html", job=shown, error=error, memories=repo.memories(session)), status
