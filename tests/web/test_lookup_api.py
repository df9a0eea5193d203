"""Fuzzy lookup through the API, in both directions, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from tests.helpers import auth, job_outcome, wmt_pairs

SOCHI_ZH = "俄罗斯总统普京14日在索契会见了来访的美国国务卿蓬佩奥。"
SOCHI_EN = "Russian President Vladimir Putin met with visiting US Secretary of State Mike Pompeo on the 14th in Sochi."
TRADE_ZH = "2018年双边贸易总额达到250亿美元。"
TRADE_EN = "The total value of bilateral trade for 2018 hit US$25 billion."


@pytest.fixture
def editor(client, token_for):
    token = token_for("admin")
    client.post("/api/v1/memories", json={"name": "news"}, headers=auth(token))
    return token


def add(client, token, zh, en, memory="news", **fields):
    response = client.post("/api/v1/units", json={"memory": memory, "zh": zh, "en": en, **fields}, headers=auth(token))
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()["id"]


def test_exact_and_fuzzy_in_both_directions(client, editor):
    for zh, en in wmt_pairs(200):
        add(client, editor, zh, en)
    unit = add(client, editor, SOCHI_ZH, SOCHI_EN)

    exact = client.get("/api/v1/tm/lookup", query_string={"q": SOCHI_ZH, "src": "zh", "tgt": "en"}).get_json()
    top = exact["matches"][0]
    assert (top["unit_id"], top["score"], top["target"], top["memory"]) == (unit, 100, SOCHI_EN, "news")
    assert top["penalties"] == [] and top["diff"] == [{"op": "equal", "q": [0, len(SOCHI_ZH)], "s": [0, len(SOCHI_ZH)]}]

    edited = SOCHI_ZH.replace("来访的", "")
    fuzzy = client.get("/api/v1/tm/lookup", query_string={"q": edited, "src": "zh", "tgt": "en"}).get_json()["matches"]
    assert fuzzy[0]["unit_id"] == unit and 70 <= fuzzy[0]["score"] < 100
    deleted = [d for d in fuzzy[0]["diff"] if d["op"] == "delete"]
    assert [SOCHI_ZH[slice(*d["s"])] for d in deleted] == ["来访的"]
    assert [m["score"] for m in fuzzy] == sorted((m["score"] for m in fuzzy), reverse=True)

    backwards = client.get("/api/v1/tm/lookup",
                           query_string={"q": SOCHI_EN.lower(), "src": "en", "tgt": "zh"}).get_json()
    assert backwards["matches"][0]["target"] == SOCHI_ZH
    assert backwards["matches"][0]["score"] < 100
    assert {p["reason"] for p in backwards["matches"][0]["penalties"]} == {"case"}


def test_numbers_are_adapted_with_scale_words(client, editor):
    add(client, editor, TRADE_ZH, TRADE_EN)
    body = client.get("/api/v1/tm/lookup",
                      query_string={"q": "2019年双边贸易总额达到300亿美元。", "src": "zh"}).get_json()
    match = body["matches"][0]
    assert match["adapted"] is True
    assert match["adapted_target"] == "The total value of bilateral trade for 2019 hit US$30 billion."
    assert 90 <= match["score"] < 100


def test_context_match_scores_101(client, editor):
    add(client, editor, "两国缺乏战略互信。", "They lack mutual trust.", context_prev="甲。", context_next="乙。")
    body = {"q": "两国缺乏战略互信。", "src": "zh", "tgt": "en", "prev": "甲。", "next": "乙。"}
    assert client.post("/api/v1/tm/lookup", json=body).get_json()["matches"][0]["score"] == 101
    other = dict(body, prev="丙。")
    assert client.post("/api/v1/tm/lookup", json=other).get_json()["matches"][0]["score"] == 100


def test_draft_units_carry_a_penalty(client, editor):
    add(client, editor, SOCHI_ZH, SOCHI_EN, status="draft")
    match = client.get("/api/v1/tm/lookup", query_string={"q": SOCHI_ZH}).get_json()["matches"][0]
    assert match["penalties"] == [{"reason": "draft", "points": 5.0}] and match["score"] == 95


def test_memory_filter_and_changes_are_seen_at_once(client, editor):
    client.post("/api/v1/memories", json={"name": "other"}, headers=auth(editor))
    first = add(client, editor, SOCHI_ZH, SOCHI_EN)
    second = add(client, editor, SOCHI_ZH, "A second rendering.", memory="other")
    only_other = client.get("/api/v1/tm/lookup", query_string={"q": SOCHI_ZH, "memory": "other"}).get_json()
    assert [m["unit_id"] for m in only_other["matches"]] == [second]
    client.patch(f"/api/v1/units/{first}", json={"zh": "完全不同的句子。"}, headers=auth(editor))
    client.delete(f"/api/v1/units/{second}", headers=auth(editor))
    assert client.get("/api/v1/tm/lookup", query_string={"q": SOCHI_ZH}).get_json()["matches"] == []


def test_batch_lookup(client, editor):
    add(client, editor, SOCHI_ZH, SOCHI_EN)
    add(client, editor, TRADE_ZH, TRADE_EN)
    body = client.post("/api/v1/tm/lookup/batch",
                       json={"segments": [SOCHI_ZH, {"q": TRADE_ZH}, "毫无关系"], "src": "zh"}).get_json()
    assert [len(r["matches"]) for r in body["results"]] == [1, 1, 0]
    assert body["results"][1]["matches"][0]["target"] == TRADE_EN


@pytest.mark.parametrize("params, parameter", [
    ({"q": "   "}, "q"),
    ({"q": "x", "min_score": "101"}, "min_score"),
    ({"q": "x", "min_score": "high"}, "min_score"),
    ({"q": "x", "limit": "0"}, "limit"),
    ({"q": "x", "src": "de", "tgt": "en"}, "src"),
    ({"q": "x", "src": "en", "tgt": "fr"}, "tgt"),
])
def test_bad_parameters_are_named(client, params, parameter):
    response = client.get("/api/v1/tm/lookup", query_string=params)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["parameter"] == parameter
    if parameter in ("src", "tgt"):
        assert "zh-CN" in error["supported"] and "en" in error["supported"]


def test_a_very_long_query_still_answers(client, editor):
    add(client, editor, SOCHI_ZH, SOCHI_EN)
    response = client.get("/api/v1/tm/lookup", query_string={"q": SOCHI_ZH * 400})
    assert response.status_code == 200 and response.get_json()["matches"] == []


def import_pairs(client, token, pairs, memory="news"):
    table = "zh\ten\n" + "".join(f"{zh}\t{en}\n" for zh, en in pairs)
    response = client.post(f"/api/v1/memories/{memory}/import", data=table.encode(),
                           query_string={"format": "tsv", "filename": "news.tsv"}, headers=auth(token))
    outcome = job_outcome(client, response, auth(token))
    assert outcome.status_code == 201, outcome.get_json()


def test_min_score_zero_answers_every_door_best_first(client, editor):
    """min_score=0 (issue 12, item 1: it ran until the worker was killed) is a threshold like
    any other: every door answers with the best matches, sorted, and a lookup limited to one
    memory gets that memory's best even when every better match is elsewhere."""
    import_pairs(client, editor, wmt_pairs(400))
    client.post("/api/v1/memories", json={"name": "small"}, headers=auth(editor))
    add(client, editor, "中国人", "Chinese people", memory="small")

    def scores(matches):
        found = [m["score"] for m in matches]
        assert found == sorted(found, reverse=True)
        return found

    got = client.get("/api/v1/tm/lookup", query_string={"q": "中国", "min_score": 0})
    assert got.status_code == 200 and len(scores(got.get_json()["matches"])) == 10
    posted = client.post("/api/v1/tm/lookup", json={"q": SOCHI_EN, "min_score": 0, "limit": 100})
    assert posted.status_code == 200 and len(scores(posted.get_json()["matches"])) == 100
    batch = client.post("/api/v1/tm/lookup/batch", json={"segments": [z for z, _ in wmt_pairs(300)],
                                                         "src": "zh", "min_score": 0, "limit": 3})
    assert batch.status_code == 200
    results = batch.get_json()["results"]
    assert all(r["matches"][0]["score"] >= 99 and len(scores(r["matches"])) == 3 for r in results)
    mymemory = client.get("/api/mymemory/get", query_string={"q": "中国", "langpair": "zh|en", "min_score": 0})
    assert mymemory.status_code == 200 and mymemory.get_json()["matches"]
    small = client.get("/api/v1/tm/lookup", query_string={"q": "中国", "min_score": 0, "memory": "small"})
    assert [m["target"] for m in small.get_json()["matches"]] == ["Chinese people"]


def test_a_lower_priority_memory_is_penalised_only_among_the_memories_searched(client, token_for):
    admin = token_for("admin")
    for name, priority in (("house", 10), ("archive", 0)):
        assert client.post("/api/v1/memories", json={"name": name, "priority": priority},
                           headers=auth(admin)).status_code == 201
    add(client, admin, SOCHI_ZH, SOCHI_EN, memory="house")
    add(client, admin, SOCHI_ZH, SOCHI_EN.replace("Mike ", ""), memory="archive")

    both = client.get("/api/v1/tm/lookup", query_string={"q": SOCHI_ZH, "src": "zh"}).get_json()["matches"]
    assert [(m["memory"], m["score"]) for m in both][0] == ("house", 100)
    archived = next(m for m in both if m["memory"] == "archive")
    assert "lower-priority memory" in {p["reason"] for p in archived["penalties"]} and archived["score"] < 100

    # Searched alone, the archive is the best memory there is: no penalty.
    alone = client.get("/api/v1/tm/lookup", query_string={"q": SOCHI_ZH, "src": "zh", "memory": "archive"})
    assert [(m["memory"], m["score"], m["penalties"]) for m in alone.get_json()["matches"]] == [("archive", 100, [])]


def test_a_lookup_reads_its_units_in_one_statement_outside_any_transaction(app, client, editor):
    """On PostgreSQL a transaction costs two round trips (BEGIN, ROLLBACK) of a lookup's four."""
    from sqlalchemy import event

    from web.extensions import db_engine

    unit = add(client, editor, SOCHI_ZH, SOCHI_EN)
    client.get("/api/v1/tm/lookup", query_string={"q": SOCHI_ZH, "src": "zh"})  # the index is built
    seen: list[tuple[str, bool]] = []

    def record(conn, _cursor, statement, *_args):
        dbapi = conn.connection.dbapi_connection
        autocommit = dbapi.autocommit if conn.dialect.name == "postgresql" else dbapi.isolation_level is None
        seen.append((statement, autocommit))

    engine = db_engine(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        body = client.get("/api/v1/tm/lookup", query_string={"q": SOCHI_ZH, "src": "zh", "fragments": "0"})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert body.get_json()["matches"][0]["unit_id"] == unit
    reads = [(statement, autocommit) for statement, autocommit in seen if "_events" not in statement]
    assert len(reads) == 1 and "FROM units JOIN memories" in reads[0][0]
    assert all(autocommit for _statement, autocommit in seen)
