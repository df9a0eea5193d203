"""Reviewing an alignment in a real browser: paste an article pair, edit the beads with the
keyboard, reload, approve, store, and find the stored pair through the lookup API."""
from __future__ import annotations

import re

import pytest

from tests.helpers import login, refuse_first, screenshot

pytestmark = pytest.mark.browser

# Our own short article on the seed article's subject (the Sochi meeting), one paragraph per line.
ZH = """美国国务卿蓬佩奥5月14日在索契会见了俄罗斯总统普京。双方讨论了军备控制、叙利亚和委内瑞拉等问题。
分析人士指出，这次会晤未能解决两国之间的结构性矛盾。俄罗斯希望美国解除部分经济制裁。美国则要求俄罗斯停止干涉他国选举。
两国去年的双边贸易额约为250亿美元。专家认为，两国关系短期内难以实质性改善。"""
EN = ("US Secretary of State Mike Pompeo met Russian President Vladimir Putin in Sochi on May 14. "
      "The two sides discussed arms control, Syria, Venezuela and other issues.\n"
      "Analysts said the meeting failed to resolve the structural conflicts between the two countries. "
      "Russia hopes the United States will lift some economic sanctions. "
      "The United States, for its part, demands that Russia stop interfering in other countries' elections.\n"
      "Bilateral trade between the two countries was about 25 billion US dollars last year. "
      "Experts believe relations between the two countries can hardly improve substantially in the short term.")
ENCODER_LOAD_MS = 120_000
FIRST_ZH = "美国国务卿蓬佩奥5月14日在索契会见了俄罗斯总统普京。"
FIRST_EN = "US Secretary of State Mike Pompeo met Russian President Vladimir Putin in Sochi on May 14."


def wait_saved(page) -> None:
    page.wait_for_selector('#save-status[data-state="saved"]')


def bead_texts(page, index: int) -> tuple[str, str]:
    row = page.locator(f"#bead-{index}")
    return row.locator(".bead-zh").inner_text(), row.locator(".bead-en").inner_text()


def test_review_edit_reload_approve_store_and_look_up(browser_page):
    page = browser_page
    login(page, "admin")  # it stores into a new memory, which only an admin may create
    page.goto("/align")
    page.fill("#title", "Sochi talks leave structural conflict unresolved")
    page.fill("#date", "2019-05-16")
    page.fill("#url", "https://example.org/sochi-talks")
    page.fill("#zh", ZH)
    page.fill("#en", EN)
    # The click waits for the navigation it starts, which waits for the aligner (see below).
    page.click("#align-submit", timeout=ENCODER_LOAD_MS)
    # The process's first alignment loads the sentence encoder (TensorFlow): 10 s on a quiet
    # machine, 30 s on a busy one, past the page's default wait.
    page.wait_for_url(re.compile(r"/align/\d+$"), timeout=ENCODER_LOAD_MS)
    job_url = page.url

    beads = page.locator("li.bead")
    assert beads.count() == 7
    assert bead_texts(page, 0) == ("1" + FIRST_ZH, "1" + FIRST_EN)
    screenshot(page, "align-review-start")

    # Select the first bead with the mouse, then work with the keyboard only.
    page.click("#bead-0 .bead-zh")
    assert page.evaluate("document.activeElement.id") == "bead-0"
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.id") == "bead-1"
    page.keyboard.press("k")
    page.keyboard.press("m")  # merge beads 1 and 2
    assert beads.count() == 6
    assert page.locator("#bead-0 .sentence").count() == 4
    assert page.locator("#bead-0 .bead-confidence").inner_text() == "edited"
    wait_saved(page)

    page.reload()
    assert beads.count() == 6 and page.locator("#bead-0 .sentence").count() == 4
    screenshot(page, "align-review-merged-after-reload")

    # Split it again: s opens the chooser (focus on it), Enter accepts one sentence a side.
    page.click("#bead-0")
    page.keyboard.press("s")
    assert page.locator("#split-panel").is_visible()
    assert page.evaluate("document.activeElement.id") == "split-zh"
    page.keyboard.press("Enter")
    assert page.locator("#split-panel").is_hidden()
    assert beads.count() == 7 and bead_texts(page, 0) == ("1" + FIRST_ZH, "1" + FIRST_EN)
    assert page.evaluate("document.activeElement.id") == "bead-0"

    # Move the first pair's English sentence down to the next pair and back, on the English side.
    page.keyboard.press("l")
    page.keyboard.press("]")
    assert page.locator("#bead-0 .bead-en").inner_text() == "— no English —"
    assert page.locator("#bead-1 .bead-en .sentence").count() == 2
    page.keyboard.press("j")
    page.keyboard.press("[")
    assert beads.count() == 7 and bead_texts(page, 0) == ("1" + FIRST_ZH, "1" + FIRST_EN)
    # Unalign the first pair (two rows), then merge them back.
    page.keyboard.press("Home")
    page.keyboard.press("u")
    assert beads.count() == 8 and page.locator("#bead-0 .bead-confidence").inner_text() == "unaligned"
    page.keyboard.press("m")
    assert beads.count() == 7 and bead_texts(page, 0) == ("1" + FIRST_ZH, "1" + FIRST_EN)

    # Approve the two edited beads by key, the rest above a confidence.
    page.keyboard.press("a")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("a")
    page.fill("#approve-threshold", "50")
    page.click("#approve-above button")
    assert page.locator("li.bead.approved").count() == 7
    assert page.locator("#bead-0 .bead-state").inner_text() == "✓ approved"
    wait_saved(page)

    # The store meets a busy server (the admission gate's 503 with Retry-After, before it ran):
    # the page sends it again as told, and it goes through.
    refused = refuse_first(page, "**/store", "POST")
    page.fill("#store-memory", "browser-harvest")
    page.click("#store-form button[type=submit]")
    page.wait_for_selector("#store-result.notice")
    assert len(refused) == 1
    page.unroute("**/store")
    assert page.locator("#store-result").inner_text() == "New pairs stored in “browser-harvest”: 7."
    screenshot(page, "align-review-stored")

    found = page.request.get("/api/v1/tm/lookup", params={"q": FIRST_ZH, "src": "zh", "memory": "browser-harvest"})
    match = found.json()["matches"][0]
    assert (match["score"], match["target"]) == (100, FIRST_EN)
    units = page.request.get("/api/v1/units", params={"memory": "browser-harvest"}).json()["units"]
    first = next(u for u in units if u["zh"] == FIRST_ZH)
    assert first["doc_title"] == "Sochi talks leave structural conflict unresolved"
    assert first["context_prev"] is None and first["context_next"] == "双方讨论了军备控制、叙利亚和委内瑞拉等问题。"

    # A second tab saves first: the first tab's next save is refused, and it says so.
    other = page.context.new_page()
    other.goto(job_url)
    other.click("#bead-0")
    other.keyboard.press("a")
    wait_saved(other)
    page.click("#bead-1")
    page.keyboard.press("a")
    page.wait_for_selector('#save-status[data-state="error"]')
    assert "saved elsewhere" in page.locator("#save-status").inner_text()
    page.click("#reload-job")
    page.wait_for_selector("#bead-0 .bead-state")
    assert page.locator("#bead-0 .bead-state").inner_text() == "not approved"
    assert page.locator("#bead-1 .bead-state").inner_text() == "✓ approved"
    other.close()

    # At phone width the page fits without scrolling sideways.
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(job_url)
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot(page, "align-review-phone")


def test_a_long_text_goes_through_a_job_to_the_review_page(browser_page, live_app):
    # The bound lowered so this short pair counts as long: the form queues a job for the worker.
    live_app.config["ALIGN_INLINE_SENTENCES"] = 2
    try:
        page = browser_page
        login(page, "editor")
        page.goto("/align")
        page.fill("#title", "Sochi, as a job")
        page.fill("#zh", ZH)
        page.fill("#en", EN)
        page.click("#align-submit")
        page.wait_for_url(re.compile(r"/align/job/\d+$"))
        # The shared progress bar polls the job, then links to the review page.
        link = page.locator("#job-result-link a")
        link.wait_for(state="visible", timeout=ENCODER_LOAD_MS)
        assert page.locator("#job-progress").get_attribute("aria-valuenow") == "100"
        link.click()
        page.wait_for_url(re.compile(r"/align/\d+$"))
        assert page.locator("li.bead").count() == 7
        assert bead_texts(page, 0) == ("1" + FIRST_ZH, "1" + FIRST_EN)
    finally:
        live_app.config["ALIGN_INLINE_SENTENCES"] = 1_000
