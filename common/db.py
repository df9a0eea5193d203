"""Storage shared by every area, free of Flask: the declarative base and its naming convention,
engines whose statements wait a bounded time for locks, and dialect-aware inserts.

The app binds an engine and a session per request in ``db`` (the top-level module, which
needs Flask); models, repositories and services import from here.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import ColumnExpressionArgument, MetaData, Table, create_engine, event, exc, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql.elements import ColumnElement

#: Migrations and other one-off commands may wait longer for the service's transactions.
MIGRATION_LOCK_TIMEOUT = 30
#: A pooled PostgreSQL connection back in the pool for longer than this many seconds is pinged
#: before it is handed out again (see ``_ping_after_idle``).
PING_AFTER_IDLE = 2.0

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
    if TYPE_CHECKING:
        # SQLAlchemy types __table__ as any FromClause (a class may map a join or a subquery);
        # every model here maps a Table, which inserts and DDL need.
        __table__: ClassVar[Table]


def make_engine(url: str, *, lock_timeout: float = MIGRATION_LOCK_TIMEOUT, **engine_options: Any) -> Engine:
    """An engine whose statements wait at most ``lock_timeout`` seconds for another transaction's
    lock (SQLite's busy timeout, PostgreSQL's ``lock_timeout``); then they fail with an
    ``OperationalError``, which the app answers with 503."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": lock_timeout}, **engine_options)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets readers (other workers) go on while an import writes.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    milliseconds = max(1, round(lock_timeout * 1000))
    engine = create_engine(url, connect_args={"options": f"-c lock_timeout={milliseconds}"}, **engine_options)
    _ping_after_idle(engine)
    return engine


def _ping_after_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it sat idle for PING_AFTER_IDLE seconds.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: under load that was one of the two
    round trips of a lookup (each waiting for the server process to be scheduled on a busy
    machine) for connections that were in use a moment before. A connection broken while idle
    (a server restart, a proxy's idle timeout) is still caught here before use, and the pool
    replaces it; one broken while the service is busy fails its statement, and SQLAlchemy then
    invalidates the whole pool (a disconnect error), so only the requests then in flight see it.
    """
    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return  # new, or back from use just now
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as err:
            if not engine.dialect.is_disconnect(err, dbapi_connection, None):
                raise
            # The pool discards this connection and checks out another (a fresh one at worst).
            raise exc.DisconnectionError(str(err)) from err


#: ``Session.info`` key of a session whose statements run outside any transaction (autocommit).
OUTSIDE_TRANSACTION = "outside_transaction"


def outside_transaction(session: Session) -> bool:
    """Whether ``session`` reads outside any transaction (``db.read_session``): each statement
    sees what is committed when it runs, and a server-side cursor is not available."""
    return bool(session.info.get(OUTSIDE_TRANSACTION))


def insert_ignoring_conflicts(
    session: Session, table: Table, *index_elements: str
) -> postgresql.Insert | sqlite.Insert:
    """``INSERT ... ON CONFLICT (index_elements) DO NOTHING`` in the session's dialect: of two
    transactions inserting the same key at once, the second waits for the first and then inserts
    nothing (no IntegrityError), so it can read the winner's row instead."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(index_elements))
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(index_elements))


def year_month(session: Session, column: ColumnExpressionArgument[Any]) -> ColumnElement[str]:
    """A 'YYYY-MM' expression for the datetime ``column`` in the session's dialect (SQLite has no
    ``to_char``, PostgreSQL no ``strftime``), for counts grouped by month."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)
