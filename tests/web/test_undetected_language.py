"""A text with no letters of either script ("110", "2024", "……") is taken as Chinese by every
door that guesses a language (``common.languages.UNDETECTED``), so the same text gets the same
direction in a lookup, the concordance, the glossary's recognition and QA, and the article page.
Before, the lookup API, the concordance and the glossary API took it as English."""
from __future__ import annotations

import re

import pytest

from tests.helpers import auth

# A number is a term in a newsroom glossary: 110 is China's police emergency line.
HOTLINE = {"concept_type": "other", "terms": [
    {"lang": "zh", "text": "110", "status": "preferred"},
    {"lang": "en", "text": "police hotline", "status": "preferred"}]}


@pytest.fixture
def hotline(client, token_for):
    token = token_for("editor", username="wang")
    response = client.post("/api/v1/glossary/entries", json=HOTLINE, headers=auth(token))
    assert response.status_code == 201, response.get_json()
    return token


def test_lookup_api_looks_up_a_number_from_chinese(client):
    body = client.get("/api/v1/tm/lookup", query_string={"q": "2024"}).get_json()
    assert (body["src"], body["tgt"]) == ("zh", "en")
    posted = client.post("/api/v1/tm/lookup", json={"q": "……"}).get_json()
    assert (posted["src"], posted["tgt"]) == ("zh", "en")
    # Given languages are kept, and a given source alone still implies the other as target.
    given = client.get("/api/v1/tm/lookup", query_string={"q": "2024", "src": "en"}).get_json()
    assert (given["src"], given["tgt"]) == ("en", "zh")


def test_concordance_searches_a_number_in_chinese(client):
    assert client.get("/api/v1/tm/concordance", query_string={"q": "2024"}).get_json()["lang"] == "zh"
    assert client.get("/api/v1/tm/concordance", query_string={"q": "2024", "lang": "en"}).get_json()["lang"] == "en"


def test_glossary_recognize_reads_a_number_as_chinese(client, hotline):
    body = client.get("/api/v1/glossary/recognize", query_string={"text": "110"}).get_json()
    assert body["lang"] == "zh"
    assert [(t["surface"], t["targets"][0]["text"]) for t in body["terms"]] == [("110", "police hotline")]


def test_glossary_qa_api_checks_a_number_as_chinese_source(client, hotline):
    body = client.post("/api/v1/glossary/qa", json={"source": "110", "translation": "Call now."}).get_json()
    assert (body["src"], body["tgt"]) == ("zh", "en")
    assert [i["kind"] for i in body["issues"]] == ["missing_term"]


def test_glossary_qa_page_checks_a_number_as_chinese_source(client, hotline):
    # Unchanged: the page took such a text as Chinese before too.
    page = client.get("/glossary/qa").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post("/glossary/qa", data={"csrf_token": token, "source": "110", "translation": "Call now."})
    assert answer.status_code == 200 and "police hotline" in answer.get_data(as_text=True)


def test_article_page_exports_a_number_from_chinese(client):
    # Unchanged: the article page took such a text as Chinese before too.
    page = client.get("/workbench/article").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    export = client.post("/workbench/article/export", data={"csrf_token": token, "text": "2024", "format": "tsv"})
    assert export.status_code == 200 and "article-zh-en.tsv" in export.headers["Content-Disposition"]
