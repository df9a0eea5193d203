"""Index snapshot benchmark: one index per machine, mapped by every worker (tm.index_snapshot).

    .venv/bin/python bench/index_snapshot.py [--units 1000000] [--later 200000] [--keep DIR]

On SQLite, in DIR (a new temporary folder unless --keep; a database already there is reused):

1. fills a database with ``--units`` generated units (bench/tmx_bench.py's generator, imported
   with ``flask tm import`` as a user would);
2. builds the snapshot with ``flask tm index snapshot --force``: time, peak memory, size on disk;
3. starts worker processes (this script with ``--worker``: the app, its live index, lookups
   through tm.lookup as a request makes them) and reads each one's RSS and PSS from
   /proc/<pid>/smaps_rollup after it answered its lookups:
   * the baseline, in the same run: one worker building from the database (INDEX_SNAPSHOTS=0);
   * 1, 2 and 3 workers mapping the snapshot (time until ready, total PSS, what each adds);
4. imports ``--later`` more units, then: the first lookup in a worker that applies them itself
   (the events after its snapshot), the snapshot job's time (``flask tm index snapshot``, what
   the job tm.index.snapshot runs), and the first lookup in each worker after it switched;
5. deletes 60 % of the units (one delete event each): past the indexes' compaction share, so a
   worker mapping a snapshot asks for a new one; then the snapshot job, the switch, the memory.

Workers are separate processes, not forked from a preloading master: each holds its own copy of
the app (~95 MB anonymous), which gunicorn's workers share with the master; "the index adds" is
a worker's own figure, before and after its index and 200 lookups. Wall times swing with the
machine's load; the CPU seconds beside them do not.

At 1,000,000 units (998,136 stored), 2026-12-04, ``flock /work/bench.lock .venv/bin/python
bench/index_snapshot.py --units 1000000 --later 200000 --keep DIR`` on SQLite, 2 cores shared
with three other engineers' work. Before the fixes of that day (commit 8306d80, load 6-12):
  snapshot build 169.8 s wall (157 s in the build), peak 2,299 MB, 932 MB on disk; a worker from
  the database ready in 149.5 s, PSS 1,835 MB; from the snapshot ready in 5.2 / 3.1 / 2.8 s,
  PSS total 605 / 789 / 995 MB for 1 / 2 / 3 workers (anonymous 180-204 MB each, of which the
  index 86-109 MB: per-row copies of lengths and groups, heap kept after lookups); lookups median
  zh 6-15 ms, en 10-15 ms. After 200,000 more units: the worker applying them itself answered
  after 101.6 s and held 603 MB anonymous; one leaving them to the snapshot job answered in
  31 ms; the job took 397.8 s wall at load 9-12; first lookups after the switch 1.2-2.7 s; worker
  1 still held 451 MB anonymous after it (347 MB after malloc_trim). After deleting 718,583
  units: the worker applying the deletions answered after 115.3 s (805 MB anonymous); the job
  251.3 s; first lookups after the switch 0.6-1.6 s; workers 2 and 3 at 175-177 MB anonymous,
  worker 1 at 448 (284 after malloc_trim).
After them (commit 98659f8: lengths and groups mapped, malloc_trim at a switch; the same
database; load 1.7-4.0):
  snapshot build 53.9 s wall, 52.2 s CPU, peak 2,329 MB, 932 MB on disk; a worker from the
  database ready in 66.2 s (48.0 s CPU), PSS 1,836 MB; from the snapshot ready in 3.7 / 2.8 /
  4.1 s (1.8-2.7 s CPU, the app's start included), PSS total 574 / 733 / 896 MB (+159, +163 MB a
  worker: its own app, 94 MB anonymous, and the index's 58-67 MB anonymous); lookups median zh
  6.6-7.9 ms, en 9.3-12.2 ms. After 200,000 more units (imported in 38 s): the worker applying
  them itself answered after 19.1 s (18.8 s CPU), then held 554 MB anonymous; one leaving them to
  the snapshot job answered in 16 ms; the job took 68.5 s (65.9 s CPU); first lookups after the
  switch 53-295 ms (52-254 ms CPU); then workers 2 and 3 at PSS 149 MB (128 anonymous), worker 1
  at 308 (286). After deleting 718,583 units: applying them took worker 1 11.5 s (CPU), 711 MB
  anonymous; the job 22.2 s; first lookups after the switch 44-273 ms; workers 2 and 3 at PSS
  144 MB (128 anonymous), worker 1 at 264 (248): what a worker applied itself stays partly
  resident in CPython's small-object arenas, which malloc_trim cannot return (a worker of 250k
  units that applied 50k and switched: sys._debugmallocstats shows 154 arenas of 1 MB holding
  72 MB of live objects beside 84 MB of unused pools).
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PYTHON = str(ROOT / ".venv" / "bin" / "python")
LOOKUPS = 100  # per language and worker, before memory is read


def env_for(folder: Path, url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench", FLASK_APP="app", PYTHONPATH=str(ROOT),
               INSTANCE_PATH=str(folder / "instance"), FRAGMENT_TRAIN_AFTER_IMPORT="0",
               INDEX_SNAPSHOT_AFTER_UNITS="0")
    env.update(extra)
    return env


def delete_most(url: str, share: float) -> int:
    """Delete ``share`` of the units (every id whose last digits fall below it), logging a
    delete event for each as deleting them one by one does: what makes an index compact."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    where = f"id % 100 < {round(100 * share)}"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO unit_events (unit_id, memory_id, action, at) "
                          f"SELECT id, memory_id, 'delete', CURRENT_TIMESTAMP FROM units WHERE {where}"))
        removed = conn.execute(text(f"DELETE FROM units WHERE {where}")).rowcount
    engine.dispose()
    return removed


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, str, float]:
    """A child's wall time (s), its peak RSS (MB, ru_maxrss of the children so far), stdout,
    and its CPU seconds (steadier than wall time on a shared machine)."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return time.perf_counter() - started, after.ru_maxrss / 1024, done.stdout + done.stderr, cpu


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def write_units(path: Path, start: int, count: int) -> None:
    from tmx_bench import base_pairs, generate_records

    from tm.formats.tmx import write_tmx

    with path.open("wb") as stream:
        write_tmx(itertools.islice(generate_records(start + count, base_pairs()), start, None), stream)


def each(figures: list[dict[str, float]]) -> str:
    return ", ".join(f"RSS {f['Rss']:,.0f} / PSS {f['Pss']:,.0f} (anon {f.get('Pss_Anon', 0):,.0f})" for f in figures)


def memory(pid: int) -> dict[str, float]:
    """Rss, Pss and their anonymous and file-backed shares, in MB (/proc/<pid>/smaps_rollup)."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            parts = line.split()
            if parts and parts[0].rstrip(":") in ("Rss", "Pss", "Pss_Anon", "Pss_File", "Private_Dirty"):
                out[parts[0].rstrip(":")] = int(parts[1]) / 1024
    return out


class Worker:
    """A worker process (``--worker``): answers commands on stdin with one JSON line each."""

    def __init__(self, env: dict[str, str], queries: Path) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen([PYTHON, __file__, "--worker", str(queries)], env=env, cwd=ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.ready = self.read()
        self.ready["wall_s"] = time.perf_counter() - self.started

    def read(self) -> dict:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("a worker died")
        return json.loads(line)

    def ask(self, command: str) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.read()

    def memory(self) -> dict[str, float]:
        return memory(self.process.pid)

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def worker_main(queries_file: str) -> None:
    """The worker side: start the app's index as a gunicorn worker would (warm_up's build),
    answer the queries, then wait for commands: ``lookup`` (one lookup after a forced refresh,
    timed), ``stop``."""
    started = time.perf_counter()
    from app import create_app
    from db import new_session
    from tm import lookup
    from tm.core import text
    from web.extensions import live_index

    text.warm_up()
    app = create_app()
    queries = json.loads(Path(queries_file).read_text())
    with app.app_context():
        session = new_session()
        index = live_index(app)
        before = memory(os.getpid())  # the app alone: what a forked gunicorn worker shares anyway
        index.build(session)
        built = time.perf_counter() - started
        first = time.perf_counter()
        lookup.lookup(session, index, lookup.make_request(q=queries["zh"][0], src="zh"))
        ready = time.perf_counter() - started
        ready_cpu = time.process_time()
        first_lookup = time.perf_counter() - first
        timings: dict[str, list[float]] = {"zh": [], "en": []}
        for lang in ("zh", "en"):
            for q in queries[lang][:LOOKUPS]:
                t = time.perf_counter()
                lookup.lookup(session, index, lookup.make_request(q=q, src=lang))
                timings[lang].append(time.perf_counter() - t)
        after = memory(os.getpid())
        anon = after.get("Pss_Anon", 0) - before.get("Pss_Anon", 0)
        print(f"  [worker {os.getpid()}] {'snapshot' if index.snapshot else 'database'}: the app alone "
              f"{each([before])}; with its index and {2 * LOOKUPS} lookups {each([after])}: the index adds "
              f"PSS {after['Pss'] - before['Pss']:,.0f} MB (anon {anon:,.0f})", file=sys.stderr, flush=True)
        print(json.dumps({"built_s": built, "ready_s": ready, "ready_cpu_s": ready_cpu, "first_lookup_s": first_lookup,
                          "snapshot": index.snapshot.name if index.snapshot else None, "units": len(index),
                          **{f"median_{lang}_ms": 1000 * statistics.median(t) for lang, t in timings.items()}}),
              flush=True)
        for command in sys.stdin:
            if command.strip() == "trim":  # what the C heap holds free: given back, if glibc's
                import ctypes

                ctypes.CDLL("libc.so.6").malloc_trim(0)
                print(json.dumps(memory(os.getpid())), flush=True)
            if command.strip() == "lookup":
                session.rollback()
                index.changed()  # as the poll interval would, a moment later
                t, cpu = time.perf_counter(), time.process_time()
                lookup.lookup(session, index, lookup.make_request(q=queries["zh"][1], src="zh"))
                print(json.dumps({"lookup_s": time.perf_counter() - t, "lookup_cpu_s": time.process_time() - cpu,
                                  "units": len(index),
                                  "snapshot": index.snapshot.name if index.snapshot else None}), flush=True)
        session.close()


def switch(workers: list[Worker], env: dict[str, str], after: str) -> None:
    """The snapshot job after a change, then each worker's first lookup on it and its memory."""
    took, _, _, cpu = run([PYTHON, "-m", "flask", "tm", "index", "snapshot"], env)
    print(f"the snapshot job's build after {after}: {took:.1f} s wall, {cpu:.1f} s CPU ({load()})")
    time.sleep(3.5)  # SNAPSHOT_CHECK_INTERVAL: each worker looks for a newer snapshot at most this often
    for k, worker in enumerate(workers):
        answer = worker.ask("lookup")
        print(f"worker {k + 1}: first lookup after the new snapshot: {answer['lookup_s'] * 1000:.0f} ms "
              f"({answer['lookup_cpu_s'] * 1000:.0f} ms CPU, {load()}) "
              f"(switched: {answer['snapshot']}, {answer['units']:,} units)")
    figures = [w.memory() for w in workers]
    print(f"after the switch: PSS total {sum(f['Pss'] for f in figures):,.0f} MB; each: {each(figures)}")
    print(f"worker 1 after malloc_trim(0): {each([workers[0].ask('trim')])}")


def sample_queries(url: str, path: Path) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT zh, en FROM units ORDER BY random() LIMIT 300")).all()
    engine.dispose()
    rng = random.Random(18)

    def drop(items: list[str], sep: str) -> str:
        if len(items) > 3:
            del items[rng.randrange(len(items))]
        return sep.join(items)

    path.write_text(json.dumps({"zh": [drop(list(zh), "") for zh, _ in rows],
                                "en": [drop(en.split(), " ") for _, en in rows]}, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--later", type=int, default=200_000, help="units imported after the snapshot")
    parser.add_argument("--keep", default=None, help="folder for the TMX files and database (kept)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args.worker)
        return

    folder = Path(args.keep or tempfile.mkdtemp(prefix="duizhao-snapshot-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / f'bench-{args.units}.sqlite3'}"
    env = env_for(folder, url)
    database = folder / f"bench-{args.units}.sqlite3"
    if not database.exists():
        tmx = folder / f"first-{args.units}.tmx"
        write_units(tmx, 0, args.units)
        run([PYTHON, "-m", "flask", "db", "upgrade"], env)
        took, _, _, _ = run([PYTHON, "-m", "flask", "tm", "import", str(tmx), "--memory", "bench"], env)
        print(f"filled: {args.units:,} units imported in {took:.0f} s")
    else:
        print(f"reusing {database}")
    queries = folder / "queries.json"
    sample_queries(url, queries)

    took, peak, out, cpu = run([PYTHON, "-m", "flask", "tm", "index", "snapshot", "--force"], env)
    snapshots = folder / "instance" / "index"
    size = sum(f.stat().st_size for f in snapshots.rglob("*") if f.is_file()) / 2**20
    print(f"snapshot build (flask tm index snapshot): {took:.1f} s wall, {cpu:.1f} s CPU ({load()}), "
          f"peak {peak:,.0f} MB, {size:,.0f} MB on disk")
    print("  " + out.strip().splitlines()[-1])

    # Baseline in the same run: a worker building from the database, as without snapshots.
    alone = Worker(env_for(folder, url, INDEX_SNAPSHOTS="0"), queries)
    base = alone.memory()
    print(f"worker from the database: ready in {alone.ready['ready_s']:.1f} s (index {alone.ready['built_s']:.1f} s; "
          f"{alone.ready['ready_cpu_s']:.1f} s CPU, {load()}), "
          f"RSS {base['Rss']:,.0f} MB, PSS {base['Pss']:,.0f} MB; lookups median zh "
          f"{alone.ready['median_zh_ms']:.1f} ms, en {alone.ready['median_en_ms']:.1f} ms")
    alone.stop()

    # The first worker applies every import itself (INDEX_SNAPSHOT_AFTER_UNITS=0: as a worker
    # without a job worker beside it would); the others leave an import of 10,000 units or
    # more to the snapshot job, as the service does by default.
    workers: list[Worker] = []
    for count in (1, 2, 3):
        workers.append(Worker(env if count == 1 else env_for(folder, url, INDEX_SNAPSHOT_AFTER_UNITS="10000"),
                              queries))
        shown = workers[-1].ready
        figures = [w.memory() for w in workers]
        total = sum(f["Pss"] for f in figures)
        print(f"{count} worker(s) from the snapshot: the new one ready in {shown['ready_s']:.1f} s "
              f"({shown['ready_cpu_s']:.1f} s CPU, {load()}) "
              f"(index {shown['built_s']:.2f} s, first lookup {shown['first_lookup_s'] * 1000:.0f} ms), "
              f"lookups median zh {shown['median_zh_ms']:.1f} ms, en {shown['median_en_ms']:.1f} ms; "
              f"PSS total {total:,.0f} MB; each: {each(figures)}")

    later = folder / f"later-{args.later}.tmx"
    if not later.exists():
        write_units(later, args.units, args.later)
    took, _, _, _ = run([PYTHON, "-m", "flask", "tm", "import", str(later), "--memory", "later"], env)
    print(f"imported {args.later:,} more units in {took:.0f} s")
    answer = workers[0].ask("lookup")
    mem = workers[0].memory()
    print(f"first lookup after it, applying the {args.later:,} units itself: {answer['lookup_s']:.1f} s "
          f"({answer['lookup_cpu_s']:.1f} s CPU, {load()}) "
          f"({answer['units']:,} units); that worker now: {each([mem])}")
    answer = workers[1].ask("lookup")
    print(f"first lookup after it, leaving them to the snapshot job (the default): "
          f"{answer['lookup_s'] * 1000:.0f} ms ({answer['lookup_cpu_s'] * 1000:.0f} ms CPU; {answer['units']:,} units)")
    switch(workers, env, "the import")

    # A compaction: removals past the indexes' share of their rows (tm.core.index._COMPACT_SHARE)
    # would rebuild the arrays; a worker mapping a snapshot asks for a new one instead.
    removed = delete_most(url, 0.6)
    print(f"deleted {removed:,} units (60 %, one delete event each)")
    answer = workers[0].ask("lookup")
    mem = workers[0].memory()
    print(f"first lookup after it, applying the deletions: {answer['lookup_s']:.1f} s "
          f"({answer['lookup_cpu_s']:.1f} s CPU, {load()}) "
          f"({answer['units']:,} units); that worker now: {each([mem])}")
    switch(workers, env, "the compaction")
    for worker in workers:
        worker.stop()
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
