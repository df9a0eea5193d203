"""Small things tests share: test modules import from here, never from each other."""
from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
WMT = SHARED / "data" / "parallel" / "wmt_newstest_zh_en"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_shared(path: Path = SHARED) -> None:
    """Tests on real data read it in place from ../shared. Without it a test skips on a
    developer's machine and FAILS under CI=true, as the PostgreSQL and browser tests do, so a
    green CI always means the real-data tests ran."""
    if path.exists():
        return
    if IN_CI:
        pytest.fail(f"../shared data is required under CI=true: {path} not found")
    pytest.skip(f"shared data not found at {path}")


#: Marks a test that reads ../shared (see ``require_shared``).
needs_shared = pytest.mark.usefixtures("shared_data")


def make_memory(app, name: str) -> None:
    """An empty memory called ``name`` (only an admin may create one through the web)."""
    from db import new_session
    from tm import repository

    with app.app_context():
        session = new_session()
        repository.get_or_create_memory(session, name)
        session.commit()
        session.close()


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def wmt_pairs(limit: int, name: str = "newstest2019.zho-eng") -> list[tuple[str, str]]:
    """Real news sentence pairs, read in place from ../shared (never copied into the repo)."""
    require_shared(WMT)
    zh = (WMT / f"{name}.zh").read_text(encoding="utf-8").splitlines()
    en = (WMT / f"{name}.en").read_text(encoding="utf-8").splitlines()
    return [(z.strip(), e.strip()) for z, e in zip(zh, en, strict=True) if z.strip() and e.strip()][:limit]


def wmt_lines(name: str = "newstest2019.zho-eng", limit: int = 300) -> list[tuple[str, str]]:
    """The first ``limit`` lines of a WMT pair exactly as the files have them (blank lines and
    spaces kept), read in place: format round trips must carry any text."""
    zh_path, en_path = WMT / f"{name}.zh", WMT / f"{name}.en"
    require_shared(zh_path)
    with zh_path.open(encoding="utf-8") as zh, en_path.open(encoding="utf-8") as en:
        return [(z.rstrip("\n"), e.rstrip("\n")) for z, e in itertools.islice(zip(zh, en, strict=True), limit)]


#: When the records of ``rich_records`` were made.
T0 = datetime(2019, 5, 14, 8, 30, 0, tzinfo=UTC)


def rich_records(pairs: list[tuple[str, str]]):
    """Records with every kind of metadata, varied so each field is exercised."""
    from tm.formats.records import UnitRecord

    out = []
    for i, (zh, en) in enumerate(pairs):
        out.append(
            UnitRecord(
                zh=zh,
                en=en,
                creationdate=T0 + timedelta(minutes=i),
                changedate=T0 + timedelta(days=1, seconds=i) if i % 3 else None,
                creationid=f"translator{i % 7}",
                changeid="reviewer" if i % 2 else None,
                usagecount=i % 5,
                note=f"news pair {i} & <notes>" if i % 4 == 0 else None,
                props=(("x-domain", "news"), ("x-tag", "a"), ("x-tag", "b")) if i % 2 else (),
                origin_file="newstest2019.zho-eng.zh" if i % 2 else None,
                doc_title="WMT 2019" if i % 2 else None,
                doc_url="https://www.statmt.org/wmt19/" if i % 5 == 0 else None,
                context_prev=pairs[i - 1][0] if i else None,
                context_next=pairs[i + 1][0] if i + 1 < len(pairs) else None,
                status="draft" if i % 10 == 3 else "approved",
                zh_lang=("zh-CN", "zh-TW", "zh")[i % 3],
                en_lang=("en-US", "en-GB")[i % 2],
            )
        )
    return out


# ------------------------------------------------------------------ the app through HTTP

JOB_ENDS = ("done", "failed", "cancelled")


@dataclass
class JobOutcome:
    """How an import ended, read from its job: ``status_code`` 201 and the job's ``result`` when
    it is done; the error's own status and ``{"error": ...}`` when it failed (as the synchronous
    import answered before imports became jobs); ``job`` is the job as the API shows it."""

    status_code: int
    body: dict
    job: dict | None

    def get_json(self) -> dict:
        return self.body

    def get_data(self, as_text: bool = False) -> str | bytes:
        import json

        text = json.dumps(self.body, ensure_ascii=False)
        return text if as_text else text.encode()


def job_outcome(client, response, headers=None, *, timeout: float = 60.0) -> JobOutcome:
    """The outcome of a request that starts a job: a 4xx answered at once is returned as it is;
    otherwise it must be 202 with ``Location`` naming the job, which is polled until it ends."""
    if response.status_code != 202:
        assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:500])
        return JobOutcome(response.status_code, response.get_json(), None)
    location = response.headers["Location"]
    assert location.startswith("/api/v1/jobs/") or "/api/v1/jobs/" in location, location
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(location, headers=headers or {}).get_json()
        if job["state"] in JOB_ENDS or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert job["state"] in ("done", "failed"), job
    if job["state"] == "done":
        return JobOutcome(201, job["result"], job)
    return JobOutcome(job["error"]["status"], {"error": job["error"]}, job)


def import_pairs(client, token, pairs, memory="news"):
    """Real pairs into a memory in one TSV import (units one by one would be slow)."""
    table = "zh\ten\n" + "".join(f"{zh}\t{en}\n" for zh, en in pairs)
    response = client.post(f"/api/v1/memories/{memory}/import", data=table.encode(),
                           query_string={"format": "tsv", "filename": "news.tsv"}, headers=auth(token))
    outcome = job_outcome(client, response, auth(token))
    assert outcome.status_code == 201, outcome.get_json()


def csrf(client, path="/workbench/article") -> str:
    """The CSRF token a page carries in its ``csrf-token`` meta element."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def post_article(client, **form):
    """Post the article form (``text``, ``file``, ``direction``...) as the browser does."""
    form.setdefault("csrf_token", csrf(client))
    return client.post("/workbench/article", data=form, content_type="multipart/form-data")


def truncate_all(url: str) -> None:
    """Empty every table of the database at ``url`` (PostgreSQL), ids restarting at 1."""
    from sqlalchemy import create_engine, text

    import db
    from common.db import Base

    db.import_models()
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        # A test that failed before closing its session leaves a transaction open on these
        # tables, and TRUNCATE would wait for it for ever: the suite hung until CI's timeout
        # instead of reporting the failure. Such leftovers are ended; anything else holding a
        # lock makes this fail within the minute rather than hang.
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                          " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"))
        conn.execute(text("SET LOCAL lock_timeout = '60s'"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


# ------------------------------------------------------------------ the app as a process

PYTHON = sys.executable


def server_env(database_url: str) -> dict[str, str]:
    """The environment of a server or ``flask`` command on ``database_url``."""
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "FLASK_DEBUG")}
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": "live-test-secret-" + str(os.getpid()),
                "ANONYMOUS_READ": "1", "PYTHONPATH": str(ROOT)})
    return env


def flask(database_url: str, *args: str) -> str:
    """Run ``flask --app app ARGS`` as an operator would; returns standard output."""
    return flask_all(database_url, args)[0]


def flask_all(database_url: str, *commands: tuple[str, ...]) -> list[str]:
    """Several independent ``flask --app app`` commands at once (each loads the app: seconds)."""
    running = [(args, subprocess.Popen([PYTHON, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                                       env=server_env(database_url), stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)) for args in commands]
    outputs = []
    for args, process in running:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"flask {' '.join(args)} failed:\n{out}\n{err}"
        outputs.append(out)
    return outputs


# ------------------------------------------------------------------ the app in a browser

#: The demo users' password in the browser tests' database.
DEMO_PASSWORD = "duizhao-demo"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot to test-artifacts/screenshots/<name>.png (gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^\w.-]+", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def refuse_first(page, pattern: str, method: str, *, content_type: str = "application/json") -> list[str]:
    """Route ``pattern`` so that the first ``method`` request meets what the server's admission
    gate answers at a busy moment (503 with Retry-After: 1, before anything ran), and every
    later request goes through; the URLs refused are listed in the returned list."""
    refused: list[str] = []
    busy = ('{"error": {"status": 503, "message": "Busy."}}' if content_type == "application/json"
            else "<h1>The service is busy</h1>")

    def route(handled):
        if handled.request.method != method or refused:
            handled.continue_()
        else:
            refused.append(handled.request.url)
            handled.fulfill(status=503, headers={"Retry-After": "1", "Content-Type": content_type}, body=busy)

    page.route(pattern, route)
    return refused


def login(page, user: str, password: str = DEMO_PASSWORD) -> None:
    """Log ``user`` in through the login form and wait until the app has let them in."""
    page.goto("/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    logout = page.locator("form.inline button")
    assert logout.count() == 1 and f"Log out {user}" in logout.inner_text(), \
        f"login as {user} failed: {page.content()[:500]}"


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
    reason = "axe-core not found: pip install axe-playwright-python (or npm install --prefix .cache axe-core)"
    if IN_CI:
        pytest.fail(f"Browser tests need axe-core under CI=true: {reason}")
    pytest.skip(f"browser not available: {reason}")


# --- fragments (issue 17) ---------------------------------------------------------------------

INSTITUTE_ZH = "中国社会科学院俄罗斯东欧中亚研究所"
INSTITUTE_EN = "Institute for Russian, East European and Central Asian Studies"
THE_INSTITUTE = f"the {INSTITUTE_EN} of the Chinese Academy of Social Sciences"
# The demo memory holds the institute in one unit only, and one unit's rendering stays below
# MIN_CONFIDENCE (0.36 against 0.5 when this was written): a memory where several units agree
# on it shows it.
INSTITUTE_UNITS = [
    (f"{INSTITUTE_ZH}研究员李永辉说", f"Li Yonghui, a researcher at {THE_INSTITUTE}, said"),
    (f"{INSTITUTE_ZH}发布了年度报告。", f"The {THE_INSTITUTE[4:]} released its annual report."),
    (f"{INSTITUTE_ZH}举办了国际研讨会。", f"The {THE_INSTITUTE[4:]} held an international seminar."),
    (f"{INSTITUTE_ZH}成立于1976年。", f"The {THE_INSTITUTE[4:]} was founded in 1976."),
    (f"记者采访了{INSTITUTE_ZH}的专家。", f"The reporter interviewed experts from {THE_INSTITUTE}."),
    (f"{INSTITUTE_ZH}出版了新书。", f"The {THE_INSTITUTE[4:]} published a new book."),
]
#: A sentence no unit holds, built around the institute.
NEW_SENTENCE = f"{INSTITUTE_ZH}所长孙壮志认为，两国关系进入新阶段。"


def fragment_memory() -> list[tuple[str, str]]:
    """300 real news pairs and the institute's units."""
    return wmt_pairs(300) + INSTITUTE_UNITS


def train_fragment_model(path: Path) -> Path:
    """A fragment model of ``fragment_memory`` with the glossary's CASS entry as priors, saved
    at ``path``: a model holds words, not unit ids, so any database holding those units may use it."""
    from tm.core.wordalign import train

    train(fragment_memory(), priors=[("中国社会科学院", "Chinese Academy of Social Sciences")]).save(path)
    return path


def running_processes(*, parent: int | None = None, group: int | None = None) -> list[int]:
    """Pids of the processes (not zombies waiting to be reaped) with that parent and/or in that
    process group, read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after the command's name
        except OSError:
            continue
        state, ppid, pgrp = fields[0], int(fields[1]), int(fields[2])
        if state != "Z" and parent in (None, ppid) and group in (None, pgrp):
            found.append(int(stat.parent.name))
    return found
