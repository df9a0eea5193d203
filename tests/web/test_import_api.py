"""Uploads through the API: the happy path and every kind of bad input."""
from __future__ import annotations

import io

import pytest

from tests.helpers import auth, job_outcome, make_memory, wmt_pairs
from tm.formats.records import UnitRecord
from tm.formats.tmx import write_tmx


def _tmx(pairs) -> bytes:
    buffer = io.BytesIO()
    write_tmx([UnitRecord(zh=z, en=e) for z, e in pairs], buffer)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def news_memory(app):
    """Editors import into memories an admin made."""
    make_memory(app, "news")


def _upload(client, token, data: bytes, name="file.tmx", memory="news"):
    """The import's outcome: refused at once (4xx), or accepted (202) and its job polled."""
    response = client.post(f"/api/v1/memories/{memory}/import", headers=auth(token),
                           data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    return job_outcome(client, response, auth(token))


def test_upload_imports_and_reports(client, token_for):
    token = token_for("editor")
    response = _upload(client, token, _tmx(wmt_pairs(50)))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["added"] == 50
    listing = client.get("/api/v1/memories").get_json()["memories"]
    assert listing == [{**listing[0], "name": "news", "units": 50}]


def test_malformed_tmx_names_line_and_reason(client, token_for):
    token = token_for("editor")
    data = _tmx(wmt_pairs(3)).replace(b"</body>", b"<tu><tuv xml:lang=\"zh\"><seg>x</seg></body>")
    error = _upload(client, token, data).get_json()["error"]
    assert error["status"] == 400 and error["line"] > 1 and "malformed" in error["reason"]
    assert client.get("/api/v1/units").get_json()["total"] == 0


def test_entity_bomb_and_external_entity_are_refused(client, token_for):
    token = token_for("editor")
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE tmx [\n<!ENTITY a "aaaaaaaaaa">\n<!ENTITY b "&a;&a;&a;&a;&a;&a;">\n]>\n'
            b'<tmx version="1.4"><header srclang="zh"/><body><tu><tuv xml:lang="zh"><seg>&b;</seg></tuv>'
            b'<tuv xml:lang="en"><seg>x</seg></tuv></tu></body></tmx>')
    xxe = bomb.replace(b'<!ENTITY a "aaaaaaaaaa">', b'<!ENTITY a SYSTEM "file:///etc/passwd">')
    for data in (bomb, xxe):
        response = _upload(client, token, data)
        assert response.status_code == 400
        assert "entit" in response.get_json()["error"]["message"].lower()
    assert client.get("/api/v1/units").get_json()["total"] == 0


def test_unknown_language_lists_supported_codes(client, token_for):
    data = _tmx(wmt_pairs(1)).replace(b'xml:lang="en-US"', b'xml:lang="de-DE"')
    response = _upload(client, token_for("editor"), data)
    assert response.status_code == 400
    body = response.get_json()["error"]
    assert "zh-CN" in body["message"] or "zh-CN" in body.get("supported", [])


def test_invalid_utf8_upload_and_query(client, token_for):
    token = token_for("editor")
    response = _upload(client, token, "zh\ten\n你好\tHello\n".encode("gb18030"), name="pairs.tsv")
    assert response.status_code == 400
    assert client.get("/api/v1/tm/concordance?q=%FF%FE").status_code == 400


def test_upload_over_the_limit_gets_413(app, client, token_for):
    token = token_for("editor")
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = _upload(client, token, _tmx(wmt_pairs(40)))
    assert response.status_code == 413
    assert "limit" in response.get_json()["error"]["message"]


def test_an_editor_cannot_create_a_memory_by_importing_into_a_new_name(app, client, token_for, make_user):
    """Creating memories is the admin's: an editor's write token, the import page and the
    aligner's store all refuse a memory that does not exist, and nothing is created."""
    editor = token_for("editor")
    refused = _upload(client, editor, _tmx(wmt_pairs(2)), memory="brand-new")
    assert refused.status_code == 403
    assert "brand-new" in refused.get_json()["error"]["message"]
    assert refused.get_json()["error"]["field"] == "memory"

    username, password = make_user("page-editor", "editor")
    page = client.get("/login").get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf}).status_code == 302
    form = client.post("/import", data={"csrf_token": csrf, "memory": "also-new",
                                        "file": (io.BytesIO(_tmx(wmt_pairs(2))), "f.tmx")},
                       content_type="multipart/form-data")
    assert form.status_code == 403 and "also-new" in form.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf})

    job = client.post("/api/v1/align/jobs", json={"zh": "第一句。", "en": "The first sentence."},
                      headers=auth(editor)).get_json()
    beads = [dict(b, approved=True) for b in job["beads"]]
    client.put(f"/api/v1/align/jobs/{job['id']}", json={"version": job["version"], "beads": beads},
               headers=auth(editor))
    stored = client.post(f"/api/v1/align/jobs/{job['id']}/store", json={"memory": "third-new"},
                         headers=auth(editor))
    assert stored.status_code == 403

    names = {m["name"] for m in client.get("/api/v1/memories").get_json()["memories"]}
    assert names == {"news"}
    # An admin may, and an editor may import into what exists.
    assert _upload(client, token_for("admin"), _tmx(wmt_pairs(2)), memory="brand-new").status_code == 201
    assert _upload(client, editor, _tmx(wmt_pairs(3)), memory="brand-new").status_code == 201


@pytest.mark.parametrize("name, encoding", [("job.xml", "utf-8"), ("job.txt", "utf-16")])
def test_an_xliff_is_told_by_its_content_whatever_its_name(client, token_for, name, encoding):
    """The upload route sniffs with tm.formats.sniff_format: the root element tells, in UTF-16 too."""
    (z0, e0), = wmt_pairs(1)
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;")  # noqa: E731
    xliff = (f'<?xml version="1.0" encoding="{encoding.upper()}"?>\n'
             f'<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="zh-CN" trgLang="en">'
             f'<file id="f"><unit id="1"><segment state="final"><source>{esc(z0)}</source>'
             f'<target>{esc(e0)}</target></segment></unit></file></xliff>\n')
    response = _upload(client, token_for("editor"), xliff.encode(encoding), name=name)
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["file_format"], response.get_json()["added"]) == ("xliff", 1)
