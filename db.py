"""Storage wiring: the declarative base, one engine and session factory per app.

Views and CLI commands own the unit of work: they take ``db_session()`` and commit once.
Repository and service functions receive a ``Session`` and never commit on their own.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, g, current_app
from sqlalchemy import MetaData, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

#: Seconds a request waits for a lock another transaction holds (an import, say) before it gives
#: up with 503 and Retry-After: well under gunicorn's timeout, so a worker is never killed waiting.
DEFAULT_LOCK_TIMEOUT = 10
#: Migrations and other one-off commands may wait longer for the service's transactions.
MIGRATION_LOCK_TIMEOUT = 30
#: What a command-line import says when it waited DB_LOCK_TIMEOUT for a lock in vain.
LOCKED_IMPORT = ("The database stayed locked by another change (another import, perhaps); nothing was "
                 "imported. Try again when it has finished, or set DB_LOCK_TIMEOUT to wait longer.")

# Stable constraint names, so Alembic migrations can refer to them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def import_models() -> None:
    """Import every module that maps tables, so ``Base.metadata`` knows them all."""
    import accounts.models  # noqa: F401
    import tm.models  # noqa: F401
    import glossary.models  # noqa: F401


def make_engine(url: str, *, lock_timeout: float = MIGRATION_LOCK_TIMEOUT, **engine_options) -> Engine:
    """An engine whose statements wait at most ``lock_timeout`` seconds for another transaction's
    lock (SQLite's busy timeout, PostgreSQL's ``lock_timeout``); then they fail with an
    ``OperationalError``, which the app answers with 503."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": lock_timeout}, **engine_options)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            # WAL lets readers (other workers) go on while an import writes.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    milliseconds = max(1, round(lock_timeout * 1000))
    return create_engine(url, pool_pre_ping=True, connect_args={"options": f"-c lock_timeout={milliseconds}"},
                         **engine_options)


def insert_ignoring_conflicts(session: Session, table: Table, *index_elements: str):
    """``INSERT ... ON CONFLICT (index_elements) DO NOTHING`` in the session's dialect: of two
    transactions inserting the same key at once, the second waits for the first and then inserts
    nothing (no IntegrityError), so it can read the winner's row instead."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=list(index_elements))


def default_sqlite_url(instance_path: str) -> str:
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(instance_path) / 'duizhao.sqlite3'}"


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"],
                         lock_timeout=float(app.config.get("DB_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT)))
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def dispose_pool(app: Flask) -> None:
    app.extensions["db_engine"].dispose(close=False)


def engine() -> Engine:
    return current_app.extensions["db_engine"]


def session_factory() -> sessionmaker[Session]:
    """What ``new_session`` calls, for work that outlives the app context (a streamed body)."""
    return current_app.extensions["db_sessionmaker"]


def new_session() -> Session:
    """A session outside the request's (for background work); the caller closes it."""
    return session_factory()()


def db_session() -> Session:
    """The session of the current request or CLI command, closed at teardown."""
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session
