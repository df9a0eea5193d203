"""The fuzz suite's generators (tests/fuzzing.py) against a real gunicorn, over HTTP on loopback.

    .venv/bin/python bench/fuzz_bench.py [--inputs 10000] [--engine sqlite|postgresql|both]
                                         [--seed 12] [--max-minutes 30] [--out /tmp/fuzz-bench]

For each engine it makes a fresh database (a temporary SQLite file, or a PostgreSQL database it
creates on TEST_POSTGRES_URL's server and drops at the end), migrates it, makes an admin with a
write token, starts ``gunicorn --workers 2 --preload 'app:create_app()'`` with ``SECRET_KEY``
and ``DATABASE_URL`` on a free 127.0.0.1 port, loads the seed memory and glossary, and sends
``--inputs`` generated requests shared among the doors (import, glossary import, lookup GET/POST/
batch, recognize, QA, tmserver, MyMemory). It prints, per engine: the inputs sent per door, the
answers by status class, the 5xx count, the slowest requests, every distinct 5xx with the case
that rebuilds it (``python -m tests.fuzzing DOOR INDEX``; a file body is also written to --out),
and the distinct exceptions gunicorn's log shows.

Bounded: a request is abandoned after --request-timeout seconds (gunicorn's own --timeout kills
a stalled worker soon after); a door stops after --stop-after-slow requests over 5 s; the whole
run stops at --max-minutes. The per-token rate limit is turned off for the run
(TOKEN_RATE_LIMIT=0): it would answer 429 to the imports, which is not what is measured.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import fuzzing  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SLOW = 5.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Database:
    """A fresh, migrated database for one run; ``drop()`` removes it."""

    def __init__(self, engine: str, workdir: Path):
        from sqlalchemy import create_engine, text

        from migrations.cli import upgrade

        self.engine, self._admin = engine, None
        if engine == "sqlite":
            self.url = f"sqlite:///{workdir / 'fuzz.sqlite3'}"
        else:
            self.name = f"duizhao_fuzz_{uuid.uuid4().hex[:10]}"
            self._admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE \"{self.name}\" ENCODING 'UTF8' TEMPLATE template0"))
            self.url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.name}"
        upgrade(self.url)

    def admin_token(self) -> str:
        """An admin user and a write token for it, made in-process as the CLI would."""
        from accounts import service
        from app import create_app
        from db import new_session
        from web.extensions import db_engine

        app = create_app({"DATABASE_URL": self.url, "SECRET_KEY": "fuzz-bench", "TESTING": True})
        with app.app_context():
            session = new_session()
            user = service.create_user(session, "fuzz-admin", "fuzz-bench-password", "admin")
            session.flush()
            _row, secret = service.create_token(session, user, name="fuzz", scope="write")
            session.commit()
            session.close()
        db_engine(app).dispose()
        return secret

    def drop(self) -> None:
        if self._admin is None:
            return
        from sqlalchemy import text

        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._admin.dispose()


class Server:
    """gunicorn, 2 workers, --preload, as the issue's attacker met it."""

    def __init__(self, database_url: str, log: Path, worker_timeout: int):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "FLASK_DEBUG")}
        env.update({"DATABASE_URL": database_url, "SECRET_KEY": f"fuzz-bench-{uuid.uuid4().hex}",
                    "ANONYMOUS_READ": "1", "TOKEN_RATE_LIMIT": "0", "PYTHONPATH": str(ROOT)})
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--preload", "--bind", f"127.0.0.1:{self.port}",
             "--timeout", str(worker_timeout), "--graceful-timeout", "2", "app:create_app()"],
            cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited: see {log}")
            try:
                requests.get(self.base + "/tmserver/languages/", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"gunicorn did not answer within 60 s: see {log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()


def send(http: requests.Session, base: str, request: fuzzing.FuzzRequest, token: str, timeout: float):
    headers = {"Authorization": f"Bearer {token}"} if request.needs_token else {}
    if request.content_type:
        headers["Content-Type"] = request.content_type
    return http.request(request.method, base + request.url, data=request.body, headers=headers,
                        timeout=(5, timeout), allow_redirects=False)


def logged_exceptions(log: Path, offset: int = 0) -> Counter:
    """The last line of each traceback in gunicorn's log (from byte ``offset``), and worker
    kills, counted."""
    found: Counter = Counter()
    with log.open("rb") as f:
        f.seek(offset)
        lines = f.read().decode("utf-8", "replace").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            j = i + 1
            while j < len(lines) and (lines[j].startswith(" ") or not lines[j].strip()):
                j += 1
            if j < len(lines):
                found[re.sub(r"\s+", " ", lines[j])[:200]] += 1
        elif "WORKER TIMEOUT" in line or "was sent SIGKILL" in line:
            found[re.sub(r"\d+", "N", re.sub(r"^\[[^]]*\] \[\d+\] ", "", line))[:120]] += 1
    return found


def run_engine(engine: str, args, out: Path) -> int:
    """One engine's run; returns its count of 5xx answers and abandoned requests."""
    workdir = Path(tempfile.mkdtemp(prefix=f"fuzz-bench-{engine}-"))
    database = Database(engine, workdir)
    server = None
    try:
        token = database.admin_token()
        server = Server(database.url, workdir / "gunicorn.log", args.worker_timeout)
        http = requests.Session()
        for request in fuzzing.setup_requests():
            response = send(http, server.base, request, token, args.request_timeout)
            if response.status_code != 201:
                raise SystemExit(f"setup failed: {request.describe()} -> {response.status_code} {response.text[:300]}")
        deadline = time.monotonic() + args.max_minutes * 60
        sent: Counter = Counter()
        classes: dict[str, Counter] = defaultdict(Counter)
        slowest: list[tuple[float, str]] = []
        failures: dict[str, list[tuple[fuzzing.FuzzRequest, str]]] = defaultdict(list)
        started = time.monotonic()
        for door, count in fuzzing.split(args.inputs).items():
            slow = 0
            for request in fuzzing.cases(door, count, args.seed):
                if time.monotonic() > deadline:
                    print(f"  (stopped at --max-minutes {args.max_minutes} during {door})")
                    break
                sent[door] += 1
                began = time.perf_counter()
                log_offset = server.log.stat().st_size
                try:
                    response = send(http, server.base, request, token, args.request_timeout)
                    status = response.status_code
                    problem = ""
                    if status >= 500:
                        # Requests go one at a time, so what the log gained is this request's.
                        logged = logged_exceptions(server.log, log_offset)
                        problem = f"{status} {'; '.join(logged) or response.text[:160]}"
                    classes[door][f"{status // 100}xx"] += 1
                except requests.RequestException as err:
                    status, problem = None, f"no answer: {type(err).__name__}"
                    classes[door]["no answer"] += 1
                    http = requests.Session()
                elapsed = time.perf_counter() - began
                slowest.append((elapsed, request.describe(100)))
                slowest = sorted(slowest, reverse=True)[:args.show]
                if problem:
                    failures[f"{door}: {re.sub(r'[0-9]+', 'N', problem[:100])}"].append((request, problem))
                if elapsed > SLOW:
                    slow += 1
                    if not problem:
                        failures[f"{door}: over {SLOW:g} s"].append((request, f"{status} after {elapsed:.1f} s"))
                    if slow >= args.stop_after_slow:
                        print(f"  ({door}: stopped after {slow} requests over {SLOW:g} s)")
                        break
            else:
                continue
            if time.monotonic() > deadline:
                break
        elapsed_total = time.monotonic() - started
    finally:
        if server is not None:
            server.stop()
        database.drop()

    total = sum(sent.values())
    fives = sum(c["5xx"] for c in classes.values())
    unanswered = sum(c["no answer"] for c in classes.values())
    print(f"\n== {engine}: {total} inputs in {elapsed_total:.0f} s ({total / max(elapsed_total, 1e-9):.0f}/s), "
          f"{fives} answers of 5xx, {unanswered} without an answer")
    print(f"  {'door':16} {'inputs':>7}  answers by class")
    for door in fuzzing.DOORS:
        if sent[door]:
            print(f"  {door:16} {sent[door]:7}  {dict(sorted(classes[door].items()))}")
    print("  slowest:")
    for seconds, what in slowest:
        print(f"    {seconds:6.2f} s  {what}")
    if failures:
        print(f"  {len(failures)} distinct failures (5xx, no answer, or over {SLOW:g} s):")
        for key, cases in failures.items():
            request, problem = cases[0]
            print(f"  - {key} ({len(cases)} inputs)")
            print(f"      repro: python -m tests.fuzzing {request.door} {request.index} {args.seed}"
                  f"  -> {problem[:160]}")
            print(f"      {request.describe(240)}")
            if request.body is not None:
                saved = out / f"{engine}-{request.door}-{request.index}.bin"
                saved.write_bytes(request.body)
                print(f"      body saved to {saved}")
    exceptions = logged_exceptions(workdir / "gunicorn.log")
    if exceptions:
        print("  exceptions and worker kills in gunicorn's log:")
        for line, count in exceptions.most_common():
            print(f"    {count:5} x {line}")
    shutil.rmtree(workdir, ignore_errors=True)
    return fives + unanswered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=10_000, help="inputs per engine, over all doors")
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int, default=fuzzing.DEFAULT_SEED)
    parser.add_argument("--max-minutes", type=float, default=30.0, help="per engine")
    parser.add_argument("--request-timeout", type=float, default=12.0)
    parser.add_argument("--worker-timeout", type=int, default=10, help="gunicorn --timeout")
    parser.add_argument("--stop-after-slow", type=int, default=5)
    parser.add_argument("--show", type=int, default=5, help="slowest requests shown")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "fuzz-bench")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    print(f"fuzz bench: {args.inputs} inputs per engine, seed {args.seed}, split {fuzzing.split(args.inputs)}")
    bad = sum(run_engine(engine, args, args.out) for engine in engines)
    print(f"\ntotal: {bad} answers of 5xx or requests without an answer")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
