"""Fixtures for the workbench's browser tests: the app with the workbench and i18n wired in and
the demo data on a live port, and pages in headless Debian Chromium (the ``browser`` fixture of
tests/browser/conftest.py, which fails under ``CI=true`` when Chromium or Playwright is missing).

The migrated demo database is built once per demo-data version and copied for each run, so the
workbench's tests do not pay for ``flask demo load`` twice.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "duizhao-demo"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"Browser tests need axe-core under CI=true: {reason}")
    pytest.skip(f"browser not available: {reason}")


def _demo_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted([*ROOT.glob("demo/*.tsv"), ROOT / "glossary" / "demo" / "termbase.tsv",
                        *ROOT.glob("migrations/versions/*.py")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def demo_database(target: Path) -> str:
    """A SQLite database with the schema and the demo data at ``target``; returns its URL."""
    cached = Path(tempfile.gettempdir()) / f"duizhao-browser-demo-{_demo_fingerprint()}.sqlite3"
    if not cached.exists():
        from app import create_app
        from migrations.cli import upgrade

        building = cached.with_suffix(f".{os.getpid()}.tmp")
        url = f"sqlite:///{building}"
        upgrade(url)
        app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "build"})
        result = app.test_cli_runner().invoke(args=["demo", "load", "--password", PASSWORD])
        assert result.exit_code == 0, result.output
        app.extensions["db_engine"].dispose()
        os.replace(building, cached)
    shutil.copy(cached, target)
    return f"sqlite:///{target}"


def wired_app(database_url: str):
    """The app as ``make run`` serves it."""
    from app import create_app

    return create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "browser-tests",
                       "WTF_CSRF_ENABLED": True, "ANONYMOUS_READ": True})


class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)
        self.app.extensions["db_engine"].dispose()


@pytest.fixture(scope="session")
def wb_server(tmp_path_factory):
    """The app with the demo data (users admin/editor/translator, password duizhao-demo)."""
    url = demo_database(tmp_path_factory.mktemp("wb") / "duizhao.sqlite3")
    with LiveServer(wired_app(url)) as server:
        yield server


@pytest.fixture(scope="module")
def wb_browser(browser):
    """Chromium from tests/browser/conftest.py (one Playwright instance per module)."""
    return browser


@pytest.fixture
def wb_page(wb_browser, wb_server):
    """A fresh browser context (no cookies), English by default, 1280 px wide."""
    context = wb_browser.new_context(base_url=wb_server.url, viewport={"width": 1280, "height": 900},
                                     locale="en-GB", extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=wb_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    # What the Content-Security-Policy blocks (an inline script or style) is only reported on the console.
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.js_errors = errors
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def wb_login(page, user: str) -> None:
    """Log in through the login form as a demo user."""
    page.goto("/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("form.inline button").count() == 1, f"login as {user} failed: {page.content()[:500]}"


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def axe_source() -> str:
    """axe-core's script: from the axe-playwright-python package, or an npm install in .cache/."""
    candidates = [ROOT / ".cache" / "node_modules" / "axe-core" / "axe.min.js"]
    try:
        import axe_playwright_python

        candidates.insert(0, Path(axe_playwright_python.__file__).parent / "axe.min.js")
    except ImportError:
        pass
    for path in candidates:
        if path.exists():
            return path.read_text(encoding="utf-8")
    _unavailable("axe-core not found: pip install axe-playwright-python (or npm install --prefix .cache axe-core)")
    return ""
