"""The workbench's fragment list in headless Chromium: a new sentence shows the research centre
the memory has translated, under the matches, with its rendering, a Copy button the keyboard
reaches, and the example on demand. Its own module: it adds units to its copy of the demo.

Not the institute of the API tests: the demo glossary has its full name as a term, and a
fragment no longer than a glossary term is left to the glossary."""
from __future__ import annotations

import io

import pytest

from tests.helpers import wmt_pairs

CENTRE_ZH = "国务院发展研究中心"
CENTRE_EN = "Development Research Center of the State Council"
CENTRE_UNITS = [
    (f"{CENTRE_ZH}发布了年度报告。", f"The {CENTRE_EN} released its annual report."),
    (f"{CENTRE_ZH}成立于1981年。", f"The {CENTRE_EN} was founded in 1981."),
    (f"{CENTRE_ZH}出版了新书。", f"The {CENTRE_EN} published a new book."),
    (f"{CENTRE_ZH}周一发表声明。", f"The {CENTRE_EN} issued a statement on Monday."),
    (f"{CENTRE_ZH}今天公布了数据。", f"The {CENTRE_EN} released the data today."),
    (f"{CENTRE_ZH}提出了三条建议。", f"The {CENTRE_EN} made three proposals."),
]
NEW_SENTENCE = f"{CENTRE_ZH}主任认为，两国关系进入新阶段。"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def with_fragments(live_app):
    from db import new_session
    from tm import service
    from web.extensions import fragment_models

    with live_app.app_context():
        session = new_session()
        table = "zh\ten\n" + "".join(f"{zh}\t{en}\n" for zh, en in CENTRE_UNITS)
        service.import_file(session, memory_name="institutes", stream=io.BytesIO(table.encode()),
                            filename="institutes.tsv", file_format="tsv", user="test")
        session.commit()
        session.close()
        directory = fragment_models(live_app).directory
    directory.mkdir(parents=True, exist_ok=True)
    from tm.core.wordalign import train

    # The demo glossary's 国务院 = State Council, as training would take it from the glossary.
    train(wmt_pairs(300) + CENTRE_UNITS, priors=[("国务院", "State Council")]).save(directory / "model.npz")
    fragment_models(live_app).current()  # loaded now, as warm-up does; lookups load in the background


def test_fragments_listed_under_the_matches_with_copy(browser_page, with_fragments):
    page = browser_page
    page.goto("/workbench/")
    page.fill("#wb-q", NEW_SENTENCE)
    page.wait_for_function("q => document.querySelector('.wb-lookup').dataset.renderedQuery === q",
                           arg=NEW_SENTENCE)
    fragment = page.locator(".wb-fragment").first
    assert fragment.locator(".wb-fragment-source").inner_text() == CENTRE_ZH
    assert CENTRE_EN in fragment.locator(".wb-fragment-text").inner_text()
    # The Copy and Use buttons and the disclosure are reached with Tab, and work from the keyboard.
    copy = fragment.locator("button.wb-copy")
    copy.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('.wb-lookup').dataset.copied")
    assert CENTRE_EN in page.locator(".wb-lookup").get_attribute("data-copied")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('wb-use')")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Enter")
    example = fragment.locator(".wb-fragment-example mark")
    assert example.is_visible() and CENTRE_EN in example.inner_text()


def test_editor_fragments_at_the_cursor_and_their_version_after_a_conflict(browser_page, with_fragments):
    """The segment editor (here: the fragment model is trained) shows the active segment's
    fragments with a Use that inserts at the cursor; after a 409 "Use their version" takes the
    other's confirmed text, from the keyboard; "Start a document" keeps its memory choice."""
    from tests.helpers import login

    page = browser_page
    login(page, "translator")
    page.goto("/workbench/documents")
    assert page.locator("#ed-memory option").nth(0).get_attribute("value") != "institutes"
    page.fill("#ed-title", "Centre")
    page.fill("#ed-text", NEW_SENTENCE)
    page.select_option("#ed-memory", "institutes")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("#ed-segments[data-ready]")
    document_url = page.url
    box = page.locator("#ed-target-1")
    box.click()
    box.type("The head of the ")
    fragment = page.locator("#ed-segment-1 .wb-fragment").first
    assert fragment.locator(".wb-fragment-source").inner_text() == CENTRE_ZH
    rendering = fragment.locator(".wb-fragment-text").inner_text()
    assert CENTRE_EN in rendering
    box.press("End")
    box.type(" believes ties have entered a new stage.")
    box.evaluate("b => b.setSelectionRange(16, 16)")  # back after "The head of the "
    fragment.locator("button.wb-use").click()
    assert box.input_value() == f"The head of the {rendering} believes ties have entered a new stage."
    assert page.evaluate("document.activeElement.id") == "ed-target-1"
    # As on the lookup page, the example unit is one disclosure away, its rendering marked.
    fragment.locator("summary").click()
    assert fragment.locator(".wb-fragment-example mark").inner_text() == rendering
    # Someone confirms the segment meanwhile (another tab: the same API); this confirm is stale.
    csrf = page.locator("meta[name=csrf-token]").get_attribute("content")
    version = int(page.locator("#ed-segment-1").get_attribute("data-version"))
    theirs = page.request.put(document_url.replace("/workbench/documents/", "/api/v1/documents/") + "/segments/1",
                              data={"target": "Their translation.", "version": version},
                              headers={"X-CSRFToken": csrf})
    assert theirs.ok, theirs.text()
    box.focus()
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#ed-segment-1[data-state=conflict] .ed-use-theirs")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "ed-use-theirs"
    page.keyboard.press("Enter")
    assert box.input_value() == "Their translation."
    assert page.locator("#ed-badge-1").inner_text() == "✓ Confirmed"
    assert "Confirmed by translator" in page.locator("#ed-status-1").inner_text()
    assert page.evaluate("document.activeElement.id") == "ed-target-1"
    # The next document starts in the memory chosen last.
    page.goto("/workbench/documents")
    assert page.locator("#ed-memory").input_value() == "institutes"
