"""/healthz, /readyz and /metrics (ops/), on both engines."""
from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import auth, import_pairs, wmt_pairs
from web.extensions import live_index


def metrics(client, **headers) -> dict[str, list]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/plain" and "version=" in response.content_type
    return {family.name: family.samples for family in text_string_to_metric_families(response.get_data(as_text=True))}


def test_healthz_answers_without_the_database(client, app):
    app.config["ANONYMOUS_READ"] = False  # no login needed either
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_waits_for_the_index_then_reports_its_lag(client, app, token_for):
    not_yet = client.get("/readyz")
    assert not_yet.status_code == 503 and not_yet.headers["Retry-After"]
    body = not_yet.get_json()
    assert body["ready"] is False and body["database"] is True
    assert body["problems"] == ["lookup index not built"] and body["index"]["built"] is False

    admin = token_for("admin")
    pairs = wmt_pairs(10)
    import_pairs(client, admin, pairs)
    assert client.get("/api/v1/tm/lookup", query_string={"q": pairs[0][0]}).status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.headers["Cache-Control"] == "no-store"
    index = ready.get_json()["index"]
    assert index["built"] and index["units"] == 10 and index["events_behind"] == 0
    assert index["seconds_since_refresh"] >= 0

    # A write this process has not yet read from the event log: still ready, and the lag says so.
    behind = live_index(app).cursor.last_id
    created = client.post("/api/v1/units", json={"memory": "news", "zh": "一个新句子。", "en": "A new sentence."},
                          headers=auth(admin))
    assert created.status_code == 201
    live_index(app).cursor.last_id = behind  # as another worker would still see it
    lagging = client.get("/readyz").get_json()
    assert lagging["ready"] is True and lagging["index"]["events_behind"] >= 1


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_readyz_says_503_when_the_database_is_unreachable(engine, tmp_path):
    from app import create_app

    url = (f"sqlite:///{tmp_path}/missing-folder/duizhao.sqlite3" if engine == "sqlite"
           else "postgresql+psycopg://postgres@127.0.0.1:5432/duizhao_no_such_database")
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test",
                      "RATELIMIT_STORAGE_URI": "memory://", "DB_LOCK_TIMEOUT": 2})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] is False and body["ready"] is False
    assert any(problem.startswith("database unreachable") for problem in body["problems"])
    assert "duizhao_no_such_database" not in response.get_data(as_text=True)


def test_metrics_label_requests_by_url_rule_never_by_path(client, app, token_for):
    reader = token_for("translator", scope="read")
    secret_text = "机密的查询文本"
    assert client.get(f"/tmserver/{reader}/zh/en/unit/{secret_text}").status_code == 200
    assert client.get("/api/v1/tm/lookup", query_string={"q": secret_text}).status_code == 200
    assert client.get("/no/such/page").status_code == 404
    found = metrics(client)
    text = client.get("/metrics").get_data(as_text=True)
    assert reader not in text and secret_text not in text and "/no/such/page" not in text

    counts = {(s.labels["method"], s.labels["route"], s.labels["status"])
              for s in found["duizhao_http_request_duration_seconds"] if s.name.endswith("_count")}
    assert ("GET", "/tmserver/<token>/<src>/<tgt>/unit/<path:text>", "200") in counts
    assert ("GET", "/api/v1/tm/lookup", "200") in counts
    assert ("GET", "<unmatched>", "404") in counts
    buckets = [s for s in found["duizhao_http_request_duration_seconds"]
               if s.name.endswith("_bucket") and s.labels["route"] == "/api/v1/tm/lookup"]
    assert buckets and buckets[-1].labels["le"] == "+Inf"

    assert found["duizhao_tm_index_units"][0].value == len(live_index(app))
    assert found["duizhao_tm_event_log_last_id"][0].value >= 0
    assert found["duizhao_tm_index_lag_events"][0].value == 0
    assert "duizhao_db_pool_connections_in_use" in found


def test_metrics_token_when_configured(client, app, token_for):
    app.config["METRICS_TOKEN"] = "scrape-me"
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    # Only that token: an API token does not read the metrics then.
    assert client.get("/metrics", headers=auth(token_for("admin"))).status_code == 401
    assert "duizhao_http_request_duration_seconds" in metrics(client, Authorization="Bearer scrape-me")


def test_without_anonymous_read_metrics_need_a_read_token_and_readyz_says_only_ready(client, app, token_for):
    reader = token_for("translator", scope="read")
    assert client.get("/api/v1/tm/lookup", query_string={"q": "经济"}, headers=auth(reader)).status_code == 200
    app.config["ANONYMOUS_READ"] = False
    assert client.get("/metrics").status_code == 401
    assert "duizhao_tm_index_units" in metrics(client, **auth(reader))
    stranger = client.get("/readyz")
    assert stranger.status_code == 200 and stranger.get_json() == {"ready": True}
    assert client.get("/readyz", headers=auth(reader)).get_json()["index"]["built"] is True
    assert client.get("/healthz").status_code == 200


def test_past_its_admission_limits_a_worker_answers_503_with_retry_after_and_health_still_answers(client, app):
    from app import _settings_from_environment
    from common.admission import AdmissionLimits
    from web.extensions import admission_gate

    defaults = _settings_from_environment(app)
    assert (defaults["ADMIT_ACTIVE"], defaults["ADMIT_QUEUE"], defaults["ADMIT_WAIT"]) == (2, 16, 0.1)  # README's
    gate = admission_gate(app)
    assert gate.limits == AdmissionLimits(active=app.config["ADMIT_ACTIVE"], queue=app.config["ADMIT_QUEUE"],
                                          wait=app.config["ADMIT_WAIT"])
    gate.limits = AdmissionLimits(active=1, queue=0, wait=0)
    refused_before = sum(s.value for s in metrics(client).get("duizhao_http_requests_refused", ())
                         if s.name.endswith("_total"))
    assert gate.enter()  # a request in progress holds the only slot
    try:
        busy = client.get("/api/v1/tm/lookup", query_string={"q": "经济"})
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
        assert "busy" in busy.get_json()["error"]["message"]
        # Refused before Flask (ops.admission), yet in the reader's language, as web.errors answers.
        chinese = client.get("/tmserver/zh/en/unit/经济", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        assert chinese.status_code == 503 and chinese.headers["Retry-After"] == "1"
        assert chinese.get_json() == {"error": {"status": 503, "message": "服务繁忙，未做任何更改。请 1 秒后重试。"}}
        # Refusals are kept by the headers that chose their language: each reader still gets theirs.
        again = client.get("/api/v1/tm/lookup", query_string={"q": "经济"},
                           headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        assert again.get_json() == chinese.get_json() and again.headers["Retry-After"] == "1"
        assert client.get("/api/v1/tm/lookup", query_string={"q": "经济"}).get_json() == busy.get_json()
        page = client.get("/")
        assert page.status_code == 503 and "text/html" in page.content_type
        assert client.get("/healthz").status_code == 200
        refused = metrics(client)["duizhao_http_requests_refused"]
        assert sum(s.value for s in refused if s.name.endswith("_total")) == refused_before + 5
    finally:
        gate.leave()
    assert client.get("/api/v1/tm/lookup", query_string={"q": "经济"}).status_code == 200
    assert (gate.running, gate.waiting) == (0, 0)  # every admitted request gave its slot back


def test_a_new_workers_first_requests_register_the_index_gauges_once():
    """Requests that finish together in a fresh process (its registry empty) share one set of
    index gauges: a second registration of the same names raised, and that request got a 500.
    In a subprocess, for a registry of its own; threads switch as often as they can."""
    import subprocess
    import sys

    from tests.helpers import ROOT

    script = """
import sys, threading
sys.setswitchinterval(1e-6)
from ops import metrics
barrier = threading.Barrier(16)
made, errors = [], []
def first():
    barrier.wait()
    try:
        made.append(id(metrics._index_gauges()))
    except Exception as err:
        errors.append(repr(err))
threads = [threading.Thread(target=first) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
print(len(made), len(set(made)), errors[:1])
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["16", "1"] and result.stdout.strip().endswith("[]"), result.stdout
