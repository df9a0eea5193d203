"""TMX reader benchmark: a million-unit file, units per second, memory.

    .venv/bin/python bench/tmx_bench.py [--units 1000000] [--traced 100000] [--keep DIR]
    .venv/bin/python bench/tmx_bench.py --units 0 --feed-units 100000   # the feed's memory only

Builds a TMX file in a temporary folder with ``write_tmx`` from real sentences in
``../shared/data/parallel`` (WMT news, TICO-19, Tatoeba: about 51,000 pairs) plus
variants of them until ``--units`` is reached: pass *k* over the pairs changes
every number in both sides by *k* (or appends "No. k"), drops a word (English)
and a character (Chinese), or swaps two neighbouring ones, by ``k % 3``.  Each
unit has dates, ids, a usage count, a note on every tenth and two props, as an
export from a CAT tool would.  The file never enters the repository.

Then reads it back with ``read_tmx`` and prints:

* write and read speed (units per wall-clock second, and per CPU second, which
  a busy machine disturbs less) and the file size;
* resident memory before, during (sampled) and after the read, and ``ru_maxrss``
  (the process's peak, so it includes generation);
* ``tracemalloc``'s peak over the first ``--traced`` units of a second read
  (tracemalloc slows allocation several-fold, so it does not time the first read).

First (``--feed-units``), the memory a TMX feed needs: the body built whole, as the feed did
before, against the chunks ``iter_tmx`` streams.

``bench_read(path)`` returns the figures as a dict, for a benchmark that goes on
to import into the database.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import re
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script

from tm.formats.records import UnitRecord  # noqa: E402  (after the path tweak above)
from tm.formats.tmx import iter_tmx, read_tmx, write_tmx  # noqa: E402

PARALLEL = ROOT.parent / "shared" / "data" / "parallel"
T0 = datetime(2021, 1, 1, tzinfo=UTC)
_NUMBER = re.compile(r"\d+")


def base_pairs(parallel: Path = PARALLEL, held_out: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Every real (zh, en) pair of the shared sets, read in place, but for the files whose
    names start with one of ``held_out`` (new text for bench/fragment_lookup.py --text news)."""
    pairs: list[tuple[str, str]] = []
    for zh_path in sorted(parallel.glob("*/*.zh")):  # WMT and TICO-19, line-aligned
        if zh_path.name.startswith(held_out):
            continue
        en_path = zh_path.with_suffix(".en")
        zh = zh_path.read_text(encoding="utf-8").splitlines()
        en = en_path.read_text(encoding="utf-8").splitlines()
        pairs += [(z, e) for z, e in zip(zh, en, strict=True) if z.strip() and e.strip()]
    tatoeba = parallel / "tatoeba_cmn" / "cmn.txt"
    for line in tatoeba.read_text(encoding="utf-8-sig").splitlines():
        cells = line.split("\t")
        if len(cells) >= 2 and cells[0].strip() and cells[1].strip():
            pairs.append((cells[1], cells[0]))
    return list(dict.fromkeys(pairs))  # the two WMT 2017/2018 copies are identical


def variant(zh: str, en: str, k: int) -> tuple[str, str]:
    """The k-th variant of a pair (k = 0 is the pair itself)."""
    if k == 0:
        return zh, en
    kind = k % 3
    if kind == 1:  # numbers changed
        if _NUMBER.search(en) or _NUMBER.search(zh):
            bump = lambda m: str(int(m.group()) + k)  # noqa: E731
            return _NUMBER.sub(bump, zh), _NUMBER.sub(bump, en)
        return f"{zh}（第{k}号）", f"{en} (No. {k})"
    words = en.split(" ")
    if kind == 2:  # a word (English) and a character (Chinese) dropped
        if len(words) > 1:
            del words[k % len(words)]
        at = k % len(zh)
        return (zh[:at] + zh[at + 1:] or zh), " ".join(words) + f" #{k}"
    # neighbours swapped
    if len(words) > 2:
        i = k % (len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    chars = list(zh)
    if len(chars) > 2:
        i = k % (len(chars) - 1)
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars), " ".join(words) + f" #{k}"


def generate_records(units: int, pairs: list[tuple[str, str]]) -> Iterator[UnitRecord]:
    """``units`` records: every pair, then variant passes over them."""
    for i in range(units):
        k, n = divmod(i, len(pairs))
        zh, en = variant(*pairs[n], k)
        yield UnitRecord(
            zh=zh,
            en=en,
            creationdate=T0 + timedelta(seconds=i),
            changedate=T0 + timedelta(days=30, seconds=i) if i % 4 == 0 else None,
            creationid=f"translator{i % 13}",
            changeid="reviewer" if i % 4 == 0 else None,
            usagecount=i % 7,
            note=f"bench unit {i}" if i % 10 == 0 else None,
            props=(("x-domain", "bench"), ("x-variant", str(k))),
        )


def _rss() -> int:
    """Current resident memory in bytes (Linux), or 0 where /proc is missing."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _maxrss() -> int:
    """Peak resident memory of this process, in bytes (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def bench_write(path: Path, units: int, held_out: tuple[str, ...] = ()) -> dict[str, float]:
    pairs = base_pairs(held_out=held_out)
    started, cpu = time.perf_counter(), time.process_time()
    with path.open("wb") as stream:
        written = write_tmx(generate_records(units, pairs), stream)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"base_pairs": len(pairs), "units": written, "write_s": seconds, "write_cpu_s": cpu,
            "write_units_per_s": written / seconds, "write_units_per_cpu_s": written / cpu,
            "file_mb": path.stat().st_size / 1e6}


def bench_read(path: Path, *, traced: int = 100_000) -> dict[str, float]:
    """Read ``path`` twice: timed (with RSS samples), then under tracemalloc for ``traced`` units."""
    rss_before = _rss()
    rss_peak_seen = rss_before
    started, cpu = time.perf_counter(), time.process_time()
    count = 0
    with path.open("rb") as stream:
        for count, _record in enumerate(read_tmx(stream), start=1):
            if count % 50_000 == 0:
                rss_peak_seen = max(rss_peak_seen, _rss())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    figures = {
        "units": count, "read_s": seconds, "read_units_per_s": count / seconds,
        "read_cpu_s": cpu, "read_units_per_cpu_s": count / cpu,
        "rss_before_mb": rss_before / 1e6, "rss_growth_during_read_mb": (rss_peak_seen - rss_before) / 1e6,
        "ru_maxrss_mb": _maxrss() / 1e6,
    }
    if traced:
        tracemalloc.start()
        try:
            with path.open("rb") as stream:
                for _ in itertools.islice(read_tmx(stream), traced):
                    pass
            figures["tracemalloc_units"] = min(traced, count)
            figures["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        finally:
            tracemalloc.stop()
    return figures


def bench_feed_memory(units: int) -> dict[str, float]:
    """Peak Python memory (tracemalloc) of serving ``units`` units as a TMX feed: the whole body
    built in memory (what the feed did before) against the streamed chunks of ``iter_tmx``."""
    pairs = base_pairs()
    peaks = {}
    for name in ("whole_body", "streamed"):
        tracemalloc.start()
        try:
            if name == "whole_body":
                buffer = io.BytesIO()
                write_tmx(generate_records(units, pairs), buffer)
                size = len(buffer.getvalue())
                del buffer
            else:
                size = sum(len(chunk) for chunk in iter_tmx(generate_records(units, pairs)))
            peaks[name] = tracemalloc.get_traced_memory()[1] / 1e6
        finally:
            tracemalloc.stop()
    return {"units": units, "body_mb": size / 1e6, "whole_body_peak_mb": peaks["whole_body"],
            "streamed_peak_mb": peaks["streamed"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="TMX reader benchmark")
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--traced", type=int, default=100_000, help="units read under tracemalloc (0: skip)")
    parser.add_argument("--keep", type=Path, help="write the TMX file here and keep it")
    parser.add_argument("--feed-units", type=int, default=100_000,
                        help="units served as a feed, whole against streamed (0: skip)")
    args = parser.parse_args(argv)
    if args.feed_units:
        feed = bench_feed_memory(args.feed_units)
        print(f"feed: {feed['units']:,} units, a {feed['body_mb']:.0f} MB body; peak Python memory "
              f"{feed['whole_body_peak_mb']:.1f} MB built whole (the baseline) against "
              f"{feed['streamed_peak_mb']:.1f} MB streamed in chunks "
              f"({feed['whole_body_peak_mb'] / feed['streamed_peak_mb']:.0f}x less)", flush=True)
    if not args.units:
        return

    with tempfile.TemporaryDirectory(prefix="duizhao-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"bench_{args.units}.tmx"
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, load {load:.1f}; file {path}")
        written = bench_write(path, args.units)
        print(
            f"write: {written['units']:,} units ({written['base_pairs']:,} real pairs + variants) "
            f"in {written['write_s']:.1f} s = {written['write_units_per_s']:,.0f} units/s "
            f"({written['write_units_per_cpu_s']:,.0f} per CPU second); {written['file_mb']:,.0f} MB"
        )
        read = bench_read(path, traced=args.traced)
        print(
            f"read:  {read['units']:,} units in {read['read_s']:.1f} s = "
            f"{read['read_units_per_s']:,.0f} units/s ({read['read_units_per_cpu_s']:,.0f} per CPU second)"
        )
        print(
            f"memory: RSS {read['rss_before_mb']:.0f} MB before the read, "
            f"+{read['rss_growth_during_read_mb']:.1f} MB at most during it; "
            f"ru_maxrss {read['ru_maxrss_mb']:.0f} MB (whole process)"
        )
        if "tracemalloc_peak_mb" in read:
            print(
                f"tracemalloc: peak {read['tracemalloc_peak_mb']:.2f} MB of Python objects "
                f"over {read['tracemalloc_units']:,} units"
            )


if __name__ == "__main__":
    main()
