"""Duizhao (对照): a Chinese–English translation memory and glossary service.

``create_app`` is the only entry point: ``flask --app app run``, ``gunicorn 'app:create_app()'``
and the tests all build the app through it. Wiring only; the work lives in the packages.
"""
from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter

import db
from web import extensions

DEFAULT_MAX_UPLOAD_MB = 512


class ConfigError(RuntimeError):
    pass


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def _settings_from_environment(app: Flask) -> dict[str, Any]:
    env = os.environ
    return {
        "DATABASE_URL": env.get("DATABASE_URL") or db.default_sqlite_url(app.instance_path),
        "SECRET_KEY": env.get("SECRET_KEY"),
        # Anonymous lookups, concordance and exports: on unless ANONYMOUS_READ=0.
        "ANONYMOUS_READ": env.get("ANONYMOUS_READ", "1").strip().lower() not in ("0", "false", "no", "off"),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB)) * 1024 * 1024,
        # Build the lookup structures at start-up (with gunicorn --preload: once, before forking).
        "WARM_UP": env.get("WARM_UP", "0") == "1",
        # Requests per API token per window, all workers together: "<count>/<seconds>"; "0" = off.
        "TOKEN_RATE_LIMIT": env.get("TOKEN_RATE_LIMIT", "1200/60"),
        # Where the rate-limit counters live (accounts.ratelimit): the database unless a
        # `limits` storage URI such as redis://host:6379 is given.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or None,
        # Only over HTTPS may the session cookie be marked Secure: the deployment says so.
        "SESSION_COOKIE_SECURE": _flag(env.get("SESSION_COOKIE_SECURE"), False),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        # Seconds a request waits for another transaction's lock before answering 503.
        "DB_LOCK_TIMEOUT": float(env.get("DB_LOCK_TIMEOUT", db.DEFAULT_LOCK_TIMEOUT)),
        # PostgreSQL connections each process keeps (SQLAlchemy's defaults): size them so that
        # processes × (size + overflow) stays under the server's max_connections.
        "DB_POOL_SIZE": int(env.get("DB_POOL_SIZE", db.DEFAULT_POOL_SIZE)),
        "DB_POOL_OVERFLOW": int(env.get("DB_POOL_OVERFLOW", db.DEFAULT_POOL_OVERFLOW)),
        # Where the fragment alignment model is kept (tm.fragments); none: instance/fragments.
        "FRAGMENT_MODEL_DIR": env.get("FRAGMENT_MODEL_DIR") or None,
        # Train the fragment model in a background process when an import leaves it stale.
        "FRAGMENT_TRAIN_AFTER_IMPORT": _flag(env.get("FRAGMENT_TRAIN_AFTER_IMPORT"), True),
        # Lookup index snapshots (tm.index_snapshot): workers start from the newest and switch to
        # newer ones; kept in INDEX_DIR (default instance/index), a folder per database.
        "INDEX_SNAPSHOTS": _flag(env.get("INDEX_SNAPSHOTS"), True),
        "INDEX_DIR": env.get("INDEX_DIR") or None,
        # An import of at least this many units queues a snapshot job (0: never).
        "INDEX_SNAPSHOT_AFTER_UNITS": int(env.get("INDEX_SNAPSHOT_AFTER_UNITS", "10000")),
        # Admission (ops.admission): requests of one process that run at once, that may wait for
        # them, and how many seconds; beyond, 503 with Retry-After. Under gunicorn's threaded
        # workers (gunicorn.conf.py) these bound each worker's queue. The wait is a share of the
        # p99 budget of 200 ms: a lookup's own time is the rest (a 1 s wait was the p99).
        "ADMIT_ACTIVE": int(env.get("ADMIT_ACTIVE", "2")),
        "ADMIT_QUEUE": int(env.get("ADMIT_QUEUE", "16")),
        "ADMIT_WAIT": float(env.get("ADMIT_WAIT", "0.1")),
        # Where job ids wait for a worker (jobs.queue): sqlite:///PATH (default: instance/jobs/
        # queue.sqlite3), redis://HOST:PORT/DB, or "immediate" (run inside the request).
        "JOBS_QUEUE": env.get("JOBS_QUEUE") or None,
        # Where uploads wait for the worker that imports them (several hosts: a shared folder).
        "JOBS_DIR": env.get("JOBS_DIR") or None,
        # Days a finished job's file (a pre-translated XLIFF, an export) is kept for download.
        "JOB_RESULTS_DAYS": float(env.get("JOB_RESULTS_DAYS", "7")),
        # Past these, a pre-translation or an export runs as a job (202) instead of inside the
        # request (tm.api): the XLIFF's bytes or segments, the memories' units.
        "PRETRANSLATE_INLINE_BYTES": int(env.get("PRETRANSLATE_INLINE_BYTES", 16 * 1024 * 1024)),
        "PRETRANSLATE_INLINE_SEGMENTS": int(env.get("PRETRANSLATE_INLINE_SEGMENTS", 5_000)),
        "EXPORT_INLINE_UNITS": int(env.get("EXPORT_INLINE_UNITS", 50_000)),
        # Past this many sentences a side, an alignment kept for review runs as a job (align.jobs).
        "ALIGN_INLINE_SENTENCES": int(env.get("ALIGN_INLINE_SENTENCES", 1_000)),
        # When set, /metrics answers only "Authorization: Bearer <METRICS_TOKEN>" (ops.views).
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
    }


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` (tests) overrides what the environment says."""
    # INSTANCE_PATH: another folder for what is kept per installation (the SQLite database, the
    # secret key, models, jobs), e.g. one per server when several run from one checkout.
    instance = os.environ.get("INSTANCE_PATH")
    app = Flask(__name__, instance_relative_config=True,
                instance_path=str(Path(instance).resolve()) if instance else None)
    app.config.update(_settings_from_environment(app))
    if config:
        app.config.update(config)
    _require_secret_key(app)

    db.init_app(app)
    db.import_models()
    from web.i18n import init_i18n

    init_i18n(app)
    CSRFProtect(app)
    _init_login(app)

    from web.errors import register_error_handlers

    register_error_handlers(app)
    _init_live_state(app)
    _init_jobs(app)
    from accounts import ratelimit

    ratelimit.init_app(app)
    _init_security_headers(app)
    _register_blueprints(app)
    _register_cli(app)
    if app.config.get("WARM_UP"):
        warm_up(app)
    return app


def warm_up(app: Flask) -> None:
    """Build the candidate index and the term recognizer, and load the fragment model, now
    rather than at the first lookup.

    Under ``gunicorn --preload`` this runs once in the master, and the workers it forks start
    with all of it built. The connection pool is dropped afterwards: connections must not be
    shared across a fork.
    """
    from tm.core import fragments, renderings, text

    text.warm_up()  # OpenCC, Moses and the folding tables, before the first request
    fragments.warm_up()  # jieba's dictionary, which the fragment finder cuts queries with
    with app.app_context():
        session = db.new_session()
        try:
            extensions.live_index(app).build(session)
            extensions.glossary_recognizer(app).current(session)
            if extensions.fragment_models(app).current() is not None:  # the alignment model, once trained
                renderings.warm_up()
        finally:
            session.close()
    db.dispose_pool(app)


#: Where ``make run`` keeps the key it made once for this installation (never committed).
SECRET_KEY_FILE = "secret_key"


def _require_secret_key(app: Flask) -> None:
    # A guessable fallback key must never reach production: only tests and the debug
    # server may run on a throwaway one.
    if app.config.get("SECRET_KEY"):
        return
    # `flask --app app ...` beside `make run` should sign with the same key the server uses,
    # without the operator exporting it by hand.
    key_file = Path(app.instance_path) / SECRET_KEY_FILE
    if key_file.is_file():
        key = key_file.read_text(encoding="utf-8").strip()
        if key:
            app.config["SECRET_KEY"] = key
            return
    if app.testing or app.debug:
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        return
    raise ConfigError(f"SECRET_KEY is not set and {key_file} does not exist: export SECRET_KEY=... "
                      "(see README).")


def _init_login(app: Flask) -> None:
    from accounts.models import User

    manager = LoginManager(app)
    manager.login_view = "accounts.login"

    @manager.user_loader
    def _load_user(user_id: str):
        # The session holds "<id>:<session_token>" (User.get_id): a cookie from before a
        # logout or a password change names a token the user no longer has.
        number, _, token = user_id.partition(":")
        if not number.isdigit() or not token:
            return None
        user = db.db_session().get(User, int(number))
        if user is None or not user.active or not user.session_token:
            return None
        return user if hmac.compare_digest(user.session_token, token) else None


#: Every page's scripts and styles are files under /static/ (JSON data blocks are not scripts),
#: so nothing inline is allowed, and no other site may frame a page (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'none'",
    "form-action 'self'", "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def _init_security_headers(app: Flask) -> None:
    """The same headers on every response. A hook rather than Flask-Talisman: its last release
    is from 2023, and of what it does we need only these four fixed headers (HTTPS redirects
    and HSTS belong to the proxy that terminates TLS)."""

    @app.after_request
    def _security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def _init_live_state(app: Flask) -> None:
    """Per-process structures built from the database on first use and kept current from
    the event logs: the TM's candidate index and the glossary's term recognizer."""
    from glossary import integration
    from glossary.service import LiveRecognizer
    from tm.live_index import LiveIndex

    recognizer = LiveRecognizer()
    # The snapshot store is asked for when first needed: tests set the instance path late.
    from tm.webutil import snapshot_pending, want_snapshot

    index = LiveIndex(lambda: extensions.index_snapshots(app), want_snapshot=want_snapshot(app),
                      snapshot_pending=snapshot_pending(app))
    # An import large enough to queue a snapshot job is left to it (tm.live_index).
    index.defer_imports_from = app.config.get("INDEX_SNAPSHOT_AFTER_UNITS", 0)
    extensions.install_live_index(app, index)
    extensions.install_glossary_recognizer(app, recognizer)
    # Every TM lookup answer carries the glossary terms found in the query.
    extensions.install_lookup_extras(app, [integration.TermsForLookup(recognizer)])
    # ... and a segment's QA checks its terms beside its numbers (tm.core.qa).
    extensions.install_qa_checks(app, [integration.TermsQa(recognizer)])
    # The glossary's term pairs are evidence for the sentence aligner, which asks for them
    # without a session: they are read in the request's.
    extensions.install_align_glossary_pairs(app, lambda: integration.term_pairs_for_alignment(db.db_session()))
    # ... and priors for the fragment aligner, read in the training's snapshot.
    extensions.install_fragment_term_pairs(app, integration.term_pairs_for_alignment)


def _init_jobs(app: Flask) -> None:
    """The job queue (huey) and the kinds of job each area runs (see jobs/ and docs/jobs.md)."""
    from align import webutil as align_web
    from jobs import webutil as jobs_web
    from tm import webutil as tm_web

    jobs_web.init_app(app)
    tm_web.add_job_kinds(app)
    align_web.add_job_kinds(app)


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` ids stop at the 32-bit limit both databases share: a larger one is a 404,
    not an overflow error from the driver."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def _register_blueprints(app: Flask) -> None:
    import apiref
    import cattools
    import ops
    from accounts.views import bp as accounts_bp
    from align.api import bp as align_api_bp
    from align.views import bp as align_bp
    from glossary.api import bp as glossary_api_bp
    from glossary.views import bp as glossary_bp
    from jobs.api import bp as jobs_api_bp
    from tm.api import bp as tm_api_bp
    from tm.views import bp as tm_bp
    from workbench.api import bp as workbench_api_bp
    from workbench.views import bp as workbench_bp
    from workbench.views import home_bp

    app.url_map.converters["int"] = BoundedIntConverter
    for blueprint in (accounts_bp, tm_bp, tm_api_bp, align_bp, align_api_bp, glossary_bp, glossary_api_bp,
                      jobs_api_bp, workbench_api_bp, workbench_bp, home_bp):
        app.register_blueprint(blueprint)
    cattools.init_app(app)  # tmserver (/tmserver), MyMemory (/api/mymemory), feeds (/feeds)
    apiref.init_app(app)  # /api/v1/openapi.json and the /api/ page
    ops.init_app(app)  # /healthz, /readyz, /metrics, and the request timing behind /metrics
    # JSON APIs check CSRF themselves, only for browser-session writes (web.util.api_guard);
    # the CAT-tool doors only read.
    for api in (tm_api_bp, align_api_bp, glossary_api_bp, jobs_api_bp, workbench_api_bp, app.blueprints["mymemory"]):
        extensions.csrf_protect(app).exempt(api)


def _register_cli(app: Flask) -> None:
    from accounts.cli import user_cli
    from demo.cli import demo_cli
    from glossary.cli import glossary_cli
    from jobs.cli import jobs_cli
    from migrations.cli import db_cli
    from tm.cli import tm_cli

    for group in (db_cli, user_cli, tm_cli, glossary_cli, demo_cli, jobs_cli):
        app.cli.add_command(group)
