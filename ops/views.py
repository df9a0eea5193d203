"""``/healthz``, ``/readyz`` and ``/metrics``: for load balancers, orchestrators and Prometheus.

None of them needs a login or counts against a token's rate limit. ``/metrics`` holds no
secret (URL rules, not paths; counts and sizes), so by default it is open like ``/healthz``;
where the service is reachable from outside the network Prometheus scrapes from, set
``METRICS_TOKEN`` and give Prometheus the same value as a bearer token (its scrape config's
``authorization``): then only that token reads it.
"""
from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, jsonify, request

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
    """200 when this process can serve lookups (database reachable, index built), else 503;
    the body says how far the index lags the event log either way."""
    state = service.readiness(db_session(), live_index())
    response = jsonify(state.to_dict())
    response.status_code = 200 if state.ready else 503
    if not state.ready:
        response.headers["Retry-After"] = "5"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def metrics_view():
    """Prometheus text format: request latency by URL rule, the index's size and lag, the pool."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return Response("metrics need the bearer token set in METRICS_TOKEN\n", status=401,
                            mimetype="text/plain", headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    body, content_type = metrics.exposition(service.event_log_last_id(db_session()))
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
