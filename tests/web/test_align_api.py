"""Harvesting TM from an article pair through the API (and the upload form), on both engines.

The aligner's sentence encoder is replaced by a fast lexical one (tests/align_support.py): these
tests are about the service around the aligner; tests/core measures the aligner itself.
"""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

from align.core.beads import Bead
from align.service import passage_warnings
from tests.align_support import lexical_embed
from tests.helpers import ROOT, SHARED, auth, make_memory
from web.extensions import install_align_embedder

ACA = SHARED / "data" / "align" / "nonlit-aca"

ZH = "北京今天发布了新的空气质量报告。报告显示，细颗粒物浓度比去年下降了百分之十。专家认为，这主要得益于减少燃煤。"
EN = ("Beijing released a new air quality report today. The report shows that the concentration of fine "
      "particulate matter fell by ten percent from last year. Experts believe this is mainly thanks to "
      "burning less coal.")


@pytest.fixture(autouse=True)
def fast_encoder(app):
    """The lexical stand-in for the sentence encoder: loading the real model takes minutes."""
    install_align_embedder(app, lexical_embed)


@pytest.fixture
def editor(token_for):
    return token_for("editor", username="editor1")


def aca_texts(lines: int = 40) -> tuple[str, str, list[tuple[list[int], list[int]]]]:
    """The first ``lines`` sentences of a real academic text and their translation (read in
    place, cut where the gold says the translation of those sentences ends), one sentence a
    line joined into raw text, and the gold beads as (zh lines, en lines)."""
    gold = []
    for row in (ACA / "gold" / "001.align").read_text().splitlines():
        en_ids, zh_ids = (json.loads(part) for part in row.split(":"))
        if zh_ids and en_ids and max(en_ids) < lines:
            gold.append((zh_ids, en_ids))
    zh_lines = max(i for zh_ids, _ in gold for i in zh_ids) + 1
    zh = (ACA / "tgt" / "001").read_text(encoding="utf-8").splitlines()[:zh_lines]
    en = (ACA / "src" / "001").read_text(encoding="utf-8").splitlines()[:lines]
    return "\n".join(zh), "\n".join(en), gold


def seed_article() -> list[dict]:
    with open(ROOT / "demo" / "seed_article.tsv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def create_job(client, token, zh=ZH, en=EN, **fields):
    response = client.post("/api/v1/align/jobs", json={"zh": zh, "en": en, **fields}, headers=auth(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def put_beads(client, token, job, beads, version=None):
    return client.put(f"/api/v1/align/jobs/{job['id']}", headers=auth(token),
                      json={"beads": beads, "version": job["version"] if version is None else version})


def test_a_real_document_aligns_with_offsets(client):
    zh_text, en_text, gold = aca_texts()
    response = client.post("/api/v1/align", json={"zh": zh_text, "en": en_text})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    for side, text in (("zh", zh_text), ("en", en_text)):
        assert body[side] and all(text[s["start"]:s["end"]] == s["text"] for s in body[side])
    # Every sentence of both sides exactly once, in order.
    for side in ("zh", "en"):
        assert [i for bead in body["beads"] for i in bead[side]] == list(range(len(body[side])))
    assert all(0 <= bead["score"] <= 1 for bead in body["beads"])
    assert body["warnings"] == []

    def line(text, sentence):
        return text.count("\n", 0, sentence["start"])

    links = {(line(zh_text, body["zh"][i]), line(en_text, body["en"][j]))
             for bead in body["beads"] for i in bead["zh"] for j in bead["en"]}
    found = sum(all((z, e) in links for z in zs for e in es) for zs, es in gold)
    assert found >= 0.6 * len(gold), (found, len(gold))


BAD_INPUT = [
    ("", EN, "zh", "Chinese text is empty"),
    (ZH, "   \n", "en", "English text is empty"),
    (None, EN, "zh", "Chinese text is empty"),
    (EN, ZH, "zh", "swapped"),
    (EN, EN, "zh", "Chinese slot holds English"),
    (ZH, ZH, "en", "English slot holds Chinese"),
    ("1234 ……", EN, "zh", "neither Chinese nor English"),
    (ZH, ["a list"], "en", "must be a string"),
]


def test_bad_input_is_named(client):
    # One app for all cases: they are checked before anything touches the database.
    for zh, en, field, words in BAD_INPUT:
        response = client.post("/api/v1/align", json={"zh": zh, "en": en})
        assert response.status_code == 400, (zh, en)
        error = response.get_json()["error"]
        assert words in error["message"] and error["field"] == field, (zh, en, error)


def test_gb18030_and_big5_uploads_are_decoded(client):
    simplified = ZH
    traditional = ("北京今天發佈了新的空氣質量報告。報告顯示，細顆粒物濃度比去年下降了百分之十。"
                   "專家認為，這主要得益於減少燃煤。")
    for text, encoding in ((simplified, "gb18030"), (traditional, "big5")):
        data = {"zh": (io.BytesIO(text.encode(encoding)), "zh.txt"),
                "en": (io.BytesIO(EN.encode("utf-8")), "en.txt")}
        response = client.post("/api/v1/align", data=data, content_type="multipart/form-data")
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["encodings"] == {"zh": encoding, "en": "utf-8"}
        assert f"decoded as {encoding.upper()}" in body["warnings"][0]
        assert "".join(s["text"] for s in body["zh"]) == text


def test_an_undecodable_upload_says_so(client):
    data = {"zh": (io.BytesIO(b"\xff\xfe\xff\x00\xff"), "zh.txt"), "en": EN}
    response = client.post("/api/v1/align", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert "encoding of the Chinese file could not be determined" in error["message"] and error["field"] == "zh"


def test_very_different_lengths_align_what_matches_and_warn(client):
    extra = ("The city also opened two subway lines. Tickets cost three yuan. A museum of printing welcomed "
             "its first visitors. Schools will start the new term on Monday. Rain is expected at the weekend. "
             "The football team won its third match in a row.")
    body = client.post("/api/v1/align", json={"zh": ZH, "en": EN + " " + extra}).get_json()
    assert len(body["en"]) == 9 and len(body["zh"]) == 3
    assert body["warnings"][0].startswith("The English has 3× the sentences of the Chinese (9 against 3)")
    # What matches is aligned and the rest is left unaligned (before gaps were priced per
    # passage, the six extra sentences were glued onto the last Chinese one at 75% confidence).
    beads = [(bead["zh"], bead["en"]) for bead in body["beads"]]
    assert beads == [([0], [0]), ([1], [1]), ([2], [2])] + [([], [k]) for k in range(3, 9)]
    assert all(bead["score"] == 0 for bead in body["beads"][3:])
    # ...and the reviewer is told where: sentences counted from 1, as a reader counts.
    assert body["warnings"][1].startswith("English sentences 4–9 (6 of 9) have no counterpart in the Chinese")


def test_each_passage_left_out_is_named():
    beads = [Bead((0,), (0,), 0.9), Bead((1,), (), 0.0), Bead((), (1,), 0.0), Bead((2,), (), 0.0),
             Bead((3,), (), 0.0), Bead((4,), (2,), 0.8), Bead((5,), (), 0.0), Bead((6,), (), 0.0)]
    warnings = passage_warnings(beads, 7, 3)
    # One gap holding zh 2-4 and en 2 (only the Chinese run is long enough); zh 6-7 is too short.
    assert warnings == ["Chinese sentences 2–4 (3 of 7) have no counterpart in the English: left unaligned. "
                        "Is it a passage one text leaves out?"]


def test_nothing_is_stored_before_approval_and_store_keeps_context_and_metadata(app, client, editor):
    make_memory(app, "harvest")
    rows = [r for r in seed_article() if r["prop:x-segment"] == "body"][:6]
    zh_text = "\n".join(r["zh"] for r in rows)
    en_text = "\n".join(r["en"] for r in rows)
    job = create_job(client, editor, zh_text, en_text, title="US-Russia ties",
                     url="http://en.people.cn/n3/2019/0516/c90000-9578598.html", date="2019-05-16")
    assert job["version"] == 1 and job["status"] == "review" and job["approved"] == 0
    assert client.get("/api/v1/units", headers=auth(editor)).get_json()["total"] == 0

    refused = client.post(f"/api/v1/align/jobs/{job['id']}/store", json={"memory": "harvest"}, headers=auth(editor))
    assert refused.status_code == 400 and "approve" in refused.get_json()["error"]["message"]
    assert [m["units"] for m in client.get("/api/v1/memories").get_json()["memories"]] == [0]

    beads = job["beads"]
    one_to_one = [b for b in beads if len(b["zh"]) == 1 and len(b["en"]) == 1]
    assert len(one_to_one) >= 4
    for bead in beads:
        bead["approved"] = bead in one_to_one[:3]
    saved = put_beads(client, editor, job, beads)
    assert saved.status_code == 200 and saved.get_json()["version"] == 2

    stored = client.post(f"/api/v1/align/jobs/{job['id']}/store", json={"memory": "harvest"}, headers=auth(editor))
    assert stored.status_code == 201, stored.get_json()
    assert stored.get_json() | {"job_id": 0} == {"job_id": 0, "memory": "harvest", "approved": 3, "added": 3,
                                                "duplicates": 0, "skipped_one_sided": 0}
    units = client.get("/api/v1/units", query_string={"memory": "harvest"}).get_json()["units"]
    by_zh = {u["zh"]: u for u in units}
    sentences = job["zh"]
    for bead in one_to_one[:3]:
        index = bead["zh"][0]
        unit = by_zh[sentences[index]["text"]]
        assert unit["en"] == job["en"][bead["en"][0]]["text"]
        assert unit["context_prev"] == (sentences[index - 1]["text"] if index else None)
        assert unit["context_next"] == (sentences[index + 1]["text"] if index + 1 < len(sentences) else None)
        assert (unit["doc_title"], unit["doc_url"], unit["origin_file"], unit["status"], unit["created_by"]) == (
            "US-Russia ties", "http://en.people.cn/n3/2019/0516/c90000-9578598.html", f"alignment:{job['id']}",
            "approved", "editor1")
        assert ["x-doc-date", "2019-05-16"] in unit["props"]

    # Found by lookup at once (the live index was told), and a second store doubles nothing.
    first = units[0]
    match = client.get("/api/v1/tm/lookup", query_string={"q": first["zh"], "src": "zh"}).get_json()["matches"][0]
    assert (match["score"], match["target"]) == (100, first["en"])
    again = client.post(f"/api/v1/align/jobs/{job['id']}/store", json={"memory": "harvest"}, headers=auth(editor))
    assert (again.get_json()["added"], again.get_json()["duplicates"]) == (0, 3)
    assert client.get(f"/api/v1/align/jobs/{job['id']}", headers=auth(editor)).get_json()["status"] == "stored"


def test_versions_guard_against_a_second_tab(client, editor):
    job = create_job(client, editor)
    beads = job["beads"]
    first = put_beads(client, editor, job, beads)
    assert first.status_code == 200 and first.get_json()["version"] == 2
    stale = put_beads(client, editor, job, beads, version=1)
    assert stale.status_code == 409
    error = stale.get_json()["error"]
    assert error["current_version"] == 2 and "another tab" in error["message"]
    assert put_beads(client, editor, job, beads, version=2).status_code == 200


BAD_BEADS = [
    (lambda beads: beads[1:], "sentence 0 is missing"),
    (lambda beads: beads[::-1], "out of order"),
    (lambda beads: beads + [{"zh": [], "en": []}], "holds no sentence"),
    (lambda beads: beads + [{"zh": [3], "en": []}], "has only 3 sentences"),
    (lambda beads: [dict(b, zh=[str(i) for i in b["zh"]]) for b in beads], "must be a list of sentence numbers"),
    (lambda beads: [dict(b, score=2) for b in beads], "'score' must be a number from 0 to 1"),
    (lambda beads: [dict(b, approved="yes") for b in beads], "'approved' must be true or false"),
    (lambda beads: "all of them", "'beads' must be a list"),
]


def test_saved_beads_must_cover_every_sentence_once_in_order(client, editor):
    job = create_job(client, editor)
    for change, words in BAD_BEADS:
        response = put_beads(client, editor, job, change(job["beads"]))
        assert response.status_code == 400 and words in response.get_json()["error"]["message"], words
    missing_version = client.put(f"/api/v1/align/jobs/{job['id']}", json={"beads": job["beads"]}, headers=auth(editor))
    assert missing_version.status_code == 400 and missing_version.get_json()["error"]["field"] == "version"
    assert client.get(f"/api/v1/align/jobs/{job['id']}", headers=auth(editor)).get_json()["version"] == 1


def test_edited_beads_are_kept(client, editor):
    job = create_job(client, editor)
    merged = [{"zh": [0, 1, 2], "en": [0, 1, 2], "score": None, "approved": True}]
    assert put_beads(client, editor, job, merged).status_code == 200
    again = client.get(f"/api/v1/align/jobs/{job['id']}", headers=auth(editor)).get_json()
    assert again["beads"] == merged and again["version"] == 2 and again["approved"] == 1


def test_job_metadata_is_checked_before_aligning(client, editor, monkeypatch):
    def no_alignment(*_args, **_kwargs):
        raise AssertionError("aligned although the job's metadata is wrong")

    monkeypatch.setattr("align.service.align", no_alignment)
    for fields, field in (({"url": "javascript:alert(1)"}, "url"), ({"date": "16 May 2019"}, "date"),
                          ({"title": "x" * 501}, "title")):
        response = client.post("/api/v1/align/jobs", json={"zh": ZH, "en": EN, **fields}, headers=auth(editor))
        assert response.status_code == 400 and response.get_json()["error"]["field"] == field


def test_rights(client, app, token_for, make_user):
    translator = token_for("translator")
    reader = token_for("editor", scope="read")
    assert client.post("/api/v1/align", json={"zh": ZH, "en": EN}).status_code == 200  # anonymous read
    assert client.post("/api/v1/align/jobs", json={"zh": ZH, "en": EN}).status_code == 401
    assert client.post("/api/v1/align/jobs", json={"zh": ZH, "en": EN}, headers=auth(translator)).status_code == 403
    assert client.post("/api/v1/align/jobs", json={"zh": ZH, "en": EN}, headers=auth(reader)).status_code == 403
    editor = token_for("editor")
    job = create_job(client, editor)
    path = f"/api/v1/align/jobs/{job['id']}"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=auth(translator)).status_code == 403
    assert client.put(path, json={"beads": job["beads"], "version": 1}, headers=auth(reader)).status_code == 403
    assert client.post(path + "/store", json={"memory": "m"}, headers=auth(translator)).status_code == 403
    assert client.get("/api/v1/align/jobs/999", headers=auth(editor)).status_code == 404
    app.config["ANONYMOUS_READ"] = False
    assert client.post("/api/v1/align", json={"zh": ZH, "en": EN}).status_code == 401


def _login(client, username, password) -> str:
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf})
    assert answer.status_code == 302
    return csrf


def test_the_form_uploads_and_the_review_page_escapes(client, make_user):
    assert client.get("/align").status_code == 302  # anonymous: to the login page
    csrf = _login(client, *make_user("ed", "editor"))
    form = {"csrf_token": csrf, "title": "<b>Air</b> & coal", "date": "2024-01-05", "url": "",
            "zh": "", "zh_file": (io.BytesIO(ZH.encode("gb18030")), "zh.txt"), "en": EN}
    response = client.post("/align", data=form, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<b>Air</b>" not in html and "&lt;b&gt;Air&lt;/b&gt;" in html
    assert "decoded as GB18030" in html and 'src="/static/align.js"' in html

    # The session writes through the API with the CSRF header, and only with it.
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    job = client.get(f"/api/v1/align/jobs/{job_id}").get_json()
    body = {"beads": job["beads"], "version": 1}
    assert client.put(f"/api/v1/align/jobs/{job_id}", json=body).status_code == 400
    assert client.put(f"/api/v1/align/jobs/{job_id}", json=body, headers={"X-CSRFToken": csrf}).status_code == 200

    empty = client.post("/align", data={"csrf_token": csrf, "zh": "", "en": EN, "title": "kept"})
    assert empty.status_code == 400 and "The Chinese text is empty" in empty.get_data(as_text=True)
    assert 'value="kept"' in empty.get_data(as_text=True)


def test_translators_may_not_review(client, make_user):
    _login(client, *make_user("tr", "translator"))
    assert client.get("/align").status_code == 403


def test_hard_wrapped_texts_end_paragraphs_only_at_blank_lines(app, client, editor):
    make_memory(app, "wrapped")
    import textwrap

    wrapped = "\n".join(textwrap.wrap(EN, 40))
    as_lines = client.post("/api/v1/align", json={"zh": ZH, "en": wrapped}).get_json()
    joined = client.post("/api/v1/align", json={"zh": ZH, "en": wrapped, "hard_wrapped": True}).get_json()
    assert len(as_lines["en"]) > 3 and len(joined["en"]) == 3
    assert joined["en"][1]["text"].startswith("The report shows") and "\n" in joined["en"][1]["text"]
    bad = client.post("/api/v1/align", json={"zh": ZH, "en": EN, "hard_wrapped": "maybe"})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "hard_wrapped"

    # Stored units are one line each.
    job = create_job(client, editor, ZH, wrapped, hard_wrapped=True)
    beads = [dict(b, approved=True) for b in job["beads"]]
    assert put_beads(client, editor, job, beads).status_code == 200
    client.post(f"/api/v1/align/jobs/{job['id']}/store", json={"memory": "wrapped"}, headers=auth(editor))
    units = client.get("/api/v1/units", query_string={"memory": "wrapped"}).get_json()["units"]
    assert units and " ".join(u["en"] for u in units) == " ".join(EN.split())


def test_too_long_a_text_is_refused_with_its_size(client, monkeypatch):
    monkeypatch.setattr("align.service.MAX_SENTENCES", 2)
    response = client.post("/api/v1/align", json={"zh": ZH, "en": EN})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith("The Chinese text has 3 sentences; at most 2")
