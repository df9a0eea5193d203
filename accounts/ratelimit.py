"""Rate limits every worker process shares: wrong passwords, and requests per API token.

Flask-Limiter holds the counters in a storage all gunicorn workers see. By default that is a
table of the app's own database on PostgreSQL, and of a SQLite file beside the TM's on SQLite
(``rate_limits``, the scheme ``duizhao-db://`` registered here as a storage of the `limits`
library: one atomic upsert per hit);
``RATELIMIT_STORAGE_URI`` may name any other storage `limits` speaks, e.g. ``redis://host:6379``.
Windows are fixed (Flask-Limiter's default strategy).

- Logins: a wrong password counts against the user name from this address
  (``LOGIN_RATE_LIMIT_PER_ADDRESS``) and against the user name from anywhere
  (``LOGIN_RATE_LIMIT_PER_ACCOUNT``); while either is spent, every login for that name from
  there gets 429, the right password too. Successful logins do not count.
- API tokens: ``TOKEN_RATE_LIMIT`` is "<requests>/<seconds>", e.g. "600/60"; "0" turns it off.
  Whichever way the token comes (header, MyMemory's ``key=``, a tmserver or feed URL).

Counters are keyed by a hash of the name, address or token, so the table holds none of them.
"""
from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import math
import time
from pathlib import Path

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.storage import Storage
from sqlalchemy import case, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from accounts.models import RateLimitCounter
from common.db import make_engine
from common.errors import RateLimited
from common.messages import N_, Message
from web import extensions

log = logging.getLogger(__name__)

DATABASE_SCHEME = "duizhao-db"
#: Wrong passwords for one user name from one address, and for one user name in all.
LOGIN_RATE_LIMIT_PER_ADDRESS = "5 per minute"
LOGIN_RATE_LIMIT_PER_ACCOUNT = "20 per hour"
#: Seconds a counter waits for a lock (SQLite's write lock, a PostgreSQL row lock) or for a
#: connection of its own pool before the request goes through uncounted.
COUNTER_LOCK_WAIT = 2
#: The counters' own connection pool on PostgreSQL, per process (see _storage_engine).
COUNTER_POOL_SIZE = 2
COUNTER_POOL_OVERFLOW = 8
#: Every this many increments a process deletes windows that ended, so the table stays small.
PURGE_EVERY = 500


class DatabaseStorage(Storage):
    """A `limits` storage on the app's own database, for deployments without Redis."""

    STORAGE_SCHEME = [DATABASE_SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, *, engine: Engine,
                 **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.engine = engine
        self.table = RateLimitCounter.__table__
        self._increments = itertools.count(1)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def _insert(self):
        return (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(self.table)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        c = self.table.c
        # One statement, so two workers counting the same key at once both count: a window
        # that has ended starts again from this hit.
        ended = c.expires_at <= now
        statement = self._insert().values(key=key, hits=amount, expires_at=now + expiry)
        statement = statement.on_conflict_do_update(
            index_elements=[c.key],
            set_={"hits": case((ended, amount), else_=c.hits + amount),
                  "expires_at": case((ended, now + expiry), else_=c.expires_at)},
        ).returning(c.hits)
        with self.engine.begin() as connection:
            hits = connection.execute(statement).scalar_one()
            if next(self._increments) % PURGE_EVERY == 0:
                connection.execute(delete(self.table).where(c.expires_at <= now))
        return hits

    def _row(self, key: str):
        c = self.table.c
        with self.engine.connect() as connection:
            return connection.execute(select(c.hits, c.expires_at).where(c.key == key,
                                                                         c.expires_at > time.time())).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return row.hits if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row.expires_at if row else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return connection.execute(delete(self.table)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(self.table).where(self.table.c.key == key))


def _storage_engine(app: Flask) -> Engine:
    engine = extensions.db_engine(app)
    if engine.dialect.name != "sqlite":
        # A pool of their own: a request holds one of the app's connections while its counter
        # is checked, so counters drawn from the same pool deadlock once every connection is
        # held by a request waiting for a second one (20 racing requests did, until the pool's
        # 30 s timeout). Counter statements are short, so a small pool only queues them.
        return make_engine(engine.url.render_as_string(hide_password=False), lock_timeout=COUNTER_LOCK_WAIT,
                           pool_size=COUNTER_POOL_SIZE, max_overflow=COUNTER_POOL_OVERFLOW,
                           pool_timeout=COUNTER_LOCK_WAIT)
    if engine.url.database in (None, "", ":memory:"):
        return engine
    # SQLite has one write lock per file, and an import holds it for as long as it runs:
    # counters in the TM's own file would make every token request wait for the import. So
    # on SQLite they live in a file of their own beside it (they are counters, not data: no
    # migration, the table is made on first use). A short lock wait still bounds the rare
    # contention between workers (see _storage_failed).
    path = Path(engine.url.database)
    counters = make_engine(str(engine.url.set(database=str(path.with_name(f"{path.stem}-ratelimits.sqlite3")))),
                           lock_timeout=COUNTER_LOCK_WAIT)
    RateLimitCounter.__table__.create(counters, checkfirst=True)
    return counters


def init_app(app: Flask) -> None:
    """Attach Flask-Limiter with the storage ``RATELIMIT_STORAGE_URI`` names (default: the database)."""
    uri = app.config.get("RATELIMIT_STORAGE_URI") or f"{DATABASE_SCHEME}://"
    options = {}
    if uri.startswith(f"{DATABASE_SCHEME}:"):
        options["engine"] = engine = _storage_engine(app)
        extensions.install_ratelimit_engine(app, engine)
    # No default or decorator limits: the limits below are checked where their key is known
    # (the user name, the token), inside the views.
    # flask_limiter types the options as strings and numbers, but passes them on as keyword arguments to
    # the storage's constructor, and DatabaseStorage takes the engine.
    Limiter(get_remote_address, app=app, storage_uri=uri,
            storage_options=options, default_limits=[])  # type: ignore[arg-type]


@functools.lru_cache(maxsize=16)
def token_limit(setting: str) -> RateLimitItem | None:
    """``TOKEN_RATE_LIMIT`` as a `limits` item; None when it is off."""
    if not setting or setting.strip() == "0":
        return None
    count, _, seconds = setting.partition("/")
    return RateLimitItemPerSecond(int(count), int(float(seconds or 60)))


def _limiter() -> Limiter:
    return extensions.limiter()


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _seconds_left(limiter: Limiter, item: RateLimitItem, *identifiers: str) -> str:
    """Retry-After for a spent limit: whole seconds until its window ends, at least 1."""
    reset = limiter.limiter.get_window_stats(item, *identifiers).reset_time
    return str(max(1, math.ceil(reset - time.time())))


def _storage_failed(err: Exception) -> None:
    # A limiter whose storage is down must not take the service down with it: let the
    # request through and say so in the log.
    log.warning("rate limit storage unavailable, request not counted: %s", err)


def check_token(token_hash: str) -> None:
    """Count one request with this token; 429 with Retry-After once the limit is spent."""
    item = token_limit(current_app.config.get("TOKEN_RATE_LIMIT", ""))
    if item is None:
        return
    limiter = _limiter()
    try:
        if limiter.limiter.hit(item, "token", token_hash):
            return
        retry_after = _seconds_left(limiter, item, "token", token_hash)
    except SQLAlchemyError as err:
        _storage_failed(err)
        return
    raise RateLimited(Message(N_("Too many requests with this token: at most {limit} every {window:g} "
                                 "seconds. Retry in {retry_after} s."), limit=item.amount,
                              window=item.get_expiry(), retry_after=retry_after),
                      retry_after=retry_after)


def _login_limits(username: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
    config = current_app.config
    address = get_remote_address() or ""
    return [
        (parse(config.get("LOGIN_RATE_LIMIT_PER_ADDRESS", LOGIN_RATE_LIMIT_PER_ADDRESS)),
         ("login-address", _digest(username, address))),
        (parse(config.get("LOGIN_RATE_LIMIT_PER_ACCOUNT", LOGIN_RATE_LIMIT_PER_ACCOUNT)),
         ("login-account", _digest(username))),
    ]


def check_login(username: str) -> None:
    """429 with Retry-After while wrong passwords for ``username`` (from this address, or in
    all) have spent a limit: the password is then not even checked."""
    limiter = _limiter()
    try:
        for item, identifiers in _login_limits(username):
            if not limiter.limiter.test(item, *identifiers):
                retry_after = _seconds_left(limiter, item, *identifiers)
                raise RateLimited(Message(N_("Too many wrong passwords for this user name. Try again in "
                                             "{retry_after} s."), retry_after=retry_after),
                                  retry_after=retry_after)
    except SQLAlchemyError as err:
        _storage_failed(err)


def count_failed_login(username: str) -> None:
    """Count a wrong password (or an unknown user name) against both login limits."""
    limiter = _limiter()
    try:
        for item, identifiers in _login_limits(username):
            limiter.limiter.hit(item, *identifiers)
    except SQLAlchemyError as err:
        _storage_failed(err)
