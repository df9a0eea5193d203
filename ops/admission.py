"""The admission gate in front of every request but the operator's (common.admission).

Installed by ``ops.init_app`` right after the request timer starts, so the time a request waits
at the gate counts in its latency, and before anything else (rate limit, session, database). A
refused request gets 503 with ``Retry-After`` in the usual error shape (JSON on API paths), and
counts in ``duizhao_http_requests_refused_total``.
"""
from __future__ import annotations

from flask import Flask, g, request

from common.admission import AdmissionLimits, Gate
from common.errors import DuizhaoError
from common.messages import N_, Message
from ops.metrics import REQUESTS_REFUSED
from web.extensions import install_admission_gate

#: Seconds a refused client is told to wait: a lookup's queue drains in well under one.
REFUSED_RETRY_AFTER = 1
#: What a load balancer and a scraper ask must answer even when the service is full.
EXEMPT_PREFIXES = ("/healthz", "/readyz", "/metrics", "/static/", "/favicon.ico")


def install(app: Flask, limits: AdmissionLimits) -> Gate:
    # One gate per process: under gunicorn --preload it is made in the master before any
    # request and copied, unheld, into each worker.
    gate = Gate(limits)
    install_admission_gate(app, gate)

    def admit() -> None:
        if request.path.startswith(EXEMPT_PREFIXES):
            return
        if not gate.enter():
            REQUESTS_REFUSED.inc()
            raise DuizhaoError(Message(N_("The service is busy; nothing was changed. Please try again in "
                                          "{seconds} seconds."), seconds=REFUSED_RETRY_AFTER),
                               status=503, retry_after=str(REFUSED_RETRY_AFTER))
        g.ops_admitted = True

    def release(_exc: BaseException | None) -> None:
        if g.pop("ops_admitted", False):
            gate.leave()

    app.before_request_funcs.setdefault(None, []).insert(0, admit)
    app.teardown_request(release)
    return gate
