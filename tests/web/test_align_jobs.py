"""Alignment of long texts as a job (align.jobs): past ALIGN_INLINE_SENTENCES (lowered here so
the texts stay short) or with ``Prefer: respond-async``, POST /api/v1/align/jobs answers 202 and
the job stores the same alignment the request would have; past the job's own bound, 413. On both
engines, with the suite's immediate queue and the fast lexical sentence encoder."""
from __future__ import annotations

import io
import re

import pytest

from align import jobs as align_jobs
from jobs.service import Cancelled, FileSignals, JobContext
from tests.align_support import lexical_embed
from tests.helpers import auth, job_outcome
from tests.web.test_align_api import EN, ZH, _login
from web.extensions import install_align_embedder

FIELDS = {"title": "Air", "url": "https://example.org/air", "date": "2024-01-05"}
#: What an alignment is, compared between the inline answer and the job's.
SAME = ("zh", "en", "beads", "warnings", "title", "url", "date", "status", "version", "approved")


@pytest.fixture(autouse=True)
def fast_encoder(app):
    install_align_embedder(app, lexical_embed)


@pytest.fixture
def editor(token_for):
    return token_for("editor", username="editor1")


def test_a_long_text_is_aligned_by_a_job_into_the_same_alignment(app, client, editor):
    inline = client.post("/api/v1/align/jobs", json={"zh": ZH, "en": EN, **FIELDS}, headers=auth(editor))
    assert inline.status_code == 201, inline.get_json()
    app.config["ALIGN_INLINE_SENTENCES"] = 2  # each side has 3
    queued = client.post("/api/v1/align/jobs", json={"zh": ZH, "en": EN, **FIELDS}, headers=auth(editor))
    assert queued.status_code == 202 and queued.headers["Location"].startswith("/api/v1/jobs/")
    job = job_outcome(client, queued, auth(editor)).job
    assert job["kind"] == "align.run" and job["user"] == "editor1"
    assert job["progress"] == {"done": align_jobs.STEPS, "total": align_jobs.STEPS}
    result = job["result"]
    assert result["review_url"] == f"/align/{result['alignment']}"
    assert result["sentences"] == {"zh": 3, "en": 3} and result["title"] == "Air"
    stored = client.get(f"/api/v1/align/jobs/{result['alignment']}", headers=auth(editor)).get_json()
    expected = inline.get_json()
    assert stored["id"] != expected["id"] and stored["created_by"] == "editor1"
    assert {k: stored[k] for k in SAME} == {k: expected[k] for k in SAME}
    # ... and it is reviewed like any other: a save, then its approved pairs stored.
    beads = [dict(b, approved=True) for b in stored["beads"]]
    saved = client.put(stored_url := f"/api/v1/align/jobs/{stored['id']}", headers=auth(editor),
                       json={"beads": beads, "version": stored["version"]})
    assert saved.status_code == 200 and saved.get_json()["version"] == 2
    assert client.get(stored_url, headers=auth(editor)).get_json()["approved"] == len(beads)


def test_a_job_asked_for_keeps_the_upload_s_encoding_warning(client, editor):
    data = {"zh": (io.BytesIO(ZH.encode("gb18030")), "zh.txt"), "en": EN, "hard_wrapped": "1"}
    queued = client.post("/api/v1/align/jobs", data=data, content_type="multipart/form-data",
                         headers={**auth(editor), "Prefer": "respond-async"})
    assert queued.status_code == 202 and queued.headers["Preference-Applied"] == "respond-async"
    result = job_outcome(client, queued, auth(editor)).job["result"]
    stored = client.get(f"/api/v1/align/jobs/{result['alignment']}", headers=auth(editor)).get_json()
    assert any("decoded as GB18030" in w for w in stored["warnings"]) and len(stored["en"]) == 3


def test_past_the_job_bound_and_bad_fields_are_refused_before_any_job(client, editor, monkeypatch):
    monkeypatch.setattr("align.service.JOB_MAX_SENTENCES", 2)
    too_long = client.post("/api/v1/align/jobs", json={"zh": ZH, "en": EN}, headers=auth(editor))
    assert too_long.status_code == 413 and too_long.get_json()["error"]["field"] == "zh"
    assert too_long.get_json()["error"]["message"].startswith("The Chinese text has 3 sentences; at most 2")
    bad_url = client.post("/api/v1/align/jobs", json={"zh": ZH, "en": EN, "url": "javascript:alert(1)"},
                          headers={**auth(editor), "Prefer": "respond-async"})
    assert bad_url.status_code == 400 and bad_url.get_json()["error"]["field"] == "url"
    assert client.get("/api/v1/jobs", headers=auth(editor)).get_json()["jobs"] == []


def test_the_form_follows_the_job_to_the_review_page(app, client, make_user):
    csrf = _login(client, *make_user("ed", "editor"))
    app.config["ALIGN_INLINE_SENTENCES"] = 2
    response = client.post("/align", data={"csrf_token": csrf, "zh": ZH, "en": EN, "title": "Air"})
    assert response.status_code == 303 and re.search(r"/align/job/\d+$", response.headers["Location"])
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    review = re.search(r'id="job-result-link" data-field="review_url"><a href="(/align/\d+)"', html)
    assert review and 'src="/static/import.js"' in html, html
    assert "Air" in client.get(review.group(1)).get_data(as_text=True)


def test_a_cancel_is_heard_before_any_step(tmp_path):
    signals = FileSignals(tmp_path)
    signals.ask_cancel(7)
    handler = align_jobs.align_texts(glossary_pairs=list, embed=lambda: None, translations=lambda: None,
                                     review_url=str)
    with pytest.raises(Cancelled):
        handler(None, JobContext(7, align_jobs.ALIGN, "ed", {"upload": str(tmp_path / "gone.json")}, signals))  # type: ignore[arg-type]
