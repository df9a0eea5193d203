"""The memory a candidate search allocates and frees (issue 18), beside a baseline revision's.

    .venv/bin/python bench/search_peak.py --database-url sqlite:////DIR/db.sqlite3 \
        --instance DIR/instance [--before REV]

glibc keeps the heap a request's thread reached once its temporaries are freed (common/heap.py),
so the peak of a lookup's temporaries is memory a gunicorn worker holds until it is trimmed:
bench/gunicorn_memory.py measures that per worker, this script what causes it. It opens the app
on the database and snapshot (bench/gunicorn_memory.py's arguments: the snapshot must exist) and
runs bench/gunicorn_memory.py's queries (stored segments with a character or word dropped, zh
and en alternating, then as many new sentences spliced from two stored ones: these go to the
bounded search) through ``CandidateIndex.search`` as a lookup calls it, with this code and with
tm/core/index.py of ``--before`` (read from git; its search methods over the same arrays). For
each: the peak of traced memory per search (tracemalloc: numpy's arrays included), median, p90
and max; CPU per search (the thread's, best of two passes); and whether every answer (ids and
scores) is the same.

Run (2026-12-05, 998,136 units on SQLite, baseline a65bacc, load ~1.5, 200 queries a kind):
  stored, one character or word dropped: peak MB per search max 29.5 -> 16.6, p90 13.7 -> 9.5,
    mean 4.03 -> 2.74 (0.68x); CPU 0.86x; answers the same.
  new, spliced from two stored (more of them reach the bounded search): max 29.5 -> 16.5,
    p90 5.7 -> 4.7, mean 2.31 -> 1.70 (0.74x); CPU 0.79x; answers the same.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def load_before(revision: str):
    source = subprocess.run(["git", "show", f"{revision}:tm/core/index.py"], cwd=ROOT, check=True,
                            capture_output=True).stdout
    path = Path(tempfile.mkdtemp(prefix="search-peak-")) / "index_before.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("index_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["index_before"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def spliced(queries: list[str], count: int) -> list[str]:
    """New text: the first half of one query joined to the second half of another of its language."""
    rng = random.Random(18)
    by_lang: dict[bool, list[str]] = {}
    for query in queries:
        by_lang.setdefault(any("\u4e00" <= c <= "\u9fff" for c in query), []).append(query)
    out = []
    for k in range(count):
        pool = by_lang[bool(k % 2 == 0)] if len(by_lang) > 1 else next(iter(by_lang.values()))
        a, b = rng.sample(pool, 2)
        out.append(a[: len(a) // 2] + b[len(b) // 2:])
    return out


def measure(indexes: dict, keys: list, limit: int, min_score: float) -> tuple[list[float], list[float], str]:
    def run(trace: bool) -> tuple[list, list[float], list[float]]:
        answers, peaks, cpu = [], [], []
        for key in keys:
            if trace:
                tracemalloc.clear_traces()
                tracemalloc.reset_peak()
            started = time.thread_time()
            answers.append(indexes[key.lang].search(key, min_score=min_score, limit=limit))
            cpu.append(time.thread_time() - started)
            if trace:
                peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        return answers, peaks, cpu

    run(False)
    _, _, first = run(False)
    answers, _, second = run(False)
    tracemalloc.start()
    _, peaks, _ = run(True)
    tracemalloc.stop()
    digest = hashlib.sha1(repr([[(i, round(s, 9)) for i, s in found] for found in answers]).encode()).hexdigest()
    return peaks, [1000 * min(a, b) for a, b in zip(first, second, strict=True)], digest[:12]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--instance", required=True)
    parser.add_argument("--before", default="a65bacc", help="git revision of the baseline tm/core/index.py")
    parser.add_argument("--lookups", type=int, default=200)
    args = parser.parse_args()
    os.environ.update(DATABASE_URL=args.database_url, INSTANCE_PATH=args.instance, SECRET_KEY="search-peak",
                      FRAGMENT_TRAIN_AFTER_IMPORT="0", WARM_UP="0")
    from gunicorn_memory import sample_queries

    from app import create_app
    from tm.core.text import match_key
    from tm.lookup import DEFAULT_LIMIT, DEFAULT_MIN_SCORE, RANK_SLACK
    from web.extensions import live_index

    stored = sample_queries(args.database_url, args.lookups)
    app = create_app()
    app.test_client().get("/api/v1/tm/lookup?q=x")  # maps the snapshot
    with app.app_context():
        live = live_index()
    before_module = load_before(args.before)
    now = {lang: index for lang, index in live.indexes.items()}
    before = {}
    for lang, index in now.items():
        old = object.__new__(before_module.CandidateIndex)
        old.__dict__.update(index.__dict__)  # the same arrays: nothing copied
        before[lang] = old
    print(f"{sum(len(index) for index in now.values()) // len(now):,} units a side; baseline {args.before}")
    for label, queries in (("stored, one character or word dropped", stored),
                           ("new, spliced from two stored", spliced(stored, args.lookups))):
        keys = [match_key(q, "zh" if any("\u4e00" <= c <= "\u9fff" for c in q) else "en") for q in queries]
        results = {}
        for name, indexes in (("before", before), ("now", now)):
            results[name] = measure(indexes, keys, DEFAULT_LIMIT + RANK_SLACK, DEFAULT_MIN_SCORE)
        print(f"\n{len(keys)} queries, {label}:")
        for name, (peaks, cpu, digest) in results.items():
            ordered = sorted(peaks)
            print(f"  {name:6} peak MB per search: median {statistics.median(peaks):.2f}, "
                  f"p90 {ordered[len(peaks) * 9 // 10]:.1f}, max {ordered[-1]:.1f}, mean {statistics.mean(peaks):.2f}; "
                  f"CPU ms: median {statistics.median(cpu):.2f}, total {sum(cpu):.0f}; answers {digest}")
        (bp, bc, bd), (np_, nc, nd) = results["before"], results["now"]
        print(f"  now / before: max peak {max(np_) / max(bp):.2f}, "
              f"mean peak {statistics.mean(np_) / statistics.mean(bp):.2f}, "
              f"CPU {sum(nc) / sum(bc):.2f}; answers {'the same' if bd == nd else 'DIFFER'}")


if __name__ == "__main__":
    main()
