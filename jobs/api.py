"""``/api/v1/jobs``: the caller's jobs, one job's state and progress, cancelling one, and the
file a finished job gives (a pre-translated XLIFF, an export). Thin."""
from __future__ import annotations

from flask import Blueprint, jsonify, send_file

from accounts.auth import check_permission
from common.errors import DuizhaoError, NotFound, Unauthorized
from common.messages import N_, Message
from db import db_session
from jobs import repository as repo
from jobs import service
from jobs.models import FINISHED
from jobs.webutil import job_json, results_retention, visible_job
from web.extensions import job_signals
from web.util import api_guard

bp = Blueprint("jobs_api", __name__, url_prefix="/api/v1")

bp.before_request(api_guard)


def _caller():
    identity = check_permission("read")
    if identity is None:  # anonymous readers start no jobs, so have none to see
        raise Unauthorized(Message(N_("Log in or send an API token to see your jobs.")))
    return identity


def _job_or_404(job_id: int, identity):
    job = visible_job(job_id, identity.name, admin=identity.user.has_role("admin"))
    if job is None:
        # Another user's job is as absent as a job that never was: ids tell nothing.
        raise NotFound(Message(N_("You have no job {job_id}."), job_id=job_id))
    return job


@bp.get("/jobs")
def list_jobs():
    """The caller's jobs, newest first (at most jobs.repository.LIST_LIMIT)."""
    identity = _caller()
    return jsonify({"jobs": [job_json(job) for job in repo.jobs_of(db_session(), identity.name)]})


@bp.get("/jobs/<int:job_id>")
def get_job(job_id: int):
    """A job's state (queued, running, done, failed, cancelled), progress, result or error."""
    identity = _caller()
    response = jsonify(job_json(_job_or_404(job_id, identity)))
    response.headers["Cache-Control"] = "no-store"  # polled: never a stale copy
    return response


@bp.delete("/jobs/<int:job_id>")
@bp.post("/jobs/<int:job_id>/cancel")
def cancel_job(job_id: int):
    """Cancel a job: a queued one at once, a running one at its next check (its work rolls back);
    202 with the job as it stands, 409 when it had already ended. Whoever started it may: a
    translator's read token starts pre-translations and may stop them (an import needed the
    right to write to start at all)."""
    identity = _caller()
    job = _job_or_404(job_id, identity)
    if job.state in FINISHED:
        raise DuizhaoError(Message(N_("Job {job_id} has already ended ({state})."), job_id=job_id,
                                   state=job.state), status=409, state=job.state)
    session = db_session()
    service.cancel(session, job, job_signals())
    session.commit()
    return jsonify(job_json(_job_or_404(job_id, identity))), 202


@bp.get("/jobs/<int:job_id>/result")
def job_result(job_id: int):
    """The file a finished job gives, under the name its user knows it by: 404 while the job has
    not ended done (or gives no file), 410 once its retention (JOB_RESULTS_DAYS) removed it. Only
    whoever started it, or an admin, gets it; to anyone else it is as absent as the job."""
    identity = _caller()
    job = _job_or_404(job_id, identity)
    file = (job.result or {}).get("file") if job.state == "done" else None
    if job.state != "done":
        raise NotFound(Message(N_("Job {job_id} has no file to download: it is {state}."), job_id=job_id,
                               state=job.state), state=job.state)
    path = service.result_path(job)
    if path is None or not isinstance(file, dict):
        raise NotFound(Message(N_("Job {job_id} gives no file; its result is in the job itself."), job_id=job_id))
    if "removed_at" in file or not path.is_file():
        days = results_retention().total_seconds() / 86400
        raise DuizhaoError(Message(N_("The file of job {job_id} was removed (files are kept {days:g} days after "
                                      "their job ends). Start the job again."), job_id=job_id, days=days),
                           status=410)
    response = send_file(path, mimetype=file["content_type"], as_attachment=True, download_name=file["name"],
                         max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
