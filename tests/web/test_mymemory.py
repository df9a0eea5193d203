"""The MyMemory-shaped lookup, as MyMemory clients read it."""
from __future__ import annotations

import pytest

from tests.helpers import auth, import_pairs, wmt_pairs


@pytest.fixture
def filled(client, token_for):
    admin = token_for("admin")
    pairs = wmt_pairs(40)
    import_pairs(client, admin, pairs)
    return admin, pairs


def test_shape_of_an_exact_match(client, filled):
    _, pairs = filled
    zh, en = pairs[5]
    body = client.get("/api/mymemory/get", query_string={"q": zh, "langpair": "zh-CN|en"}).get_json()
    assert body["responseStatus"] == 200
    assert body["responseData"] == {"translatedText": en, "match": 1.0}
    top = body["matches"][0]
    assert (top["segment"], top["translation"], top["quality"], top["match"]) == (zh, en, "100", 1.0)
    assert isinstance(top["id"], str) and top["id"].isdigit()
    assert (top["source"], top["target"], top["subject"]) == ("zh-CN", "en", "All")
    for key in ("created-by", "create-date", "last-update-date", "reference", "usage-count"):
        assert key in top
    assert len(top["create-date"]) == 19 and top["create-date"][4] == "-"


def test_reverse_direction_fuzzy_and_token_as_key(client, filled, app, token_for):
    _, pairs = filled
    zh, en = pairs[9]
    app.config["ANONYMOUS_READ"] = False
    query = {"q": en.rstrip(".") + " today.", "langpair": "en-GB|zh-TW"}
    denied = client.get("/api/mymemory/get", query_string=query)
    assert denied.status_code == 401 and denied.get_json()["responseStatus"] == 401
    reader = token_for("translator", scope="read")
    body = client.get("/api/mymemory/get", query_string={**query, "key": reader}).get_json()
    top = body["matches"][0]
    assert top["translation"] == zh and 0.7 <= top["match"] < 1 and int(top["quality"]) < 100
    assert body["responseData"]["match"] == top["match"]
    assert client.get("/api/mymemory/get", query_string=query, headers=auth(reader)).status_code == 200


def test_unknown_pair_and_errors(client, filled):
    empty = client.get("/api/mymemory/get", query_string={"q": "test", "langpair": "en|de"})
    assert empty.status_code == 200 and empty.get_json()["matches"] == []
    assert empty.get_json()["responseData"]["translatedText"] == ""
    for query in ({"q": "test", "langpair": "en"}, {"q": "", "langpair": "en|zh"}):
        response = client.get("/api/mymemory/get", query_string=query)
        body = response.get_json()
        assert response.status_code == 400 and body["responseStatus"] == 400 and body["responseDetails"]
        assert body["error"]["parameter"] in ("q", "langpair")
    bad_key = client.get("/api/mymemory/get", query_string={"q": "x", "langpair": "en|zh", "key": "dz_nope"})
    assert bad_key.status_code == 401
