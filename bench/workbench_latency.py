"""Keystroke-to-rendered-matches latency of the workbench, in Debian's Chromium.

    .venv/bin/python bench/workbench_latency.py --url http://127.0.0.1:5000 [--queries 10]

Point it at a running service (e.g. gunicorn on a database filled by bench/import_bench.py:
`DATABASE_URL=sqlite:////tmp/bench1m/bench-1000000.sqlite3 WARM_UP=1 SECRET_KEY=x
.venv/bin/gunicorn --preload -w 1 -b 127.0.0.1:5077 'app:create_app()'`). It types sentences
taken from the service's own memories, edited, one character at a time, and reads the page's
own measurement (``window.wbLatencies``: from the input event to the matches drawn, debounce
included). As a baseline in the same run it reports the lookup API's own time for the same
queries, so the browser's share is visible.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
import urllib.parse
import urllib.request

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def sample_sentences(base: str, count: int) -> list[str]:
    """Chinese sentences from the service's memories, each with one character dropped."""
    url = f"{base}/api/v1/units?per_page=200&page=3"
    units = json.load(urllib.request.urlopen(url))["units"]
    picked = [u["zh"] for u in units if 12 <= len(u["zh"]) <= 40][:count]
    return [s[: len(s) // 2] + s[len(s) // 2 + 1:] for s in picked]


def api_time(base: str, q: str) -> float:
    start = time.perf_counter()
    urllib.request.urlopen(f"{base}/api/v1/tm/lookup?" + urllib.parse.urlencode({"q": q})).read()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--queries", type=int, default=10)
    args = parser.parse_args()
    base = args.url.rstrip("/")
    sentences = sample_sentences(base, args.queries)
    timings, api = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{base}/workbench/")
        for sentence in sentences:
            page.fill("#wb-q", "")
            for length in range(1, len(sentence) + 1):
                page.evaluate("() => { window.wbLatencies.length = 0; }")
                page.locator("#wb-q").press_sequentially(sentence[length - 1])
                page.wait_for_function(
                    "q => document.querySelector('.wb-lookup').dataset.renderedQuery === q",
                    arg=sentence[:length].strip(), timeout=10_000)
                timings.append(page.evaluate("window.wbLatencies[window.wbLatencies.length - 1]"))
            api.append(api_time(base, sentence))
        browser.close()
    # A keystroke that leaves the query unchanged after trimming (a space) draws nothing new.
    timings = sorted(t for t in timings if t is not None)
    print(f"{len(timings)} keystrokes over {len(sentences)} sentences: median {statistics.median(timings):.0f} ms, "
          f"p95 {timings[int(0.95 * (len(timings) - 1))]:.0f} ms, max {timings[-1]:.0f} ms (60 ms debounce included)")
    print(f"baseline, the lookup API alone for the full sentences: median {statistics.median(api):.1f} ms")


if __name__ == "__main__":
    main()
