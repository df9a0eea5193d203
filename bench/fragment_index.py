"""Fragment index benchmark: build cost and find_fragments latency beside the fuzzy lookup.

Run from the project root (the shared data is read in place, never copied)::

    .venv/bin/python bench/fragment_index.py --zh-sizes 10000,100000,1000000 --en-sizes 100000

The memories
    "other years": the 12,727 distinct Chinese sentences of WMT newstest 2017, 2018, 2019 and
    2021 (both directions), as the issue measured. The sized memories are match_bench's:
    real pairs (here every WMT set except 2020, TICO-19, Tatoeba) filling up to 70 % of N,
    the rest variants of them (numbers changed, 1-4 word edits, splices; seeded).

The queries
    300 sentences of newstest2020.zho-eng (seeded sample): the Chinese sources for zh, their
    English references for en. None of 2020 is stored, so these are new text.

What is measured, per size and language (one core, this thread's CPU time, so other
processes on the shared machine do not inflate it; match_bench's conventions):
    * keys: the folded Chinese text or the English Moses tokens of every source (2 worker
      processes; Moses dominates English), then the fragment keys and the fuzzy index's
      scoring units from them: what the database's zh_key / en_tokens columns hold;
    * build: FragmentIndex.build_units time, the growth of peak RSS over it (VmHWM), nbytes()
      (what persisting would write: texts, suffix arrays, row starts; the index is not persisted,
      it is rebuilt from the candidate index's units in the time shown);
    * fuzzy: match_key + CandidateIndex.search at min_score 70 with the lookup's limit, match-key
      cache cleared first: what a lookup costs today;
    * fragments: find_fragments on the same query right after, the key cached as in a lookup
      that computes both: the latency fragments add. Median and p99, and median ratio to fuzzy;
    * hits: queries with at least one fragment (zh: and with one of 6 or more characters, the
      issue's measure for its 108 of 300), fragments per query and mean units each;
    * adds: 1,000 single add_units after the build (a translator confirming units), median and
      max ms, the segments left, and find_fragments median after them.

Last run (2026-12-03, 2 shared cores, load 3-5; the command above; CPU ms per query, median /
p99; "peak": growth of the process's peak RSS over the build; nbytes: texts + suffix arrays +
row arrays, what persisting would write):

    memory      lang  keys     build   peak      nbytes   fuzzy        fragments    ratio  hits
    other yrs   zh     0.3 s   0.1 s    12 MiB     4 MiB  0.32 / 1.17  0.47 / 1.87  1.4×   243/300
    other yrs   en     3.5 s   0.0 s     6 MiB     3 MiB  0.37 / 1.59  0.32 / 1.46  0.9×   244/300
    10k         zh     0.4 s   0.1 s     -         2 MiB  0.45 / 1.07  0.59 / 1.63  1.3×   187/300
    100k        zh     2.0 s   0.8 s    53 MiB    17 MiB  0.34 / 0.86  0.52 / 1.62  1.5×   255/300
    1M          zh    15.8 s  12.2 s   642 MiB   168 MiB  0.76 / 1.87  1.05 / 4.86  1.4×   260/300
    100k        en    19.5 s   0.8 s     -        12 MiB  0.72 / 2.01  0.63 / 2.45  0.9×   256/300
    1M          en   361.6 s   5.9 s   341 MiB   122 MiB  0.81 / 1.84  0.93 / 5.32  1.1×   260/300
                (a separate run: --zh-sizes "" --en-sizes 1000000; keys are Moses on 2 cores)

    After 1,000 single adds: an add 0.06 ms median, 4-6 ms at most (a merge of the small
    segments); 4-5 segments; find_fragments 1.37 / 5.87 ms at 1M zh, 1.32 / 4.66 at 100k en, 1.62 / 6.47 at 1M en.
    Fragments per query 1.3-2.5; mean units per fragment 3.9 (other years) to 77 (1M).

Against the other years' 12,727 news sentences, 243 of the 300 newstest2020 zh queries have a
fragment (65 of them one of 6 or more characters; the issue counted 108 with unsnapped runs of
6+ characters, before word snapping, trimming of leaning function words and the cover). The
build's peak is libdivsufsort's int32 array over the text's bytes (twice the characters) plus
the filtering; the held memory beyond nbytes is the id list and the id-to-row dict.
"""
from __future__ import annotations

import argparse
import gc
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

from tm.core import fragments as fr  # noqa: E402
from tm.core.fragments import FragmentIndex, find_fragments  # noqa: E402
from tm.core.index import CandidateIndex  # noqa: E402
from tm.core.numbers import NUMERAL_RE  # noqa: E402
from tm.core.text import NUMBER_UNIT, encode_tokens, match_key, normalize, warm_up  # noqa: E402
from tm.lookup import DEFAULT_LIMIT, RANK_SLACK  # noqa: E402

WMT = mb.PARALLEL / "wmt_newstest_zh_en"
QUERIES = 300
FUZZY_LIMIT = DEFAULT_LIMIT + RANK_SLACK


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def other_years() -> list[tuple[str, str]]:
    """WMT pairs of every year but 2020, distinct Chinese sources."""
    pairs, seen = [], set()
    for zh_path in sorted(WMT.glob("*.zh")):
        if "2020" in zh_path.name:
            continue
        for zh, en in zip(read_lines(zh_path), read_lines(zh_path.with_suffix(".en")), strict=True):
            zh, en = zh.strip(), en.strip()
            if zh and en and zh not in seen:
                seen.add(zh)
                pairs.append((zh, en))
    return pairs


def real_pairs() -> list[tuple[str, str]]:
    """match_bench's real pairs without any of newstest2020 (neither source nor reference)."""
    held = set(read_lines(WMT / "newstest2020.zho-eng.zh")) | set(read_lines(WMT / "newstest2020.eng-zho.zh"))
    return [(zh, en) for zh, en in mb.load_pairs() if zh not in held]


def queries(seed: int) -> dict[str, list[str]]:
    zh = read_lines(WMT / "newstest2020.zho-eng.zh")
    en = read_lines(WMT / "newstest2020.zho-eng.en")
    picked = random.Random(seed).sample(range(len(zh)), QUERIES)
    return {"zh": [zh[i].strip() for i in picked], "en": [en[i].strip() for i in picked]}


def _zh_keys(texts: list[str]) -> list[str]:
    return [normalize(t, "zh") for t in texts]


def keys(texts: list[str], lang: str, workers: int) -> tuple[list[str], list[str]]:
    """(fragment keys, scoring units) of many sources, as the database columns give them:
    the zh key and the en tokens, computed once (2 workers), encoded both ways here."""
    chunk = 5000
    chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
    work = _zh_keys if lang == "zh" else mb._en_tokens
    if workers > 1 and len(texts) > chunk:
        with mb.mp.get_context("fork").Pool(workers) as pool:
            results = pool.map(work, chunks)
    else:
        results = [work(c) for c in chunks]
    flat = [item for part in results for item in part]
    if lang == "zh":
        return flat, [NUMERAL_RE.sub(NUMBER_UNIT, k) for k in flat]
    return [encode_tokens(t, literal_numbers=True) for t in flat], [encode_tokens(t) for t in flat]


def peak_rss() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def quiet() -> None:
    """Keep the garbage collector's pauses out of the timings: a full collection walks the
    bench's million pair tuples (tens of ms), which a server would gc.freeze() after loading."""
    gc.collect()
    gc.freeze()


def cpu(fn, /, *args, **kwargs):
    start = time.thread_time()
    result = fn(*args, **kwargs)
    return (time.thread_time() - start) * 1000, result


def fuzzy_search(fuzzy: CandidateIndex, query: str, lang: str) -> list:
    # The key is made inside the timing (its cache cleared first), as a lookup makes it.
    return fuzzy.search(match_key(query, lang), min_score=70, limit=FUZZY_LIMIT, slack=0)


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} / {mb.pct(values, 99):6.2f}"


def bench(label: str, lang: str, sources: list[str], qs: list[str], workers: int, adds: int) -> None:
    gc.collect()
    start = time.perf_counter()
    units, scoring = keys(sources, lang, workers)
    keyed = time.perf_counter() - start

    peak_before, rss_before = peak_rss(), mb.rss_bytes()
    start = time.perf_counter()
    index = FragmentIndex(lang).build_units(enumerate(units))
    built = time.perf_counter() - start
    peak = max(0, peak_rss() - max(peak_before, rss_before))
    held = mb.rss_bytes() - rss_before

    fuzzy = CandidateIndex(lang).build_units(enumerate(scoring))
    quiet()
    fuzzy_ms, frag_ms, counts, unit_counts, six = [], [], [], [], 0
    for query in qs:
        match_key.cache_clear()
        took, _ = cpu(fuzzy_search, fuzzy, query, lang)
        fuzzy_ms.append(took)
        took, found = cpu(find_fragments, query, lang, index)
        frag_ms.append(took)
        counts.append(len(found))
        unit_counts += [f.units for f in found]
        six += any(len(f.source) >= 6 for f in found)
    hit = sum(1 for c in counts if c)
    ratio = statistics.median(frag_ms) / max(statistics.median(fuzzy_ms), 1e-9)
    print(f"{label:>10} {lang}  keys {keyed:6.1f} s  build {built:6.1f} s  peak +{peak / 2**20:6.0f} MiB"
          f"  held +{held / 2**20:5.0f} MiB  nbytes {index.nbytes() / 2**20:6.0f} MiB  segments {index.segments}",
          flush=True)
    print(f"{'':>10} {lang}  fuzzy {fmt(fuzzy_ms)} ms  fragments {fmt(frag_ms)} ms  (median ×{ratio:.1f})"
          f"  hits {hit}/{len(qs)}{f' ({six} with one of 6+ characters)' if lang == 'zh' else ''}"
          f"  fragments/query {statistics.mean(counts):.2f}"
          f"  units/fragment {statistics.mean(unit_counts) if unit_counts else 0:.1f}", flush=True)

    if adds:
        rng = random.Random(len(units))
        add_ms = []
        for i in range(adds):
            new = rng.choice(units)
            took, _ = cpu(index.add_units, len(units) + i, new)
            add_ms.append(took)
        quiet()
        after = []
        for query in qs[:100]:
            took, _ = cpu(find_fragments, query, lang, index)
            after.append(took)
        print(f"{'':>10} {lang}  {adds} adds: median {statistics.median(add_ms):.2f} ms, max {max(add_ms):.0f} ms,"
              f" segments {index.segments}; fragments after {fmt(after)} ms", flush=True)
    del index, fuzzy, units, scoring
    gc.collect()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zh-sizes", default="10000,100000,1000000")
    parser.add_argument("--en-sizes", default="100000")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--adds", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}; command: {' '.join(sys.argv)}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    warm_up()
    fr.warm_up()
    qs = queries(args.seed)
    years = other_years()
    for lang, side in (("zh", 0), ("en", 1)):
        bench("other yrs", lang, [p[side] for p in years], qs[lang], args.workers, adds=0)
    real = real_pairs()
    for lang, side, sizes in (("zh", 0, args.zh_sizes), ("en", 1, args.en_sizes)):
        for size in (int(s.replace("_", "")) for s in sizes.split(",") if s):
            tm = mb.make_tm(real, size, seed=args.seed + size)
            bench(f"{size:,}", lang, [p[side] for p in tm], qs[lang], args.workers, adds=args.adds)
            del tm


if __name__ == "__main__":
    main()
