"""Translating into the memory in Chromium on the demo data: a segment from a match through the
checks to a stored draft (with the keyboard), and the article editor."""
from __future__ import annotations

import pytest

from tests.helpers import login, refuse_first, screenshot

pytestmark = pytest.mark.browser

#: A seed-article sentence with 到访的 left out: its best match is the stored sentence.
EDITED = "5月14日，俄罗斯总统弗拉基米尔·普京在索契会见了美国国务卿迈克·蓬佩奥。"


def test_store_a_segment_from_a_match_with_checks_as_you_type(browser_page):
    page = browser_page
    login(page, "translator")
    page.goto("/workbench/")
    assert page.locator("#wb-qa-title").is_hidden()  # no "Checks" heading over nothing
    page.locator("#wb-store").click()
    assert "Type or paste the segment" in page.locator("#wb-store-status").inner_text()
    page.fill("#wb-q", EDITED)
    page.wait_for_function("q => document.querySelector('.wb-lookup').dataset.renderedQuery === q", arg=EDITED)
    page.locator(".wb-match").first.locator(".wb-use").click()
    target = page.locator("#wb-tgt")
    assert "Pompeo May 14 in Sochi" in target.input_value()
    assert page.evaluate("document.activeElement.id") == "wb-tgt"
    # A mistyped date is flagged as the translator types; the fixed one passes.
    target.fill(target.input_value().replace("May 14", "May 15"))
    page.wait_for_selector(".wb-qa-issue[data-kind=number_changed]")
    assert page.locator("#wb-qa-title").is_visible()
    assert "“14”" in page.locator(".wb-qa-issue").first.inner_text()
    target.fill(target.input_value().replace("visiting ", "").replace("May 15", "May 14"))
    page.wait_for_selector(".wb-qa-ok")
    page.fill("#wb-doc-title", "US-Russia ties")
    target.focus()
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.getElementById('wb-editor').dataset.storedUnit")
    assert "as a draft" in page.locator("#wb-store-status").inner_text()
    unit_id = page.locator("#wb-editor").get_attribute("data-stored-unit")
    unit = page.request.get(f"/api/v1/units/{unit_id}").json()
    assert (unit["zh"], unit["status"], unit["created_by"], unit["doc_title"]) == (
        EDITED, "draft", "translator", "US-Russia ties")
    assert "visiting" not in unit["en"] and "May 14" in unit["en"]
    # Storing it again says so instead of making a second unit; an empty target is refused clearly.
    page.locator("#wb-store").click()
    page.wait_for_function("() => /already holds/.test(document.getElementById('wb-store-status').textContent)")
    target.fill("")
    page.locator("#wb-store").click()
    assert "The translation is empty" in page.locator("#wb-store-status").inner_text()
    screenshot(page, "editor-store-segment")
    # The next segment's store needs no re-picking: the title and memory come back.
    chosen = page.locator("#wb-store-memory").input_value()
    page.select_option("#wb-store-memory", index=1 if page.locator("#wb-store-memory option").nth(0)
                       .get_attribute("value") == chosen else 0)
    chosen = page.locator("#wb-store-memory").input_value()
    page.reload()
    assert page.locator("#wb-doc-title").input_value() == "US-Russia ties"
    assert page.locator("#wb-store-memory").input_value() == chosen


ARTICLE = ("美国长期对俄罗斯实施经济制裁。\n因此，一旦出现引发重大关切的危机，两国关系必然会恶化。\n"
           "双方同意努力缓和两国紧张关系。")


def test_article_editor_confirms_with_ctrl_enter_and_resumes_after_a_reload(browser_page, browser_context_factory):
    page = browser_page
    login(page, "translator")
    page.goto("/workbench/documents")
    page.fill("#ed-title", "Sanctions")
    page.fill("#ed-text", ARTICLE)
    page.select_option("#ed-memory", "people-daily-seed")
    page.locator("main form button[type=submit]").click()
    page.wait_for_selector("#ed-segments[data-ready]")
    first = page.locator(".ed-segment").nth(0)
    first.locator(".ed-accept").click()  # the seed article holds this sentence: its translation
    assert "sanctions against Russia" in first.locator(".ed-target").input_value()
    # The first confirm meets a busy server (its admission gate's 503 with Retry-After, sent
    # before anything ran): it is sent again as told, and goes through.
    refused = refuse_first(page, "**/api/v1/documents/*/segments/*", "PUT")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".ed-segment.ed-confirmed")
    assert len(refused) == 1
    page.unroute("**/api/v1/documents/*/segments/*")
    assert page.evaluate("document.activeElement.id") == "ed-target-2"
    page.keyboard.type("Therefore ties will deteriorate in any crisis.")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.querySelectorAll('.ed-segment.ed-confirmed').length === 2")
    # Closing the page loses nothing confirmed: reopened from My documents, both are there.
    context = page.context
    page.close()
    page = context.new_page()
    page.goto("/workbench/documents")
    row = page.locator("#ed-documents tbody tr", has_text="Sanctions")
    assert row.locator("td").nth(3).inner_text() == "2"
    row.locator("a").click()
    page.wait_for_selector("#ed-segments[data-ready]")
    assert page.locator("#ed-target-2").input_value() == "Therefore ties will deteriorate in any crisis."
    assert "Confirmed by translator" in page.locator("#ed-status-1").inner_text()
    assert page.locator("#ed-progress").inner_text() == "2 of 3 confirmed"
    # Resumed where the work stopped: the first unconfirmed segment is active and in view. The
    # states are told in words, not by the edge's colour alone; who confirmed shows on hover too.
    assert page.evaluate("document.activeElement.id") == "ed-target-3"
    assert page.locator("#ed-segment-3").evaluate("n => n.classList.contains('ed-active')")
    assert [page.locator(f"#ed-badge-{n}").inner_text() for n in (1, 2, 3)] == [
        "✓ Confirmed", "✓ Confirmed", "Not confirmed"]
    assert "Confirmed by translator" in page.locator("#ed-badge-2").get_attribute("title")
    # The keyboard alone: Alt+Up to the previous segment, an edit shows as such, Ctrl+Enter
    # confirms it and moves on.
    page.keyboard.press("Alt+ArrowUp")
    assert page.evaluate("document.activeElement.id") == "ed-target-2"
    page.keyboard.press("End")
    page.keyboard.type(" Really.")
    assert page.locator("#ed-badge-2").inner_text() == "Changed, not confirmed"
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.activeElement.id === 'ed-target-3'")
    assert page.locator("#ed-badge-2").inner_text() == "✓ Confirmed"
    page.keyboard.press("Alt+ArrowDown")  # the last segment: stays
    assert page.evaluate("document.activeElement.id") == "ed-target-3"
    # Unconfirmed only: the confirmed segments step aside.
    page.check("#ed-open-only")
    assert [page.locator(f"#ed-segment-{n}").is_visible() for n in (1, 2, 3)] == [False, False, True]
    # Its checks come as one types: Chinese left in the English is flagged, and clears once gone.
    page.locator("#ed-target-3").fill("Both sides agreed to ease 紧张 tensions.")
    page.wait_for_selector("#ed-segment-3 .wb-qa-issue[data-kind=untranslated]")
    page.locator("#ed-target-3").fill("Both sides agreed to ease tensions.")
    page.wait_for_selector("#ed-segment-3 .wb-qa-ok")
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.getElementById('ed-progress').textContent === '3 of 3 confirmed'")
    assert page.locator("#ed-all-done").is_visible()
    screenshot(page, "editor-article")
    # Stored in the memory: another browser, not logged in, finds the confirmed translation.
    other = browser_context_factory().new_page()
    other.goto("/workbench/")
    other.fill("#wb-q", "Therefore ties will deteriorate in any crisis.")
    other.locator("#wb-matches", has_text="因此").wait_for()
    # A translator's unit is a draft (its score bears the draft penalty), from the document.
    found = other.locator("#wb-matches").inner_text()
    assert "draft" in found and "Sanctions" in found
