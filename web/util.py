"""Small helpers the thin views share: parameters parsed with errors that name them."""
from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import request
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from common import params
from common.errors import DuizhaoError
from common.messages import N_, Message
from common.timeutil import isoformat

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def int_arg(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """A whole-number query parameter (``params.whole_number``): 400 naming it when it is not one."""
    return params.whole_number(request.args.get(name), name, default=default, low=minimum, high=maximum)


def list_arg(name: str) -> list[str] | None:
    """A parameter that may repeat or hold commas: ``memory=a&memory=b`` or ``memory=a,b``."""
    values = [v.strip() for raw in request.args.getlist(name) for v in raw.split(",") if v.strip()]
    return values or None


def json_body() -> dict:
    """The request's JSON object, or 400 saying what is wrong with it."""
    if not request.data:
        raise DuizhaoError(Message(N_("The request has no body; send a JSON object.")))
    try:
        body = request.get_json(force=True, silent=False)
    except Exception as err:  # werkzeug raises BadRequest with a parser message
        raise DuizhaoError(Message(N_("The body is not valid JSON: {problem}"),
                                   problem=getattr(err, "description", err))) from None
    if not isinstance(body, dict):
        raise DuizhaoError(Message(N_("The body must be a JSON object.")))
    params.check_json_text(body)
    return body


def history_json(events) -> list[dict]:
    """Change-log rows (UnitEvent, GlossaryEvent) as the API shows them."""
    return [{"action": e.action, "user": e.user, "at": isoformat(e.at), "before": e.before,
             "after": e.after} for e in events]


def reject_invalid_utf8() -> None:
    """Werkzeug decodes URLs leniently (bad bytes become U+FFFD); say 400 instead of guessing."""
    environ = request.environ
    raw_path = environ.get("PATH_INFO", "").encode("latin-1", "replace")
    raw_query = unquote_to_bytes(environ.get("QUERY_STRING", "").replace("+", " "))
    for raw, problem in ((raw_path, N_("The URL path is not valid UTF-8 (byte {byte}).")),
                         (raw_query, N_("The query string is not valid UTF-8 (byte {byte})."))):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise DuizhaoError(Message(problem, byte=err.start)) from None


def require_csrf_header_for_session_writes(identity_via: str | None) -> None:
    """API writes made with a browser session need the CSRF token in ``X-CSRFToken``;
    token-authenticated clients cannot be tricked by another site, so they need none."""
    if request.method in WRITE_METHODS and identity_via == "session":
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except (ValidationError, CSRFError) as err:
            raise DuizhaoError(Message(N_("Missing or invalid X-CSRFToken header: {problem}"), problem=str(err)),
                               status=400) from None


def api_guard() -> None:
    """``before_request`` of every JSON API blueprint: strict UTF-8, and the CSRF header on
    writes made with a browser session."""
    from accounts.auth import current_identity

    reject_invalid_utf8()
    identity = current_identity()
    require_csrf_header_for_session_writes(identity.via if identity else None)
