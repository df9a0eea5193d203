"""Two gunicorn app servers and one job worker on one PostgreSQL database, each with an instance
folder of its own (they share only the database, the queue and the uploads' folder, as app hosts
behind a proxy would share a database, Redis and a mounted folder): a job started through one
server is seen through the other, a unit written through one is found through the other within
2 s, and a worker killed in the middle of an import leaves nothing of it stored; the next worker
to start marks the job failed. The queue is huey's SQLite file, the default, and Redis, as
several hosts share it (docs/deploy.md): skipped without a Redis server on a developer's
machine, failed under CI=true."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import time

import pytest
import requests

from jobs.queue import QUEUE_NAME
from tests.helpers import IN_CI, auth, flask_all, server_env, wmt_pairs
from tests.live.conftest import PYTHON, Server, free_port, spawn, stop_all, wait_until_up
from tm.formats.records import UnitRecord
from tm.formats.tmx import write_tmx

#: A unit written through one server must be found through the other within this (issue 18).
VISIBLE_WITHIN = 2.0
#: Two servers and a worker loading the app at once on two loaded cores take longer than one.
START_TIMEOUT = 90.0
#: A Redis server for the queue (a database of it per test process; the queue's keys are removed
#: before and after).
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


def _tmx(pairs) -> bytes:
    buffer = io.BytesIO()
    write_tmx([UnitRecord(zh=z, en=e) for z, e in pairs], buffer)
    return buffer.getvalue()


@pytest.fixture
def job_queue_url(request, tmp_path, worker_id):
    """The queue the cluster shares: huey's SQLite file, or (parametrised ``redis``) Redis."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite:///{tmp_path / 'queue.sqlite3'}"
        return
    import redis

    # One database per xdist process, counted down from the last, so that two tests never read
    # each other's queue; only the queue's own keys are removed, before and after.
    url = f"{REDIS_URL}/{15 - (int(worker_id[2:]) if worker_id.startswith('gw') else 0)}"
    client = redis.Redis.from_url(url)

    def empty_the_queue() -> None:
        keys = client.keys(f"huey.*{QUEUE_NAME}*")
        if keys:
            client.delete(*keys)

    try:
        empty_the_queue()
    except redis.RedisError as err:
        reason = f"no Redis at {url}: {err}"
        if IN_CI:
            pytest.fail(f"Redis is required under CI=true: {reason}")
        pytest.skip(reason)
    yield url
    empty_the_queue()
    client.close()


@pytest.fixture
def cluster(clean_postgres_url, job_queue_url, tmp_path):
    """Start ``servers`` gunicorns and ``worker()`` job workers on the session's PostgreSQL."""
    url = clean_postgres_url
    shared = {"JOBS_QUEUE": job_queue_url, "JOBS_DIR": str(tmp_path / "jobs"),
              "FRAGMENT_TRAIN_AFTER_IMPORT": "0"}
    processes: list[subprocess.Popen] = []

    def env(name: str) -> dict[str, str]:
        instance = tmp_path / f"instance-{name}"
        return server_env(url) | shared | {"INSTANCE_PATH": str(instance),
                                           "FRAGMENT_MODEL_DIR": str(instance / "fragments")}

    def start_server(name: str) -> Server:
        port = free_port()
        log = tmp_path / f"{name}.log"
        process = spawn([PYTHON, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", "--timeout",
                         "60", "app:create_app()"], env(name), log)
        processes.append(process)
        return Server(f"http://127.0.0.1:{port}", process, log)

    def start_worker(name: str) -> subprocess.Popen:
        log = tmp_path / f"{name}.log"
        process = spawn([PYTHON, "-m", "flask", "--app", "app", "jobs", "worker"], env(name), log)
        processes.append(process)
        return process

    yield url, start_server, start_worker
    stop_all(processes, timeout=15)


def _setup_admin(url: str) -> str:
    flask_all(url, ("user", "create", "chief", "--role", "admin", "--password", "live-jobs-password"))
    return flask_all(url, ("user", "token", "chief", "--scope", "write"))[0].strip()


def _wait_for(server: Server, location: str, token: str, states: tuple[str, ...], timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = requests.get(server.url + location, headers=auth(token), timeout=10).json()
        if job["state"] in states or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


@pytest.mark.parametrize("job_queue_url", ["sqlite", "redis"], indirect=True)
def test_two_servers_and_a_worker_share_jobs_and_units(cluster):
    url, start_server, start_worker = cluster
    token = _setup_admin(url)
    one, two = start_server("one"), start_server("two")
    wait_until_up(one, START_TIMEOUT)
    wait_until_up(two, START_TIMEOUT)
    start_worker("worker")  # the import below waits for it as long as it takes to start

    data = _tmx(wmt_pairs(400))
    answer = requests.post(f"{one.url}/api/v1/memories/news/import", headers=auth(token),
                           files={"file": ("news.tmx", data)}, timeout=30)
    assert answer.status_code == 202, answer.text
    location = answer.headers["Location"]
    seen = requests.get(two.url + location, headers=auth(token), timeout=10)
    assert seen.status_code == 200 and seen.json()["id"] == answer.json()["id"]  # started on one, seen on two
    job = _wait_for(two, location, token, ("done", "failed"), timeout=START_TIMEOUT)
    assert job["state"] == "done", job
    assert job["result"]["added"] == 400 and job["progress"] == {"done": len(data), "total": len(data)}
    assert [j["id"] for j in requests.get(f"{one.url}/api/v1/jobs", headers=auth(token), timeout=10).json()["jobs"]] \
        == [job["id"]]

    # A unit written through one is found through the other within 2 s; every poll timed.
    zh = "国务院新闻办公室今天就双边贸易谈判举行发布会。"
    en = "The State Council Information Office held a briefing today."
    created = requests.post(f"{one.url}/api/v1/units", json={"memory": "news", "zh": zh, "en": en},
                            headers=auth(token), timeout=10)
    assert created.status_code == 201, created.text
    written = time.monotonic()
    polls: list[float] = []
    while True:
        started = time.monotonic()
        matches = requests.get(f"{two.url}/api/v1/tm/lookup", params={"q": zh, "src": "zh", "tgt": "en"},
                               timeout=10).json()["matches"]
        polls.append(time.monotonic() - started)
        if any(m["unit_id"] == created.json()["id"] for m in matches) or time.monotonic() - written > 10:
            break
        time.sleep(0.05)
    found_after = time.monotonic() - written
    assert any(m["unit_id"] == created.json()["id"] and m["score"] == 100 for m in matches), polls
    assert found_after < VISIBLE_WITHIN, f"found after {found_after:.2f} s; polls took {polls}"


def test_a_worker_killed_mid_import_leaves_nothing_and_the_next_fails_the_job(cluster, tmp_path):
    url, start_server, start_worker = cluster
    token = _setup_admin(url)
    one, two = start_server("one"), start_server("two")
    wait_until_up(one, START_TIMEOUT)
    wait_until_up(two, START_TIMEOUT)
    worker = start_worker("worker")
    pairs = wmt_pairs(2000)
    # 40,000 real pairs made distinct by a number: an import of several seconds.
    data = _tmx([(f"{zh}（{i}）", f"{en} ({i})") for i in range(20) for zh, en in pairs])
    answer = requests.post(f"{one.url}/api/v1/memories/doomed/import", headers=auth(token),
                           files={"file": ("big.tmx", data)}, timeout=60)
    assert answer.status_code == 202, answer.text
    location = answer.headers["Location"]
    deadline = time.monotonic() + START_TIMEOUT  # the worker starts, then reads a first batch
    while True:
        job = requests.get(two.url + location, headers=auth(token), timeout=10).json()
        if job["state"] != "queued" and job["progress"]["done"] > 0 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert job["state"] == "running" and 0 < job["progress"]["done"] < len(data), job
    worker.send_signal(signal.SIGKILL)  # a crash: no chance to clean up
    worker.wait(timeout=10)
    assert requests.get(two.url + location, headers=auth(token), timeout=10).json()["state"] == "running"

    start_worker("worker-again")
    job = _wait_for(one, location, token, ("failed", "done"), timeout=START_TIMEOUT)
    assert job["state"] == "failed" and "interrupted" in job["error"]["message"], job
    assert job["error"]["worker"].endswith(f":{worker.pid}")
    memories = requests.get(f"{two.url}/api/v1/memories", timeout=10).json()["memories"]
    assert "doomed" not in {m["name"] for m in memories}
    assert requests.get(f"{two.url}/api/v1/units", timeout=10).json()["total"] == 0
    assert list((tmp_path / "jobs" / "uploads").glob("*")) == []  # the failed job's upload is gone
