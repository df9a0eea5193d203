"""Accounts use cases: users, passwords, API tokens. No Flask here."""
from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from accounts.models import ROLES, ApiToken, User
from common.errors import DuizhaoError, NotFound
from common.fieldlimits import require_fits
from common.messages import N_, Message
from common.timeutil import utcnow

MIN_PASSWORD_LENGTH = 8
TOKEN_SCOPES = ("read", "write")
TOKEN_PREFIX = "dz_"


def hash_token(token: str) -> str:
    """What is stored of an API token: its SHA-256, so a copy of the database holds no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_user(session: Session, username: str, password: str, role: str) -> User:
    username = username.strip()
    if not username:
        raise DuizhaoError(Message(N_("A user name is needed.")), field="username")
    require_fits(User.username, username, field="username")
    if role not in ROLES:
        raise DuizhaoError(Message(N_("Role must be one of {roles}."), roles=", ".join(ROLES)), field="role")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DuizhaoError(Message(N_("The password needs at least {count} characters."), count=MIN_PASSWORD_LENGTH),
                           field="password")
    if user_by_name(session, username):
        raise DuizhaoError(Message(N_("A user called {username!r} exists already."), username=username),
                           status=409)
    user = User(username=username, password_hash=generate_password_hash(password), role=role)
    session.add(user)
    session.flush()
    return user


def user_by_name(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.username)).all()


@functools.cache
def _dummy_hash() -> str:
    # Made once per process, with the same method and cost as every real hash.
    return generate_password_hash(secrets.token_hex(16))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the password is theirs. An unknown or inactive user costs one password
    check too, so the answer's timing does not tell which user names exist."""
    user = user_by_name(session, username.strip())
    matches = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password)
    if user is None or not user.active or not matches:
        return None
    return user


def start_session(user: User) -> None:
    """Give the user a session token if they have none yet (browser sessions carry it)."""
    if not user.session_token:
        user.session_token = secrets.token_urlsafe(32)


def end_sessions(user: User) -> None:
    """Invalidate every browser session of the user, copies of the cookie included."""
    user.session_token = secrets.token_urlsafe(32)


def set_password(user: User, password: str) -> None:
    """A new password; every browser session made with the old one ends."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DuizhaoError(Message(N_("The password needs at least {count} characters."), count=MIN_PASSWORD_LENGTH),
                           field="password")
    user.password_hash = generate_password_hash(password)
    end_sessions(user)


def create_token(session: Session, user: User, *, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; the secret is returned once and only its hash is kept."""
    if scope not in TOKEN_SCOPES:
        raise DuizhaoError(Message(N_("Scope must be one of {scopes}."), scopes=", ".join(TOKEN_SCOPES)),
                           field="scope")
    secret = new_token_secret()
    require_fits(ApiToken.name, name.strip(), field="name")
    token = ApiToken(user_id=user.id, name=name.strip() or "token", token_hash=hash_token(secret),
                     prefix=secret[:10], scope=scope)
    session.add(token)
    session.flush()
    return token, secret


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and not user.has_role("admin")):
        raise NotFound(Message(N_("No token {token_id} of yours."), token_id=token_id))
    token.revoked_at = token.revoked_at or utcnow()
    return token


def tokens_of(session: Session, user: User) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all()
