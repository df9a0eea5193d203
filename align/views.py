"""Browser pages for harvesting TM from article pairs: the upload form and the review page.

The review page is driven by ``static/align.js`` through the JSON API in ``align.api``;
these views only render, and create the job when the form is posted.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from accounts.auth import actor_name, check_permission
from align import jobs as align_jobs
from align import service
from align.webutil import align_or_queue, for_reader
from common.errors import DuizhaoError
from common.messages import N_, Message
from db import db_session
from jobs.models import Job
from jobs.webutil import job_json, visible_job
from tm import repository as repo
from web.i18n import translate_message

bp = Blueprint("align", __name__, url_prefix="/align")

#: Upload fields of the form, and the text areas they stand in for.
_UPLOADS = {"zh": "zh_file", "en": "en_file"}


def _editor_or_login():
    """None if this user may review alignments; else a redirect to the login page."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    check_permission("edit")
    return None


@bp.route("", methods=["GET", "POST"])
def new():
    """The form: paste or upload the Chinese article and its English version."""
    if (login := _editor_or_login()) is not None:
        return login
    session = db_session()
    error = None
    if request.method == "POST":
        texts = {}
        for slot, upload_field in _UPLOADS.items():
            upload = request.files.get(upload_field)
            if upload is not None and upload.filename:
                texts[slot] = upload.read(service.JOB_MAX_TEXT_BYTES + 1)  # read_texts() refuses more
            else:
                texts[slot] = request.form.get(slot, "")
        try:
            outcome = align_or_queue(texts["zh"], texts["en"], title=request.form.get("title"),
                                     url=request.form.get("url"), doc_date=request.form.get("date"),
                                     hard_wrapped=bool(request.form.get("hard_wrapped")), user=actor_name())
            session.commit()
        except DuizhaoError as err:
            session.rollback()
            error = translate_message(err.message)
        else:
            if isinstance(outcome, Job):  # a long text: its job's progress, then the review page
                return redirect(url_for("align.job_page", job_id=outcome.id), code=303)
            return redirect(url_for("align.review", job_id=outcome.id), code=303)
    return render_template("align/new.html", error=error, form=request.form,
                           jobs=service.recent_jobs(session)), 400 if error else 200


@bp.get("/<int:job_id>")
def review(job_id: int):
    """Review one alignment: the beads side by side, edited with mouse and keyboard."""
    if (login := _editor_or_login()) is not None:
        return login
    session = db_session()
    job = service.get_job(session, job_id)
    return render_template("align/review.html", job=job, data=for_reader(service.job_dict(job)),
                           memories=repo.memories(session), low=service.LOW_CONFIDENCE)


@bp.get("/job/<int:job_id>")
def job_page(job_id: int):
    """A long alignment's job: its progress (polled by static/import.js), then the link to review it."""
    if (login := _editor_or_login()) is not None:
        return login
    job = visible_job(job_id, actor_name() or "", admin=current_user.has_role("admin"))
    if job is None or job.kind != align_jobs.ALIGN:
        raise DuizhaoError(Message(N_("You have no alignment job {job}."), job=job_id), status=404)
    return render_template("align/job.html", job=job_json(job))
