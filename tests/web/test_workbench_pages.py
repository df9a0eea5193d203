"""The workbench pages through the test client, on SQLite and PostgreSQL: lookup and concordance
pages, article analysis from text, .docx and XLIFF, exports, both interface languages, the
growth chart on the home page, escaping."""
from __future__ import annotations

import io
import re

import pytest
from lxml import etree

from tests.helpers import auth, csrf, post_article

SEED = ["俄罗斯总统普京14日在索契会见了来访的美国国务卿蓬佩奥。",
        "双方同意努力缓和两国紧张关系。",
        "美俄关系仍然面临结构性矛盾。"]
SEED_EN = ["Russian President Vladimir Putin met with visiting US Secretary of State Mike Pompeo in Sochi on the 14th.",
           "Both sides agreed to work to ease tensions.",
           "US-Russia relations still face structural conflicts."]


@pytest.fixture
def seeded(client, token_for):
    token = token_for("admin")
    client.post("/api/v1/memories", json={"name": "news"}, headers=auth(token))
    for i, (zh, en) in enumerate(zip(SEED, SEED_EN, strict=True)):
        response = client.post("/api/v1/units", headers=auth(token), json={
            "memory": "news", "zh": zh, "en": en,
            "context_prev": SEED[i - 1] if i else "", "context_next": SEED[i + 1] if i + 1 < len(SEED) else ""})
        assert response.status_code == 201, response.get_json()
    return token


def band_counts(html: str) -> dict[str, int]:
    rows = re.findall(r'<tr data-band="([\w-]+)"><th scope="row">.*?</th>\s*<td class="num">(\d+)</td>', html, re.S)
    return {band: int(count) for band, count in rows}


@pytest.mark.parametrize("path", ["/workbench/", "/workbench/concordance", "/workbench/article"])
def test_pages_in_both_languages(client, path):
    english = client.get(path, headers={"Accept-Language": "en-GB,en"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Workbench" in english
    chinese = client.get(path, headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in chinese and "工作台" in chinese and "Workbench" not in chinese


def test_language_switch_is_remembered_and_stays_on_site(client):
    response = client.get("/lang/zh?next=/workbench/concordance")
    assert response.status_code == 302 and response.headers["Location"] == "/workbench/concordance"
    assert "lang=zh" in response.headers["Set-Cookie"]
    assert "语境检索" in client.get("/workbench/concordance", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for evil in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        assert client.get(f"/lang/en?next={evil}").headers["Location"] == "/"


def test_article_analysis_counts_bands_and_repetitions(client, seeded):
    text = "\n".join([*SEED, SEED[1], "完全不同的一句话，记忆库里没有。"])
    html = post_article(client, text=text, direction="auto", threshold="75").get_data(as_text=True)
    counts = band_counts(html)
    assert counts["context"] + counts["exact"] == 3
    assert counts["repetition"] == 1 and counts["none"] == 1
    chart_bands = {band for band, count in counts.items() if count and band in ("context", "exact", "none")}
    assert "<svg" in html and all(f'class="wb-bar wb-band-{band}"' in html for band in chart_bands)


def test_article_from_docx_and_xliff(client, seeded):
    import docx

    document = docx.Document()
    for sentence in SEED:
        document.add_paragraph(sentence)
    buffer = io.BytesIO()
    document.save(buffer)
    html = post_article(client, file=(io.BytesIO(buffer.getvalue()), "article.docx"),
                        threshold="75").get_data(as_text=True)
    assert sum(band_counts(html).values()) == 3 and "article.docx" in html

    from workbench.export import skeleton

    xliff = skeleton(SEED[:2], "zh", "en", version=2)
    html = post_article(client, file=(io.BytesIO(xliff), "article.xlf"), threshold="75").get_data(as_text=True)
    assert sum(band_counts(html).values()) == 2


@pytest.mark.parametrize("upload, message", [
    ((b"\xff\xfe\x00bad", "a.txt"), "UTF-8"),
    ((b"not a zip", "a.docx"), ".docx"),
    ((b"<xliff version='1.2'><file", "a.xlf"), "XLIFF"),
    ((b"x", "a.pdf"), ".txt"),
])
def test_bad_uploads_are_explained(client, upload, message):
    response = post_article(client, file=(io.BytesIO(upload[0]), upload[1]))
    assert response.status_code == 400
    assert message in re.search(r'role="alert">(.*?)</p>', response.get_data(as_text=True), re.S).group(1)


def test_empty_article_and_bad_threshold(client):
    assert "empty" in post_article(client, text="   ").get_data(as_text=True)
    response = post_article(client, text="你好。", threshold="500")
    assert response.status_code == 400 and "50 to 101" in response.get_data(as_text=True)


def test_exports(client, seeded):
    from tm.formats.xliff import read_xliff

    text = "\n".join(SEED + ["没有匹配的句子。"])
    token = csrf(client)
    xliff = client.post("/workbench/article/export", data={"csrf_token": token, "text": text, "format": "xliff12",
                                                           "threshold": "75", "direction": "zh-en"})
    assert xliff.status_code == 200 and "attachment" in xliff.headers["Content-Disposition"]
    root = etree.fromstring(xliff.data)
    ns = {"x": "urn:oasis:names:tc:xliff:document:1.2"}
    assert len(root.findall(".//x:trans-unit", ns)) == 4 and root.findall(".//x:alt-trans", ns)
    assert [r.en for r in read_xliff(io.BytesIO(xliff.data))] == SEED_EN  # the unmatched one has no target

    xliff2 = client.post("/workbench/article/export", data={"csrf_token": token, "text": text, "format": "xliff20",
                                                            "threshold": "75"})
    assert b"mtc:match" in xliff2.data and b"gls:" not in xliff2.data or b"gls:glossary" in xliff2.data

    tsv = client.post("/workbench/article/export", data={"csrf_token": token, "text": text, "format": "tsv",
                                                         "threshold": "101"}).get_data(as_text=True)
    lines = tsv.splitlines()
    assert lines[0] == "zh\ten\tscore\tmemory" and len(lines) == 5
    assert lines[2].split("\t")[1] == SEED_EN[1]  # in context: 101
    assert lines[4].split("\t")[1] == ""

    missing_token = client.post("/workbench/article/export", data={"text": text, "format": "tsv"})
    assert missing_token.status_code == 400


def test_user_text_is_escaped(client):
    html = post_article(client, text="<script>alert(1)</script>索契。").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_concordance_json_filters_by_date(client, seeded):
    body = client.get("/workbench/concordance.json", query_string={"q": "索契", "since": "2000-01-01"}).get_json()
    assert body["total"] == 1 and body["results"][0]["hits"]["zh"] == [[11, 13]]
    old = client.get("/workbench/concordance.json", query_string={"q": "索契", "until": "2000-01-01"}).get_json()
    assert old["total"] == 0
    bad = client.get("/workbench/concordance.json", query_string={"q": "索契", "since": "May"})
    assert bad.status_code == 400 and bad.get_json()["error"]["parameter"] == "since"
    # The words every date parameter gets (this page had its own: "The date May is not a date like 2024-05-31.").
    assert bad.get_json()["error"]["message"] == "Parameter 'since' must be YYYY-MM-DD, not 'May'."


def test_growth_chart(app, client, seeded):
    from flask import render_template

    from db import db_session
    from workbench.stats import home_charts

    with app.test_request_context("/"):
        series = home_charts(db_session())
        news = next(s for s in series if s.name == "news")
        assert news.size == 3 and news.totals[-1] == 3 and news.points
        assert series[-1].kind == "glossary"
        html = render_template("workbench/_growth.html", growth=series)
    assert "<svg" in html and "<polyline" in html


def test_anonymous_reading_off_needs_login(app, client):
    app.config["ANONYMOUS_READ"] = False
    response = client.get("/workbench/")
    assert response.status_code == 401 or (response.status_code == 302 and "/login" in response.headers["Location"])


def test_catalogue_compiles_when_stale(tmp_path):
    import shutil

    from web.i18n import TRANSLATIONS, compile_catalogues

    target = tmp_path / "zh" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po", target)
    assert compile_catalogues(tmp_path) == [target / "messages.mo"]
    assert compile_catalogues(tmp_path) == []


def test_a_stale_catalogue_with_the_same_time_as_its_source_is_compiled_again(tmp_path):
    """A fresh clone gives the .po and a stale committed .mo the same time."""
    import os
    import shutil

    from web.i18n import TRANSLATIONS, compile_catalogues

    target = tmp_path / "zh" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po", target)
    stale = target / "messages.mo"
    stale.write_bytes(b"stale")
    same = (target / "messages.po").stat().st_mtime
    os.utime(stale, (same, same))
    assert compile_catalogues(tmp_path) == [stale]
    assert stale.read_bytes() != b"stale"
