"""Errors from the service layer and the file readers in the reader's language.

Raise sites pass a ``common.messages.Message`` (the English sentence with its template and
parameters); web/errors.py and the views translate it with ``web.i18n.translate_message``. A
reader who chose Chinese (the ``lang`` cookie) or whose browser asks for it gets Chinese, in JSON
and in pages alike; everybody else gets the English the API always gave. The catalogue test at
the end keeps new messages from going untranslated.
"""
from __future__ import annotations

import ast
import io
import pickle
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from common.messages import N_, Message, Word
from tests.helpers import ROOT, auth, job_outcome, make_memory

CATALOGUE = ROOT / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
#: Where no user-facing message is raised: tests, benchmarks, and the command line (English).
NOT_SCANNED = ("tests", "bench", "migrations", "scripts", "demo", "static", "templates", "docs")

TMX_WITHOUT_ENGLISH = """<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4">
<header srclang="zh-CN" datatype="plaintext" segtype="sentence" adminlang="en" o-tmf="x"
        creationtool="t" creationtoolversion="1"/>
<body>
<tu>
<tuv xml:lang="zh-CN"><seg>人民日报</seg></tuv>
</tu>
</body>
</tmx>
"""


@pytest.fixture
def editor(client, token_for):
    """A write token of an editor, and a memory called "news" to write to."""
    token = token_for("editor")
    assert client.post("/api/v1/memories", json={"name": "news"}, headers=auth(token_for("admin"))).status_code == 201
    return token


def _login(client, make_user, name: str, role: str) -> str:
    username, password = make_user(name, role)
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"username": username, "password": password, "csrf_token": csrf}
    assert client.post("/login", data=form).status_code == 302
    return csrf


def _chinese(client) -> None:
    """Choose Chinese with the switch in the header, as a reader does (sets the ``lang`` cookie)."""
    assert client.get("/lang/zh?next=/").status_code == 302


# ------------------------------------------------------------------ the JSON API

def test_an_api_error_is_in_chinese_for_a_chinese_reader_and_in_english_otherwise(client, editor):
    bad = {"memory": "news", "zh": "  ", "en": "People's Daily"}
    english = client.post("/api/v1/units", json=bad, headers=auth(editor))
    assert english.status_code == 400
    assert english.get_json()["error"]["message"] == "Field 'zh' must be a non-empty string."
    assert english.get_json()["error"]["field"] == "zh"

    _chinese(client)
    chinese = client.post("/api/v1/units", json=bad, headers=auth(editor))
    assert chinese.status_code == 400
    error = chinese.get_json()["error"]
    assert error["message"] == "字段 'zh' 必须是非空字符串。"
    assert error["field"] == "zh"  # the details a program reads do not change


def test_accept_language_alone_is_enough(client, editor):
    response = client.post("/api/v1/units", data=b"{not json", content_type="application/json",
                           headers={**auth(editor), "Accept-Language": "zh-CN,zh;q=0.9"})
    message = response.get_json()["error"]["message"]
    assert response.status_code == 400 and message.startswith("请求正文不是有效的 JSON：")
    assert "The body is not valid JSON" not in message


def test_a_message_inside_a_message_is_translated_too(client, editor):
    body = {"memory": "news", "units": [{"zh": "新华社", "en": "Xinhua"}, {"zh": "人民日报", "en": ""}]}
    english = client.post("/api/v1/units/batch", json=body, headers=auth(editor)).get_json()["error"]
    assert english["message"] == "Unit 1: Field 'en' must be a non-empty string."
    _chinese(client)
    chinese = client.post("/api/v1/units/batch", json=body, headers=auth(editor)).get_json()["error"]
    assert chinese["message"] == "翻译单元 1：字段 'en' 必须是非空字符串。"
    assert chinese["position"] == 1 and chinese["field"] == "en"


def test_permission_errors_show_roles_in_the_reader_s_words(client, token_for):
    _chinese(client)
    refused = client.post("/api/v1/memories", json={"name": "x"}, headers=auth(token_for("editor")))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["message"] == "此操作需要“管理员”角色；您的角色是“编辑”。"


def test_a_broken_upload_names_its_line_in_chinese(app, client, editor):
    make_memory(app, "news")
    _chinese(client)
    table = "zh\ten\n人民日报\tPeople's Daily\n新华社\t\n"
    response = job_outcome(client, client.post("/api/v1/memories/news/import?filename=news.tsv",
                                               data=table.encode(), headers=auth(editor)), auth(editor))
    error = response.get_json()["error"]
    assert response.status_code == 400 and error["line"] == 3
    assert error["message"] == "第 3 行：英文一侧（en）为空"
    assert error["reason"] == "英文一侧（en）为空"
    assert client.get("/api/v1/units").get_json()["total"] == 0  # all or nothing, in any language


def test_glossary_file_errors_are_translated(client, token_for):
    _chinese(client)
    upload = {"file": (io.BytesIO(b"entry_id,lang\n1,zh\n"), "terms.csv")}
    response = client.post("/api/v1/glossary/import", data=upload, headers=auth(token_for("editor")),
                           content_type="multipart/form-data")
    message = response.get_json()["error"]["message"]
    assert response.status_code == 400 and message == "第 1 行：缺少列 term"


# ------------------------------------------------------------------ pages

@pytest.mark.parametrize(("filename", "content", "expected"), [
    ("news.tsv", "zh\ten\n人民日报\tPeople's Daily\n新华社\t\n", "第 3 行：英文一侧（en）为空"),
    ("news.tmx", TMX_WITHOUT_ENGLISH, "第 6 行：&lt;tu&gt; 没有英文变体"),
])
def test_the_import_page_shows_a_file_error_in_chinese(app, client, make_user, filename, content, expected):
    make_memory(app, "news")
    csrf = _login(client, make_user, "ed", "editor")
    _chinese(client)
    posted = client.post("/import", data={"csrf_token": csrf, "memory": "news",
                                          "file": (io.BytesIO(content.encode()), filename)},
                         content_type="multipart/form-data")
    assert posted.status_code == 303 and "/import?job=" in posted.headers["Location"]
    page = client.get(posted.headers["Location"])  # the job's page: it failed, with the reason
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-state="failed"' in html and expected in html
    assert "line " not in html and "is empty" not in html and "has no English" not in html


def test_the_error_page_is_in_chinese_and_says_so(client):
    _chinese(client)
    page = client.get("/glossary/4242")
    html = page.get_data(as_text=True)
    assert page.status_code == 404 and "术语库中没有编号为 4242 的词条。" in html
    assert '<p class="error" role="alert">' in html  # no lang="en": the sentence is Chinese now
    # werkzeug's own descriptions have no translation: marked as English for screen readers.
    missing = client.get("/no/such/page").get_data(as_text=True)
    assert '<p class="error" role="alert" lang="en">' in missing


def test_an_error_flashed_by_a_view_is_translated(client, make_user):
    csrf = _login(client, make_user, "ed", "editor")
    _chinese(client)
    page = client.post("/tokens", data={"csrf_token": csrf, "name": "x", "scope": "everything"},
                       follow_redirects=True).get_data(as_text=True)
    assert "权限范围必须是以下之一：read, write。" in page and "Scope must be" not in page


# ------------------------------------------------------------------ Message itself

def test_a_message_is_its_english_sentence():
    message = Message(N_("No unit {unit_id!r} in memory {memory!r}."), unit_id=7, memory="news")
    assert message == "No unit 7 in memory 'news'." and isinstance(message, str)
    assert message.template == "No unit {unit_id!r} in memory {memory!r}."
    assert message.params == {"unit_id": 7, "memory": "news"}
    # Pickled (as a worker pool would) it comes back whole, even with braces in a parameter.
    again = pickle.loads(pickle.dumps(Message(N_("No memory is called {name!r}."), name="{x}")))
    assert again == "No memory is called '{x}'." and again.template == "No memory is called {name!r}."


def test_outside_a_request_a_message_stays_english(app):
    from web.i18n import translate_message

    role = Message(N_("This needs the {needed} role; you are a {role}."), needed=Word("admin"),
                   role=Word("translator"))
    assert translate_message(role) == "This needs the admin role; you are a translator."
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert translate_message(role) == "此操作需要“管理员”角色；您的角色是“译者”。"
        assert translate_message("plain text") == "plain text"


# ------------------------------------------------------------------ the catalogue

def _project_python_files() -> list[Path]:
    return [path for path in ROOT.rglob("*.py")
            if not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
            and path.relative_to(ROOT).parts[0] not in NOT_SCANNED]


def _templates() -> dict[str, list[str]]:
    """Every string marked with N_ in the project's code, with where it is."""
    found: dict[str, list[str]] = {}

    def skip(dirname: str) -> bool:
        # absolute(), not resolve(): .venv may be a symlink to a virtualenv elsewhere.
        relative = Path(dirname).absolute().relative_to(ROOT).parts
        return not (relative and (relative[0] in NOT_SCANNED or relative[0].startswith((".", "_"))))

    for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT, method_map=[("**.py", "python")], keywords={"N_": None}, directory_filter=skip):
        found.setdefault(message, []).append(f"{filename}:{lineno}")
    return found


def _fields(text: str) -> list[tuple[str, str | None, str]]:
    return sorted((name, conversion, spec) for _, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None)


def test_every_message_template_has_a_chinese_translation_with_the_same_placeholders():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="zh")
    templates = _templates()
    assert len(templates) > 150  # the extraction found the code (a wrong root would find nothing)
    problems = []
    for template, where in sorted(templates.items()):
        entry = catalogue.get(template)
        if entry is None or not entry.string:
            problems.append(f"no translation: {template!r} ({where[0]}); run the commands in babel.cfg")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {template!r}")
        elif _fields(entry.string) != _fields(template):
            problems.append(f"placeholders differ: {template!r} -> {entry.string!r}")
        else:
            values = {name: 1 for name, _conversion, _spec in _fields(template)}
            entry.string.format(**values)  # raises on a stray brace
    assert not problems, "\n".join(problems)


def _marked(node: ast.expr) -> bool:
    """An N_ template, a choice between two, or a variable (holding one, as SLOT_NAMES does)."""
    if isinstance(node, ast.IfExp):
        return _marked(node.body) and _marked(node.orelse)
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id == "N_"
    return isinstance(node, (ast.Name, ast.Subscript, ast.Attribute))


def test_user_facing_errors_are_raised_with_messages():
    """A domain error raised with a literal or an f-string would reach readers in English only;
    Message's first argument must be an N_ template (or a variable holding one)."""
    domain_errors = {"DuizhaoError", "NotFound", "Conflict", "Unauthorized", "Forbidden", "RateLimited",
                     "ImportFormatError", "GlossaryFormatError"}
    # MyMemory's own error wording, which its clients may recognise, is kept verbatim.
    verbatim = ("NO QUERY SPECIFIED", "INVALID LANGUAGE PAIR SPECIFIED")
    problems = []
    for path in _project_python_files():
        if path.name == "cli.py":
            continue  # the command line speaks English
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else None
            first = node.args[0]
            literal = isinstance(first, (ast.JoinedStr, ast.BinOp)) or (
                isinstance(first, ast.Constant) and isinstance(first.value, str))
            if name in domain_errors and literal:
                text = ast.unparse(first)
                if not any(word in text for word in verbatim):
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}({text[:60]}...)")
            if name == "Message" and not _marked(first):
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: Message without an N_ template")
    assert not problems, "\n".join(problems)


def test_messages_module_imports_only_the_standard_library():
    import sys

    tree = ast.parse((ROOT / "common" / "messages.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.module == "__future__" or node.module.split(".")[0] in sys.stdlib_module_names
        elif isinstance(node, ast.Import):
            assert all(alias.name.split(".")[0] in sys.stdlib_module_names for alias in node.names)
