"""Peak memory and time of exporting a large memory: the in-memory export against the export job
(issue 18, item 1).

    python bench/export_bench.py                  # 120,000 units, TMX and TSV
    python bench/export_bench.py --units 300000 --formats tmx

A SQLite database is filled with real news pairs (WMT newstest, read in place from ../shared,
each made distinct by a number) straight through SQL, then each measurement runs in a fresh
process (its VmHWM is its peak resident memory):

* ``baseline``: the app created and a request context opened, nothing exported;
* ``in-memory``: what ``GET /api/v1/memories/<name>/export`` did for every size before, and does
  now for memories of at most EXPORT_INLINE_UNITS: the file built in a ``BytesIO`` and taken
  out of it for the response;
* ``job``: the export job as the API starts it (``jobs.webutil.submit`` of ``tm.export``, run in
  the process with ``JOBS_QUEUE=immediate``): units read in chunks, written to the job's file.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WMT = ROOT.parent / "shared" / "data" / "parallel" / "wmt_newstest_zh_en"

CHILD = r"""
import io, json, sys, time
sys.path.insert(0, sys.argv[1])
from app import create_app
from db import db_session
from jobs.webutil import submit
from tm import jobs as tm_jobs
from tm import service
url, jobs_dir, mode, file_format = sys.argv[2:6]
app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench", "JOBS_QUEUE": "immediate",
                  "JOBS_DIR": jobs_dir, "FRAGMENT_TRAIN_AFTER_IMPORT": False})
size = 0
with app.test_request_context():
    start = time.perf_counter()
    if mode == "in-memory":
        buffer = io.BytesIO()
        service.export_units(db_session(), memory_names=["bench"], file_format=file_format, stream=buffer)
        body = buffer.getvalue()  # what the response is made of
        size = len(body)
    elif mode == "job":
        job = submit(tm_jobs.EXPORT, user="bench", result_name=f"export.{file_format}",
                     params={"memories": ["bench"], "format": file_format, "filename": f"bench.{file_format}"})
        assert job.state == "done", (job.state, job.error)
        size = job.result["file"]["bytes"]
    seconds = time.perf_counter() - start
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over an exec from the parent that forked us.
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "bytes": size}))
"""


def fill(url: str, units: int) -> None:
    """``units`` real pairs in a memory "bench", inserted in batches straight through SQL (an
    export reads what is stored; the match keys it does not read are left empty)."""
    from sqlalchemy import create_engine, insert

    from migrations.cli import upgrade
    from tm.models import Memory, Unit

    upgrade(url)
    zh = (WMT / "newstest2019.zho-eng.zh").read_text(encoding="utf-8").splitlines()
    en = (WMT / "newstest2019.zho-eng.en").read_text(encoding="utf-8").splitlines()
    pairs = [(z.strip(), e.strip()) for z, e in zip(zh, en, strict=True) if z.strip() and e.strip()]
    engine = create_engine(url)
    with engine.begin() as connection:
        memory_id = connection.execute(insert(Memory).values(name="bench", description="", priority=0)
                                       .returning(Memory.id)).scalar_one()
        batch = []
        for n in range(units):
            z, e = pairs[n % len(pairs)]
            z, e = f"{z}（{n}）", f"{e} ({n})"
            batch.append({"memory_id": memory_id, "zh": z, "en": e, "zh_lang": "zh-CN", "en_lang": "en-US",
                          "pair_hash": hashlib.sha1(f"{z}\t{e}".encode()).hexdigest(), "status": "approved",
                          "note": "bench" if n % 7 == 0 else None, "created_by": "bench"})
            if len(batch) == 5000:
                connection.execute(insert(Unit), batch)
                batch = []
        if batch:
            connection.execute(insert(Unit), batch)
    engine.dispose()


def measure(url: str, jobs_dir: str, mode: str, file_format: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), url, jobs_dir, mode, file_format],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=120_000)
    parser.add_argument("--formats", default="tmx,tsv")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="duizhao-export-bench-") as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        started = time.perf_counter()
        fill(url, args.units)
        print(f"{args.units:,} units stored in {time.perf_counter() - started:.1f} s (SQLite)")
        print(f"{'format':6} {'path':10} {'peak MB':>8} {'over base':>10} {'seconds':>8} {'file MB':>8}")
        for file_format in args.formats.split(","):
            base = measure(url, f"{folder}/jobs", "baseline", file_format)
            rows = {mode: measure(url, f"{folder}/jobs", mode, file_format) for mode in ("in-memory", "job")}
            print(f"{file_format:6} {'baseline':10} {base['peak_mb']:8.0f} {'':>10} {'':>8} {'':>8}")
            for mode, row in rows.items():
                print(f"{file_format:6} {mode:10} {row['peak_mb']:8.0f} {row['peak_mb'] - base['peak_mb']:10.0f} "
                      f"{row['seconds']:8.1f} {row['bytes'] / 2**20:8.1f}")
            over = {mode: row["peak_mb"] - base["peak_mb"] for mode, row in rows.items()}
            print(f"{file_format:6} memory over the baseline, in-memory / job: "
                  f"{over['in-memory'] / max(over['job'], 1):.1f}x; same bytes: "
                  f"{rows['in-memory']['bytes'] == rows['job']['bytes']}")


if __name__ == "__main__":
    main()
