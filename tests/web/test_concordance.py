"""Concordance: substring search in either language with offsets, paged."""
from __future__ import annotations

import pytest

from tests.helpers import auth


@pytest.fixture
def filled(client, token_for):
    token = token_for("admin")
    client.post("/api/v1/memories", json={"name": "news"}, headers=auth(token))
    pairs = [
        ("俄罗斯总统普京在索契会见了美国国务卿蓬佩奥。",
         "Russian President Vladimir Putin met US Secretary of State Mike Pompeo in Sochi."),
        ("人民日報海外版發表評論。", "The overseas edition of People's Daily ran a commentary."),
        ("人民日报社论", "A PEOPLE'S DAILY editorial"),
        ("两国缺乏战略互信。", "The two countries lack strategic mutual trust."),
    ]
    for zh, en in pairs:
        created = client.post("/api/v1/units", json={"memory": "news", "zh": zh, "en": en}, headers=auth(token))
        assert created.status_code == 201
    return pairs


def test_english_is_case_insensitive_with_offsets(client, filled):
    body = client.get("/api/v1/tm/concordance", query_string={"q": "people's daily"}).get_json()
    assert body["lang"] == "en" and body["total"] == 2
    for result in body["results"]:
        (start, end), = result["hits"]["en"]
        assert result["en"][start:end].lower() == "people's daily"


def test_chinese_is_script_insensitive(client, filled):
    body = client.get("/api/v1/tm/concordance", query_string={"q": "人民日报"}).get_json()
    assert body["lang"] == "zh" and body["total"] == 2
    found = {r["zh"][s:e] for r in body["results"] for s, e in r["hits"]["zh"]}
    assert found == {"人民日報", "人民日报"}
    traditional = client.get("/api/v1/tm/concordance", query_string={"q": "會見"}).get_json()
    assert traditional["total"] == 1 and traditional["results"][0]["zh"].startswith("俄罗斯")


def test_paging_and_bad_parameters(client, filled):
    first = client.get("/api/v1/tm/concordance", query_string={"q": "。", "lang": "zh", "per_page": 2}).get_json()
    second = client.get("/api/v1/tm/concordance",
                        query_string={"q": "。", "lang": "zh", "per_page": 2, "page": 2}).get_json()
    assert first["total"] == 3 and len(first["results"]) == 2 and len(second["results"]) == 1
    assert {r["id"] for r in first["results"]}.isdisjoint({r["id"] for r in second["results"]})
    assert client.get("/api/v1/tm/concordance?q=").status_code == 400
    bad_page = client.get("/api/v1/tm/concordance?q=x&page=two")
    assert bad_page.status_code == 400 and bad_page.get_json()["error"]["parameter"] == "page"
    bad_lang = client.get("/api/v1/tm/concordance?q=x&lang=de").get_json()["error"]
    assert bad_lang["supported"] == ["zh", "en"]
    assert client.get("/api/v1/tm/concordance?q=x&memory=nope").status_code == 404


def test_concordance_page_escapes_user_text(client, token_for):
    token = token_for("admin")
    client.post("/api/v1/memories", json={"name": "m"}, headers=auth(token))
    client.post("/api/v1/units", json={"memory": "m", "zh": "脚本<script>alert(1)</script>", "en": "a <script> tag"},
                headers=auth(token))
    html = client.get("/concordance", query_string={"q": "script", "lang": "en"}).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
