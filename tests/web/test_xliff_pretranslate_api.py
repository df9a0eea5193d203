"""POST /api/v1/xliff/pretranslate and ``flask tm pretranslate`` on both engines: a translator's
file back whole, filled from a memory that learnt the file's own translations through the
importer; and every kind of bad input answered clearly."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.helpers import auth, job_outcome, make_memory
from tests.xliff_samples import files, strip_ours, strip_targets, targets
from tm.formats.xliff import NS_12


@pytest.fixture(scope="module")
def samples():
    return files()


@pytest.fixture
def filled(app, client, token_for, samples):
    """A memory "own" holding both sample files' translations, imported through the API."""
    make_memory(app, "own")
    editor = token_for("editor")
    for name, (text, _) in samples.items():
        response = client.post("/api/v1/memories/own/import", headers=auth(editor),
                               data={"file": (io.BytesIO(text.encode()), f"{name}.xlf")},
                               content_type="multipart/form-data")
        outcome = job_outcome(client, response, auth(editor))  # an import is a job (202, then its result)
        assert outcome.status_code == 201, outcome.get_json()
    return token_for("translator", scope="read")


def post(client, token, data: bytes, name="客户稿件.xlf", headers=None, **fields):
    return client.post("/api/v1/xliff/pretranslate", headers={**auth(token), **(headers or {})},
                       data={"file": (io.BytesIO(data), name), **fields}, content_type="multipart/form-data")


@pytest.mark.parametrize("name", ["xliff12", "xliff20"])
def test_a_read_token_gets_the_file_back_filled(client, filled, samples, name):
    text, unplaceable = samples[name]
    stripped = strip_targets(text).encode()
    response = post(client, filled, stripped, memory="own")
    assert response.status_code == 200, response.get_data(as_text=True)
    out = response.get_data()
    assert strip_ours(out.decode()).encode() == stripped  # byte for byte outside what was filled
    before, after = targets(text.encode()), targets(out)
    same = sum(after.get(k) == v for k, v in before.items())
    assert same / len(before) >= 0.95
    headers = response.headers
    assert headers["Content-Type"].startswith("application/x-xliff+xml" if name == "xliff12" else
                                              "application/xliff+xml")
    assert "filename*=UTF-8''%E5%AE%A2%E6%88%B7%E7%A8%BF%E4%BB%B6.xlf" in headers["Content-Disposition"]
    assert int(headers["X-Pretranslate-Filled-Exact"]) + int(headers["X-Pretranslate-Filled-Fuzzy"]) == len(after)
    assert int(headers["X-Pretranslate-Codes-Not-Placed"]) == len(unplaceable)
    assert headers["X-Pretranslate-Direction"] == ("zh-en" if name == "xliff12" else "en-zh")
    # Nothing was stored: the memory holds what the imports put there and no more.
    assert client.get("/api/v1/memories", headers=auth(filled)).get_json()["memories"][0]["units"] > 0
    again = post(client, filled, out, memory="own")
    assert again.status_code == 422 or again.get_data() == out


def test_json_report_and_modes(client, filled, samples):
    text, _ = samples["xliff12"]
    stripped = strip_targets(text).encode()
    response = post(client, filled, stripped, headers={"Accept": "application/json"}, mode="candidates",
                    min_score="90")
    assert response.status_code == 200
    report = response.get_json()["report"]
    assert report["filled_exact"] == report["filled_fuzzy"] == 0
    assert report["left_empty"] == report["segments"] and report["with_candidates"] >= report["segments"] - 1
    fill = post(client, filled, stripped, mode="fill")
    assert b"origin=\"duizhao\"" in fill.get_data()  # only the candidate whose codes were not placed
    assert fill.get_data().count(b'origin="duizhao"') == 1


def test_bad_input_gets_a_clear_answer(client, filled, samples, app):
    text, _ = samples["xliff12"]
    stripped = strip_targets(text).encode()
    cases = [
        (post(client, filled, b"<tmx version='1.4'/>"), 400, "not an XLIFF"),
        (post(client, filled, stripped.replace(b"<body>", b"<body>\n<oops>")), 400, "line"),
        (post(client, filled, re.sub(rb'source-language="[^"]*"', b'source-language="fr"', stripped)), 400,
         "not Chinese and English"),
        (post(client, filled, re.sub(r'\s*<trans-unit id="empty">.*?</trans-unit>', "", text).encode()), 422,
         "nothing to pre-translate"),
        (post(client, filled, stripped, mode="all"), 400, "mode"),
        (post(client, filled, stripped, min_score="high"), 400, "min_score"),
        (post(client, filled, stripped, memory="nope"), 404, "nope"),
        (client.post("/api/v1/xliff/pretranslate", headers=auth(filled)), 400, "file"),
    ]
    for response, status, words in cases:
        assert response.status_code == status, response.get_data(as_text=True)
        assert words in response.get_json()["error"]["message"], response.get_json()
    app.config["ANONYMOUS_READ"] = False
    refused = client.post("/api/v1/xliff/pretranslate", data={"file": (io.BytesIO(stripped), "a.xlf")},
                          content_type="multipart/form-data")
    assert refused.status_code == 401


def _numbered(count: int) -> bytes:
    return (f'<xliff version="1.2" xmlns="{NS_12}"><file source-language="zh" target-language="en"><body>'
            + "".join(f'<trans-unit id="{n}"><source>第{n}段。</source></trans-unit>' for n in range(count))
            + "</body></file></xliff>").encode()


def test_a_large_file_is_a_job_whose_file_is_the_inline_answer(app, client, filled, samples, token_for):
    """Over the request's bound (lowered here) the file goes to a job: 202, then its result is
    the inline answer's report and its file the inline answer byte for byte, for its user only."""
    text, _ = samples["xliff20"]
    stripped = strip_targets(text).encode()
    inline = post(client, filled, stripped, memory="own")
    report = post(client, filled, stripped, memory="own", headers={"Accept": "application/json"}).get_json()
    assert inline.status_code == 200
    app.config["PRETRANSLATE_INLINE_SEGMENTS"] = 2
    queued = post(client, filled, stripped, memory="own")
    assert queued.status_code == 202 and queued.headers["Location"].startswith("/api/v1/jobs/")
    job = job_outcome(client, queued, auth(filled)).job
    assert job["kind"] == "tm.pretranslate" and job["state"] == "done"
    assert job["result"]["report"] == report["report"] and job["result"]["filename"] == "客户稿件.xlf"
    assert job["progress"]["done"] == job["progress"]["total"] == report["report"]["left_empty"] + (
        report["report"]["filled_exact"] + report["report"]["filled_fuzzy"])
    download = client.get(job["download"], headers=auth(filled))
    assert download.status_code == 200 and download.get_data() == inline.get_data()
    assert download.headers["Content-Type"].startswith("application/xliff+xml")
    assert "%E5%AE%A2%E6%88%B7%E7%A8%BF%E4%BB%B6.xlf" in download.headers["Content-Disposition"]
    # Only its user (or an admin) gets it; to anyone else the job is as absent as its file.
    assert client.get(job["download"], headers=auth(token_for("translator", scope="read"))).status_code == 404
    assert client.get(job["download"]).status_code == 401
    assert client.get(job["download"], headers=auth(token_for("admin"))).status_code == 200
    # Small files too, when the client asks (RFC 7240); nothing was stored either way.
    app.config["PRETRANSLATE_INLINE_SEGMENTS"] = 5_000
    asked = post(client, filled, stripped, memory="own", headers={"Prefer": "respond-async"})
    assert asked.status_code == 202 and asked.headers["Preference-Applied"] == "respond-async"
    # An anonymous reader pre-translates small files, but owns no job to fetch a large one from.
    anonymous = client.post("/api/v1/xliff/pretranslate", data={"file": (io.BytesIO(stripped), "a.xlf")},
                            headers={"Prefer": "respond-async"}, content_type="multipart/form-data")
    assert anonymous.status_code == 401 and "job" in anonymous.get_json()["error"]["message"]


def test_a_job_has_bounds_too(app, client, filled, monkeypatch):
    from tm import pretranslate

    app.config["PRETRANSLATE_INLINE_SEGMENTS"] = 2
    monkeypatch.setattr(pretranslate, "JOB_MAX_SEGMENTS", 3)
    outcome = job_outcome(client, post(client, filled, _numbered(5)), auth(filled))
    assert outcome.status_code == 413 and "at most 3" in outcome.body["error"]["message"]
    assert client.get(outcome.job["url"] + "/result", headers=auth(filled)).status_code == 404
    monkeypatch.setattr(pretranslate, "JOB_MAX_BYTES", 1024 * 1024)
    app.config["PRETRANSLATE_INLINE_BYTES"] = 100
    refused = post(client, filled, _numbered(20) + b" " * (1024 * 1024))
    assert refused.status_code == 413 and "1 MB" in refused.get_json()["error"]["message"]
    assert not list((Path(app.config["JOBS_DIR"]) / "uploads").glob("*"))  # nothing kept of it


def test_a_cancelled_job_leaves_no_file(app, client, filled, samples, monkeypatch):
    """A cancel heard after the file was written (the runner's last check) still wins: the job
    ends cancelled and its file is removed with its folder."""
    import contextlib

    from tm import jobs as tm_jobs
    from web.extensions import job_signals

    written = tm_jobs.result_stream

    @contextlib.contextmanager
    def then_cancelled(context):
        with written(context) as out:
            yield out
        job_signals(app).ask_cancel(context.job_id)

    monkeypatch.setattr(tm_jobs, "result_stream", then_cancelled)
    text, _ = samples["xliff12"]
    response = post(client, filled, strip_targets(text).encode(), headers={"Prefer": "respond-async"})
    job = client.get(response.headers["Location"], headers=auth(filled)).get_json()
    assert job["state"] == "cancelled" and job["result"] is None and "download" not in job
    assert client.get(job["url"] + "/result", headers=auth(filled)).status_code == 404
    assert not [p for p in (Path(app.config["JOBS_DIR"])).rglob("*") if p.is_file() and "signals" not in p.parts]


def test_cli_pretranslates_a_file(app, runner, filled, samples, tmp_path):
    text, _ = samples["xliff20"]
    source = tmp_path / "report.xlf"
    source.write_bytes(strip_targets(text).encode())
    result = runner.invoke(args=["tm", "pretranslate", str(source), "-o", str(tmp_path / "out.xlf"),
                                 "--memory", "own", "--mode", "both"])
    assert result.exit_code == 0, result.output
    out = (tmp_path / "out.xlf").read_bytes()
    assert strip_ours(out.decode()).encode() == source.read_bytes()
    assert "filled exact" in result.output
    again = runner.invoke(args=["tm", "pretranslate", str(tmp_path / "out.xlf"), "--memory", "own"])
    assert again.exit_code == 0 or "nothing to pre-translate" in again.output
    broken = tmp_path / "broken.xlf"
    broken.write_bytes(b"<xliff version='1.2'>\n<file>")
    failed = runner.invoke(args=["tm", "pretranslate", str(broken)])
    assert failed.exit_code != 0 and "line" in failed.output


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory):
    from tests.helpers import train_fragment_model

    return train_fragment_model(tmp_path_factory.mktemp("fragments") / "model.npz")


def test_fragments_are_offered_in_xliff_2_when_no_match_is_good_enough(app, client, token_for, trained_model):
    import shutil

    from lxml import etree

    from tests.helpers import INSTITUTE_EN, INSTITUTE_ZH, NEW_SENTENCE, fragment_memory, import_pairs
    from tm.formats.xliff import NS_20
    from tm.formats.xliff_pretranslate import NS_MTC
    from web.extensions import fragment_models

    admin = token_for("admin")
    client.post("/api/v1/memories", json={"name": "news"}, headers=auth(admin))
    import_pairs(client, admin, fragment_memory())
    with app.app_context():
        directory = fragment_models(app).directory
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copy(trained_model, directory / "model.npz")
        fragment_models(app).current()
    data = (f'<?xml version="1.0" encoding="UTF-8"?>\n<xliff version="2.0" xmlns="{NS_20}" srcLang="zh-CN" '
            f'trgLang="en">\n <file id="f1">\n  <unit id="u1">\n   <segment id="s1"><source>{NEW_SENTENCE}</source>'
            '</segment>\n  </unit>\n </file>\n</xliff>\n').encode()
    response = post(client, token_for("translator", scope="read"), data)
    assert response.status_code == 200, response.get_data(as_text=True)
    root = etree.fromstring(response.get_data())
    pieces = root.findall(f".//{{{NS_MTC}}}match[@subType='duizhao:fragment']")
    assert any(INSTITUTE_ZH in p.find(f"{{{NS_20}}}source").text
               and INSTITUTE_EN in p.find(f"{{{NS_20}}}target").text for p in pieces), response.get_data(as_text=True)
    assert all(float(p.get("similarity")) < 75 for p in pieces)
    assert root.find(f".//{{{NS_20}}}segment/{{{NS_20}}}target") is None  # offered, never written
