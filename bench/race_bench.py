"""Race benchmark: concurrent writers against a real threaded server, many rounds, on SQLite or
PostgreSQL, counting the answers and the broken invariants.

    .venv/bin/python bench/race_bench.py [--engine sqlite|postgresql] [--rounds 20]

PostgreSQL is the one at TEST_POSTGRES_URL (default 127.0.0.1:5432, trust); a database is made
for the run and dropped afterwards. Printed per race: the answers by status, and how many rounds
broke what must hold (tests/storage/test_concurrency.py checks the same, for a few rounds):

* two editors saving one glossary entry at the same version: one 200 and one 409, and the entry
  holds the winner's change ("lost update" counts rounds where both got 200);
* 20 creations of one pair: one unit, every answer 200 or 201 with it;
* two imports creating one new memory: both 201, every unit there once;
* two imports of the same 200 pairs in opposite orders into one memory: both 201, 200 units.
"""
from __future__ import annotations

import argparse
import collections
import functools
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ENTRY = {"concept_type": "institution",
         "terms": [{"lang": "zh", "text": "国家航天局"}, {"lang": "en", "text": "China National Space Administration"}]}


def race(count: int, work) -> list:
    barrier = threading.Barrier(count)

    def run(i):
        with requests.Session() as http:
            http.request = functools.partial(http.request, timeout=120)
            barrier.wait()
            return work(http, i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def tsv(pairs) -> bytes:
    return ("zh\ten\n" + "".join(f"{zh}\t{en}\n" for zh, en in pairs)).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    from migrations.cli import upgrade

    tmp = tempfile.TemporaryDirectory()
    admin_engine = None
    if args.engine == "sqlite":
        url = f"sqlite:///{tmp.name}/race.sqlite3"
    else:
        name = f"duizhao_race_{uuid.uuid4().hex[:8]}"
        admin_engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        run_races(url, args.rounds, args.engine)
    finally:
        if admin_engine is not None:
            with admin_engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        tmp.cleanup()


def run_races(url: str, rounds: int, engine: str) -> None:
    import tm.repository
    from accounts import service as accounts
    from app import create_app
    from db import new_session
    from web.extensions import db_engine

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True, "ANONYMOUS_READ": True})
    tokens = {}
    with app.app_context():
        session = new_session()
        for role in ("admin", "editor", "translator"):
            for n in range(2):
                user = accounts.create_user(session, f"{role}{n}", "bench password 123", role)
                tokens[role, n] = accounts.create_token(session, user, name="bench", scope="write")[1]
        session.commit()
        session.close()
    auth = {key: {"Authorization": f"Bearer {token}"} for key, token in tokens.items()}
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request would drown the figures
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    server = f"http://127.0.0.1:{httpd.server_port}"
    results = {}

    statuses, broken, started = collections.Counter(), 0, time.monotonic()
    for _ in range(rounds):
        entry = requests.post(f"{server}/api/v1/glossary/entries", json=ENTRY, headers=auth["editor", 0]).json()
        url_ = f"{server}/api/v1/glossary/entries/{entry['id']}"
        answers = race(2, lambda http, i, url_=url_: http.put(url_, json={**ENTRY, "version": 1, "definition": f"c{i}"},
                                                               headers=auth["editor", i]))
        statuses.update(a.status_code for a in answers)
        codes = [a.status_code for a in answers]
        final = requests.get(url_).json()["definition"]
        if sorted(codes) != [200, 409] or final != f"c{codes.index(200) if 200 in codes else -1}":
            broken += 1
    results["two editors, one entry (lost update)"] = (statuses, broken, time.monotonic() - started)

    requests.post(f"{server}/api/v1/memories", json={"name": "news"}, headers=auth["admin", 0])
    statuses, broken, started = collections.Counter(), 0, time.monotonic()
    for number in range(rounds):
        pair = {"memory": "news", "zh": f"嫦娥{number}号着陆", "en": f"Chang'e {number} lands"}
        answers = race(20, lambda http, i, pair=pair: http.post(f"{server}/api/v1/units", json=pair,
                                                                headers=auth["editor", i % 2]))
        statuses.update(a.status_code for a in answers)
        ids = {a.json().get("id") for a in answers if a.status_code < 300}
        if len(ids) != 1 or any(a.status_code not in (200, 201) for a in answers):
            broken += 1
    results["20 creations of one pair"] = (statuses, broken, time.monotonic() - started)

    statuses, broken, started = collections.Counter(), 0, time.monotonic()
    for number in range(rounds):
        name = f"new-{number}"
        files = [tsv([(f"第{i}次发射", f"Launch {i}") for i in range(k * 50, k * 50 + 60)]) for k in range(2)]
        answers = race(2, lambda http, i, name=name, files=files: http.post(
            f"{server}/api/v1/memories/{name}/import", data=files[i],
            params={"format": "tsv", "filename": "f.tsv"}, headers=auth["admin", i]))
        statuses.update(a.status_code for a in answers)
        sizes = [m["units"] for m in requests.get(f"{server}/api/v1/memories").json()["memories"] if m["name"] == name]
        if [a.status_code for a in answers] != [201, 201] or sizes != [110]:
            broken += 1
    results["two imports creating one memory"] = (statuses, broken, time.monotonic() - started)

    tm.repository.IMPORT_BATCH = 40
    statuses, broken, started = collections.Counter(), 0, time.monotonic()
    for number in range(rounds):
        name = f"overlap-{number}"
        requests.post(f"{server}/api/v1/memories", json={"name": name}, headers=auth["admin", 0])
        pairs = [(f"{number}号文件第{i}句", f"Sentence {i} of file {number}") for i in range(200)]
        files = [tsv(pairs), tsv(reversed(pairs))]
        answers = race(2, lambda http, i, name=name, files=files: http.post(
            f"{server}/api/v1/memories/{name}/import", data=files[i],
            params={"format": "tsv", "filename": "f.tsv"}, headers=auth["admin", i]))
        statuses.update(a.status_code for a in answers)
        sizes = [m["units"] for m in requests.get(f"{server}/api/v1/memories").json()["memories"] if m["name"] == name]
        if [a.status_code for a in answers] != [201, 201] or sizes != [200]:
            broken += 1
    results["overlapping imports, one memory"] = (statuses, broken, time.monotonic() - started)
    httpd.shutdown()
    db_engine(app).dispose()

    print(f"{engine}, {rounds} rounds each")
    print(f"{'race':40} {'answers by status':36} {'rounds broken':>13} {'seconds':>8}")
    for race_name, (counts, broken_rounds, seconds) in results.items():
        answers = ", ".join(f"{code}×{n}" for code, n in sorted(counts.items()))
        print(f"{race_name:40} {answers:36} {broken_rounds:>13} {seconds:>8.1f}")


if __name__ == "__main__":
    main()
