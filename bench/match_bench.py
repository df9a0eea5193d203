"""Fuzzy-match benchmark: the candidate index against a brute-force rapidfuzz scan.

Run from the project root (the shared data is read in place, never copied)::

    .venv/bin/python bench/match_bench.py --sizes 10000,100000,1000000 --queries 300

The translation memory
    Real Chinese–English pairs from ../shared/data/parallel: the WMT news test sets (sources
    de-duplicated, as newstestB2020 repeats newstest2020), TICO-19 and Tatoeba's cmn.txt.
    HELD_BACK pairs are set aside first and never stored. A TM of N units takes up to
    REAL_SHARE × N real pairs and fills the rest with variants of random real pairs (seeded):

    * numbers changed (30 %): every number of the pair gets a new value (years ± a few, other
      values scaled by 0.5–3); the same numeral in the target gets the same new value;
    * word edits (45 %): 1–4 operations, each dropping, inserting (a word taken from another
      sentence), swapping two neighbours or replacing one, on words for English and on runs of
      1–2 characters for Chinese, applied to both sides;
    * splices (25 %): the first part of one sentence joined to the last part of another, so
      the TM also holds sentences that are close to none.

    One index per language side: the zh index over the Chinese sides, the en over the English.

The queries, per language
    Half held-back real sentences (mostly no match ≥ 70, as most new text is), half edited
    copies of stored units (1–3 word edits, or numbers changed).

What is measured, at each size and for each language
    * key time: normalising and tokenising every source (Moses dominates for English; spread
      over --workers processes), and index build time from those keys;
    * index memory: the growth of the process's resident set over the build, and nbytes();
    * lookup latency, one core, match-key cache cleared before every query, after warm_up()
      (fold tables, OpenCC, Moses built once as a service does at start-up). Reported as this
      thread's CPU time, which other processes on a shared machine do not inflate, with the
      wall-clock figures beside it: "search" is
      match_key(query) + index.search (every unit with base score ≥ 70, the best 10 plus ties
      within the penalty slack); "lookup" adds rank() over those units (match keys, penalties,
      number adaptation, diffs), i.e. what a request costs. Median and p99;
    * brute force: the same query units against every stored unit with the same scorer
      (rapidfuzz Levenshtein.normalized_similarity, score_cutoff 0.70) via process.extract;
    * recall: (a) the set of units with base score ≥ 70 from the index equals the brute-force
      set; (b) the top 10 after rank() from the index's candidates equals the top 10 ranked
      from the brute-force hits (scores compared position by position; ties may swap ids).
      The brute-force reference ranks its 200 best hits by base score: penalties are a few
      points, so nothing further down can reach its top 10;
    * throughput: all queries of both languages as one batch through the lookup path
      (segments per CPU second of the one core, and per wall second).

Last run (2026-11-28, 2 shared cores, load 1–3; command as above, 300 queries per language;
CPU ms per lookup, median / p99; recall 1.000 everywhere: ≥70 sets and ranked top 10 equal):

    size  lang  search       full lookup  brute force      speed-up  build (keys, index)   memory
    10k   zh    0.26 / 0.85  0.26 / 0.90  1.03 / 2.22        4×      0.2 s, 0.0 s          4 MiB
    10k   en    0.30 / 1.50  0.32 / 1.78  0.82 / 2.00        3×      1.2 s, 0.0 s          3 MiB
    100k  zh    0.48 / 1.09  0.38 / 1.41  22.1 / 27.7       46×      1.5 s, 0.7 s         32 MiB
    100k  en    0.48 / 2.27  0.45 / 4.00  19.1 / 33.7       40×      11.1 s, 0.4 s        29 MiB
    1M    zh    0.96 / 2.53  0.79 / 3.47  289 / 367        300×      8.1 s, 8.3 s        288 MiB
    1M    en    0.95 / 2.40  0.93 / 9.68  307 / 512        324×      86 s, 6.5 s         249 MiB

    batch throughput (zh and en mixed, full lookup, one core): 2,652 / 2,256 / 849 segments/s
    at 10k / 100k / 1M. Key time is with 2 worker processes; Moses dominates it for English.
"""
from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rapidfuzz import process  # noqa: E402

from tm.core.index import CandidateIndex  # noqa: E402
from tm.core.match import MIN_SCORE, SCORER, Candidate, rank  # noqa: E402
from tm.core.text import (  # noqa: E402
    encode_tokens,
    match_key,
    normalize,
    scoring_units,
    tokenize_en,
    warm_up,
)

PARALLEL = ROOT.parent / "shared" / "data" / "parallel"
HELD_BACK = 2000
REAL_SHARE = 0.7
LIMIT = 10
#: Reference ranking depth for the brute force (see the docstring).
BRUTE_RANK_DEPTH = 200


# --- data --------------------------------------------------------------------------------


def load_pairs() -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    wmt = PARALLEL / "wmt_newstest_zh_en"
    for zh_path in sorted(wmt.glob("*.zh")):
        en_path = zh_path.with_suffix(".en")
        zh_lines = zh_path.read_text(encoding="utf-8").splitlines()
        en_lines = en_path.read_text(encoding="utf-8").splitlines()
        pairs += zip(zh_lines, en_lines, strict=True)
    tico = PARALLEL / "tico19_zh_en"
    pairs += zip(
        (tico / "tico19-test.zh").read_text(encoding="utf-8").splitlines(),
        (tico / "tico19-test.en").read_text(encoding="utf-8").splitlines(), strict=True,
    )
    with open(PARALLEL / "tatoeba_cmn" / "cmn.txt", encoding="utf-8-sig") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                pairs.append((parts[1], parts[0]))
    seen = set()
    unique = []
    for zh, en in pairs:
        zh, en = zh.strip(), en.strip()
        if zh and en and zh not in seen:
            seen.add(zh)
            unique.append((zh, en))
    return unique


def pieces(text: str, lang: str, rng: random.Random) -> list[str]:
    if lang == "en":
        return text.split(" ")
    out, i = [], 0
    while i < len(text):
        step = rng.choice((1, 2))
        out.append(text[i : i + step])
        i += step
    return out


def join(parts: list[str], lang: str) -> str:
    return (" " if lang == "en" else "").join(parts)


def word_edits(text: str, lang: str, rng: random.Random, donor: str, edits: int) -> str:
    parts = pieces(text, lang, rng)
    extra = pieces(donor, lang, rng) or ["x"]
    for _ in range(edits):
        if len(parts) < 2:
            break
        i = rng.randrange(len(parts))
        op = rng.choice("dist")
        if op == "d":
            del parts[i]
        elif op == "i":
            parts.insert(i, rng.choice(extra))
        elif op == "s" and i + 1 < len(parts):
            parts[i], parts[i + 1] = parts[i + 1], parts[i]
        else:
            parts[i] = rng.choice(extra)
    return join(parts, lang)


_PLAIN_NUMBER = re.compile(r"(?<![\d.,])\d+(?![\d.,])")


def change_numbers(zh: str, en: str, rng: random.Random) -> tuple[str, str] | None:
    numbers = sorted(set(_PLAIN_NUMBER.findall(zh)) & set(_PLAIN_NUMBER.findall(en)))
    if not numbers:
        return None
    mapping = {}
    for n in numbers:
        value = int(n)
        if 1900 <= value <= 2100:
            new = value + rng.choice((-3, -2, -1, 1, 2, 3))
        else:
            new = max(1, round(value * rng.choice((0.5, 1.5, 2, 3))))
            if new == value:
                new += 1
        mapping[n] = str(new)

    def swap(text: str) -> str:
        return _PLAIN_NUMBER.sub(lambda m: mapping.get(m.group(), m.group()), text)

    return swap(zh), swap(en)


def splice(a: tuple[str, str], b: tuple[str, str], rng: random.Random) -> tuple[str, str]:
    out = []
    for lang, x, y in (("zh", a[0], b[0]), ("en", a[1], b[1])):
        px, py = pieces(x, lang, rng), pieces(y, lang, rng)
        cut_x = rng.randint(1, max(1, len(px) - 1))
        cut_y = rng.randint(0, max(0, len(py) - 1))
        out.append(join(px[:cut_x] + py[cut_y:], lang))
    return out[0], out[1]


def variant(base: list[tuple[str, str]], rng: random.Random) -> tuple[str, str]:
    zh, en = rng.choice(base)
    roll = rng.random()
    if roll < 0.30:
        changed = change_numbers(zh, en, rng)
        if changed:
            return changed
    if roll < 0.75:
        donor = rng.choice(base)
        edits = rng.randint(1, 4)
        return (
            word_edits(zh, "zh", rng, donor[0], edits),
            word_edits(en, "en", rng, donor[1], edits),
        )
    return splice((zh, en), rng.choice(base), rng)


def make_tm(real: list[tuple[str, str]], size: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    take = min(len(real), int(size * REAL_SHARE))
    units = rng.sample(real, take)
    while len(units) < size:
        units.append(variant(real, rng))
    rng.shuffle(units)
    return units


def make_queries(
    held: list[tuple[str, str]], tm: list[tuple[str, str]], count: int, seed: int
) -> dict[str, list[str]]:
    rng = random.Random(seed)
    queries: dict[str, list[str]] = {"zh": [], "en": []}
    for lang, side in (("zh", 0), ("en", 1)):
        real = [pair[side] for pair in rng.sample(held, count // 2)]
        edited = []
        while len(edited) < count - len(real):
            pair = rng.choice(tm)
            if rng.random() < 0.3:
                changed = change_numbers(pair[0], pair[1], rng)
                if changed:
                    edited.append(changed[side])
                    continue
            donor = rng.choice(tm)[side]
            edited.append(word_edits(pair[side], lang, rng, donor, rng.randint(1, 3)))
        mixed = real + edited
        rng.shuffle(mixed)
        queries[lang] = mixed
    return queries


# --- keys ----------------------------------------------------------------------------------


def _zh_units(texts: list[str]) -> list[str]:
    return [scoring_units(t, "zh") for t in texts]


def _en_tokens(texts: list[str]) -> list[list[str]]:
    out = []
    for text in texts:
        key = normalize(text, "en")
        out.append(tokenize_en(key) if key else [])
    return out


def compute_units(texts: list[str], lang: str, workers: int) -> list[str]:
    """Scoring units of many texts. English token codes belong to this process, so workers
    return tokens and the codes are assigned here."""
    chunk = 5000
    chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
    if workers > 1 and len(texts) > chunk:
        with mp.get_context("fork").Pool(workers) as pool:
            results = pool.map(_zh_units if lang == "zh" else _en_tokens, chunks)
    else:
        results = [(_zh_units if lang == "zh" else _en_tokens)(c) for c in chunks]
    flat = [item for part in results for item in part]
    if lang == "en":
        return [encode_tokens(tokens) for tokens in flat]
    return flat


# --- measuring -----------------------------------------------------------------------------


def rss_bytes() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def lookup(query: str, lang: str, index: CandidateIndex, tm: list[tuple[str, str]]):
    key = match_key(query, lang)
    ids = index.candidates(key, min_score=MIN_SCORE, limit=LIMIT)
    side, other = (0, 1) if lang == "zh" else (1, 0)
    candidates = [Candidate(i, tm[i][side], tm[i][other], units=index.units(i)) for i in ids]
    return rank(key, candidates, lang=lang, min_score=MIN_SCORE, limit=LIMIT)


class Clock:
    """Wall time and this thread's CPU time: the machine is shared, and CPU time is what one
    core spends on a lookup whatever else runs beside it."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> Clock:
        self._wall = time.perf_counter()
        self._cpu = time.thread_time()
        return self

    def __exit__(self, *exc) -> None:
        self.cpu.append(time.thread_time() - self._cpu)
        self.wall.append(time.perf_counter() - self._wall)

    def median(self, cpu: bool = True) -> float:
        return statistics.median(self.cpu if cpu else self.wall)

    def p99(self, cpu: bool = True) -> float:
        return pct(self.cpu if cpu else self.wall, 99)

    def line(self) -> str:
        return (
            f"median {ms(self.median())}, p99 {ms(self.p99())} CPU "
            f"(wall: median {ms(self.median(False))}, p99 {ms(self.p99(False))})"
        )


def bench_language(lang, tm, units, queries, index):
    side, other = (0, 1) if lang == "zh" else (1, 0)
    search, full, brute_clock = Clock(), Clock(), Clock()
    set_equal = top_equal = 0
    id_hits = id_total = 0
    with_matches = 0
    for query in queries:
        match_key.cache_clear()
        with search:
            key = match_key(query, lang)
            index.search(key, min_score=MIN_SCORE, limit=LIMIT)

        match_key.cache_clear()
        with full:
            got = lookup(query, lang, index, tm)

        with brute_clock:
            qunits = match_key(query, lang).units
            brute = process.extract(
                qunits, units, scorer=SCORER, score_cutoff=MIN_SCORE / 100.0, limit=None
            )

        # (a) every unit ≥ 70 by base score, index vs brute force
        everything = dict(index.search(key, min_score=MIN_SCORE, limit=None))
        reference = {pos: 100.0 * score for _, score, pos in brute}
        if everything.keys() == reference.keys():
            set_equal += 1
        # (b) the ranked top 10
        best = sorted(reference.items(), key=lambda item: -item[1])[:BRUTE_RANK_DEPTH]
        expected = rank(
            query,
            [Candidate(i, tm[i][side], tm[i][other]) for i, _ in best],
            lang=lang,
            min_score=MIN_SCORE,
            limit=LIMIT,
        )
        if expected:
            with_matches += 1
        if [m.score for m in expected] == [m.score for m in got]:
            top_equal += 1
        boundary = expected[-1].score if expected else None
        got_ids = {m.unit_id for m in got}
        for m in expected:
            id_total += 1
            if m.unit_id in got_ids or m.score == boundary:
                id_hits += 1
    n = len(queries)
    return {
        "search": search,
        "full": full,
        "brute": brute_clock,
        "set_recall": set_equal / n,
        "top10_equal": top_equal / n,
        "top10_recall": id_hits / id_total if id_total else 1.0,
        "with_matches": with_matches,
        "n": n,
    }


def run(size: int, real, held, args, unit_cache: dict[tuple[str, str], str]) -> None:
    print(f"\n=== TM of {size:,} units ===", flush=True)
    t0 = time.perf_counter()
    tm = make_tm(real, size, seed=args.seed + size)
    queries = make_queries(held, tm, args.queries, seed=args.seed + size + 1)
    print(f"generated TM and queries in {time.perf_counter() - t0:.1f} s", flush=True)
    indexes = {}
    all_units = {}
    for lang, side in (("zh", 0), ("en", 1)):
        texts = [pair[side] for pair in tm]
        missing = sorted({t for t in texts if (lang, t) not in unit_cache})
        t0 = time.perf_counter()
        for text, units in zip(missing, compute_units(missing, lang, args.workers), strict=True):
            unit_cache[(lang, text)] = units
        key_time = time.perf_counter() - t0
        units = [unit_cache[(lang, t)] for t in texts]
        gc.collect()
        before = rss_bytes()
        t0 = time.perf_counter()
        index = CandidateIndex(lang).build_units(enumerate(units))
        build_time = time.perf_counter() - t0
        gc.collect()
        grown = rss_bytes() - before
        indexes[lang] = index
        all_units[lang] = units
        print(
            f"[{lang}] keys for {len(missing):,} new texts: {key_time:.1f} s "
            f"({args.workers} workers); index build: {build_time:.1f} s "
            f"({len(units) / build_time:,.0f} units/s); memory: RSS +{grown / 2**20:,.0f} MiB, "
            f"nbytes {index.nbytes() / 2**20:,.0f} MiB; grams {index.grams():,}",
            flush=True,
        )
    for lang in ("zh", "en"):
        # Warm up: OpenCC's dictionaries, the fold tables, Moses' regexes load on first use.
        lookup(queries[lang][0], lang, indexes[lang], tm)
        r = bench_language(lang, tm, all_units[lang], queries[lang], indexes[lang])
        speedup = r["brute"].median() / r["search"].median()
        print(
            f"[{lang}] {r['n']} queries ({r['with_matches']} with a match ≥ 70)\n"
            f"  search (key + index + exact rescoring): {r['search'].line()}\n"
            f"  full lookup (+ rank: penalties, adaptation, diffs): {r['full'].line()}\n"
            f"  brute force rapidfuzz over all {size:,}: {r['brute'].line()}\n"
            f"  speed-up of search over brute force at the median (CPU): {speedup:,.0f}×\n"
            f"  recall: ≥70 sets identical for {r['set_recall']:.3f} of queries; ranked "
            f"top-10 identical for {r['top10_equal']:.3f}; top-10 id recall {r['top10_recall']:.4f}",
            flush=True,
        )
    batch = [(q, "zh") for q in queries["zh"]] + [(q, "en") for q in queries["en"]]
    random.Random(args.seed).shuffle(batch)
    match_key.cache_clear()
    clock = Clock()
    with clock:
        for query, lang in batch:
            lookup(query, lang, indexes[lang], tm)
    print(
        f"[batch] {len(batch)} segments (zh and en) through the full lookup: "
        f"{len(batch) / clock.cpu[0]:,.0f} segments/s per CPU second "
        f"({len(batch) / clock.wall[0]:,.0f}/s wall; load average {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    del indexes, all_units
    gc.collect()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated TM sizes")
    parser.add_argument("--queries", type=int, default=300, help="queries per language")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="processes for computing keys (lookups always use one core)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]

    print(f"python {sys.version.split()[0]}; command: {' '.join(sys.argv)}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    t0 = time.perf_counter()
    pairs = load_pairs()
    rng = random.Random(args.seed)
    rng.shuffle(pairs)
    held, real = pairs[:HELD_BACK], pairs[HELD_BACK:]
    print(f"{len(pairs):,} unique real pairs ({len(held):,} held back for queries), "
          f"loaded in {time.perf_counter() - t0:.1f} s")
    warm_up()
    unit_cache: dict[tuple[str, str], str] = {}
    for size in sizes:
        run(size, real, held, args, unit_cache)


if __name__ == "__main__":
    main()
