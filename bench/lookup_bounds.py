"""How long a lookup takes at low thresholds: the bounded search against brute force.

Run from the project root (the shared data is read in place)::

    .venv/bin/python bench/lookup_bounds.py --sizes 100000,1000000 --queries 100

The TM and the queries are match_bench's (real WMT/TICO-19/Tatoeba pairs plus variants; half
held-back sentences, half edited copies of stored ones). For each size, language and
min_score in 0, 30, 50, 70, one core, CPU time per query:

* search: match_key + CandidateIndex.search with the lookup's limit (10 + RANK_SLACK), slack 0
  and the default budget, as tm.lookup asks;
* brute force: rapidfuzz process.extract of the same units over every stored unit, same
  scorer, score_cutoff, the same limit: what an unbounded exact search costs at best;
* top-10 agreement: the share of queries whose ten best scores equal brute force's, the
  share the search proved exact (SearchStats.exact), and the rows it rescored (mean, max).

Last run (2 shared cores, load 2–4; --sizes 100000,1000000 --queries 100; CPU ms median / p99):
see the report of issue 12 (figures are printed, nothing is kept).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from rapidfuzz import process  # noqa: E402

import match_bench as mb  # noqa: E402
from tm.core.index import CandidateIndex, SearchStats  # noqa: E402
from tm.core.match import SCORER  # noqa: E402
from tm.core.text import match_key, warm_up  # noqa: E402
from tm.lookup import DEFAULT_LIMIT, RANK_SLACK  # noqa: E402

SCORES = (0, 30, 50, 70)
LIMIT = DEFAULT_LIMIT + RANK_SLACK


def cpu_ms(fn):
    start = time.thread_time()
    result = fn()
    return (time.thread_time() - start) * 1000, result


def line(values: list[float]) -> str:
    return f"{statistics.median(values):8.2f} / {mb.pct(values, 99):8.2f}"


def run(size: int, real, held, args) -> None:
    tm = mb.make_tm(real, size, seed=args.seed + size)
    queries = mb.make_queries(held, tm, args.queries, seed=args.seed + size + 1)
    print(f"\n=== TM of {size:,} units ===", flush=True)
    for lang, side in (("zh", 0), ("en", 1)):
        if lang not in args.langs:
            continue
        units = mb.compute_units([pair[side] for pair in tm], lang, args.workers)
        index = CandidateIndex(lang).build_units(enumerate(units))
        print(f"[{lang}] min_score  search ms (median / p99)  brute force ms (median / p99)  "
              f"top-10 equal  proven exact  rescored mean / max", flush=True)
        for min_score in SCORES:
            searched, brute, equal, exact, rescored = [], [], 0, 0, []
            for query in queries[lang]:
                match_key.cache_clear()
                stats = SearchStats()
                took, found = cpu_ms(lambda: index.search(match_key(query, lang), min_score=min_score,
                                                          limit=LIMIT, slack=0, stats=stats))
                searched.append(took)
                key = match_key(query, lang).units
                took, reference = cpu_ms(lambda: process.extract(
                    key, units, scorer=SCORER, score_cutoff=min_score / 100, limit=LIMIT))
                brute.append(took)
                want = [round(100 * s, 6) for _, s, _ in reference][:10]
                got = [round(s, 6) for _, s in found][:10]
                equal += got == want
                exact += stats.exact
                rescored.append(stats.rescored)
            n = len(queries[lang])
            print(f"[{lang}] {min_score:9}  {line(searched)}          {line(brute)}            "
                  f"{equal / n:6.3f}        {exact / n:6.3f}      "
                  f"{statistics.mean(rescored):8,.0f} / {max(rescored):,}", flush=True)
        del index, units


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=100, help="queries per language")
    parser.add_argument("--langs", default="zh,en")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    args.langs = args.langs.split(",")
    print(f"python {sys.version.split()[0]}; command: {' '.join(sys.argv)}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    pairs = mb.load_pairs()
    rng = random.Random(args.seed)
    rng.shuffle(pairs)
    held, real = pairs[:mb.HELD_BACK], pairs[mb.HELD_BACK:]
    warm_up()
    for size in (int(s.replace("_", "")) for s in args.sizes.split(",")):
        run(size, real, held, args)


if __name__ == "__main__":
    main()
