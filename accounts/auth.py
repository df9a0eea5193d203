"""Who is asking, and may they?

An identity comes from the browser session (Flask-Login) or from an API token, sent as
``Authorization: Bearer <token>`` or, for clients that send no headers (Weblate's tmserver
client, OmegaT feeds), in the URL. Permissions follow the role ladder in ``models.ROLES``;
a read-scoped token only ever reads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, overload

from flask import current_app, g, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from accounts import ratelimit
from accounts.models import ApiToken, User
from accounts.service import hash_token
from common.errors import Forbidden, Unauthorized
from common.messages import N_, Message, Word
from common.timeutil import utcnow
from db import db_session

#: Seconds within which a token's "last used" time is not written again.
LAST_USED_PRECISION = 60

#: What each permission needs: a minimum role, and whether a read-scoped token suffices.
PERMISSIONS = {
    "read": ("translator", True),
    "propose": ("translator", False),
    "edit": ("editor", False),
    "admin": ("admin", False),
}


@dataclass(frozen=True)
class Identity:
    user: User
    via: str  # "session" or "token"
    scope: str  # "write" for sessions; the token's scope otherwise

    @property
    def name(self) -> str:
        return self.user.username


def user_for_token(token: str) -> tuple[User, ApiToken] | None:
    session = db_session()
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or not row.active or not row.user.active:
        return None
    return row.user, row


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.view_args.get("token") if request.view_args else None


def token_identity(token: str, *, unknown: Message | None = None) -> Identity:
    """Who this API token is, counted against the token's rate limit whichever way it came
    (header, URL, MyMemory's ``key=``); 401 with ``unknown`` (or the usual words) if it is not one."""
    found = user_for_token(token)
    if found is None:
        raise Unauthorized(unknown or Message(N_("The API token is unknown or has been revoked.")))
    user, row = found
    ratelimit.check_token(row.token_hash)
    now = utcnow()
    # A write per request would make every lookup a transaction; a minute's precision will do.
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() >= LAST_USED_PRECISION:
        row.last_used_at = now
        try:
            db_session().commit()
        except OperationalError:
            # The database is locked by a long write (a command-line import on SQLite): the
            # timestamp is a courtesy and can wait for the next request; this one goes on.
            db_session().rollback()
    return Identity(user, "token", row.scope)


def current_identity() -> Identity | None:
    """The identity of this request, resolved once."""
    if "identity" in g:
        return g.identity
    identity = None
    token = _bearer_token()
    if token:
        identity = token_identity(token)
    elif current_user.is_authenticated:
        identity = Identity(current_user._get_current_object(), "session", "write")
    g.identity = identity
    return identity


@overload
def check_permission(permission: Literal["read"]) -> Identity | None: ...


@overload
def check_permission(permission: Literal["propose", "edit", "admin"]) -> Identity: ...


@overload
def check_permission(permission: str) -> Identity | None: ...


def check_permission(permission: str) -> Identity | None:
    """Raise 401/403 unless this request may do ``permission``; return who asks (only a
    ``read`` may be anonymous, when ``ANONYMOUS_READ`` allows it: then None)."""
    min_role, token_read_ok = PERMISSIONS[permission]
    identity = current_identity()
    if identity is None:
        if permission == "read" and current_app.config["ANONYMOUS_READ"]:
            return None
        raise Unauthorized(Message(N_("Log in or send an API token to do this.")))
    if identity.via == "token" and identity.scope != "write" and not token_read_ok:
        raise Forbidden(Message(N_("This API token is read-only; a write-scoped token is needed.")))
    if not identity.user.has_role(min_role):
        raise Forbidden(Message(N_("This needs the {needed} role; you are a {role}."), needed=Word(min_role),
                                role=Word(identity.user.role)))
    return identity


def actor_name() -> str | None:
    identity = current_identity()
    return identity.name if identity else None
