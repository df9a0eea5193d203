"""A segment's QA (POST /api/v1/qa) and storing a translation (POST /api/v1/translations):
numbers, glossary terms and untranslated Chinese in one answer; drafts for translators,
approved units for editors, the same pair once; on both engines."""
from __future__ import annotations

from tests.helpers import auth, make_memory

TRADE_ZH = "2018年美俄双边贸易总额为250亿美元，约为中俄贸易额的四分之一。"
UKRAINE = {
    "concept_type": "place",
    "terms": [
        {"lang": "zh", "text": "乌克兰", "status": "preferred"},
        {"lang": "en", "text": "Ukraine", "status": "preferred"},
        {"lang": "en", "text": "the Ukraine", "status": "deprecated"},
    ],
}


def test_qa_reports_numbers_terms_and_chinese_in_reading_order(client, token_for):
    editor = token_for("editor")
    assert client.post("/api/v1/glossary/entries", json=UKRAINE, headers=auth(editor)).status_code == 201
    source = "2018年，美俄贸易额为250亿美元，未涉及乌克兰问题。"
    target = "In 2018 US-Russia trade hit US$2.5 billion, not touching on 问题."
    answer = client.post("/api/v1/qa", json={"source": source, "target": target, "src": "zh", "tgt": "en"})
    assert answer.status_code == 200
    issues = answer.get_json()["issues"]
    assert [i["kind"] for i in issues] == ["number_changed", "missing_term", "untranslated"]
    changed, missing, untranslated = issues
    assert source[slice(*changed["source_span"])] == "250亿" and target[slice(*changed["target_span"])] == "2.5 billion"
    assert source[slice(*missing["source_span"])] == "乌克兰" and "Ukraine" in missing["message"]
    assert target[slice(*untranslated["target_span"])] == "问题"
    # A deprecated rendering; the reader's language for the sentences.
    answer = client.post("/api/v1/qa", json={"source": "未涉及乌克兰问题。", "target": "not touching on the Ukraine."},
                         headers={"Accept-Language": "zh-CN"})
    [issue] = answer.get_json()["issues"]
    assert issue["kind"] == "deprecated_term" and issue["severity"] == "warning"
    clean = client.post("/api/v1/qa", json={"source": TRADE_ZH, "target": "Trade for 2018 hit US$25 billion."})
    assert clean.get_json() == {"src": "zh", "tgt": "en", "issues": []}
    assert client.post("/api/v1/qa", json={"source": "", "target": "x"}).status_code == 400
    same = {"source": "乌克兰", "target": "x", "src": "zh", "tgt": "zh"}
    assert client.post("/api/v1/qa", json=same).status_code == 400


def test_store_makes_drafts_for_translators_approved_units_for_editors_and_one_unit_per_pair(client, token_for, app):
    make_memory(app, "news")
    translator, editor = token_for("translator", username="zhao"), token_for("editor", username="qian")
    body = {"memory": "news", "source": TRADE_ZH, "target": "Trade for 2018 hit US$25 billion.", "src": "zh",
            "tgt": "en", "doc_title": "US-Russia ties", "prev": "美国长期对俄罗斯实施经济制裁。", "next": ""}
    stored = client.post("/api/v1/translations", json=body, headers=auth(translator))
    assert stored.status_code == 201, stored.get_json()
    unit = stored.get_json()
    assert (unit["zh"], unit["en"], unit["status"], unit["created_by"]) == (
        TRADE_ZH, body["target"], "draft", "zhao")
    assert (unit["doc_title"], unit["context_prev"], unit["context_next"]) == (
        "US-Russia ties", "美国长期对俄罗斯实施经济制裁。", None)
    again = client.post("/api/v1/translations", json=body, headers=auth(translator))
    assert again.status_code == 200 and again.get_json()["outcome"] == "unchanged"
    approved = client.post("/api/v1/translations", json=body, headers=auth(editor))
    assert approved.status_code == 200 and approved.get_json()["outcome"] == "approved"
    assert client.get(f"/api/v1/units/{unit['id']}").get_json()["status"] == "approved"
    assert client.get("/api/v1/units?memory=news").get_json()["total"] == 1
    # Found by a lookup at once, in English → Chinese too.
    found = client.post("/api/v1/tm/lookup", json={"q": body["target"], "src": "en", "tgt": "zh"}).get_json()
    assert found["matches"][0]["target"] == TRADE_ZH


def test_store_refuses_clearly(client, token_for, app):
    make_memory(app, "news")
    body = {"memory": "news", "source": TRADE_ZH, "target": "Trade hit US$25 billion.", "src": "zh", "tgt": "en"}
    assert client.post("/api/v1/translations", json=body).status_code == 401
    read_only = client.post("/api/v1/translations", json=body, headers=auth(token_for("translator", "read")))
    assert read_only.status_code == 403
    translator = token_for("translator")
    empty = client.post("/api/v1/translations", json=body | {"target": "  "}, headers=auth(translator))
    assert empty.status_code == 400 and empty.get_json()["error"]["field"] == "target"
    unknown = client.post("/api/v1/translations", json=body | {"memory": "nope"}, headers=auth(translator))
    assert unknown.status_code == 404 and "nope" in unknown.get_json()["error"]["message"]
    assert client.get("/api/v1/units?memory=news").get_json()["total"] == 0
