"""Browser tests: the real app served on 127.0.0.1 and driven by Debian's Chromium via Playwright.

Fixtures for any browser test:

* ``live_app``: the Flask app behind the server (session-wide), on a migrated SQLite database
  with the demo data loaded by ``flask demo load`` (memories, glossary, and the users admin,
  editor and translator, password ``duizhao-demo``);
* ``live_server``: the base URL, e.g. ``http://127.0.0.1:43817``;
* ``browser_page``: a fresh Playwright page (own cookies) whose relative URLs go to the server;
  when the test fails, a screenshot of it is saved; a JavaScript error on it fails the test;
* ``login(page, user)`` logs a demo user in; ``screenshot(page, name)`` saves a screenshot to
  ``test-artifacts/screenshots/`` (gitignored).

Chromium is ``/usr/bin/chromium`` (``apt-get install chromium``); Playwright's own browser
downloads are never used. Without Chromium or Playwright the tests skip on a developer's
machine and FAIL under CI=true.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pytest

from tests.helpers import ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
DEMO_PASSWORD = "duizhao-demo"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() == "true"
#: Playwright's default wait is 30 s; a page of this app that needs more is a failure.
TIMEOUT_MS = 15_000


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"Browser tests need Chromium and Playwright under CI=true: {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app the live server runs, on a migrated SQLite database with the demo data."""
    from app import create_app
    from migrations.cli import upgrade

    path = tmp_path_factory.mktemp("live") / "duizhao.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "browser-test-secret",
                      "WTF_CSRF_ENABLED": True, "ANONYMOUS_READ": True})
    app.instance_path = str(path.parent / "instance")
    _wire_alignment(app)
    result = app.test_cli_runner().invoke(args=["demo", "load", "--password", DEMO_PASSWORD])
    assert result.exit_code == 0, result.output
    yield app
    app.extensions["db_engine"].dispose()


def _wire_alignment(app) -> None:
    """Use the fast lexical sentence encoder, so aligning a page's article takes a moment,
    not a model load."""
    from tests.align_support import lexical_embed

    app.extensions["align_embedder"] = lexical_embed


@pytest.fixture(scope="session")
def live_server(live_app):
    """Serve ``live_app`` on a free port of 127.0.0.1 in a thread; yields the base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


# Module scope, not session: Playwright's sync API allows one running instance per thread, and
# tests/browser/support_workbench.py starts its own (``wb_browser``) for its module. Once every
# browser test uses this fixture it can become session-wide.
@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"{CHROMIUM} not found (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def browser_page(request, browser, live_server):
    """A page in a fresh context (no cookies shared between tests); relative URLs go to the
    live server. A failing test leaves a screenshot named after it."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    # What the Content-Security-Policy blocks (an inline script or style) is only reported on the console.
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        screenshot(page, "FAILED-" + request.node.name)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot to test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^\w.-]+", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, user: str, password: str = DEMO_PASSWORD) -> None:
    """Log ``user`` in through the login form and wait until the app has let them in."""
    page.goto("/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    assert page.locator(f"text=Log out {user}").count() == 1, f"{user} is not logged in"
