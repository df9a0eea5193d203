"""The one place that turns errors into responses (the domain errors are in ``common.errors``).

API paths (``/api/``, ``/tmserver/``) get JSON ``{"error": {"status", "message", ...}}``;
everything else gets an HTML page in plain words. Either way the message is in the reader's
language: raise sites pass a ``common.messages.Message`` and ``_respond`` translates it.
"""
from __future__ import annotations

from flask import Flask, jsonify, make_response, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from common.errors import DuizhaoError
from common.languages import UnsupportedLanguage
from common.messages import N_, Message
from glossary.core.model import GlossaryFormatError
from tm.formats.records import ImportFormatError
from web.i18n import translate_message

#: Seconds a client is told to wait after a 503 for a lock held by another transaction.
BUSY_RETRY_AFTER = 5


def _wants_json() -> bool:
    path = request.path
    return path.startswith(("/api/", "/tmserver/", "/feeds/")) or request.accept_mimetypes.best == "application/json"


def _respond(status: int, message: str, details: dict | None = None):
    # Only a Message has a translation; any other text (werkzeug's descriptions) is English, and
    # the page says so to screen readers and to the browser's hyphenation.
    english = not isinstance(message, Message)
    message = translate_message(message)
    if _wants_json():
        body = {"error": {"status": status, "message": message, **(details or {})}}
        return jsonify(body), status
    return render_template("error.html", status=status, message=message, details=details or {},
                           message_in_english=english), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DuizhaoError)
    def _domain_error(err: DuizhaoError):
        if err.status == 401 and not _wants_json():
            # A person in a browser is sent to log in, and comes back here afterwards.
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        response = make_response(_respond(err.status, err.message, err.details))
        if err.status == 401 and _wants_json():
            response.headers["WWW-Authenticate"] = 'Bearer realm="duizhao"'
        if "retry_after" in err.details:
            response.headers["Retry-After"] = err.details["retry_after"]
        return response

    @app.errorhandler(ImportFormatError)
    def _import_error(err: ImportFormatError):
        return _respond(400, err.message, {"line": err.line, "reason": translate_message(err.reason)})

    @app.errorhandler(UnsupportedLanguage)
    def _language_error(err: UnsupportedLanguage):
        return _respond(400, err.message, {"supported": list(err.supported)})

    @app.errorhandler(GlossaryFormatError)
    def _glossary_error(err: GlossaryFormatError):
        return _respond(400, err.message)

    @app.errorhandler(OperationalError)
    def _database_busy(err: OperationalError):
        # A lock wait that ran out (an import holding the SQLite write lock, PostgreSQL's
        # lock_timeout), a deadlock, a serialization failure, a lost connection: nothing was
        # written, and the same request a moment later will most likely succeed.
        app.logger.warning("database busy: %s", str(err.orig).splitlines()[0] if err.orig else err)
        response = _respond(503, Message(N_("The database is busy with another change (an import, perhaps); "
                                            "nothing was changed. Please try again in {seconds} seconds."),
                                         seconds=BUSY_RETRY_AFTER))
        response[0].headers["Retry-After"] = str(BUSY_RETRY_AFTER)
        return response

    @app.errorhandler(PoolTimeout)
    def _no_free_connection(err: PoolTimeout):
        # Every pooled connection stayed in use for DB_LOCK_TIMEOUT: the service is past its
        # capacity, and telling the client to back off beats a queue that only grows.
        app.logger.warning("no free database connection: %s", err)
        response = _respond(503, Message(N_("The service is busy; nothing was changed. Please try again in "
                                            "{seconds} seconds."), seconds=BUSY_RETRY_AFTER))
        response[0].headers["Retry-After"] = str(BUSY_RETRY_AFTER)
        return response

    @app.errorhandler(IntegrityError)
    def _simultaneous_change(err: IntegrityError):
        # The constraints that concurrent requests can trip are checked before writing; one
        # still firing means another request stored the same thing at the same moment.
        app.logger.warning("integrity error: %s", str(err.orig).splitlines()[0] if err.orig else err)
        return _respond(409, Message(N_("Someone else stored the same data at the same moment; nothing of "
                                        "yours was changed. Reload and try again.")))

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        message = err.description or err.name
        if err.code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            if limit:
                message = Message(N_("The upload is larger than the limit of {megabytes} MB."),
                                  megabytes=limit // (1024 * 1024))
        response = _respond(err.code or 500, message)
        if err.code == 405 and hasattr(err, "valid_methods") and err.valid_methods:
            response[0].headers["Allow"] = ", ".join(err.valid_methods)
        return response
