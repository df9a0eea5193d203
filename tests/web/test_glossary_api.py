"""The glossary through the API: editing rights, history, conflicts, proposals, recognition in lookups."""
from __future__ import annotations

import pytest

from tests.helpers import auth

CASS = {
    "concept_type": "institution",
    "definition": "China's national academy for philosophy and the social sciences.",
    "terms": [
        {"lang": "zh", "text": "中国社会科学院", "status": "preferred"},
        {"lang": "zh", "text": "社科院", "status": "admitted", "term_type": "shortForm"},
        {"lang": "en", "text": "Chinese Academy of Social Sciences", "status": "preferred"},
        {"lang": "en", "text": "CASS", "status": "admitted", "term_type": "acronym", "case_sensitive": True},
    ],
}


@pytest.fixture
def editor(token_for):
    return token_for("editor", username="wang")


def create(client, token, body=CASS):
    response = client.post("/api/v1/glossary/entries", json=body, headers=auth(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_editor_creates_and_lookup_returns_the_terms(client, editor):
    entry = create(client, editor)
    assert entry["version"] == 1 and [t["text"] for t in entry["terms"]][:1] == ["中国社会科学院"]
    found = client.get("/api/v1/glossary/recognize", query_string={"text": "据中国社会科学院研究员李永辉说"}).get_json()
    (hit,) = found["terms"]
    assert (hit["start"], hit["end"], hit["surface"]) == (1, 8, "中国社会科学院")
    assert hit["targets"][0] == {**hit["targets"][0], "text": "Chinese Academy of Social Sciences",
                                 "status": "preferred"}
    lookup = client.get("/api/v1/tm/lookup", query_string={"q": "社科院的研究员"}).get_json()
    assert [t["surface"] for t in lookup["terms"]] == ["社科院"]


def test_a_changed_rendering_shows_in_the_next_lookup(client, editor):
    entry = create(client, editor)
    body = {**CASS, "version": entry["version"], "terms": [
        {"lang": "zh", "text": "中国社会科学院"}, {"lang": "en", "text": "Chinese Academy of Social Sciences (CASS)"}]}
    assert client.put(f"/api/v1/glossary/entries/{entry['id']}", json=body, headers=auth(editor)).status_code == 200
    lookup = client.get("/api/v1/tm/lookup", query_string={"q": "中国社会科学院"}).get_json()
    assert lookup["terms"][0]["targets"][0]["text"] == "Chinese Academy of Social Sciences (CASS)"


def test_second_editor_saving_the_same_version_gets_a_conflict(client, editor, token_for):
    entry = create(client, editor)
    other = token_for("editor", username="zhao")
    first = {**CASS, "version": 1, "definition": "first"}
    second = {**CASS, "version": 1, "definition": "second"}
    assert client.put(f"/api/v1/glossary/entries/{entry['id']}", json=first, headers=auth(editor)).status_code == 200
    response = client.put(f"/api/v1/glossary/entries/{entry['id']}", json=second, headers=auth(other))
    assert response.status_code == 409
    assert "wang" in response.get_json()["error"]["message"]
    assert client.get(f"/api/v1/glossary/entries/{entry['id']}").get_json()["definition"] == "first"


def test_translator_cannot_edit_but_can_propose(client, editor, token_for):
    translator = token_for("translator", username="chen")
    assert client.post("/api/v1/glossary/entries", json=CASS, headers=auth(translator)).status_code == 403
    assert client.get("/api/v1/glossary/entries").get_json()["total"] == 0
    proposal = client.post("/api/v1/glossary/proposals", json={"entry": CASS}, headers=auth(translator))
    assert proposal.status_code == 201
    pid = proposal.get_json()["id"]
    assert client.post(f"/api/v1/glossary/proposals/{pid}/accept", headers=auth(translator)).status_code == 403
    accepted = client.post(f"/api/v1/glossary/proposals/{pid}/accept", headers=auth(editor)).get_json()
    assert accepted["state"] == "accepted" and accepted["decided_by"] == "wang"
    assert client.get("/api/v1/glossary/entries").get_json()["total"] == 1


def test_delete_keeps_history_and_merge_joins_terms(client, editor):
    entry = create(client, editor)
    duplicate = create(client, editor, {"concept_type": "institution", "terms": [
        {"lang": "zh", "text": "中国社科院", "status": "admitted"},
        {"lang": "en", "text": "CASS", "case_sensitive": True}]})
    merged = client.post(f"/api/v1/glossary/entries/{entry['id']}/merge", json={"merge": duplicate["id"]},
                         headers=auth(editor)).get_json()
    assert "中国社科院" in [t["text"] for t in merged["terms"]]
    assert [t["text"] for t in merged["terms"]].count("CASS") == 1
    assert client.get(f"/api/v1/glossary/entries/{duplicate['id']}").get_json()["deleted"] is True

    assert client.delete(f"/api/v1/glossary/entries/{entry['id']}", headers=auth(editor)).status_code == 204
    assert client.get("/api/v1/glossary/entries").get_json()["total"] == 0
    history = client.get(f"/api/v1/glossary/entries/{entry['id']}/history").get_json()["events"]
    assert [e["action"] for e in history] == ["create", "merge", "delete"]
    assert {e["user"] for e in history} == {"wang"}
    assert client.get("/api/v1/glossary/recognize", query_string={"text": "中国社会科学院"}).get_json()["terms"] == []


def test_bad_entries_are_refused_with_the_reason(client, editor):
    bad_status = {"concept_type": "institution", "terms": [{"lang": "zh", "text": "甲", "status": "approved"}]}
    response = client.post("/api/v1/glossary/entries", json=bad_status, headers=auth(editor))
    assert response.status_code == 400 and "status" in response.get_json()["error"]["message"]
    empty = {"concept_type": "institution", "terms": [{"lang": "en", "text": " "}]}
    assert client.post("/api/v1/glossary/entries", json=empty, headers=auth(editor)).status_code == 400
    no_lang = {"concept_type": "institution", "terms": [{"text": "x"}]}
    refused = client.post("/api/v1/glossary/entries", json=no_lang, headers=auth(editor)).get_json()
    assert "language" in refused["error"]["message"]


def test_qa_reports_missing_and_forbidden_terms(client, editor):
    create(client, editor)
    create(client, editor, {"concept_type": "place", "terms": [
        {"lang": "zh", "text": "乌克兰"}, {"lang": "en", "text": "Ukraine"},
        {"lang": "en", "text": "the Ukraine", "status": "forbidden"}]})
    body = {"source": "中国社会科学院谈乌克兰问题", "translation": "The academy discussed the Ukraine issue."}
    issues = client.post("/api/v1/glossary/qa", json=body).get_json()["issues"]
    kinds = sorted(i["kind"] for i in issues)
    assert any("missing" in k for k in kinds) and any("forbidden" in k for k in kinds)


def test_a_dated_lookup_knows_which_term_applies(client, editor):
    create(client, editor, {"concept_type": "title", "terms": [
        {"lang": "zh", "text": "美国国务卿"},
        {"lang": "en", "text": "US Secretary of State Mike Pompeo", "valid_from": "2018-04-26",
         "valid_to": "2021-01-20"},
        {"lang": "en", "text": "US Secretary of State"}]})

    def rendering(day):
        terms = client.get("/api/v1/tm/lookup",
                           query_string={"q": "美国国务卿访问索契", "date": day}).get_json()["terms"]
        return [t["text"] for t in terms[0]["targets"]]

    assert "US Secretary of State Mike Pompeo" in rendering("2019-05-14")
    assert rendering("2022-01-01") == ["US Secretary of State"]
    assert client.get("/api/v1/tm/lookup", query_string={"q": "x", "date": "May 14"}).status_code == 400
