"""A pooled PostgreSQL connection broken behind the pool's back (a server restart, an idle
timeout) is replaced: before use when it sat idle, else by the failed statement's pool
invalidation. The ping is skipped for a connection back from use just now (common.db)."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from common import db as common_db
from common.db import make_engine


def _terminate(admin_url: str, pid: int) -> None:
    admin = make_engine(admin_url)
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_an_idle_connection_killed_on_the_server_is_replaced_before_use(postgres_url, monkeypatch):
    monkeypatch.setattr(common_db, "PING_AFTER_IDLE", 0.0)
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        _terminate(postgres_url, first)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != first
    finally:
        engine.dispose()


def test_a_connection_killed_while_busy_fails_one_statement_and_the_pool_recovers(postgres_url, monkeypatch):
    monkeypatch.setattr(common_db, "PING_AFTER_IDLE", 3600.0)
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        _terminate(postgres_url, first)
        with pytest.raises(OperationalError), engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != first
    finally:
        engine.dispose()
