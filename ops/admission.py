"""The admission gate in front of every request but the operator's (common.admission).

The gate wraps the WSGI app, outside Flask: a refused request must cost next to nothing, since
a client that ignores Retry-After asks again at once, and every millisecond spent refusing it is
taken from the requests being served. So an API request past the limits gets its 503 (JSON in
the usual error shape, with ``Retry-After``, in the reader's language) without a request context,
hooks or routing; a browser page still gets the usual HTML error page from Flask. Either way the
refusal counts in ``duizhao_http_requests_refused_total``. The time a request waits at the gate
counts in its latency (``ops.metrics`` starts its timer at the gate).
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request
from werkzeug.wrappers import Request

from common.admission import AdmissionLimits, Gate
from common.errors import DuizhaoError
from common.messages import N_, Message
from ops.metrics import ARRIVED, REQUESTS_REFUSED
from web.extensions import install_admission_gate

#: Seconds a refused client is told to wait: a lookup's queue drains in well under one.
REFUSED_RETRY_AFTER = 1
#: What a load balancer and a scraper ask must answer even when the service is full.
EXEMPT_PREFIXES = ("/healthz", "/readyz", "/metrics", "/static/", "/favicon.ico")
#: Paths whose errors are JSON (web.errors answers these the same way).
JSON_PREFIXES = ("/api/", "/tmserver/", "/feeds/")
#: Refusals kept ready, by the headers that choose their language.
REFUSALS_KEPT = 256
#: Set in the WSGI environ of a refused browser request, for Flask to answer with its page.
REFUSED = "duizhao.admission.refused"
BUSY = Message(N_("The service is busy; nothing was changed. Please try again in {seconds} seconds."),
               seconds=REFUSED_RETRY_AFTER)

StartResponse = Callable[..., Any]


class AdmissionMiddleware:
    """WSGI middleware: each request holds a slot of ``gate`` while the app makes its response
    (a streamed body is sent after, as before with Flask's teardown)."""

    def __init__(self, app: Flask, gate: Gate) -> None:
        self.app = app
        self.inner = app.wsgi_app
        self.gate = gate
        self._bodies: dict[str, bytes] = {}
        #: (Cookie, Accept-Language) as sent -> the refusal's body and headers.
        self._refusals: dict[tuple[str | None, str | None], tuple[bytes, tuple[tuple[str, str], ...]]] = {}

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(EXEMPT_PREFIXES):
            return self.inner(environ, start_response)
        environ[ARRIVED] = time.perf_counter()
        admitted = self.gate.enter()
        if admitted is None:
            REQUESTS_REFUSED.inc()
            if (environ.get("PATH_INFO", "").startswith(JSON_PREFIXES)
                    or Request(environ).accept_mimetypes.best == "application/json"):
                return self._refuse(environ, start_response)
            environ[REFUSED] = True
            return self.inner(environ, start_response)
        try:
            return self.inner(environ, start_response)
        finally:
            self.gate.leave(admitted)

    def _refuse(self, environ: dict, start_response: StartResponse) -> list[bytes]:
        # Past capacity most of a worker's requests are refused (at 50 closed-loop clients on 2
        # cores, some 18 for each one served), so the answer is looked up by the raw headers that
        # choose its language; parsing them each time was 7% of the worker's CPU.
        key = (environ.get("HTTP_COOKIE"), environ.get("HTTP_ACCEPT_LANGUAGE"))
        refusal = self._refusals.get(key)
        if refusal is None:
            refusal = self._refusal(self._language(Request(environ)))
            if len(self._refusals) < REFUSALS_KEPT:  # cookies vary by user: bounded
                self._refusals[key] = refusal
        body, headers = refusal
        start_response("503 SERVICE UNAVAILABLE", list(headers))
        return [body]

    @staticmethod
    def _language(incoming: Request) -> str:
        from web.i18n import COOKIE, LANGUAGES

        chosen = incoming.cookies.get(COOKIE)
        return chosen if chosen in LANGUAGES else incoming.accept_languages.best_match(LANGUAGES) or "en"

    def _refusal(self, language: str) -> tuple[bytes, tuple[tuple[str, str], ...]]:
        body = self._bodies.get(language)
        if body is None:
            body = self._bodies[language] = self._body(language)
        return body, (("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                      ("Retry-After", str(REFUSED_RETRY_AFTER)), ("X-Content-Type-Options", "nosniff"))

    def _body(self, language: str) -> bytes:
        """The refusal in ``language``, translated once as web.errors would."""
        from web.i18n import COOKIE, translate_message

        with self.app.test_request_context(headers={"Cookie": f"{COOKIE}={language}"}):
            message = translate_message(BUSY)
        return json.dumps({"error": {"status": 503, "message": message}}, ensure_ascii=False).encode()


def install(app: Flask, limits: AdmissionLimits) -> Gate:
    # One gate per process: under gunicorn --preload it is made in the master before any
    # request and copied, unheld, into each worker.
    gate = Gate(limits)
    install_admission_gate(app, gate)
    app.wsgi_app = AdmissionMiddleware(app, gate)  # type: ignore[method-assign]

    def page_refused() -> None:
        if request.environ.get(REFUSED):
            raise DuizhaoError(BUSY, status=503, retry_after=str(REFUSED_RETRY_AFTER))

    app.before_request_funcs.setdefault(None, []).insert(0, page_refused)
    return gate
