"""Peak memory and time of hostile article uploads, unguarded against guarded (issue 12, item 3).

    python bench/upload_bench.py            # prints one line per file and reader

Each measurement runs in a fresh process (its VmHWM is its peak resident memory): "unguarded" is
what the article page did before (python-docx opens the .docx as it is, and reads its paragraphs
except for the bomb, where opening it is enough to show the cost; an XLIFF's sources are joined
and split into sentences), "guarded" is ``workbench.upload.read_upload``. The files:
a .docx of about 1 MB whose picture part inflates to 1 GB (a zip bomb), a .docx of 200,000
paragraphs, and an XLIFF with one segment of 9.5 MB. The baseline is an empty interpreter with
the same imports, measured in the same run.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#: scripts/run-demo.sh gives a gunicorn worker this long per request.
WORKER_TIMEOUT = 120

CHILD = r"""
import io, json, sys, time
sys.path.insert(0, sys.argv[1])
import docx  # noqa: F401  (imports count in the baseline too)
from common.errors import DuizhaoError
from workbench import upload
from workbench.export import xliff_sources
from tm.core.segment import split_sentences
mode, path = sys.argv[2], sys.argv[3]
data = open(path, "rb").read() if path != "-" else b""
start = time.perf_counter()
outcome = "ok"
try:
    if mode == "unguarded-open":  # what python-docx costs before a single paragraph is read
        document = docx.Document(io.BytesIO(data))
    elif mode == "unguarded-docx":
        document = docx.Document(io.BytesIO(data))
        text = "\n".join(p.text for p in document.paragraphs if p.text.strip())
    elif mode == "unguarded-xliff":
        text = "\n".join(xliff_sources(data))
        split_sentences(text, "en")
    elif mode == "guarded":
        upload.read_upload(io.BytesIO(data), path, max_segments=1000)
except DuizhaoError as err:
    outcome = f"{err.status}: {err.message[:70]}"
except Exception as err:
    outcome = f"500: {type(err).__name__}"
seconds = time.perf_counter() - start
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over an exec from the parent that forked us.
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "outcome": outcome}))
"""


def _docx_with(document_xml: bytes | None = None, big_part: int = 0) -> bytes:
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml" and document_xml is not None:
                data = document_xml
            target.writestr(info.filename, data)
        if big_part:
            with target.open("word/media/image1.png", "w") as part:
                chunk = bytes(16 * 1024 * 1024)
                for _ in range(big_part // len(chunk)):
                    part.write(chunk)
    return out.getvalue()


def _bomb_document(size: int) -> bytes:
    paragraph = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>"
    head = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{WORD_NS}"><w:body>'.encode()
    return head + paragraph * (size // len(paragraph)) + b"</w:body></w:document>"


def files(folder: Path) -> list[tuple[str, Path, str]]:
    sys.path.insert(0, str(ROOT))
    from workbench.export import skeleton

    paragraphs = "".join(f"<w:p><w:r><w:t>{i}</w:t></w:r></w:p>" for i in range(200_000))
    document = (f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{WORD_NS}"><w:body>{paragraphs}'
                f"</w:body></w:document>").encode()
    made = [
        # python-docx reads a picture part only when asked, so the bomb that hurts is the text part.
        ("zip bomb, text part 64 MB inflated", "bomb.docx", _docx_with(_bomb_document(64 * 1024 * 1024)),
         "unguarded-open"),
        ("zip bomb, picture 1 GB inflated", "picture.docx", _docx_with(big_part=1024 * 1024 * 1024), "unguarded-docx"),
        ("200,000 paragraphs", "paragraphs.docx", _docx_with(document), "unguarded-docx"),
        ("XLIFF, one 9.5 MB segment", "segment.xlf",
         skeleton(["Lorem ipsum dolor sit amet. " * 340_000], "en", "zh", version=1), "unguarded-xliff"),
    ]
    out = []
    for label, name, data, unguarded in made:
        path = folder / name
        path.write_bytes(data)
        out.append((f"{label}, {len(data) / 1024:,.0f} KB", path, unguarded))
    return out


def measure(mode: str, path: str) -> dict:
    try:
        result = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), mode, path], capture_output=True,
                                text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=WORKER_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"seconds": float(WORKER_TIMEOUT), "peak_mb": float("nan"),
                "outcome": f"killed after {WORKER_TIMEOUT} s, as gunicorn kills a worker"}
    lines = result.stdout.strip().splitlines()
    if result.returncode or not lines:
        return {"seconds": float("nan"), "peak_mb": float("nan"),
                "outcome": f"process failed ({result.returncode}): {result.stderr.strip()[-120:]}"}
    return json.loads(lines[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        baseline = measure("none", "-")
        print(f"baseline (imports only): peak {baseline['peak_mb']:,.0f} MB")
        for label, path, unguarded in files(folder):
            for mode in (unguarded, "guarded"):
                m = measure(mode, str(path))
                print(f"{label:42} {mode:16} {m['seconds']:7.2f} s  peak {m['peak_mb']:7,.0f} MB  {m['outcome']}")


if __name__ == "__main__":
    main()
