"""The live tests' servers are stopped with everything they started (conftest.stop_all)."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.helpers import running_processes
from tests.live.conftest import spawn, stop_all


def started(script: str, log: Path) -> subprocess.Popen:
    """``sh -c script`` in a group of its own, once it has printed "ready" (its traps are set)."""
    process = spawn(["sh", "-c", script], dict(os.environ), log)
    deadline = time.monotonic() + 10
    while "ready" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "ready" in log.read_text()
    return process


def test_stopping_a_server_stops_the_children_it_leaves_behind(tmp_path):
    # A parent that quits on SIGINT at once, and a child that ignores it: as a gunicorn master
    # and a worker that has not yet set up its signal handlers.
    process = started("trap '' INT; sleep 60 & trap 'exit 0' INT; echo ready; wait", tmp_path / "log")
    group = process.pid
    assert len(running_processes(group=group)) == 2  # the parent and its child
    stop_all([process], timeout=5)
    assert process.returncode == 0  # the parent quit on SIGINT
    deadline = time.monotonic() + 5
    # SIGKILL lands at once, but not synchronously.
    while running_processes(group=group) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert running_processes(group=group) == []  # and nothing of its group runs on


def test_a_process_that_ignores_sigint_is_killed_after_the_timeout(tmp_path):
    process = started("trap '' INT; echo ready; sleep 60; true", tmp_path / "log")
    stop_all([process], timeout=0.5)
    assert process.returncode == -signal.SIGKILL
