"""Batch writes through the API, token management in the browser, and the per-token rate limit."""
from __future__ import annotations

import re

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
    third = client.post("/api/v1/units/batch", json={"memory": "news", "units": changed}, headers=auth(token)).get_json()
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
    from accounts.ratelimit import SlidingWindowLimiter

    app.extensions["token_rate_limiter"] = SlidingWindowLimiter(limit=3, window=60)
    token = token_for("translator", "read")
    statuses = [client.get("/api/v1/memories", headers=auth(token)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/memories", headers=auth(token))
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert client.get("/api/v1/memories", headers=auth(token_for("translator", "read"))).status_code == 200


def test_tokens_are_made_listed_and_revoked_in_the_browser(client, make_user):
    username, password = make_user("li", "editor")
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": username, "password": password, "csrf_token": csrf})
    created = client.post("/tokens", data={"name": "omegat", "scope": "write", "csrf_token": csrf}).get_data(as_text=True)
    secret = re.search(r'id="new-token">([^<]+)<', created).group(1)
    assert client.post("/api/v1/memories", json={"name": "x"}, headers=auth(secret)).status_code == 403  # editor, not admin
    assert client.get("/api/v1/units", headers=auth(secret)).status_code == 200
    token_id = re.search(r'name="revoke" value="(\d+)"', created).group(1)
    listing = client.post("/tokens", data={"revoke": token_id, "csrf_token": csrf}).get_data(as_text=True)
    assert "omegat" in listing and "revoked" in listing
    assert client.get("/api/v1/units", headers=auth(secret)).status_code == 401
