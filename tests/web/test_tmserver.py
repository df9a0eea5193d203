"""The tmserver protocol as Weblate's client and Virtaal call it, on SQLite and PostgreSQL."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.helpers import auth, import_pairs, job_outcome, wmt_pairs


@pytest.fixture
def filled(client, token_for):
    """A memory of real news pairs; returns (a write token, the pairs, the same token)."""
    admin = token_for("admin")
    pairs = wmt_pairs(40)
    import_pairs(client, admin, pairs)
    return admin, pairs, admin


def weblate_url(base: str, *parts: str) -> str:
    """How Weblate's get_api_url builds a URL: every part quoted with nothing safe."""
    return "/".join([base.rstrip("/"), *(quote(p.encode() if isinstance(p, str) else p, safe=b"") for p in parts)])


def weblate_candidates(code: str):
    """Weblate's language fallback: the code lower-cased with '_', then shorter and shorter."""
    code = code.replace("-", "_").lower()
    yield code
    while "_" in code:
        code = code.rsplit("_", 1)[0]
        yield code


def test_languages_with_token_and_anonymously(client, filled):
    token, _, _ = filled
    for base in (f"/tmserver/{token}", "/tmserver"):
        response = client.get(weblate_url(base, "languages", ""))
        assert response.status_code == 200
        body = response.get_json()
        assert set(body["sourceLanguages"]) == set(body["targetLanguages"]) == {"zh", "en"}


def test_weblate_validation_en_de_answers_empty_list(client, filled):
    token, _, _ = filled
    response = client.get(weblate_url(f"/tmserver/{token}", "en", "de", "unit", "test"))
    assert response.status_code == 200 and response.get_json() == []


def test_zh_hans_falls_back_to_zh_and_finds_the_pair(client, filled):
    token, pairs, _ = filled
    base = f"/tmserver/{token}"
    advertised = client.get(weblate_url(base, "languages", "")).get_json()
    supported = {(s, t) for s in advertised["sourceLanguages"] for t in advertised["targetLanguages"]}
    chosen = next((s, t) for s in weblate_candidates("zh-Hans") for t in weblate_candidates("en")
                  if (s, t) in supported)
    assert chosen == ("zh", "en")
    zh, en = pairs[7]
    answer = client.get(weblate_url(base, *chosen, "unit", zh)).get_json()
    assert isinstance(answer, list) and answer[0]["target"] == en and int(answer[0]["quality"]) == 100
    assert answer[0]["source"] == zh


SPELLINGS = [("zh", "en"), ("zh_hans", "en_us"), ("zh_hant", "en_gb"), ("zh_cn", "en"), ("zh_tw", "en"),
             ("zh_hk", "en"), ("zh-Hans", "en-US"), ("zh-TW", "en-GB"), ("ZH_CN", "EN")]


def test_every_spelling_of_the_pair_is_accepted(client, filled):
    _, pairs, _ = filled
    zh, en = pairs[3]
    for src, tgt in SPELLINGS:
        answer = client.get(weblate_url("/tmserver", src, tgt, "unit", zh)).get_json()
        assert answer and answer[0]["target"] == en, (src, tgt)
        backwards = client.get(weblate_url("/tmserver", tgt, src, "unit", en)).get_json()
        assert backwards and backwards[0]["target"] == zh, (src, tgt)


def test_slashes_placeholders_and_500_characters(client, filled):
    token, _, admin = filled
    # A real-looking English source with slashes (a URL, a date, a double slash) and a
    # placeholder Weblate hides as [X<offset>X]; the text is longer than Weblate's 500 cut.
    head = "See https://example.org/a//b/report and 2019/05/14 for %s items and/or more "
    english = (head + "details of the bilateral trade agreement signed in Sochi. " * 12)[:520]
    chinese = "详情请见报告。"
    client.post("/api/v1/units", json={"memory": "news", "zh": chinese, "en": english[:500]}, headers=auth(admin))
    sent = english[:500].replace("%s", f"[X{english.index('%s')}X]")
    url = weblate_url(f"/tmserver/{token}", "en", "zh_hans", "unit", sent)
    assert "%2F%2F" in url and "%5BX" in url
    answer = client.get(url).get_json()
    assert answer and answer[0]["source"] == english[:500] and answer[0]["target"] == chinese
    assert 90 <= int(answer[0]["quality"]) < 100  # the placeholder costs one token, not six


def test_a_placeholder_is_one_token_wherever_it_stands(client, filled):
    token, _, admin = filled
    stored = "Delete %s files from the shared folder before the meeting"
    client.post("/api/v1/units", json={"memory": "news", "zh": "会议前从共享文件夹删除%s个文件", "en": stored},
                headers=auth(admin))
    qualities = set()
    for offset in (7, 123):
        sent = stored.replace("%s", f"[X{offset}X]")
        answer = client.get(weblate_url(f"/tmserver/{token}", "en", "zh", "unit", sent)).get_json()
        assert answer[0]["source"] == stored
        assert str(offset) not in answer[0]["target"]  # the offset is never "adapted" as a number
        qualities.add(answer[0]["quality"])
    assert len(qualities) == 1 and qualities.pop() >= 80  # above Weblate's threshold


def test_min_similarity_and_max_candidates_as_amagama_reads_them(client, filled):
    _, pairs, admin = filled
    zh, en = pairs[0]
    for variant in ("A", "B", "C"):
        client.post("/api/v1/units", json={"memory": "news", "zh": zh, "en": f"{en} ({variant})"}, headers=auth(admin))
    url = weblate_url("/tmserver", "zh", "en", "unit", zh)
    assert len(client.get(url).get_json()) == 4
    assert len(client.get(url, query_string={"max_candidates": "2"}).get_json()) == 2
    assert len(client.get(url, query_string={"max_candidates": "junk"}).get_json()) == 4
    edited = zh[: len(zh) // 2]
    short = weblate_url("/tmserver", "zh", "en", "unit", edited)
    assert client.get(short).get_json() == []  # below the default 70
    loose = client.get(short, query_string={"min_similarity": "30"}).get_json()
    assert loose and all(30 <= item["quality"] < 70 for item in loose)
    assert [i["rank"] for i in loose] == sorted((i["rank"] for i in loose), reverse=True)


def test_tokens_and_anonymous_reading(client, app, filled, token_for):
    _, pairs, _ = filled
    url = weblate_url("/tmserver/dz_not-a-token", "zh", "en", "unit", pairs[0][0])
    response = client.get(url)
    assert response.status_code == 401 and response.get_json()["error"]["status"] == 401
    app.config["ANONYMOUS_READ"] = False
    assert client.get(weblate_url("/tmserver", "languages", "")).status_code == 401
    reader = token_for("translator", scope="read")
    assert client.get(weblate_url(f"/tmserver/{reader}", "zh", "en", "unit", pairs[0][0])).get_json()


def test_empty_text_and_bad_utf8(client, filled):
    assert client.get("/tmserver/zh/en/unit/").get_json() == []
    response = client.get("/tmserver/zh/en/unit/%E4%B8")
    assert response.status_code == 400 and "UTF-8" in response.get_json()["error"]["message"]


def test_an_imported_xliff_answers_weblate(client, token_for):
    """XLIFF 2.0 through the import API (translated/reviewed segments only), then looked up."""
    admin = token_for("admin")
    (z0, e0), (z1, e1) = wmt_pairs(2, "newstest2019.zho-eng")
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;")  # noqa: E731
    xliff = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
             f'<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="en-US" trgLang="zh-CN">\n'
             f' <file id="f"><unit id="1">\n'
             f'  <segment state="reviewed"><source>{esc(e0)}</source><target>{esc(z0)}</target></segment>\n'
             f'  <segment state="initial"><source>{esc(e1)}</source><target>{esc(z1)}</target></segment>\n'
             f' </unit></file>\n</xliff>\n')
    response = job_outcome(client, client.post("/api/v1/memories/desk/import", data=xliff.encode(),
                                               query_string={"filename": "desk.xlf"}, headers=auth(admin)),
                           auth(admin))
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["file_format"], response.get_json()["added"]) == ("xliff", 1)
    answer = client.get(weblate_url("/tmserver", "en_us", "zh_hans", "unit", e0)).get_json()
    assert answer == [{"source": e0, "target": z0, "quality": 100, "rank": 100.0}]
    assert client.get(weblate_url("/tmserver", "zh", "en", "unit", z1)).get_json() == []


def test_raw_uri_reading():
    from cattools.tmserver import raw_unit_text

    encoded = quote("a//b/ c?", safe="")
    assert raw_unit_text({"RAW_URI": f"/tmserver/zh/en/unit/{encoded}?max_candidates=2"}) == "a//b/ c?"
    assert raw_unit_text({"REQUEST_URI": f"http://host:8000/tmserver/t/zh/en/unit/{encoded}"}) == "a//b/ c?"
    assert raw_unit_text({"PATH_INFO": "/tmserver/zh/en/unit/x"}) is None  # the server gave no raw URI


def test_slashes_survive_without_a_raw_uri(client, filled):
    """A WSGI server that gives no raw URI: the path converter keeps '//' (no slash merging)."""
    _, _, admin = filled
    english = "Filed under desk//inbox/archive/2019 by the night editor on duty."
    client.post("/api/v1/units", json={"memory": "news", "zh": "值班夜编归档。", "en": english}, headers=auth(admin))
    url = weblate_url("/tmserver", "en", "zh", "unit", english)
    response = client.get(url, environ_overrides={"RAW_URI": "", "REQUEST_URI": ""})
    assert response.status_code == 200 and response.get_json()[0]["source"] == english
    assert response.get_json()[0]["quality"] == 100


def test_pretranslate_with_the_real_tm_lookup(app, client, filled):
    """tm.pretranslate driven by tm.lookup.lookup_many on the database: the callback contract."""
    from db import db_session
    from tm import lookup
    from tm.pretranslate import pretranslate
    from web.extensions import live_index

    _, pairs, _ = filled
    (z0, e0), (z1, _) = pairs[0], pairs[1]
    xliff = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
             f'<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">'
             f'<file original="a.txt" source-language="zh-CN" target-language="en" datatype="plaintext"><body>'
             f'<trans-unit id="1"><source>{z0}</source></trans-unit>'
             f'<trans-unit id="2"><source>{z1[:-3]}</source></trans-unit></body></file></xliff>').encode()
    with app.app_context():
        def tm_lookup(segments, src, tgt):
            requests = [lookup.make_request(q=s, src=src, tgt=tgt, min_score=50, limit=3) for s in segments]
            return lookup.lookup_many(db_session(), live_index(app), requests)

        out, report = pretranslate(xliff, tm_lookup)
    assert (report.segments, report.filled, report.exact) == (2, 2, 1)
    assert f'state="translated" state-qualifier="exact-match">{e0}</target>' in out.decode()
