"""Texts made below the views, other than errors, in the reader's language: the glossary QA's
issues and the alignment warnings (which are stored with the job, as templates and parameters,
and translated whenever the job is read).

A reader who chose Chinese with the switch (the ``lang`` cookie) reads Chinese; a client without
the cookie reads the English it always did.
"""
from __future__ import annotations

import io
import os
import re

import pytest

from common.messages import N_, Message, Word, from_data, to_data
from tests.align_support import lexical_embed
from tests.helpers import auth
from web.extensions import install_align_embedder

CASS = {"concept_type": "institution", "terms": [
    {"lang": "zh", "text": "中国社会科学院"},
    {"lang": "en", "text": "Chinese Academy of Social Sciences", "status": "preferred"},
    {"lang": "en", "text": "CASS", "status": "admitted", "term_type": "acronym", "case_sensitive": True}]}
UKRAINE = {"concept_type": "place", "terms": [
    {"lang": "zh", "text": "乌克兰"}, {"lang": "en", "text": "Ukraine"},
    {"lang": "en", "text": "the Ukraine", "status": "forbidden"}]}
BEIJING = {"concept_type": "place", "terms": [
    {"lang": "zh", "text": "北京"}, {"lang": "en", "text": "Beijing"},
    {"lang": "en", "text": "Peking", "status": "deprecated", "note": "old postal spelling"}]}
MADURO = {"concept_type": "person", "terms": [
    {"lang": "zh", "text": "马杜罗"}, {"lang": "en", "text": "Nicolás Maduro", "status": "preferred"},
    {"lang": "en", "text": "Nicolas Maduro", "status": "admitted"}]}

ZH = "北京今天发布了新的空气质量报告。报告显示，细颗粒物浓度比去年下降了百分之十。专家认为，这主要得益于减少燃煤。"
EN = ("Beijing released a new air quality report today. The report shows that the concentration of fine "
      "particulate matter fell by ten percent from last year. Experts believe this is mainly thanks to "
      "burning less coal.")
EXTRA = ("The city also opened two subway lines. Tickets cost three yuan. A museum of printing welcomed "
         "its first visitors. Schools will start the new term on Monday. Rain is expected at the weekend. "
         "The football team won its third match in a row.")
LOPSIDED_EN = ("The English has 3× the sentences of the Chinese (9 against 3): is one of them a different or "
               "shortened text? What matches is aligned; the rest is left unaligned for review.")
LOPSIDED_ZH = ("英文的句子数是中文的 3 倍（9 句对 3 句）：其中一篇是否是另一篇文本或删节版？"
               "能对应的部分已对齐，其余部分留作未对齐，供审校。")
PASSAGE_EN = ("English sentences 4–9 (6 of 9) have no counterpart in the Chinese: left unaligned. Is it a "
              "passage one text leaves out?")
PASSAGE_ZH = "英文第 4–9 句（共 9 句中的 6 句）在中文中没有对应，已留作未对齐：是否有一篇删去或增加了这一段？"


@pytest.fixture
def fast_encoder(app):
    """The lexical stand-in for the aligner's sentence encoder (tests/align_support.py)."""
    install_align_embedder(app, lexical_embed)


@pytest.fixture
def editor(client, token_for):
    """An editor's token, and a glossary with the entries the checks below run into."""
    token = token_for("editor", username="wang")
    for body in (CASS, UKRAINE, BEIJING, MADURO):
        assert client.post("/api/v1/glossary/entries", json=body, headers=auth(token)).status_code == 201
    return token


def _chinese(client) -> None:
    """Choose Chinese with the switch in the header (sets the ``lang`` cookie)."""
    assert client.get("/lang/zh?next=/").status_code == 302


def _login(client, make_user, name: str = "ed", role: str = "editor") -> str:
    username, password = make_user(name, role)
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf})
    assert answer.status_code == 302
    return csrf


# ------------------------------------------------------------------ glossary QA

def _qa(client, source: str, translation: str) -> list[dict]:
    response = client.post("/api/v1/glossary/qa", json={"source": source, "translation": translation})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["issues"]


def test_qa_issues_from_the_api_are_in_the_reader_s_language(app, client, editor):
    source, translation = "中国社会科学院谈乌克兰问题", "The academy discussed the Ukraine issue."
    english = _qa(app.test_client(), source, translation)
    assert [(i["kind"], i["message"]) for i in english] == [
        ("missing_term", "“中国社会科学院” should be translated as “Chinese Academy of Social Sciences” or “CASS”"),
        ("forbidden_term", "forbidden term “the Ukraine”; use “Ukraine”"),
    ]
    _chinese(client)
    chinese = _qa(client, source, translation)
    assert [i["message"] for i in chinese] == [
        "“中国社会科学院”应译为“Chinese Academy of Social Sciences”或“CASS”",
        "禁用术语“the Ukraine”；请改用“Ukraine”",
    ]
    # What a program reads does not change with the language.
    assert [{k: v for k, v in i.items() if k != "message"} for i in chinese] == \
        [{k: v for k, v in i.items() if k != "message"} for i in english]


def test_a_check_within_one_language_is_refused_in_the_reader_s_language(client):
    same = {"source": "人民日报", "translation": "人民日报", "src": "zh", "tgt": "zh"}
    english = client.post("/api/v1/glossary/qa", json=same)
    assert english.status_code == 400
    assert english.get_json()["error"]["message"] == ("Fields 'src' and 'tgt' must name different languages "
                                                      "(both are 'zh').")
    _chinese(client)
    chinese = client.post("/api/v1/glossary/qa", json=same).get_json()["error"]
    assert chinese == {"status": 400, "field": "tgt",
                       "message": "字段 'src' 和 'tgt' 必须是不同的语言（现在都是 'zh'）。"}


def test_the_qa_page_shows_the_issues_in_the_reader_s_language(app, client, editor, make_user):
    csrf = _login(client, make_user)
    form = {"csrf_token": csrf, "source": "马杜罗访问北京",
            "translation": "Nicolás Maduro visited Peking. Nicolas Maduro met the press."}
    english = client.post("/glossary/qa", data=form).get_data(as_text=True)
    assert "deprecated term “Peking”; use “Beijing” (old postal spelling)" in english
    assert ("one concept written as “Nicolás Maduro” or “Nicolas Maduro” in the same text; "
            "prefer “Nicolás Maduro”") in english
    _chinese(client)
    page = client.post("/glossary/qa", data=form)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "不推荐术语“Peking”；请改用“Beijing”（old postal spelling）" in html
    assert "同一概念在同一文本中写作“Nicolás Maduro”或“Nicolas Maduro”，写法不一；首选“Nicolás Maduro”" in html
    assert "should be translated" not in html and "deprecated term" not in html and "same text" not in html


def test_a_qa_message_keeps_its_english_sentence():
    """Outside a request (the CLI, the core's own tests) an issue reads as it always did."""
    from glossary.core.qa import check
    from glossary.core.recognize import TermRecognizer
    from glossary.demo import load_demo_entries

    issues = check("中国社会科学院发布报告", "The academy published a report", "zh", "en",
                   TermRecognizer(load_demo_entries()))
    assert issues and isinstance(issues[0].message, Message)
    assert issues[0].message.startswith("“中国社会科学院” should be translated as “Chinese Academy of Social Sciences”")


# ------------------------------------------------------------------ alignment warnings

def test_a_legacy_encoding_warning_is_stored_as_a_template_and_read_in_either_language(app, client, editor,
                                                                                      fast_encoder):
    upload = {"zh": (io.BytesIO(ZH.encode("gb18030")), "zh.txt"), "en": (io.BytesIO(EN.encode()), "en.txt")}
    _chinese(client)
    created = client.post("/api/v1/align/jobs", data=upload, headers=auth(editor), content_type="multipart/form-data")
    assert created.status_code == 201, created.get_json()
    job = created.get_json()
    assert job["warnings"] == ["中文文件已按 GB18030 编码解码。"]

    english = app.test_client().get(f"/api/v1/align/jobs/{job['id']}", headers=auth(editor)).get_json()
    assert english["warnings"] == ["The Chinese file was decoded as GB18030."]
    assert client.get(f"/api/v1/align/jobs/{job['id']}", headers=auth(editor)).get_json()["warnings"] == \
        ["中文文件已按 GB18030 编码解码。"]

    # Stored as template and parameters, not in the language of whoever created the job.
    from align.models import AlignmentJob
    from db import new_session

    with app.app_context():
        session = new_session()
        stored = session.get(AlignmentJob, job["id"]).warnings
        session.close()
    assert stored == [{"template": "The {slot} file was decoded as {encoding}.",
                       "params": {"slot": {"template": "Chinese", "params": {}}, "encoding": "GB18030"}}]


def test_a_lopsided_alignment_warns_in_the_reader_s_language(app, client, fast_encoder):
    texts = {"zh": ZH, "en": EN + " " + EXTRA}
    assert app.test_client().post("/api/v1/align", json=texts).get_json()["warnings"] == [LOPSIDED_EN, PASSAGE_EN]
    _chinese(client)
    assert client.post("/api/v1/align", json=texts).get_json()["warnings"] == [LOPSIDED_ZH, PASSAGE_ZH]


def test_the_review_page_shows_the_warning_in_the_reader_s_language(app, client, make_user, fast_encoder):
    csrf = _login(client, make_user)
    created = client.post("/align", data={"csrf_token": csrf, "zh": ZH, "en": EN + " " + EXTRA})
    assert created.status_code == 303
    review = created.headers["Location"]
    english = client.get(review).get_data(as_text=True)
    assert f'<p class="notice align-warning">{LOPSIDED_EN}</p>' in english
    _chinese(client)
    chinese = client.get(review).get_data(as_text=True)
    assert f'<p class="notice align-warning">{LOPSIDED_ZH}</p>' in chinese
    assert "the sentences of the" not in chinese  # nor in the job's data given to align.js


def test_a_job_stored_with_plain_english_warnings_still_reads(app, client, editor, make_user):
    """Jobs made before warnings were kept as templates hold the English sentences themselves."""
    from align.models import AlignmentJob
    from common.timeutil import utcnow
    from db import new_session

    old = "The Chinese file was decoded as GB18030."
    with app.app_context():
        session = new_session()
        now = utcnow()
        job = AlignmentJob(title="old", zh_text=ZH, en_text=EN, warnings=[old],
                           state={"zh": [], "en": [], "beads": []}, status="review",
                           created_at=now, changed_at=now, version=1)
        session.add(job)
        session.commit()
        job_id = job.id
        session.close()
    _chinese(client)
    assert client.get(f"/api/v1/align/jobs/{job_id}", headers=auth(editor)).get_json()["warnings"] == [old]
    _login(client, make_user)
    page = client.get(f"/align/{job_id}")
    assert page.status_code == 200 and f'<p class="notice align-warning">{old}</p>' in page.get_data(as_text=True)


# ------------------------------------------------------------------ messages kept as data

def test_a_message_survives_a_round_trip_through_json():
    import json

    message = Message(N_("This needs the {needed} role; you are a {role}."), needed=Word("admin"),
                      role=Word("translator"))
    nested = Message(N_("{first} or {second}"), first=Message(N_("Chinese")), second="“x”")
    for original in (message, nested, Message(N_("The title is longer than {most} characters."), most=500)):
        again = from_data(json.loads(json.dumps(to_data(original))))
        assert isinstance(again, Message) and again == original
        assert again.template == original.template and again.params == original.params
    assert type(from_data(to_data(message)).params["role"]) is Word
    # Plain strings (rows stored before) come back as they are; so does a template that no
    # longer fits its parameters, rather than failing the page.
    assert from_data("The Chinese file was decoded as GB18030.") == "The Chinese file was decoded as GB18030."
    assert from_data({"template": "{missing} file", "params": {}}) == "{missing} file"
    assert to_data("plain") == "plain"
    with pytest.raises(TypeError):
        to_data(Message(N_("{first} or {second}"), first=object(), second="x"))


def test_a_stored_message_is_translated_when_read(app):
    from web.i18n import translate_message

    stored = to_data(Message(N_("The {slot} file was decoded as {encoding}."), slot=Message(N_("Chinese")),
                             encoding="BIG5"))
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert translate_message(from_data(stored)) == "中文文件已按 BIG5 编码解码。"


# ------------------------------------------------------------------ the compiled catalogue

def test_the_compiled_catalogue_is_readable_by_other_users(tmp_path):
    import shutil

    from web.i18n import TRANSLATIONS, compile_catalogues

    target = tmp_path / "zh" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po", target)
    previous = os.umask(0o022)
    try:
        (mo,) = compile_catalogues(tmp_path)
    finally:
        os.umask(previous)
    assert mo.stat().st_mode & 0o777 == 0o644
    assert not list(target.glob(".messages-*"))  # no temporary file left behind
