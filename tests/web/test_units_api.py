"""The units API: create, read, update, delete, history; who may do what."""
from __future__ import annotations

import re

import pytest

from tests.helpers import auth


@pytest.fixture
def memory(client, token_for):
    admin = token_for("admin")
    response = client.post("/api/v1/memories", json={"name": "news"}, headers=auth(admin))
    assert response.status_code == 201
    return "news"


def test_crud_with_history(client, token_for, memory):
    editor = token_for("editor", username="li")
    created = client.post("/api/v1/units", json={"memory": memory, "zh": "索契会晤", "en": "The Sochi meeting"},
                          headers=auth(editor))
    assert created.status_code == 201
    unit = created.get_json()
    assert unit["created_by"] == "li" and unit["status"] == "approved"

    again = client.post("/api/v1/units", json={"memory": memory, "zh": "索契会晤", "en": "The Sochi meeting"},
                        headers=auth(editor))
    assert again.status_code == 200 and again.get_json()["id"] == unit["id"]

    changed = client.patch(f"/api/v1/units/{unit['id']}", json={"en": "The Sochi talks", "status": "draft"},
                           headers=auth(editor))
    assert changed.status_code == 200
    assert changed.get_json()["en"] == "The Sochi talks"
    assert client.get(f"/api/v1/units/{unit['id']}").get_json()["status"] == "draft"

    assert client.delete(f"/api/v1/units/{unit['id']}", headers=auth(editor)).status_code == 204
    assert client.get(f"/api/v1/units/{unit['id']}").status_code == 404

    history = client.get(f"/api/v1/units/{unit['id']}/history").get_json()["events"]
    assert [e["action"] for e in history] == ["create", "update", "delete"]
    assert all(e["user"] == "li" for e in history)
    assert history[1]["before"]["en"] == "The Sochi meeting" and history[1]["after"]["en"] == "The Sochi talks"


def test_writes_need_rights_and_change_nothing_without_them(client, token_for, memory):
    body = {"memory": memory, "zh": "人民日报", "en": "People's Daily"}
    assert client.post("/api/v1/units", json=body).status_code == 401
    assert client.post("/api/v1/units", json=body, headers=auth(token_for("editor", "read"))).status_code == 403
    assert client.post("/api/v1/units", json=body, headers=auth(token_for("translator", "write"))).status_code == 403
    assert client.post("/api/v1/units", json=body, headers=auth("dz_not-a-token")).status_code == 401
    assert client.get("/api/v1/units").get_json()["total"] == 0


def test_revoked_token_is_refused(app, client, token_for, memory):
    from sqlalchemy import select

    from accounts import service
    from accounts.models import ApiToken
    from db import new_session

    secret = token_for("editor")
    with app.app_context():
        session = new_session()
        token = session.scalars(select(ApiToken).where(ApiToken.prefix == secret[:10])).one()
        service.revoke_token(session, token.user, token.id)
        session.commit()
        session.close()
    response = client.post("/api/v1/units", json={"memory": memory, "zh": "甲", "en": "A"}, headers=auth(secret))
    assert response.status_code == 401


def test_anonymous_read_can_be_switched_off(app, client, memory):
    assert client.get("/api/v1/units").status_code == 200
    app.config["ANONYMOUS_READ"] = False
    response = client.get("/api/v1/units")
    assert response.status_code == 401
    assert "token" in response.get_json()["error"]["message"]


def test_bad_fields_are_named(client, token_for, memory):
    editor = token_for("editor")
    response = client.post("/api/v1/units", json={"memory": memory, "zh": "", "en": "x"}, headers=auth(editor))
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "zh"
    response = client.post("/api/v1/units", json={"memory": memory, "zh": "甲", "en": "A", "status": "final"},
                           headers=auth(editor))
    assert response.status_code == 400 and "status" in response.get_json()["error"]["message"]
    response = client.post("/api/v1/units", data="not json",
                           headers={**auth(editor), "Content-Type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.get_json()["error"]["message"]


def test_browser_session_writes_need_the_csrf_header(client, make_user, memory):
    username, password = make_user("ed", "editor")
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf})
    assert answer.status_code == 302
    body = {"memory": memory, "zh": "甲", "en": "A"}
    assert client.post("/api/v1/units", json=body).status_code == 400
    assert client.post("/api/v1/units", json=body, headers={"X-CSRFToken": csrf}).status_code == 201


def test_login_without_csrf_token_is_refused(client, make_user):
    username, password = make_user("ed", "editor")
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 400
