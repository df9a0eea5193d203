"""Fixtures in the manner of Flask's tutorial: ``app``, ``client``, ``runner``.

Storage and web tests run once on SQLite and once on PostgreSQL. PostgreSQL is the one at
127.0.0.1:5432 (override with TEST_POSTGRES_URL); the suite makes a database of its own
there. Without a server a PostgreSQL test skips on a developer's machine and FAILS under
CI=true, so a green CI always means both engines were tested.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from migrations.cli import upgrade
from tests.helpers import IN_CI, require_shared, truncate_all

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _postgres_unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh, migrated PostgreSQL database for this test session; dropped at the end."""
    name = f"duizhao_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    except Exception as err:  # any connection failure means "no server here"
        _postgres_unavailable(str(err).splitlines()[0])
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "duizhao.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    truncate_all(url)
    return url


def _make_app(database_url, tmp_path, **overrides):
    from app import create_app

    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": True,
        "ANONYMOUS_READ": True,
        # A test trains the fragment model itself when it wants one, never in the background.
        "FRAGMENT_TRAIN_AFTER_IMPORT": False,
        # Tests send many requests at once through one process (tests/storage/test_concurrency.py):
        # the admission gate, tested on its own (tests/core/test_admission.py, test_ops.py),
        # must not refuse them.
        "ADMIT_QUEUE": 1000,
        "ADMIT_WAIT": 60,
        # Jobs (imports) run inside the request that starts them, which still answers 202 with
        # the job's Location; the ``queued_app`` below has a real queue, run by a worker.
        "JOBS_QUEUE": "immediate",
        "JOBS_DIR": str(tmp_path / "jobs"),
        **overrides,
    })
    app.instance_path = str(tmp_path / "instance")
    return app


def _dispose(app) -> None:
    from web.extensions import db_engine, ratelimit_engine

    db_engine(app).dispose()
    counters = ratelimit_engine(app)
    if counters is not None:
        counters.dispose()


@pytest.fixture
def app(database_url, tmp_path):
    app = _make_app(database_url, tmp_path)
    yield app
    _dispose(app)


@pytest.fixture
def queued_app(database_url, tmp_path):
    """An app whose jobs wait in a real queue (huey on a SQLite file) until a worker takes them:
    ``job_queue(app).run_pending()`` is that worker, run where the test says."""
    app = _make_app(database_url, tmp_path, JOBS_QUEUE=f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    yield app
    _dispose(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Create a user with a role; returns (username, password)."""
    from accounts import service
    from db import new_session

    def make(username: str, role: str, password: str = "correct horse battery"):
        with app.app_context():
            session = new_session()
            service.create_user(session, username, password, role)
            session.commit()
            session.close()
        return username, password

    return make


@pytest.fixture
def token_for(app, make_user):
    """An API token for a new user of ``role`` with ``scope``."""
    from accounts import service
    from db import new_session

    def make(role: str = "editor", scope: str = "write", username: str | None = None) -> str:
        username = username or f"{role}-{scope}-{uuid.uuid4().hex[:6]}"
        make_user(username, role)
        with app.app_context():
            session = new_session()
            user = service.user_by_name(session, username)
            _token, secret = service.create_token(session, user, name="test", scope=scope)
            session.commit()
            session.close()
        return secret

    return make


@pytest.fixture
def shared_data() -> None:
    """For ``tests.helpers.needs_shared``: ../shared must be there (fails under CI=true)."""
    require_shared()
