"""The TMX feed: strong ETag, Last-Modified, 304s without an export, tokens in the path."""
from __future__ import annotations

import io

from tests.helpers import auth, import_pairs, wmt_pairs
from tm.formats.tmx import read_tmx


def test_feed_etag_changes_with_the_memory_and_304s(client, token_for, app):
    admin = token_for("admin")
    pairs = wmt_pairs(30)
    import_pairs(client, admin, pairs)
    first = client.get("/feeds/tm/news.tmx")
    assert first.status_code == 200 and first.mimetype == "application/x-tmx+xml"
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["Last-Modified"]
    records = list(read_tmx(io.BytesIO(first.data)))
    assert [(r.zh, r.en) for r in records] == pairs

    again = client.get("/feeds/tm/news.tmx", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert client.get("/feeds/tm/news.tmx", headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    since = client.get("/feeds/tm/news.tmx", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    assert client.get("/feeds/tm/news.tmx").data == first.data  # same state, same bytes

    unit = client.post("/api/v1/units", json={"memory": "news", "zh": "新的一句。", "en": "A new sentence."},
                       headers=auth(admin)).get_json()["id"]
    changed = client.get("/feeds/tm/news.tmx", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert len(list(read_tmx(io.BytesIO(changed.data)))) == len(pairs) + 1

    # An edit that keeps the count still changes the tag; so does a delete.
    tag = changed.headers["ETag"]
    client.patch(f"/api/v1/units/{unit}", json={"en": "A newer sentence."}, headers=auth(admin))
    edited = client.get("/feeds/tm/news.tmx", headers={"If-None-Match": tag})
    assert edited.status_code == 200 and b"A newer sentence." in edited.data
    client.delete(f"/api/v1/units/{unit}", headers=auth(admin))
    assert client.get("/feeds/tm/news.tmx", headers={"If-None-Match": edited.headers["ETag"]}).status_code == 200

    # Another memory's change leaves this feed's tag alone.
    tag = client.get("/feeds/tm/news.tmx").headers["ETag"]
    import_pairs(client, admin, [("别的。", "Other.")], memory="other")
    assert client.get("/feeds/tm/news.tmx", headers={"If-None-Match": tag}).status_code == 304


def test_tmx_feed_streams_the_same_bytes_as_an_export(client, token_for, runner, tmp_path):
    # 1,200 units: more than two of the writer's 500-unit chunks, so the body really comes in
    # pieces, read from the database while it is sent.
    admin = token_for("admin")
    pairs = wmt_pairs(1200)
    import_pairs(client, admin, pairs)
    response = client.get("/feeds/tm/news.tmx", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    chunks = list(response.response)
    response.close()
    assert len(chunks) >= 3
    body = b"".join(chunks)
    assert [(r.zh, r.en) for r in read_tmx(io.BytesIO(body))] == pairs
    exported = runner.invoke(args=["tm", "export", "--memory", "news", "-o", str(tmp_path / "news.tmx")])
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "news.tmx").read_bytes() == body


def test_feed_tokens_and_errors(client, token_for, app):
    admin = token_for("admin")
    import_pairs(client, admin, wmt_pairs(2))
    assert client.get("/feeds/tm/missing.tmx").status_code == 404
    app.config["ANONYMOUS_READ"] = False
    assert client.get("/feeds/tm/news.tmx").status_code == 401
    reader = token_for("translator", scope="read")
    assert client.get(f"/feeds/{reader}/tm/news.tmx").status_code == 200
    assert client.get("/feeds/tm/news.tmx", headers=auth(reader)).status_code == 200
    assert client.get("/feeds/dz_wrong/tm/news.tmx").status_code == 401


def test_glossary_feeds_tbx_and_omegat_with_conditional_requests(client, token_for):
    from glossary.formats.tbx import read_tbx

    editor = token_for("editor")
    entry = {"concept_type": "place", "terms": [
        {"lang": "zh", "text": "乌克兰"}, {"lang": "en", "text": "Ukraine"},
        {"lang": "en", "text": "the Ukraine", "status": "forbidden"}]}
    created = client.post("/api/v1/glossary/entries", json=entry, headers=auth(editor)).get_json()

    tbx = client.get(f"/feeds/{editor}/glossary/all.tbx")
    assert tbx.status_code == 200 and tbx.headers["ETag"]
    (read,) = read_tbx(io.BytesIO(tbx.data))
    assert [(t.text, t.status) for t in read.terms] == [("乌克兰", "preferred"), ("Ukraine", "preferred"),
                                                        ("the Ukraine", "forbidden")]
    assert client.get("/feeds/glossary/all.tbx", headers={"If-None-Match": tbx.headers["ETag"]}).status_code == 304

    omegat = client.get("/feeds/glossary/all.txt")
    assert omegat.get_data(as_text=True).splitlines() == ["乌克兰\tUkraine\t"]
    reverse = client.get("/feeds/glossary/all.txt?src=en").get_data(as_text=True).splitlines()
    assert reverse == ["Ukraine\t乌克兰\t", "the Ukraine\t乌克兰\tforbidden source form"]

    body = {**entry, "version": created["version"], "terms": entry["terms"][:2]}
    client.put(f"/api/v1/glossary/entries/{created['id']}", json=body, headers=auth(editor))
    changed = client.get("/feeds/glossary/all.tbx", headers={"If-None-Match": tbx.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != tbx.headers["ETag"]
