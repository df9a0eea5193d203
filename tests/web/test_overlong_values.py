"""Values longer than their column: the same answer on SQLite and PostgreSQL (issue 12, item 4).

PostgreSQL refused them with a 500 (StringDataRightTruncation) where SQLite stored them. What a
client sends is refused with a 400 naming the field, and nothing is stored; another tool's file
metadata (creationid, x-doc-title, x-doc-url, xml:lang, the file's name) is cut to fit, as the
README documents; a glossary id or term too long is refused with the line of the file.
"""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from tests.helpers import auth, job_outcome

LONG_TERM = "术" * 600


def _tmx(*, tu_attrs: str = "", props: str = "", zh_lang: str = "zh-CN") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4"><header srclang="zh-CN"/><body>\n'
            f'<tu{tu_attrs}>{props}<tuv xml:lang="{zh_lang}"><seg>中国社会科学院</seg></tuv>'
            f'<tuv xml:lang="en-US"><seg>Chinese Academy of Social Sciences</seg></tuv></tu>\n'
            f'</body></tmx>').encode()


def _import(client, token, data: bytes, *, memory="news", filename="file.tmx"):
    """The import's outcome: refused at once (4xx), or accepted (202) and its job polled."""
    response = client.post(f"/api/v1/memories/{memory}/import", headers=auth(token),
                           data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")
    return job_outcome(client, response, auth(token))


def _stored_unit(app):
    from db import new_session
    from tm.models import ImportRun, Unit

    with app.app_context():
        session = new_session()
        try:
            unit = session.scalars(select(Unit)).one()
            run = session.scalars(select(ImportRun)).one()
            return ({c.name: getattr(unit, c.name) for c in Unit.__table__.columns}, run.filename)
        finally:
            session.close()


# ------------------------------------------------------------------ refused with a 400

REFUSED = {
    "memory name 130": ("admin", "post_json", "/api/v1/memories", {"name": "m" * 130}, "name"),
    "unit doc_title 600": ("editor", "post_json", "/api/v1/units",
                           {"memory": "news", "zh": "你好", "en": "hello", "doc_title": "t" * 600}, "doc_title"),
    "unit origin_file 600": ("editor", "post_json", "/api/v1/units",
                             {"memory": "news", "zh": "你好", "en": "hello", "origin_file": "f" * 600},
                             "origin_file"),
    "unit segment 20,001": ("editor", "post_json", "/api/v1/units",
                            {"memory": "news", "zh": "中" * 20_001, "en": "hello"}, "zh"),
    "glossary term 600": ("editor", "post_json", "/api/v1/glossary/entries",
                          {"terms": [{"lang": "zh", "text": LONG_TERM}, {"lang": "en", "text": "x"}]},
                          "terms[1].text"),
    "glossary source 1100": ("editor", "post_json", "/api/v1/glossary/entries",
                             {"source": "s" * 1100, "terms": [{"lang": "en", "text": "CASS"}]}, "source"),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_an_overlong_value_from_a_client_is_a_400_naming_the_field(client, token_for, case):
    role, _how, path, body, field = REFUSED[case]
    admin = token_for("admin")
    assert client.post("/api/v1/memories", json={"name": "news"}, headers=auth(admin)).status_code == 201
    response = client.post(path, json=body, headers=auth(token_for(role)))
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == field
    assert "at most" in error["message"] and repr(field) in error["message"]
    assert client.get("/api/v1/units").get_json()["total"] == 0
    assert client.get("/api/v1/glossary/entries").get_json()["total"] == 0
    assert [m["name"] for m in client.get("/api/v1/memories").get_json()["memories"]] == ["news"]


def test_an_import_into_an_overlong_memory_name_is_refused(client, token_for):
    response = _import(client, token_for("admin"), _tmx(), memory="m" * 130)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "memory"
    assert client.get("/api/v1/memories").get_json()["memories"] == []


GLOSSARY_FILES = {
    "tbx id 300": ("g.tbx", (
        '<?xml version="1.0"?>\n<martif type="TBX-Basic" xml:lang="en"><text><body>\n'
        '<termEntry id="ok"><langSet xml:lang="en"><tig><term>CASS</term></tig></langSet></termEntry>\n'
        f'<termEntry id="{"i" * 300}"><langSet xml:lang="en"><tig><term>NPC</term></tig></langSet></termEntry>\n'
        '</body></text></martif>'), 4),
    "tsv id 300": ("g.tsv", f"entry_id\tlang\tterm\nok\ten\tCASS\n{'i' * 300}\ten\tNPC\n", 3),
    "tsv term 600": ("g.tsv", f"entry_id\tlang\tterm\nok\ten\tCASS\nt2\tzh\t{LONG_TERM}\n", 3),
    "csv source 1100": ("g.csv", f"entry_id,lang,term,source\nok,en,CASS,\nt2,en,NPC,{'s' * 1100}\n", 3),
}


@pytest.mark.parametrize("case", GLOSSARY_FILES, ids=list(GLOSSARY_FILES))
def test_an_overlong_glossary_value_in_a_file_names_its_line_and_imports_nothing(client, token_for, case):
    filename, text, line = GLOSSARY_FILES[case]
    response = client.post("/api/v1/glossary/import", headers=auth(token_for("editor")),
                           data={"file": (io.BytesIO(text.encode()), filename)}, content_type="multipart/form-data")
    assert response.status_code == 400, response.get_json()
    message = response.get_json()["error"]["message"]
    assert f"line {line}" in message and "at most" in message
    assert client.get("/api/v1/glossary/entries").get_json()["total"] == 0


# ------------------------------------------------------------------ file metadata cut to fit

TRUNCATED = {
    # case: (TMX pieces, column, expected stored value)
    "creationid 200": ({"tu_attrs": f' creationid="{"c" * 200}"'}, "created_by", "c" * 120),
    "x-doc-title 600": ({"props": f'<prop type="x-doc-title">{"t" * 600}</prop>'}, "doc_title", "t" * 500),
    "x-doc-url 1100": ({"props": f'<prop type="x-doc-url">https://e.org/{"u" * 1086}</prop>'}, "doc_url",
                       ("https://e.org/" + "u" * 1086)[:1000]),
    "x-origin-file 600": ({"props": f'<prop type="x-origin-file">{"o" * 600}</prop>'}, "origin_file", "o" * 500),
    "xml:lang private use": ({"zh_lang": "zh-Hans-CN-x-abcdefgh"}, "zh_lang", "zh-Hans-CN"),
}


@pytest.mark.parametrize("case", TRUNCATED, ids=list(TRUNCATED))
def test_overlong_metadata_of_a_foreign_tmx_is_cut_to_fit(app, client, token_for, case):
    pieces, column, expected = TRUNCATED[case]
    response = _import(client, token_for("admin"), _tmx(**pieces))
    assert response.status_code == 201, response.get_json()
    unit, _filename = _stored_unit(app)
    assert unit[column] == expected


def test_an_overlong_filename_is_cut_to_fit(app, client, token_for):
    name = "f" * 596 + ".tmx"
    response = _import(client, token_for("admin"), _tmx(), filename=name)
    assert response.status_code == 201, response.get_json()
    unit, filename = _stored_unit(app)
    assert filename == name[:500] and unit["origin_file"] == name[:500]
