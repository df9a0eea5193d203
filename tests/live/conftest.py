"""Start the real service (gunicorn, ``create_app()`` from the environment) as a separate process
and set it up with the real CLI: ``flask db upgrade``, ``flask tm import``, ``flask user``.

Each server gets its own loopback port and a ``SECRET_KEY``; ``DATABASE_URL`` is a temporary
SQLite file or the session's PostgreSQL database (the ``postgres_url`` fixture of
tests/conftest.py: skipped without a server on a developer's machine, failed under CI=true).
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.helpers import ROOT, server_env, truncate_all

PYTHON = sys.executable
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        stop_all([self.process], timeout=10)


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """``args`` run from the project's root in a process group of their own (``stop_all``)."""
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_all(processes: list[subprocess.Popen], timeout: float) -> None:
    """SIGINT to each of ``processes`` (gunicorn's quick shutdown; SIGTERM would wait for the
    graceful timeout), then SIGKILL to each one's process group: to the process itself if it
    has not exited within ``timeout``, and to whatever else its group still holds. A gunicorn
    master killed alone, as these tests did before, can leave its worker behind: once one was
    still running after the suite had ended."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def launch_server(database_url: str, log: Path) -> Server:
    """gunicorn with one sync worker on a free loopback port (not yet answering)."""
    port = free_port()
    process = spawn([PYTHON, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", "--timeout", "60",
                     "app:create_app()"], server_env(database_url), log)
    return Server(f"http://127.0.0.1:{port}", process, log)


def wait_until_up(server: Server, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"the server exited:\n{server.log.read_text(errors='replace')[-3000:]}")
        try:
            # The master listens before its worker has loaded the app: wait for an answer.
            requests.get(f"{server.url}/api/v1/memories", timeout=10)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise AssertionError(f"the server did not answer within {timeout:.0f} s:\n"
                         f"{server.log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def servers(tmp_path):
    """``servers(database_url, count=1)`` starts that many server processes at once and returns
    them when all answer; all are stopped at the end of the test."""
    started: list[Server] = []

    def start(database_url: str, count: int = 1) -> list[Server]:
        batch = [launch_server(database_url, tmp_path / f"server{len(started) + i}.log") for i in range(count)]
        started.extend(batch)
        for server in batch:
            wait_until_up(server)
        return batch

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def clean_postgres_url(postgres_url):
    """The session's migrated PostgreSQL database, emptied for this test."""
    truncate_all(postgres_url)
    return postgres_url
