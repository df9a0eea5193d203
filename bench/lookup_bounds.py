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

Last run (2 shared cores, load 3.6; --sizes 100000,1000000 --queries 100; CPU ms median / p99;
RESCORE_BUDGET 20,000; "equal": top-10 scores equal to brute force's):

    size  lang  min_score  search          brute force      equal  proven exact
    100k  zh     0          20.3 /  52.1    22.7 /  93.4    0.71   0.01
    100k  zh    30          18.7 /  38.6    14.9 /  38.3    0.90   0.03
    100k  zh    50          19.1 /  37.8    13.5 /  30.0    1.00   0.07
    100k  zh    70           0.9 /   1.7    10.3 /  17.0    1.00   1.00
    100k  en     0          18.5 /  38.0    17.1 /  59.8    0.59   0.01
    100k  en    30          19.1 /  31.9    13.5 /  24.4    0.87   0.03
    100k  en    50          19.7 /  32.3    11.9 /  21.1    0.99   0.09
    100k  en    70           0.9 /   2.5     8.8 /  15.4    1.00   1.00
    1M    zh     0          47.1 / 191      277 / 900       0.81   0.06
    1M    zh    30          52.5 / 192      214 / 447       0.93   0.06
    1M    zh    50          49.3 / 137      189 / 348       0.98   0.06
    1M    zh    70           1.5 /   4.9     158 / 272      1.00   1.00
    1M    en     0          34.6 / 147      210 / 546       0.83   0.09
    1M    en    30          34.9 / 120      179 / 281       0.87   0.09
    1M    en    50          38.4 / 114      163 / 269       0.95   0.09
    1M    en    70           1.4 /   3.8     148 / 210      1.00   1.00

Where the top 10 differ it is below the exact tiers, among rows of near-equal low score. The
brute force here is process.extract with a limit, already bounded by the TM's size: before the
fix a lookup at min_score 0 did not finish (range(m, 2**31) in the count filter's bound).
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

import match_bench as mb  # noqa: E402
from rapidfuzz import process  # noqa: E402

from tm.core.index import CandidateIndex, SearchStats  # noqa: E402
from tm.core.match import SCORER  # noqa: E402
from tm.core.text import match_key, warm_up  # noqa: E402
from tm.lookup import DEFAULT_LIMIT, RANK_SLACK  # noqa: E402

SCORES = (0, 30, 50, 70)
LIMIT = DEFAULT_LIMIT + RANK_SLACK


def cpu_ms(fn, /, *args, **kwargs):
    start = time.thread_time()
    result = fn(*args, **kwargs)
    return (time.thread_time() - start) * 1000, result


def search(index: CandidateIndex, query: str, lang: str, min_score: int, stats: SearchStats) -> list:
    # The key is made inside the timing (its cache cleared first), as a lookup makes it.
    return index.search(match_key(query, lang), min_score=min_score, limit=LIMIT, slack=0, stats=stats)


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
                took, found = cpu_ms(search, index, query, lang, min_score, stats)
                searched.append(took)
                key = match_key(query, lang).units
                took, reference = cpu_ms(process.extract, key, units, scorer=SCORER,
                                         score_cutoff=min_score / 100, limit=LIMIT)
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
