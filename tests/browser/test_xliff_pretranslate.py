"""The article page gives an uploaded XLIFF back pre-translated, in headless Chromium on the demo
data: the translator uploads a CAT tool's file, sees the analysis, and downloads the same file
with its empty targets filled, reaching the button with the keyboard alone."""
from __future__ import annotations

import io
import re

import pytest
from lxml import etree

from tests.helpers import ROOT
from tm.formats.xliff import NS_12, read_xliff

pytestmark = pytest.mark.browser

SEED = [line.split("\t") for line in
        (ROOT / "demo" / "seed_article.tsv").read_text(encoding="utf-8").splitlines()[1:] if line.strip()]


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def client_file() -> bytes:
    """A CAT tool's XLIFF 1.2 of the seed article: no targets, a note, a bold paragraph."""
    units = []
    for n, (zh, *_rest) in enumerate(SEED, 1):
        source = f'<g id="1" ctype="bold">{esc(zh)}</g>' if n == 1 else esc(zh)
        note = "      <note from='desk'>headline</note>\n" if n == 1 else ""
        units.append(f"    <trans-unit id='p{n}' resname=\"para-{n}\">\n      <source>{source}</source>\n{note}"
                     "    </trans-unit>\n")
    return ("<?xml version='1.0' encoding='UTF-8'?>\n"
            f"<xliff version='1.2' xmlns='{NS_12}'>\n"
            "  <file original='seed.docx' source-language='zh-Hans' target-language='en-GB' datatype='x-docx'>\n"
            f"   <body>\n{''.join(units)}   </body>\n  </file>\n</xliff>\n").encode()


def test_download_the_uploaded_xliff_pretranslated(browser_page, tmp_path):
    page = browser_page
    upload = tmp_path / "客户稿件.xlf"
    data = client_file()
    upload.write_bytes(data)
    page.goto("/workbench/article")
    page.set_input_files("#wb-file", str(upload))
    page.locator(".wb-article-form button[type=submit]").click()
    page.locator("#wb-bands").wait_for()
    button = page.locator("#wb-pt-download")
    assert "客户稿件.xlf" in button.inner_text()
    # Keyboard only: from the mode choice, Tab reaches the download button, Enter submits.
    page.focus("#wb-pt-mode")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "wb-pt-download"
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    download = download_info.value
    assert download.suggested_filename == "客户稿件.xlf"
    out = open(download.path(), "rb").read()
    # The same file: what was there is there byte for byte, in the same order.
    root = etree.fromstring(out)
    units = root.findall(f".//{{{NS_12}}}trans-unit")
    assert [u.get("id") for u in units] == [f"p{n}" for n in range(1, len(SEED) + 1)]
    filled = [u.find(f"{{{NS_12}}}target") for u in units]
    assert all(t is not None and (t.text or len(t)) for t in filled)
    bold = filled[0].find(f"{{{NS_12}}}g")
    assert bold is not None and bold.get("ctype") == "bold" and bold.text == SEED[0][1]
    assert out.startswith(data[: data.index(b"<trans-unit")])
    assert out.endswith(data[data.rindex(b"</trans-unit>"):])
    # Exact matches are confirmed translations a CAT tool (and Duizhao's importer) takes back.
    learnt = {r.en for r in read_xliff(io.BytesIO(out))}
    assert {en for _zh, en, *_ in SEED} & learnt


def test_a_file_over_the_inline_bound_is_pretranslated_by_a_job_with_progress(browser_page, live_app, tmp_path):
    """Past the bound a request pre-translates itself, the page hands the file to a job: its
    page shows the progress bar until the worker is done, then a link to the same file a
    request would have given."""
    from tests.helpers import login

    page = browser_page
    login(page, "translator")
    upload = tmp_path / "long.xlf"
    data = client_file()
    upload.write_bytes(data)
    bound = live_app.config["PRETRANSLATE_INLINE_SEGMENTS"]
    live_app.config["PRETRANSLATE_INLINE_SEGMENTS"] = 2  # the seed article has more
    try:
        page.goto("/workbench/article")
        page.set_input_files("#wb-file", str(upload))
        page.locator(".wb-article-form button[type=submit]").click()
        page.locator("#wb-bands").wait_for()
        page.locator("#wb-pt-download").click()
        page.wait_for_url(re.compile(r"/article/pretranslate/\d+|job=\d+"))
        assert page.get_by_role("progressbar").count() == 1
        link = page.locator("#job-download a")
        link.wait_for()
        with page.expect_download() as download_info:
            link.click()
    finally:
        live_app.config["PRETRANSLATE_INLINE_SEGMENTS"] = bound
    download = download_info.value
    assert download.suggested_filename == "long.xlf"
    out = open(download.path(), "rb").read()
    units = etree.fromstring(out).findall(f".//{{{NS_12}}}trans-unit")
    assert [u.get("id") for u in units] == [f"p{n}" for n in range(1, len(SEED) + 1)]
    assert all(u.find(f"{{{NS_12}}}target") is not None for u in units)
    assert out.startswith(data[: data.index(b"<trans-unit")])
