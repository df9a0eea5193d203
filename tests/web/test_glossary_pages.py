"""The glossary's browser pages: who may edit, proposals through the form, conflicts shown."""
from __future__ import annotations

import re

import pytest


def login(client, make_user, name: str, role: str) -> str:
    username, password = make_user(name, role)
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf})
    assert answer.status_code == 302
    return csrf


def entry_form(csrf: str, version="", zh="人民日报", en="People's Daily") -> dict:
    return {"csrf_token": csrf, "version": version, "concept_type": "media_outlet",
            "terms-0-lang": "zh", "terms-0-text": zh, "terms-0-status": "preferred",
            "terms-1-lang": "en", "terms-1-text": en, "terms-1-status": "preferred"}


def test_editor_creates_and_edits_with_conflict_detection(client, make_user):
    csrf = login(client, make_user, "ed", "editor")
    created = client.post("/glossary/new", data=entry_form(csrf))
    assert created.status_code == 302
    entry_url = created.headers["Location"]
    entry_id = int(entry_url.rstrip("/").split("/")[-1])
    page = client.get(entry_url).get_data(as_text=True)
    assert "People&#39;s Daily" in page and "create" in page

    edited = client.post(f"/glossary/{entry_id}/edit", data=entry_form(csrf, version=1, en="The People's Daily"))
    assert edited.status_code == 302
    stale = client.post(f"/glossary/{entry_id}/edit", data=entry_form(csrf, version=1, en="Renmin Ribao"))
    assert stale.status_code == 409 and "while you edited" in stale.get_data(as_text=True)
    history = client.get(f"/api/v1/glossary/entries/{entry_id}/history").get_json()["events"]
    assert [e["action"] for e in history] == ["create", "update"]


def test_translator_proposes_through_the_form_and_cannot_reach_editing(client, make_user):
    csrf = login(client, make_user, "tr", "translator")
    response = client.post("/glossary/new", data=entry_form(csrf))
    assert response.status_code == 302
    assert client.get("/api/v1/glossary/entries").get_json()["total"] == 0
    assert client.get("/api/v1/glossary/proposals").get_json()["proposals"][0]["proposed_by"] == "tr"
    assert client.get("/glossary/proposals").status_code == 403
    forbidden = client.post("/glossary/1/delete", data={"csrf_token": csrf})
    assert forbidden.status_code == 403 and "editor" in forbidden.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/glossary/new", "/import"])
def test_anonymous_visitors_are_asked_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"] == f"/login?next={path}"


def test_qa_page_reports_problems(client, make_user):
    csrf = login(client, make_user, "ed", "editor")
    client.post("/glossary/new", data=entry_form(csrf))
    page = client.post("/glossary/qa", data={"csrf_token": csrf, "source": "人民日报发表评论",
                                             "translation": "The newspaper ran a commentary."})
    assert page.status_code == 200 and "missing" in page.get_data(as_text=True).lower()


def test_messages_from_the_server_are_in_the_reader_s_language(client, make_user):
    csrf = login(client, make_user, "tr", "translator")
    refused = client.get("/glossary/proposals", headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 403 and "此操作需要“编辑”角色" in refused.get_data(as_text=True)
    client.post("/glossary/new", data=entry_form(csrf), headers={"Accept-Language": "zh-CN"})
    page = client.get("/glossary/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "您的提议" in page and "waits for an editor" not in page
