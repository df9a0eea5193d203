"""Batch writes through the API, token management in the browser, and the per-token rate limit."""
from __future__ import annotations

import re

import pytest

from tests.helpers import auth, wmt_pairs


def test_batch_upsert_is_idempotent(client, token_for):
    token = token_for("admin")
    client.post("/api/v1/memories", json={"name": "news"}, headers=auth(token))
    units = [{"zh": zh, "en": en, "note": "wmt"} for zh, en in wmt_pairs(30)]
    first = client.post("/api/v1/units/batch", json={"memory": "news", "units": units}, headers=auth(token)).get_json()
    assert (first["created"], first["updated"], first["unchanged"]) == (30, 0, 0)
    again = client.post("/api/v1/units/batch", json={"memory": "news", "units": units}, headers=auth(token)).get_json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 30)
    assert client.get("/api/v1/units?memory=news").get_json()["total"] == 30

    changed = [dict(units[0], note="checked"), {"id": first["ids"]["created"][1], "status": "draft"}]
    third = client.post("/api/v1/units/batch", json={"memory": "news", "units": changed},
                        headers=auth(token)).get_json()
    assert (third["created"], third["updated"]) == (0, 2)
    assert client.get(f"/api/v1/units/{first['ids']['created'][0]}").get_json()["note"] == "checked"


def test_a_bad_item_rejects_the_whole_batch(client, token_for):
    token = token_for("admin")
    client.post("/api/v1/memories", json={"name": "news"}, headers=auth(token))
    units = [{"zh": "甲", "en": "A"}, {"zh": "乙"}]
    response = client.post("/api/v1/units/batch", json={"memory": "news", "units": units}, headers=auth(token))
    assert response.status_code == 400
    assert response.get_json()["error"]["position"] == 1 and "'en'" in response.get_json()["error"]["message"]
    assert client.get("/api/v1/units").get_json()["total"] == 0


def test_requests_over_the_token_rate_get_429(app, client, token_for):
    app.config["TOKEN_RATE_LIMIT"] = "3/60"
    token = token_for("translator", "read")
    statuses = [client.get("/api/v1/memories", headers=auth(token)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/memories", headers=auth(token))
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert "3" in limited.get_json()["error"]["message"]
    assert client.get("/api/v1/memories", headers=auth(token_for("translator", "read"))).status_code == 200


def test_the_token_rate_is_shared_by_workers_and_by_every_way_of_sending_the_token(app, client, token_for,
                                                                                   database_url):
    """Two app instances on one database stand for two gunicorn workers; MyMemory's key= and
    tmserver's URL carry the same token and count against the same limit."""
    from app import create_app
    from web.extensions import db_engine

    app.config["TOKEN_RATE_LIMIT"] = "4/60"
    token = token_for("translator", "read")
    other_worker = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                               "TOKEN_RATE_LIMIT": "4/60"})
    try:
        assert client.get("/api/v1/memories", headers=auth(token)).status_code == 200
        assert other_worker.test_client().get("/api/v1/memories", headers=auth(token)).status_code == 200
        assert client.get("/api/mymemory/get", query_string={"q": "你好", "langpair": "zh|en",
                                                              "key": token}).status_code == 200
        assert client.get(f"/tmserver/{token}/zh/en/unit/你好").status_code == 200
        over = [client.get("/api/mymemory/get", query_string={"q": "你好", "langpair": "zh|en", "key": token}),
                client.get(f"/tmserver/{token}/zh/en/unit/你好"),
                other_worker.test_client().get("/api/v1/memories", headers=auth(token))]
        assert [r.status_code for r in over] == [429, 429, 429]
        assert all(int(r.headers["Retry-After"]) >= 1 for r in over)
    finally:
        db_engine(other_worker).dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_token_requests_are_counted_while_every_pooled_connection_is_in_use(app, token_for, database_url):
    """A request holds one of its process's pooled connections while its token is counted. The
    counters have a pool of their own: drawn from the request's pool, at one connection per
    process the count waited for the pool and was then waved through uncounted (and with the
    default pool, 20 racing requests deadlocked until the pool's timeout)."""
    from app import create_app
    from web.extensions import db_engine, ratelimit_engine

    token = token_for("translator", "read")
    one_connection = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                                 "TOKEN_RATE_LIMIT": "2/60", "DB_POOL_SIZE": 1, "DB_POOL_OVERFLOW": 0,
                                 "DB_LOCK_TIMEOUT": 1})
    try:
        client = one_connection.test_client()
        statuses = [client.get("/api/v1/memories", headers=auth(token)).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
    finally:
        db_engine(one_connection).dispose()
        ratelimit_engine(one_connection).dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_token_rate_still_counts_while_an_import_holds_sqlite_s_write_lock(app, client, token_for,
                                                                              database_url):
    """On SQLite an import holds the file's one write lock for as long as it runs; the counters
    live in a file of their own, so token requests are still counted (not waved through)."""
    import sqlite3

    app.config["TOKEN_RATE_LIMIT"] = "2/60"
    token = token_for("translator", "read")
    # Used once before: the token's last-use time is then not written again within a minute.
    assert client.get("/api/v1/memories", headers=auth(token)).status_code == 200
    importer = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0)
    try:
        importer.execute("BEGIN IMMEDIATE")  # what a running import holds
        statuses = [client.get("/api/v1/memories", headers=auth(token)).status_code for _ in range(2)]
    finally:
        importer.rollback()
        importer.close()
    assert statuses == [200, 429]


def test_tokens_are_made_listed_and_revoked_in_the_browser(client, make_user):
    username, password = make_user("li", "editor")
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": username, "password": password, "csrf_token": csrf})
    created = client.post("/tokens",
                          data={"name": "omegat", "scope": "write", "csrf_token": csrf}).get_data(as_text=True)
    secret = re.search(r'id="new-token">([^<]+)<', created).group(1)
    # An editor's token, and making memories is for admins.
    assert client.post("/api/v1/memories", json={"name": "x"}, headers=auth(secret)).status_code == 403
    assert client.get("/api/v1/units", headers=auth(secret)).status_code == 200
    token_id = re.search(r'name="revoke" value="(\d+)"', created).group(1)
    listing = client.post("/tokens", data={"revoke": token_id, "csrf_token": csrf}).get_data(as_text=True)
    assert "omegat" in listing and "revoked" in listing
    assert client.get("/api/v1/units", headers=auth(secret)).status_code == 401
