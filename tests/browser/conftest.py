"""Browser tests: the real app served on 127.0.0.1 and driven by Debian's Chromium via Playwright.

The fixtures of every browser test:

* ``live_app``: the Flask app behind the server, on a migrated SQLite database with the demo data
  (memories, glossary, and the users admin, editor and translator, password ``duizhao-demo``),
  fresh for each test module; the aligner uses the fast lexical sentence encoder;
* ``live_server``: its base URL, e.g. ``http://127.0.0.1:43817``, with a job worker beside it
  (a thread taking the jobs, imports say, from a real queue on a SQLite file);
* ``browser``: headless Chromium, one for the whole run;
* ``browser_page``: a fresh page (own cookies, English, clipboard allowed) whose relative URLs go
  to the server; when the test fails, a screenshot of it is saved; a JavaScript error or a
  Content-Security-Policy violation on it fails the test.

``login``, ``screenshot`` and ``axe_source`` are in tests/helpers.py.

Chromium is ``/usr/bin/chromium`` (``apt-get install chromium``); Playwright's own browser
downloads are never used. Without Chromium or Playwright the tests skip on a developer's
machine and FAIL under CI=true.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from tests.helpers import DEMO_PASSWORD, IN_CI, ROOT, screenshot

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
#: Playwright's default wait is 30 s; a page of this app that needs more is a failure.
TIMEOUT_MS = 15_000
VIEWPORT = {"width": 1280, "height": 900}


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"Browser tests need Chromium and Playwright under CI=true: {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


def _demo_fingerprint() -> str:
    # The checkout's path too: worktrees beside this one share the temporary directory and
    # may load the demo differently.
    digest = hashlib.sha256(str(ROOT).encode())
    for path in sorted([*ROOT.glob("demo/*.tsv"), *ROOT.glob("demo/*.py"), *ROOT.glob("glossary/demo/*"),
                        *ROOT.glob("migrations/versions/*.py")]):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _demo_database(target: Path) -> str:
    """A SQLite database with the schema and the demo data at ``target``; returns its URL.

    ``flask demo load`` takes seconds: it runs once per version of the demo data, into a file
    that every module's database is then copied from."""
    cached = Path(tempfile.gettempdir()) / f"duizhao-browser-demo-{_demo_fingerprint()}.sqlite3"
    if not cached.exists():
        from app import create_app
        from migrations.cli import upgrade
        from web.extensions import db_engine

        building = cached.with_suffix(f".{os.getpid()}.tmp")
        url = f"sqlite:///{building}"
        upgrade(url)
        app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "build"})
        result = app.test_cli_runner().invoke(args=["demo", "load", "--password", DEMO_PASSWORD])
        assert result.exit_code == 0, result.output
        db_engine(app).dispose()
        os.replace(building, cached)
    shutil.copy(cached, target)
    return f"sqlite:///{target}"


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    """The app the live server runs, as ``make run`` serves it, on a copy of the demo database
    of its own: what one module's tests change, another's never see."""
    from app import create_app
    from tests.align_support import lexical_embed
    from web.extensions import db_engine, install_align_embedder

    path = tmp_path_factory.mktemp("live") / "duizhao.sqlite3"
    app = create_app({"TESTING": True, "DATABASE_URL": _demo_database(path), "SECRET_KEY": "browser-tests",
                      "WTF_CSRF_ENABLED": True, "ANONYMOUS_READ": True,
                      # A test that wants the fragment model trains it; no training job is queued.
                      "FRAGMENT_TRAIN_AFTER_IMPORT": False,
                      "JOBS_QUEUE": f"sqlite:///{path.parent / 'queue.sqlite3'}",
                      "JOBS_DIR": str(path.parent / "jobs")})
    app.instance_path = str(path.parent / "instance")
    # Aligning a page's article then takes a moment, not a model load.
    install_align_embedder(app, lexical_embed)
    yield app
    db_engine(app).dispose()


@pytest.fixture(scope="module")
def live_server(live_app):
    """Serve ``live_app`` on a free port of 127.0.0.1 in a thread; yields the base URL."""
    from werkzeug.serving import make_server

    from web.extensions import job_queue

    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    # The worker `make run` starts beside gunicorn, as a thread (huey's own consumer wants the
    # main thread for its signal handlers): it looks at the queue ten times a second.
    stop = threading.Event()

    def work() -> None:
        queue = job_queue(live_app)
        while not stop.is_set():
            if queue.run_pending() == 0:
                stop.wait(0.1)

    worker = threading.Thread(target=work, name="job-worker", daemon=True)
    worker.start()
    yield f"http://127.0.0.1:{server.server_port}"
    stop.set()
    worker.join(timeout=30)
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium. Session-wide: Playwright's sync API allows one instance per thread."""
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


def new_context(browser, base_url: str, **options):
    """A browser context as every test sees the site: English, 1280 px wide, bounded waits."""
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="en-GB",
                                  extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"}, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def browser_context_factory(browser, live_server):
    """``make(**options)``: a context on the live server with Playwright's ``options`` (e.g.
    ``bypass_csp=True``), closed at the end of the test."""
    made = []

    def make(**options):
        made.append(new_context(browser, live_server, **options))
        return made[-1]

    yield make
    for context in made:
        context.close()


@pytest.fixture
def browser_page(request, browser, live_server):
    """A page in a fresh context (no cookies shared between tests); relative URLs go to the
    live server. A failing test leaves a screenshot named after it."""
    context = new_context(browser, live_server)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
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
