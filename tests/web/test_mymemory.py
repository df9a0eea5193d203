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


def test_post_with_a_form_body_answers_as_get(client, filled):
    _, pairs = filled
    zh, en = pairs[7]
    form = {"q": zh, "langpair": "zh-CN|en", "numres": "3"}
    by_get = client.get("/api/mymemory/get", query_string=form).get_json()
    by_post = client.post("/api/mymemory/get", data=form)
    assert by_post.status_code == 200 and by_post.get_json() == by_get
    assert by_get["responseData"]["translatedText"] == en


def test_post_takes_text_longer_than_a_url_could(client, filled):
    _, pairs = filled
    long_text = "".join(zh for zh, _ in pairs)[:2000]
    assert len(long_text.encode()) * 3 > 8190  # percent-encoded, over any request-line limit
    response = client.post("/api/mymemory/get", data={"q": long_text, "langpair": "zh|en"})
    assert response.status_code == 200 and response.get_json()["responseStatus"] == 200


def test_post_with_a_token_in_the_form_and_bad_utf8(client, filled, app, token_for):
    _, pairs = filled
    app.config["ANONYMOUS_READ"] = False
    reader = token_for("translator", scope="read")
    ok = client.post("/api/mymemory/get", data={"q": pairs[1][0], "langpair": "zh|en", "key": reader})
    assert ok.status_code == 200
    bad = client.post("/api/mymemory/get", data=b"q=%E4%B8&langpair=zh|en&key=" + reader.encode(),
                      content_type="application/x-www-form-urlencoded")
    assert bad.status_code == 400 and "UTF-8" in bad.get_json()["responseDetails"]
