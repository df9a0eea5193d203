"""Imports as jobs through a real queue (huey on a SQLite file) and a worker run by the test,
on both engines: 202 and Location, the job's progress and result, a bad file's error, cancelling
a queued and a running import (nothing stored), other users' jobs, and jobs a dead worker left."""
from __future__ import annotations

import io
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import auth, make_memory, wmt_pairs
from tm.formats.records import UnitRecord
from tm.formats.tmx import write_tmx


def _tmx(pairs) -> bytes:
    buffer = io.BytesIO()
    write_tmx([UnitRecord(zh=z, en=e) for z, e in pairs], buffer)
    return buffer.getvalue()


@pytest.fixture
def client(queued_app):
    make_memory(queued_app, "news")
    return queued_app.test_client()


def _upload(client, token, data: bytes, name="news.tmx", memory="news"):
    return client.post(f"/api/v1/memories/{memory}/import", headers=auth(token),
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _units(client) -> int:
    return client.get("/api/v1/units").get_json()["total"]


def _jobs_metric(client) -> dict[str, float]:
    """``duizhao_jobs`` of /metrics by state: the queue's depth is the queued ones."""
    from prometheus_client.parser import text_string_to_metric_families

    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))}
    return {s.labels["state"]: s.value for s in families["duizhao_jobs"].samples}


def _uploads(app) -> list[Path]:
    return sorted((Path(app.config["JOBS_DIR"]) / "uploads").glob("*"))


def test_an_import_is_queued_then_run_by_a_worker(queued_app, client, token_for):
    from web.extensions import job_queue

    token = token_for("editor", username="ed")
    data = _tmx(wmt_pairs(120))
    response = _upload(client, token, data)
    assert response.status_code == 202
    location = response.headers["Location"]
    job = client.get(location, headers=auth(token)).get_json()
    assert location == f"/api/v1/jobs/{job['id']}" and job == response.get_json() | {"url": location}
    assert (job["state"], job["kind"], job["user"], job["result"]) == ("queued", "tm.import", "ed", None)
    assert _units(client) == 0 and len(_uploads(queued_app)) == 1  # the upload waits for the worker
    assert job_queue(queued_app).pending() == 1
    assert _jobs_metric(client) == {"queued": 1, "running": 0, "done": 0, "failed": 0, "cancelled": 0}

    assert job_queue(queued_app).run_pending() == 1
    job = client.get(location, headers=auth(token)).get_json()
    assert job["state"] == "done" and job["error"] is None
    assert job["progress"] == {"done": len(data), "total": len(data)}  # bytes of the file
    assert (job["result"]["added"], job["result"]["duplicates"], job["result"]["memory"]) == (120, 0, "news")
    assert job["started_at"] and job["finished_at"] and job["finished_at"] >= job["started_at"]
    assert _units(client) == 120
    assert _uploads(queued_app) == []  # removed once the job ended
    assert _jobs_metric(client) == {"queued": 0, "running": 0, "done": 1, "failed": 0, "cancelled": 0}


def test_a_bad_file_fails_its_job_with_the_line_and_stores_nothing(queued_app, client, token_for):
    from web.extensions import job_queue

    token = token_for("editor")
    data = _tmx(wmt_pairs(30)).replace(b"</body>", b"<tu><tuv xml:lang=\"zh\"><seg>x</seg></body>")
    response = _upload(client, token, data)
    assert response.status_code == 202
    job_queue(queued_app).run_pending()
    job = client.get(response.headers["Location"], headers=auth(token)).get_json()
    assert job["state"] == "failed" and job["result"] is None
    error = job["error"]
    assert error["status"] == 400 and error["line"] > 1 and "malformed" in error["reason"]
    assert f"line {error['line']}" in error["message"]
    assert _units(client) == 0 and _uploads(queued_app) == []
    # What can be refused before reading the file still is, at once, and queues nothing.
    refused = client.post("/api/v1/memories/news/import?format=docx", data=b"x", headers=auth(token))
    assert refused.status_code == 400 and "docx" in refused.get_json()["error"]["message"]
    assert job_queue(queued_app).pending() == 0


def test_a_queued_job_cancelled_never_runs(queued_app, client, token_for):
    from web.extensions import job_queue

    token = token_for("editor")
    location = _upload(client, token, _tmx(wmt_pairs(20))).headers["Location"]
    cancelled = client.delete(location, headers=auth(token))
    assert cancelled.status_code == 202 and cancelled.get_json()["state"] == "cancelled"
    job_queue(queued_app).run_pending()
    assert client.get(location, headers=auth(token)).get_json()["state"] == "cancelled"
    assert _units(client) == 0
    again = client.post(f"{location}/cancel", headers=auth(token))
    assert again.status_code == 409 and again.get_json()["error"]["state"] == "cancelled"


def test_a_running_import_cancelled_rolls_back(queued_app, client, token_for, monkeypatch):
    """The worker hears the cancel between batches and rolls the import back: no unit, no
    memory it would have made, and the progress seen while it ran was real."""
    from jobs import service
    from web.extensions import job_queue

    monkeypatch.setattr(service, "REPORT_INTERVAL", 0.0)  # report (and look for a cancel) every batch
    token = token_for("admin")
    pairs = wmt_pairs(2000)
    # 30,000 real pairs, each made distinct by a number, so that the import lasts several batches.
    many = [(f"{zh}（{i}）", f"{en} ({i})") for i in range(15) for zh, en in pairs]
    data = _tmx(many)
    location = _upload(client, token, data, memory="brand-new").headers["Location"]
    worker = threading.Thread(target=job_queue(queued_app).run_pending)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            job = client.get(location, headers=auth(token)).get_json()
            if job["state"] == "running" and job["progress"]["done"] > 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert job["state"] == "running", job
        assert 0 < job["progress"]["done"] < job["progress"]["total"] == len(data)
        answer = client.delete(location, headers=auth(token))
        assert answer.status_code == 202 and answer.get_json()["cancel_requested"] is True
    finally:
        worker.join(timeout=120)
    job = client.get(location, headers=auth(token)).get_json()
    assert job["state"] == "cancelled" and job["result"] is None
    assert job["progress"]["done"] < len(data)
    assert _units(client) == 0
    assert "brand-new" not in {m["name"] for m in client.get("/api/v1/memories").get_json()["memories"]}


def test_another_users_job_is_not_visible(queued_app, client, token_for):
    mine, theirs = token_for("editor", username="mine"), token_for("editor", username="theirs")
    location = _upload(client, mine, _tmx(wmt_pairs(5))).headers["Location"]
    assert client.get(location, headers=auth(theirs)).status_code == 404
    assert client.delete(location, headers=auth(theirs)).status_code == 404
    assert client.get("/api/v1/jobs", headers=auth(theirs)).get_json()["jobs"] == []
    listed = client.get("/api/v1/jobs", headers=auth(mine)).get_json()["jobs"]
    assert [j["url"] for j in listed] == [location]
    assert client.get(location, headers=auth(token_for("admin"))).status_code == 200  # the admin sees all
    assert client.get(location).status_code == 401  # anonymous readers have no jobs


def _running_job(app, worker: str, heartbeat_age: float = 0.0) -> int:
    from datetime import timedelta

    from common.timeutil import utcnow
    from db import new_session
    from jobs import repository

    with app.app_context():
        session = new_session()
        job = repository.create_job(session, kind="tm.import", user="ed", params={})
        job.state, job.worker = "running", worker
        job.started_at = job.heartbeat_at = utcnow() - timedelta(seconds=heartbeat_age)
        session.commit()
        session.close()
        return job.id


def test_a_starting_worker_fails_the_jobs_of_dead_workers(queued_app, client, token_for):
    """A worker killed mid-import left its job 'running' (its transaction never committed). The
    next worker to start fails it, and leaves alone the jobs of live workers, here or elsewhere."""
    import subprocess
    import sys

    host = socket.gethostname()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone_here = _running_job(queued_app, f"{host}:{dead.pid}")
    alive_here = _running_job(queued_app, f"{host}:{os.getpid()}")
    silent_elsewhere = _running_job(queued_app, "other-host:1", heartbeat_age=3600)
    busy_elsewhere = _running_job(queued_app, "other-host:2", heartbeat_age=5)
    result = queued_app.test_cli_runner().invoke(args=["jobs", "worker", "--drain"])
    assert result.exit_code == 0, result.output
    assert str([gone_here, silent_elsewhere]) in result.output
    admin = token_for("admin")
    states = {j["id"]: j for j in client.get("/api/v1/jobs", headers=auth(admin)).get_json()["jobs"]}
    states |= {i: client.get(f"/api/v1/jobs/{i}", headers=auth(admin)).get_json()
               for i in (gone_here, alive_here, silent_elsewhere, busy_elsewhere)}
    assert [states[i]["state"] for i in (gone_here, alive_here, silent_elsewhere, busy_elsewhere)] == \
        ["failed", "running", "failed", "running"]
    assert "interrupted" in states[gone_here]["error"]["message"]
    listing = queued_app.test_cli_runner().invoke(args=["jobs"])
    assert listing.exit_code == 0 and f"{gone_here}\ttm.import\tfailed" in listing.output


def test_a_utf16_table_imports_through_a_job(queued_app, client, token_for):
    """The table reader decodes UTF-16 through a text wrapper that closes the file when it has
    read it all, before the last batch is stored (found by tests/web/test_fuzz.py): the job's
    progress must not read the closed file's position."""
    from web.extensions import job_queue

    token = token_for("editor")
    rows = [(zh, en) for zh, en in wmt_pairs(40) if '"' not in zh + en]
    table = "zh,en\n" + "".join(f'"{zh}","{en}"\n' for zh, en in rows)
    data = table.encode("utf-16")
    location = _upload(client, token, data, name="pairs.csv").headers["Location"]
    job_queue(queued_app).run_pending()
    job = client.get(location, headers=auth(token)).get_json()
    assert job["state"] == "done", job["error"]
    assert job["progress"] == {"done": len(data), "total": len(data)}
    assert job["result"]["added"] == _units(client) == len(rows)
