"""Storage wiring for the app: one engine and session factory per app, the request's session.

Views and CLI commands own the unit of work: they take ``db_session()`` and commit once.
Repository and service functions receive a ``Session`` and never commit on their own. The
Flask-free parts (the declarative base, ``make_engine``) are in ``common.db``.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from common.db import OUTSIDE_TRANSACTION, make_engine
from web import extensions

#: Seconds a request waits for a lock another transaction holds (an import, say) before it gives
#: up with 503 and Retry-After: well under gunicorn's timeout, so a worker is never killed waiting.
DEFAULT_LOCK_TIMEOUT = 10
DEFAULT_POOL_SIZE = 5
DEFAULT_POOL_OVERFLOW = 10
#: What a command-line import says when it waited DB_LOCK_TIMEOUT for a lock in vain.
LOCKED_IMPORT = ("The database stayed locked by another change (another import, perhaps); nothing was "
                 "imported. Try again when it has finished, or set DB_LOCK_TIMEOUT to wait longer.")


def import_models() -> None:
    """Import every module that maps tables, so ``Base.metadata`` knows them all."""
    import accounts.models  # noqa: F401
    import align.models  # noqa: F401
    import glossary.models  # noqa: F401
    import jobs.models  # noqa: F401
    import tm.models  # noqa: F401
    import workbench.models  # noqa: F401


def default_sqlite_url(instance_path: str) -> str:
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(instance_path) / 'duizhao.sqlite3'}"


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    lock_timeout = float(app.config.get("DB_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT))
    pool: dict[str, float] = {}
    if not url.startswith("sqlite"):
        # Waiting for a free connection is waiting for a lock: bounded the same way, then 503.
        pool = {"pool_size": int(app.config.get("DB_POOL_SIZE", DEFAULT_POOL_SIZE)),
                "max_overflow": int(app.config.get("DB_POOL_OVERFLOW", DEFAULT_POOL_OVERFLOW)),
                "pool_timeout": lock_timeout}
    engine = make_engine(url, lock_timeout=lock_timeout, **pool)
    extensions.install_db(app, engine, sessionmaker(engine, expire_on_commit=False))

    @app.teardown_appcontext
    def _close_session(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def dispose_pool(app: Flask) -> None:
    extensions.db_engine(app).dispose(close=False)


def engine() -> Engine:
    return extensions.db_engine()


def session_factory() -> sessionmaker[Session]:
    """What ``new_session`` calls, for work that outlives the app context (a streamed body)."""
    return extensions.db_sessionmaker()


def new_session() -> Session:
    """A session outside the request's (for background work); the caller closes it."""
    return session_factory()()


def db_session() -> Session:
    """The session of the current request or CLI command, closed at teardown."""
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session


def read_session() -> Session:
    """The request's session for a view that only reads (lookups): its statements run outside a
    transaction, each seeing what is committed when it runs. On PostgreSQL that spares each
    request the BEGIN and ROLLBACK round trips (a lookup now makes two trips: the pool's ping
    and one read of its units).
    Call it before anything else takes the request's session; a view that writes never does."""
    if "db_session" not in g:
        session = new_session()
        session.info[OUTSIDE_TRANSACTION] = True
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        g.db_session = session
    return g.db_session
