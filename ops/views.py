"""``/healthz``, ``/readyz`` and ``/metrics``: for load balancers, orchestrators and Prometheus.

``/healthz`` and ``/readyz``'s status code are for anyone: a probe sends no credentials, and
they tell nothing about the data. ``/metrics`` holds no secret (URL rules, not paths; counts,
sizes and latencies) but does say how big the memories are and how they are used, which is as
much as ``GET /api/v1/memories`` shows; so it is readable by whoever may read the TM (anyone
while ``ANONYMOUS_READ`` is on, else a read token: give Prometheus one as its bearer
``authorization``). ``METRICS_TOKEN``, when set, replaces that rule: then only that bearer token
reads it, for a deployment that keeps scraping apart from API access.
"""
from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, jsonify, request

from accounts.auth import check_permission
from common.errors import DuizhaoError
from db import db_session
from ops import metrics, service
from web.extensions import live_index

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """The process is alive and answering; nothing else is consulted, the database least of all
    (a database outage must not get every worker restarted)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """200 when this process can serve lookups (database reachable, index built), else 503.
    Whoever may read the TM also gets how far the index lags the event log and why not ready."""
    state = service.readiness(db_session(), live_index())
    body = state.to_dict() if _may_read() else {"ready": state.ready}
    response = jsonify(body)
    response.status_code = 200 if state.ready else 503
    if not state.ready:
        response.headers["Retry-After"] = "5"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def metrics_view():
    """Prometheus text format: request latency by URL rule, the index's size and lag, the pool,
    and the jobs by state (the queue's depth)."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        sent = request.headers.get("Authorization", "")
        allowed = hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    else:
        allowed = _may_read()
    if not allowed:
        # Plain text for a scraper, not the login page the browser error handler would send.
        return Response("401: /metrics needs a bearer token (README, Operating)\n", status=401,
                        mimetype="text/plain", headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    session = db_session()
    body, content_type = metrics.exposition(service.event_log_last_id(session), service.job_counts(session))
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


def _may_read() -> bool:
    try:
        check_permission("read")
    except DuizhaoError:
        return False
    return True
