"""Domain errors: what services, importers and views raise for the user to read.

Flask-free, so the layers below the views can raise them; ``web.errors`` turns them into JSON
or an HTML page in the reader's language.
"""
from __future__ import annotations

from typing import Any


class DuizhaoError(Exception):
    """An error whose message is meant for the user; ``status`` is its HTTP status.

    ``message`` is a ``common.messages.Message`` so that the response can be in the reader's
    language (a plain str is shown as it is).
    """

    status = 400

    def __init__(self, message: str, *, status: int | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.details = details


class NotFound(DuizhaoError):
    status = 404


class Conflict(DuizhaoError):
    status = 409


class Unauthorized(DuizhaoError):
    status = 401


class Forbidden(DuizhaoError):
    status = 403


class RateLimited(DuizhaoError):
    status = 429
