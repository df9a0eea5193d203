"""The key workers of a large import end with it, even when it is killed with SIGKILL."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import ROOT, running_processes


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_key_workers_die_with_a_killed_import(tmp_path, sqlite_template):
    database = tmp_path / "duizhao.sqlite3"
    shutil.copy(sqlite_template, database)
    # Large enough that the importer starts its pool of key workers (after 5 batches of 2,000).
    big = tmp_path / "big.tsv"
    big.write_text("zh\ten\n" + "".join(f"第{i}号文件的第{i % 97}段。\tParagraph {i % 97} of file {i}.\n"
                                         for i in range(200_000)), encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "test"}
    importer = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "tm", "import", str(big),
                                 "--memory", "big"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and importer.poll() is None:
            workers = running_processes(parent=importer.pid)
            if len(workers) >= 2:  # the resource tracker and at least one key worker
                break
            time.sleep(0.2)
        assert importer.poll() is None and len(workers) >= 2, "the import never started its key workers"
        time.sleep(1)  # let the workers start their initializers
        workers = running_processes(parent=importer.pid)
        importer.send_signal(signal.SIGKILL)
        importer.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.1)
        survivors = [pid for pid in workers if _alive(pid)]
        assert not survivors, f"key workers {survivors} outlived the killed import"
    finally:
        importer.kill()
        importer.wait()
        for pid in workers:  # only on failure: the processes this test started
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
