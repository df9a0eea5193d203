"""Regenerate the licensed demo TM files from the project's shared data.

    .venv/bin/python demo/build_demo_files.py [--shared PATH]

Writes, next to this script:

* ``public_health_cc0.tsv``: all 2,100 pairs of the TICO-19 English–Chinese test
  set (CC0 1.0), with the source and licence in ``prop:source``/``prop:license``.
* ``everyday_ccby.tsv``: 3,000 Tatoeba pairs (CC-BY 2.0 FR), evenly spaced
  through the length-sorted file so short and long sentences both appear,
  each with its own Tatoeba attribution in ``prop:attribution``, as the licence
  requires.

Both are deterministic: running the script again gives byte-identical files.
Only these two CC0/CC-BY sets may be shipped; the WMT news sets in the same
folder are for tests and benchmarks only and are never copied into the repository.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a plain script from anywhere

from tm.formats.records import UnitRecord  # noqa: E402  (after the path tweak above)
from tm.formats.tsv import write_table  # noqa: E402

DEFAULT_SHARED = HERE.parent.parent / "shared"
TATOEBA_PAIRS = 3000
HEALTH_SOURCE = "TICO-19 test set, https://tico-19.github.io (via Helsinki-NLP/OPUS-MT-testsets)"
HEALTH_LICENSE = "CC0-1.0"
EVERYDAY_SOURCE = "Tatoeba, https://tatoeba.org (via manythings.org/anki)"


def public_health(shared: Path) -> list[UnitRecord]:
    """Every TICO-19 pair, in file order."""
    folder = shared / "data" / "parallel" / "tico19_zh_en"
    zh = (folder / "tico19-test.zh").read_text(encoding="utf-8").splitlines()
    en = (folder / "tico19-test.en").read_text(encoding="utf-8").splitlines()
    if len(zh) != len(en):
        raise SystemExit(f"{folder}: {len(zh)} Chinese lines but {len(en)} English lines")
    props = (("source", HEALTH_SOURCE), ("license", HEALTH_LICENSE))
    return [
        UnitRecord(zh=z, en=e, creationid="tico-19", props=props)
        for z, e in zip(zh, en, strict=True)
        if z.strip() and e.strip()
    ]


def everyday(shared: Path, count: int = TATOEBA_PAIRS) -> list[UnitRecord]:
    """``count`` Tatoeba pairs evenly spaced through the file, each keeping its attribution."""
    path = shared / "data" / "parallel" / "tatoeba_cmn" / "cmn.txt"
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8-sig").splitlines() if line]
    picked = [rows[i * len(rows) // count] for i in range(min(count, len(rows)))]
    props = (("source", EVERYDAY_SOURCE),)
    return [
        UnitRecord(zh=zh, en=en, creationid="tatoeba", props=(*props, ("attribution", attribution)))
        for en, zh, attribution in picked
    ]


def write(records: list[UnitRecord], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        write_table(records, stream, dialect="tsv")
    print(f"{path.name}: {len(records)} pairs")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared data folder")
    args = parser.parse_args(argv)
    write(public_health(args.shared), HERE / "public_health_cc0.tsv")
    write(everyday(args.shared), HERE / "everyday_ccby.tsv")


if __name__ == "__main__":
    main()
