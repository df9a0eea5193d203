"""Where the aligner goes wrong: gold beads missed, by bead shape, on each gold set.

    .venv/bin/python bench/align_errors.py             # all three sets (about 2 minutes)
    .venv/bin/python bench/align_errors.py mac-dev -v  # and print every missed bead with its text

For mac-dev the same table is given for the Bertalign (LaBSE) output shipped with the data
(``auto/``), so one sees which shapes a stronger sentence encoder recovers: in November 2026
Bertalign found 14 of the 25 gold 2-2 beads and 8 of the 12 2-3 beads, Duizhao 8 and 5, while
Duizhao missed fewer 1-1 beads (32 against 41) and fewer 1-2 to 1-4 beads (32 against 44);
109 gold beads missed in all against Bertalign's 119. On 2026-12-04 (defaults with the 2-2
crossing margin; load average 12-18, which does not move accuracy) Duizhao missed 101: 2-2 16 of
25 (11 of them found as their two 1-1 halves), 2-3 7 of 12, 1-1 29, 1-2 to 1-4 30, 1-0 3 of 6.
With the change-of-speaker evidence (2026-12-04, fourth round) 84: 1-1 21, 1-2 to 1-4 23, 2-2
16, 2-3 7, 1-0 3; 002 23 (33 before), 003 21 (27).

Reads the data in place from ../shared/data/align (never copied).
"""
from __future__ import annotations

import argparse
import collections
import functools
import importlib.util
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from align_bench import DATA, SCORER, SETS, CachedEmbedder, documents

from align.core.aligner import align


@functools.cache
def _scorer():
    """The shared scorer, imported in place, so beads are read as it reads them."""
    spec = importlib.util.spec_from_file_location("align_score", SCORER)
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    return scorer


def read_beads(path: Path) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    return _scorer().read_beads(path)


def missed_by_shape(gold, found) -> tuple[collections.Counter, collections.Counter, list]:
    found = set(found)
    total, missed, which = collections.Counter(), collections.Counter(), []
    for bead in gold:
        shape = (len(bead[0]), len(bead[1]))
        total[shape] += 1
        if bead not in found:
            missed[shape] += 1
            which.append(bead)
    return total, missed, which


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="*", default=list(SETS))
    parser.add_argument("-v", "--verbose", action="store_true", help="print each missed bead")
    args = parser.parse_args()
    embed = CachedEmbedder()
    for name in args.sets:
        ours_total, ours_missed = collections.Counter(), collections.Counter()
        theirs_missed = collections.Counter()
        auto = DATA / name / "auto"
        for doc, a, b, lang in documents(name):
            gold = read_beads(DATA / name / "gold" / f"{doc}.align")
            beads = align(a, b, src_lang=lang, embed=embed)
            found = [(bead.src, bead.tgt) for bead in beads]
            total, missed, which = missed_by_shape(gold, found)
            ours_total += total
            ours_missed += missed
            if auto.is_dir():
                theirs_missed += missed_by_shape(gold, read_beads(auto / f"{doc}.align"))[1]
            if args.verbose:
                for bead in which:
                    near = [f for f in found if set(f[0]) & set(bead[0]) or set(f[1]) & set(bead[1])]
                    print(f"{name} {doc} gold {list(bead[0])}:{list(bead[1])}  ours "
                          + " ".join(f"{list(x)}:{list(y)}" for x, y in near))
                    for i in sorted({i for x, _ in near for i in x} | set(bead[0])):
                        print(f"    A{i}: {a[i][:120]}")
                    for j in sorted({j for _, y in near for j in y} | set(bead[1])):
                        print(f"    B{j}: {b[j][:120]}")
        header = f"{name}: shape  gold  missed" + ("  missed by Bertalign (auto/)" if auto.is_dir() else "")
        print(header)
        for shape in sorted(ours_total):
            row = f"  {shape[0]}-{shape[1]:<4} {ours_total[shape]:5d} {ours_missed[shape]:7d}"
            if auto.is_dir():
                row += f" {theirs_missed[shape]:9d}"
            print(row)
        print(f"  all    {sum(ours_total.values()):5d} {sum(ours_missed.values()):7d}"
              + (f" {sum(theirs_missed.values()):9d}" if auto.is_dir() else ""), flush=True)


if __name__ == "__main__":
    main()
