"""Memory of gunicorn's processes as ``make run`` starts them, on a TM of any size: what each
further worker adds when the workers map the index snapshot (issue 18: at most 100 MB PSS a
worker at 1M units; a worker ready within 5 s).

    .venv/bin/python bench/gunicorn_memory.py --database-url sqlite:////DIR/db.sqlite3 --instance DIR/instance

The database must hold a migrated TM (bench/import_bench.py --keep DIR leaves one). The script
builds the snapshot (``flask tm index snapshot``, timed), then for 1, 2 and 3 workers starts
``gunicorn -c gunicorn.conf.py`` (preloaded master, threaded workers), waits for /readyz (the
time from start), sends ``--lookups`` GET lookups of stored segments with a character or word
dropped (zh and en alternating), and reads each process's PSS from /proc/<pid>/smaps_rollup.
PSS shares each page among the processes mapping it, so the total over master and workers is
what the machine pays, and its growth from one worker count to the next is what a worker adds.

Run (2026-12-04 18:34, after the merges; 998,136 units on SQLite, the snapshot already built;
load 1.2-1.7, under the bench lock, 200 lookups):
  1 worker:  ready 2.6 s, master 122 MB + worker 556 MB = 678 MB
  2 workers: ready 3.3 s, master 95 MB + 308, 341 MB = 744 MB (+65 MB)
  3 workers: ready 3.0 s, master 81 MB + 230, 224, 269 MB = 804 MB (+60 MB)
Not covered here: the workers after a 200k import or a compaction (bench/index_snapshot.py
measures those, with separately started workers).
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import bindparam, create_engine, text

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"


def pss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return 0.0


def sample_queries(url: str, count: int) -> list[str]:
    """Stored segments, each with one character (zh) or word (en) dropped: fuzzy lookups."""
    engine = create_engine(url)
    with engine.connect() as connection:
        top = connection.scalar(text("SELECT max(id) FROM units")) or 0
        rng = random.Random(18)
        ids = [rng.randint(1, top) for _ in range(count)]
        rows = connection.execute(text("SELECT zh, en FROM units WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)), {"ids": ids}).all()
    engine.dispose()
    queries = []
    for number, (zh, en) in enumerate(rows):
        if number % 2:
            words = en.split()
            words.pop(rng.randrange(len(words)))
            queries.append(" ".join(words) or en)
        else:
            at = rng.randrange(len(zh))
            queries.append(zh[:at] + zh[at + 1:] or zh)
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--instance", required=True, help="INSTANCE_PATH: where the snapshot is kept")
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--port", default="8799")
    args = parser.parse_args()
    env = dict(os.environ, DATABASE_URL=args.database_url, SECRET_KEY="gunicorn-memory", FLASK_APP="app",
               INSTANCE_PATH=args.instance, FRAGMENT_TRAIN_AFTER_IMPORT="0", PORT=args.port,
               PYTHONPATH=str(ROOT))
    started = time.monotonic()
    subprocess.run([str(VENV / "flask"), "tm", "index", "snapshot"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    print(f"snapshot: {time.monotonic() - started:.1f} s", flush=True)
    queries = sample_queries(args.database_url, args.lookups)
    base = f"http://127.0.0.1:{args.port}"
    previous = None
    for workers in (1, 2, 3):
        env["WORKERS"] = str(workers)
        started = time.monotonic()
        server = subprocess.Popen([str(VENV / "gunicorn"), "-c", "gunicorn.conf.py"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    urllib.request.urlopen(base + "/readyz", timeout=2).read()
                    break
                except OSError:
                    if server.poll() is not None:
                        sys.exit("gunicorn stopped before it was ready")
                    time.sleep(0.2)
            ready = time.monotonic() - started
            for query in queries:
                urllib.request.urlopen(base + "/api/v1/tm/lookup?" + urllib.parse.urlencode({"q": query}),
                                       timeout=60).read()
            children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
            master, each = pss_mb(server.pid), [pss_mb(int(pid)) for pid in children]
        finally:
            server.terminate()
            server.wait()
        total = master + sum(each)
        added = f" (+{total - previous:.0f} MB)" if previous is not None else ""
        print(f"{workers} worker(s): ready {ready:.1f} s, master {master:.0f} MB + "
              f"{', '.join(f'{x:.0f}' for x in each)} MB = {total:.0f} MB{added}", flush=True)
        previous = total


if __name__ == "__main__":
    main()
