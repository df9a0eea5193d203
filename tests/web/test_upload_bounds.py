"""Uploads that would blow up a worker are refused before the work (issue 12, items 3 and 8).

Small generated bombs: a .docx of a few hundred KB that inflates to 256 MB, one of 200,000
paragraphs, an XLIFF with one 9.5 MB segment, a TMX or TSV segment over the segment bound, and
the malformed files that answered 500 (a damaged document.xml, an undeclared namespace prefix, a
date that leaves years 1–9999 once converted to UTC). Each gets 413 or 400 with a message that
says what is wrong, and nothing is stored.
"""
from __future__ import annotations

import io
import re
import zipfile

import pytest

from tests.helpers import auth, job_outcome, post_article

WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _docx(document_xml: bytes | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """A real .docx from python-docx, with its document part or extra parts replaced."""
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml" and document_xml is not None:
                data = document_xml
            target.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def _document(paragraphs: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{WORD_NS}">'
            f'<w:body>{paragraphs}</w:body></w:document>').encode()


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """A .docx of about 250 KB with a part that inflates to 256 MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_docx())) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        with target.open("word/media/image1.png", "w") as part:
            chunk = bytes(1024 * 1024)
            for _ in range(256):
                part.write(chunk)
    data = out.getvalue()
    assert len(data) < 400 * 1024
    return data


def _alert(response) -> str:
    return re.search(r'role="alert">(.*?)</p>', response.get_data(as_text=True), re.S).group(1)


def test_a_docx_zip_bomb_is_refused_before_it_is_inflated(client, zip_bomb):
    response = post_article(client, file=(io.BytesIO(zip_bomb), "bomb.docx"))
    assert response.status_code == 413
    assert "zip bomb" in _alert(response) and "256 MB" in _alert(response)


def test_a_docx_of_200000_paragraphs_is_refused(client):
    numbered = _docx(_document("".join(f"<w:p><w:r><w:t>{i}</w:t></w:r></w:p>" for i in range(200_000))))
    response = post_article(client, file=(io.BytesIO(numbered), "long.docx"))
    assert response.status_code == 413
    assert "10,000 paragraphs" in _alert(response)
    # Empty paragraphs deflate so well that the part is a bomb by its ratio: refused all the same.
    empty = _docx(_document("<w:p/>" * 200_000))
    assert len(empty) < 110 * 1024
    assert post_article(client, file=(io.BytesIO(empty), "empty.docx")).status_code == 413


def test_a_docx_with_a_malformed_document_part_is_a_400(client):
    broken = _docx(_document("<w:p><w:r><w:t>unclosed</w:r></w:p>"))
    response = post_article(client, file=(io.BytesIO(broken), "broken.docx"))
    assert response.status_code == 400
    assert "damaged" in _alert(response) and "well-formed" in _alert(response)


def test_a_docx_within_the_bounds_still_reads(client):
    ordinary = _docx(_document("<w:p><w:r><w:t>双方同意努力缓和两国紧张关系。</w:t></w:r></w:p><w:p/>" * 50))
    response = post_article(client, file=(io.BytesIO(ordinary), "ok.docx"))
    assert response.status_code == 200, _alert(response)


def test_an_xliff_with_one_huge_segment_is_refused_by_the_article_page(client):
    from workbench.export import skeleton

    xliff = skeleton(["a" * 9_500_000], "en", "zh", version=1)
    response = post_article(client, file=(io.BytesIO(xliff), "huge.xlf"))
    assert response.status_code == 413
    assert "9,500,000 characters" in _alert(response)


def test_an_xliff_with_too_many_units_is_refused_before_segmenting(client):
    from workbench.export import skeleton

    xliff = skeleton([f"Sentence {i}." for i in range(1_001)], "en", "zh", version=2)
    response = post_article(client, file=(io.BytesIO(xliff), "many.xlf"))
    assert response.status_code == 413 and "1001 segments" in _alert(response)


# ------------------------------------------------------------------ the import doors

def _import(client, token, data: bytes, filename: str):
    """The import's outcome: refused at once (4xx), or accepted (202) and its job polled."""
    response = client.post("/api/v1/memories/news/import", headers=auth(token),
                           data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")
    return job_outcome(client, response, auth(token))


def _tmx(tu_attrs: str = "", zh: str = "中国", prefix: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4"><header srclang="zh-CN"/><body>\n'
            f'<tu><tuv xml:lang="zh-CN"><seg>你好</seg></tuv><tuv xml:lang="en"><seg>hello</seg></tuv></tu>\n'
            f'<tu{tu_attrs}><tuv xml:lang="zh-CN"><seg>{zh}</seg></tuv>'
            f'<tuv xml:lang="en"><seg>China</seg></tuv></tu>\n</body></tmx>').encode()


def _xliff_with_prefix() -> bytes:
    return ('<?xml version="1.0"?>\n<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">\n'
            '<file source-language="zh" target-language="en" original="a"><body>\n'
            '<trans-unit id="1"><source>你好</source><target>hello</target></trans-unit>\n'
            '<trans-unit id="2"><source>中国<foo:bar>x</foo:bar></source><target>China</target></trans-unit>\n'
            '</body></file></xliff>').encode()


BAD_FILES = {
    "tmx date before year 1 in UTC": (_tmx(' creationdate="0001-01-01T00:00:00+05:00"'), "a.tmx", 4, "years 1 to 9999"),
    "tmx date after year 9999 in UTC": (_tmx(' changedate="9999-12-31T23:00:00-05:00"'), "a.tmx", 4,
                                        "years 1 to 9999"),
    "tsv date after year 9999 in UTC": ("zh\ten\tcreationdate\n你好\thello\t\n中国\tChina\t9999-12-31T23:59:59-01:00\n"
                                        .encode(), "a.tsv", 3, "years 1 to 9999"),
    "xliff undeclared prefix": (_xliff_with_prefix(), "a.xlf", 5, "Namespace prefix foo"),
    "tmx segment over the bound": (_tmx(zh="中" * 20_001), "a.tmx", 4, "20,001 characters"),
    "tsv segment over the bound": (f"zh\ten\n你好\thello\n{'中' * 20_001}\tChina\n".encode(), "a.tsv", 3,
                                   "20,001 characters"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_file_is_a_400_naming_its_line_and_imports_nothing(client, token_for, case):
    data, filename, line, reason = BAD_FILES[case]
    admin = token_for("admin")
    assert client.post("/api/v1/memories", json={"name": "news"}, headers=auth(admin)).status_code == 201
    response = _import(client, admin, data, filename)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["line"] == line and reason in error["message"]
    assert client.get("/api/v1/units").get_json()["total"] == 0


# ------------------------------------------------------------------ one record past its bound

def test_a_tmx_unit_of_17_mb_is_refused_naming_the_line_before_it(client, token_for):
    props = b'<prop type="x-filler">v</prop>' * 600_000
    # The first unit (line 3) carries the props; the error names the line read whole before it.
    data = _tmx().replace(b"<tu><tuv", b"<tu>" + props + b"<tuv", 1)
    response = _import(client, token_for("admin"), data, "big.tmx")
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["line"] == 2 and "next unit is larger than 16 MB" in error["message"]
    assert client.get("/api/v1/memories").get_json()["memories"] == []


def test_a_tsv_line_of_over_a_million_characters_is_refused(client, token_for):
    data = f"zh\ten\n你好\thello\n中国\t{'a' * 1_100_000}\n".encode()
    response = _import(client, token_for("admin"), data, "long.tsv")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["line"] == 3 and "1,048,576 characters" in error["message"]
    assert client.get("/api/v1/memories").get_json()["memories"] == []


@pytest.mark.parametrize("filename, data", [
    ("big.tbx", b'<?xml version="1.0"?>\n<martif type="TBX-Basic" xml:lang="en"><text><body>\n'
                b'<termEntry id="a"><langSet xml:lang="en"><tig><term>CASS</term></tig></langSet></termEntry>\n'
                b'<termEntry id="b"><note>' + b"<hi>x</hi>" * 1_800_000 + b'</note><langSet xml:lang="en"><tig>'
                b'<term>NPC</term></tig></langSet></termEntry>\n</body></text></martif>'),
    ("long.tsv", b"entry_id\tlang\tterm\nok\ten\tCASS\nb\ten\t" + b"a" * 1_100_000 + b"\n"),
])
def test_a_glossary_record_past_its_bound_is_refused(client, token_for, filename, data):
    response = client.post("/api/v1/glossary/import", headers=auth(token_for("editor")),
                           data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "the most one" in response.get_json()["error"]["message"]
    assert client.get("/api/v1/glossary/entries").get_json()["total"] == 0


def test_an_alignment_upload_past_its_bound_is_a_413_before_decoding(client, token_for):
    from align import service

    zh = ("中国社会科学院发布报告。" * (service.MAX_TEXT_BYTES // 12)).encode("utf-8")
    response = client.post("/api/v1/align", headers=auth(token_for("editor")),
                           data={"zh": (io.BytesIO(zh), "zh.txt"), "en": (io.BytesIO(b"A report."), "en.txt")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert response.get_json()["error"]["field"] == "zh"
