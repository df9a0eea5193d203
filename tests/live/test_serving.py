"""gunicorn as ``make run`` starts it (``gunicorn.conf.py``): the request line tmserver clients
need, readiness once the preloaded index is built, and /metrics gathered from every worker."""
from __future__ import annotations

import time
from urllib.parse import quote

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import flask, server_env
from tests.live.conftest import PYTHON, START_TIMEOUT, Server, free_port, spawn

#: Weblate's client cuts the text at this many characters (cattools.tmserver.WEBLATE_TEXT_LIMIT).
WEBLATE_TEXT_LIMIT = 500


@pytest.fixture
def configured_server(tmp_path):
    started: list[Server] = []

    def start(database_url: str) -> Server:
        port = free_port()
        env = server_env(database_url) | {"BIND": f"127.0.0.1:{port}", "WORKERS": "2",
                                          "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
        log = tmp_path / "gunicorn.log"
        process = spawn([PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py"], env, log)
        server = Server(f"http://127.0.0.1:{port}", process, log)
        started.append(server)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                if requests.get(f"{server.url}/readyz", timeout=10).status_code == 200:
                    return server
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.2)
        raise AssertionError(f"not ready within {START_TIMEOUT:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")

    yield start
    for server in started:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def served_database(request, tmp_path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'duizhao.sqlite3'}"
        flask(url, "db", "upgrade")
        return url
    return request.getfixturevalue("clean_postgres_url")


def test_a_500_character_chinese_tmserver_lookup_fits_the_request_line(configured_server, served_database,
                                                                      tmp_path):
    zh = ("国务院新闻办公室今天举行发布会介绍经济运行情况" * 30)[:WEBLATE_TEXT_LIMIT]
    table = f"zh\ten\n{zh}\tThe State Council Information Office held a briefing today.\n"
    path = tmp_path / "long.tsv"
    path.write_text(table, encoding="utf-8")
    flask(served_database, "tm", "import", str(path), "--memory", "news")
    server = configured_server(served_database)
    # As Weblate sends it: every byte percent-encoded, "/" included.
    url = f"{server.url}/tmserver/zh_hans/en_us/unit/{quote(zh, safe='')}?min_similarity=10&max_candidates=20"
    assert len(url) - len(server.url) > 4094  # past gunicorn's default limit
    deadline = time.monotonic() + 5
    while True:  # the import reached the preloaded index through the event log
        response = requests.get(url, timeout=30)
        assert response.status_code == 200, response.text[:500]
        if response.json() or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert response.headers["Content-Type"].startswith("application/json")
    (match,) = response.json()
    assert match["source"] == zh and match["quality"] == 100


def test_metrics_gather_every_worker(configured_server, tmp_path):
    url = f"sqlite:///{tmp_path / 'duizhao.sqlite3'}"
    flask(url, "db", "upgrade")
    server = configured_server(url)
    for _ in range(20):  # enough that both workers serve some
        assert requests.get(f"{server.url}/api/v1/tm/lookup", params={"q": "经济"}, timeout=10).status_code == 200
    text = requests.get(f"{server.url}/metrics", timeout=10).text
    families = {f.name: f.samples for f in text_string_to_metric_families(text)}
    lookups = [s for s in families["duizhao_http_request_duration_seconds"]
               if s.name.endswith("_count") and s.labels["route"] == "/api/v1/tm/lookup"]
    assert sum(s.value for s in lookups) == 20
    # One index per worker, each with its own series; the master (which built the first copy)
    # serves no request and has none.
    pids = {s.labels["pid"] for s in families["duizhao_tm_index_units"]}
    assert 1 <= len(pids) <= 2
    assert {s.labels["pid"] for s in families["duizhao_tm_index_lag_events"]} == pids
    assert [s.value for s in families["duizhao_db_pool_connections_in_use"]] == [pytest.approx(0, abs=2)]
