"""What a request does before it answers 202 for a long alignment (align.webutil.align_or_queue:
decode, check, split both texts to count the sentences, write the texts' file), on the 5,000-verse
Bible (read in place from ../shared), against the same work on its first 1,000 lines measured in
the same run: the request's cost grows with the text, the alignment itself goes to the worker.

    .venv/bin/python bench/align_job_bench.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from align import jobs as align_jobs  # noqa: E402
from align import service  # noqa: E402

BIBLE = ROOT.parent / "shared" / "data" / "align" / "bible-en-zh"


def request_side(zh: bytes, en: bytes) -> tuple[float, int, int, int]:
    start = time.perf_counter()
    texts = service.read_texts(zh, en, max_chars=service.JOB_MAX_TEXT_CHARS)
    zh_s, en_s = service.segment_texts(texts, max_sentences=service.JOB_MAX_SENTENCES, status=413)
    saved = align_jobs.texts_file(texts)
    return time.perf_counter() - start, len(zh_s), len(en_s), len(saved)


def main() -> None:
    zh = (BIBLE / "tgt" / "001").read_bytes()
    en = (BIBLE / "src" / "001").read_bytes()
    cut = (b"\n".join(zh.split(b"\n")[:1000]), b"\n".join(en.split(b"\n")[:1000]))
    request_side(*cut)  # warm-up: first calls load and compile what the splitter and checks use
    for name, pair in (("first 1,000 lines (baseline)", cut), ("whole Bible", (zh, en))):
        best = min((request_side(*pair) for _ in range(3)), key=lambda r: r[0])
        seconds, n_zh, n_en, size = best
        print(f"{name:30} {n_zh:6} zh / {n_en:6} en sentences  {size / 1e6:5.2f} MB saved  "
              f"{seconds * 1000:7.0f} ms before the 202 (best of 3)")


if __name__ == "__main__":
    main()
