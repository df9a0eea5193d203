"""A large memory's export is a job (202) whose file is the inline export byte for byte; the
file goes after JOB_RESULTS_DAYS (410), on both engines. The bound is lowered so the memory
stays small."""
from __future__ import annotations

import pytest

from tests.helpers import auth, import_pairs, job_outcome

PAIRS = [("国务院新闻办公室今天举行发布会。", "The State Council Information Office held a briefing today."),
         ("会议在北京举行。", "The meeting was held in Beijing."),
         ("他说：“我们要继续努力。”", 'He said: "We must keep working & go on."')]


@pytest.mark.parametrize("file_format", ["tmx", "tsv"])
def test_a_large_export_is_a_job_whose_file_is_the_inline_export(app, client, token_for, runner, file_format):
    token = token_for("admin")
    import_pairs(client, token, PAIRS, memory="news")
    path = f"/api/v1/memories/news/export?format={file_format}"
    inline = client.get(path, headers=auth(token))
    assert inline.status_code == 200 and len(inline.get_data()) > 0
    app.config["EXPORT_INLINE_UNITS"] = 2  # news has 3
    queued = client.get(path, headers=auth(token))
    assert queued.status_code == 202
    job = job_outcome(client, queued, auth(token)).job
    assert job["kind"] == "tm.export" and job["result"]["units"] == 3
    assert job["progress"] == {"done": 3, "total": 3}
    download = client.get(job["download"], headers=auth(token))
    assert download.status_code == 200 and download.get_data() == inline.get_data()
    assert download.headers["Content-Type"] == inline.headers["Content-Type"]
    assert f'filename=news.{file_format}' in download.headers["Content-Disposition"]
    # An anonymous reader exports small memories, but owns no job to fetch a large one from: a
    # memory's TMX is sent to its streamed feed (the same file), a table is refused.
    anonymous = client.get(path)
    if file_format == "tmx":
        assert anonymous.status_code == 307 and anonymous.headers["Location"].endswith("/feeds/tm/news.tmx")
        streamed = client.get(path, follow_redirects=True)
        assert streamed.status_code == 200 and streamed.get_data() == inline.get_data()
    else:
        assert anonymous.status_code == 401
    # Past its retention the file goes: the job says so, and its download answers 410.
    app.config["JOB_RESULTS_DAYS"] = 0
    cleaned = runner.invoke(args=["jobs", "cleanup"])
    assert cleaned.exit_code == 0 and "Removed 1 result file" in cleaned.output, cleaned.output
    gone = client.get(job["download"], headers=auth(token))
    assert gone.status_code == 410 and "Start the job again" in gone.get_json()["error"]["message"]
    assert "download" not in client.get(job["url"], headers=auth(token)).get_json()


def test_an_export_job_asked_for_and_refused(app, client, token_for):
    token = token_for("admin")
    import_pairs(client, token, PAIRS[:1], memory="small")
    asked = client.get("/api/v1/export?memory=small", headers={**auth(token), "Prefer": "respond-async"})
    assert asked.status_code == 202
    assert job_outcome(client, asked, auth(token)).job["result"]["memories"] == ["small"]
    assert client.get("/api/v1/memories/nope/export", headers={**auth(token), "Prefer": "respond-async"}
                      ).status_code == 404
    bad = client.get("/api/v1/memories/small/export?format=docx", headers={**auth(token), "Prefer": "respond-async"})
    assert bad.status_code == 400 and "docx" in bad.get_json()["error"]["message"]
