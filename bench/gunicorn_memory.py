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
``--later N`` then runs 1 and then 3 workers, each from the database and snapshot as they are
(restored from a copy after the run), through what happens to a running service: N units
imported (``flask tm import``) and the snapshot job's new snapshot (``flask tm index
snapshot``), then 60 % of the units deleted and the compacting snapshot; after each, lookups
from as many clients as workers (so each worker switches), and whether every worker maps the
newest snapshot (/proc/<pid>/maps). Half of what 3 workers cost beyond 1 at each point is what
a further worker adds (issue 18: also after a 200k import and a compaction).
Each point is also read "at rest": TRIM_EVERY + 1.5 s later, once each worker's heap trimmer
(common.heap.keep_trimmed) has had its turn.
bench/index_snapshot.py measures the same with separately started workers, which share nothing
with a master.

Run (2026-12-04 21:53-22:08, 998,136 units on SQLite, the snapshot already built, under the
bench lock, load 5.4 falling to 1.8, ``--lookups 200 --later 200000``):
  1 worker:  ready 5.7 s, master 111 MB + worker 510 MB = 621 MB
  2 workers: ready 6.1 s, 686 MB (+66 MB);  3 workers: ready 5.3 s, 795 MB (+109 MB)
  1 worker then 3 workers (ready 4.3 / 3.5 s), each through the changes; every worker mapped
  the newest snapshot after each:
    at start                     641 MB  /  782 MB: +71 MB a further worker
    199,512 units imported, the snapshot job (143 / 110 s)
                                 815 MB  / 1,057 MB: +121 MB a further worker
    718,608 units deleted, the compacting snapshot (49 / 43 s)
                                 530 MB  /   804 MB: +137 MB a further worker
  So within 100 MB at start, not after an import or a compaction: each worker keeps 50-70 MB
  more of its own after a switch (what it built or read while switching, or the previous
  snapshot's pages; not yet told apart).

Told apart (2026-12-05, 998,136 units, a 200k import left to a snapshot, forked workers; smaps
per mapping): no worker mapped the previous snapshot after its switch. What each kept of its own
was anonymous: (1) the token table: comparing the new snapshot's table with the inherited one
entry by entry wrote to every entry's page (56 MB a worker for 300,000 tokens; now only the new
entries and the worker's own codes are looked at, tm.core.text.adopt_token_table); (2) the
lookups' freed temporaries, kept by glibc in the arena of each request's thread (30-60 MB a
worker; now trimmed a few seconds after a burst, common.heap). The run after both (dbbd892,
under the bench lock, load 5.1 falling to 3.4; helpers' work beside it):
  1 / 2 / 3 workers: ready 2.7 / 3.1 / 3.1 s; 642 / 696 / 697 MB
  1 worker then 3 workers through the changes, right after 200 lookups / at rest:
    at start                     616 /   754 MB, at rest 598 /   696: +69 / +49 MB a further worker
    199,512 units imported, the snapshot (99 s)
                                 766 /   996 MB, at rest 766 /   918: +115 / +76 MB
    718,608 units deleted, the compacting snapshot (33-35 s)
                                 511 /   732 MB, at rest 486 /   672: +111 / +93 MB
  So within 100 MB at rest at every point, and right after a burst of lookups at start; right
  after a burst that follows a switch, 111-115 MB (121 and 137 before).

Each point now also splits the total PSS into anonymous and file-backed (the snapshot's pages
each process maps): what a further worker adds is anonymous, within 1 MB, at every point. Three
runs of 2026-12-05 (a65bacc's successors, quiet machine, load 0.4-1.8, under the bench lock),
each further worker, right after 200 lookups / at rest:

                                  at start   after the 200k import   after the compaction
  search temporaries cut (869aca3)   52 / 50       91 / 75                 91 / 81
  the same, run again                79 / 77       97 / 96                101 / 98
  and 2 malloc arenas (gunicorn.conf.py)
                                     61 / 52       80 / 68                 70 / 71
  the same, run again                68 / 52       85 / 65                 80 / 65

The two runs of the same code differ by up to 27 MB, all of it anonymous: which threads took
which lookups, so how many of glibc's per-thread arenas (up to 16 on 2 cores) each worker's
requests touched. With the arenas limited to 2 (common.heap.limit_arenas: a worker runs 2
requests at once) a worker held 45-52 MB private after 200 lookups, against 72-82 MB.
Workers were ready 1.6-2.2 s after start.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import bindparam, create_engine, text

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common.heap import TRIM_EVERY  # noqa: E402
from tm.index_snapshot import PREFIX as SNAPSHOT_PREFIX  # noqa: E402
from tm.live_index import SNAPSHOT_CHECK_INTERVAL  # noqa: E402


def pss_mb(pid: int, field: str = "Pss") -> float:
    """A process's PSS (or ``Pss_Anon``, ``Pss_File``) in MB."""
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pss_split(server: subprocess.Popen) -> tuple[float, float]:
    """The anonymous and the file-backed PSS of the master and workers together, in MB: the
    file-backed part (the snapshot's pages each process has mapped) moves with the page cache's
    state and the kernel's fault-around, the anonymous part is each process's own."""
    master, workers = processes(server)
    pids = [master, *workers]
    return sum(pss_mb(pid, "Pss_Anon") for pid in pids), sum(pss_mb(pid, "Pss_File") for pid in pids)


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


def start_server(env: dict[str, str], workers: int, root: Path = ROOT) -> tuple[subprocess.Popen, float]:
    """gunicorn as ``make run`` starts it from the checkout at ``root`` (another one: a
    ``git worktree`` with a ``.venv`` link), and the seconds until /readyz answered."""
    env = dict(env, WORKERS=str(workers), PYTHONPATH=str(root))
    started = time.monotonic()
    server = subprocess.Popen([str(root / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py"], cwd=root,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{env['PORT']}/readyz", timeout=2).read()
            return server, time.monotonic() - started
        except OSError:
            if server.poll() is not None:
                sys.exit("gunicorn stopped before it was ready")
            time.sleep(0.2)


def look_up(port: str, queries: list[str], clients: int = 1) -> None:
    """The queries as GET lookups, from ``clients`` threads at once (so that every worker of a
    threaded gunicorn takes some: one client's requests may all go to one worker)."""
    def ask(part: list[str]) -> None:
        for query in part:
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/tm/lookup?"
                                           + urllib.parse.urlencode({"q": query}), timeout=120).read()
                    break
                except urllib.error.HTTPError as refused:  # the admission gate: ask again as told
                    if refused.code not in (429, 503):
                        raise
                    time.sleep(float(refused.headers.get("Retry-After", "1")))

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(ask, [queries[k::clients] for k in range(clients)]))


def processes(server: subprocess.Popen) -> tuple[int, list[int]]:
    children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
    return server.pid, [int(pid) for pid in children]


def maps_snapshot(pid: int, name: str) -> bool:
    with open(f"/proc/{pid}/maps") as maps:
        return any(name in line for line in maps)


def report(label: str, server: subprocess.Popen, previous: float | None = None) -> tuple[float, float, float]:
    """Prints the PSS of each process; returns the total, its anonymous and its file-backed part."""
    master, workers = processes(server)
    each = [pss_mb(pid) for pid in workers]
    total = pss_mb(master) + sum(each)
    anonymous, file = pss_split(server)
    added = f" (+{total - previous:.0f} MB)" if previous is not None else ""
    print(f"{label}: master {pss_mb(master):.0f} MB + {', '.join(f'{x:.0f}' for x in each)} MB = "
          f"{total:.0f} MB{added} [anonymous {anonymous:.0f}, file {file:.0f}] ({os.getloadavg()[0]:.1f} load)",
          flush=True)
    return total, anonymous, file


def at_rest(server: subprocess.Popen) -> tuple[float, float, float]:
    """The memory once each worker's heap trimmer (common.heap.keep_trimmed) has had its turn:
    what an idle service holds, beside the figure right after a burst of lookups."""
    time.sleep(TRIM_EVERY + 1.5)
    return report("    at rest", server)


def after_changes(args: argparse.Namespace, env: dict[str, str], queries: list[str]) -> None:
    """Each of 1 and 3 workers on the database and snapshot as they are: the memory at start,
    after ``--later`` units imported and the snapshot job's new snapshot, and after deleting 60 %
    of the units and the compacting snapshot; what 3 workers cost beyond 1 at each point, halved,
    is what a further worker adds."""
    from index_snapshot import delete_most, write_units

    url = args.database_url
    if not url.startswith("sqlite:///"):
        sys.exit("--later works on a SQLite database (restored from a copy after each run)")
    database = Path(url.removeprefix("sqlite:///"))
    later = Path(args.instance).parent / f"later-{args.later}.tmx"
    if not later.exists():  # new pairs: the generator's records after those the database holds
        engine = create_engine(url)
        with engine.connect() as connection:
            held = connection.scalar(text("SELECT count(*) FROM units")) or 0
        engine.dispose()
        write_units(later, held, args.later)
    # Each run starts from the database and snapshot as they are now, restored from a copy after
    # it. In place, not in a copied folder: a snapshot belongs to its database's URL.
    pristine = Path(tempfile.mkdtemp(prefix="gunicorn-memory-", dir=database.parent))
    sidecars = [Path(f"{database}{end}") for end in ("", "-wal", "-shm")]

    def restore(into: Path, from_: Path) -> None:
        for file in sidecars:
            (into / file.name).unlink(missing_ok=True)
            if (from_ / file.name).exists():
                shutil.copy(from_ / file.name, into / file.name)

    totals: dict[int, list[tuple[float, float, float]]] = {}
    rested: dict[int, list[tuple[float, float, float]]] = {}
    try:
        restore(pristine, database.parent)
        shutil.copytree(args.instance, pristine / "instance")
        for workers in (1, 3):
            server, ready = start_server(env, workers)
            try:
                look_up(args.port, queries, workers)
                points = [report(f"{workers} worker(s), ready in {ready:.1f} s, {len(queries)} lookups", server)]
                resting = [at_rest(server)]
                for change in ("import", "compaction"):
                    started = time.monotonic()
                    if change == "import":
                        subprocess.run([str(VENV / "flask"), "tm", "import", str(later), "--memory", "later"],
                                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
                        what = f"{args.later:,} units imported"
                    else:
                        what = f"{delete_most(url, 0.6):,} units deleted"
                    subprocess.run([str(VENV / "flask"), "tm", "index", "snapshot"], cwd=ROOT, env=env,
                                   check=True, stdout=subprocess.DEVNULL)
                    took = time.monotonic() - started
                    time.sleep(SNAPSHOT_CHECK_INTERVAL + 0.5)  # each worker looks for a newer one this often
                    look_up(args.port, queries, workers)
                    name = max(path.name for path in Path(args.instance).rglob(f"{SNAPSHOT_PREFIX}*"))
                    switched = [maps_snapshot(pid, name) for pid in processes(server)[1]]
                    points.append(report(f"  after {what}, the new snapshot in {took:.0f} s and "
                                         f"{len(queries)} lookups (workers on it: {sum(switched)} of "
                                         f"{len(switched)})", server))
                    resting.append(at_rest(server))
                totals[workers] = points
                rested[workers] = resting
            finally:
                server.terminate()
                server.wait()
                restore(database.parent, pristine)
                shutil.rmtree(args.instance)
                shutil.copytree(pristine / "instance", args.instance)
    finally:
        shutil.rmtree(pristine)
    def further(three: tuple[float, float, float], one: tuple[float, float, float]) -> str:
        total, anonymous, file = ((a - b) / 2 for a, b in zip(three, one, strict=True))
        return f"{total:.0f} MB (anonymous {anonymous:.0f}, file-backed {file:.0f})"

    for k, point in enumerate(("at start", "after the import", "after the compaction")):
        print(f"each further worker {point}: {further(totals[3][k], totals[1][k])} PSS right after the lookups, "
              f"{further(rested[3][k], rested[1][k])} at rest", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--instance", required=True, help="INSTANCE_PATH: where the snapshot is kept")
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--port", default="8799")
    parser.add_argument("--later", type=int, default=0,
                        help="also run 1 and 3 workers through an import of this many units and a compaction")
    args = parser.parse_args()
    env = dict(os.environ, DATABASE_URL=args.database_url, SECRET_KEY="gunicorn-memory", FLASK_APP="app",
               INSTANCE_PATH=args.instance, FRAGMENT_TRAIN_AFTER_IMPORT="0", PORT=args.port,
               PYTHONPATH=str(ROOT))
    started = time.monotonic()
    subprocess.run([str(VENV / "flask"), "tm", "index", "snapshot"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    print(f"snapshot: {time.monotonic() - started:.1f} s", flush=True)
    queries = sample_queries(args.database_url, args.lookups)
    previous = None
    for workers in (1, 2, 3):
        server, ready = start_server(env, workers)
        try:
            look_up(args.port, queries)
            previous = report(f"{workers} worker(s): ready {ready:.1f} s", server, previous)[0]
        finally:
            server.terminate()
            server.wait()
    if args.later:
        after_changes(args, env, queries)


if __name__ == "__main__":
    main()
