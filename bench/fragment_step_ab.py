"""The fragment step of this checkout against another revision's, on the same memory, alternating.

    .venv/bin/python bench/fragment_step_ab.py --keep DIR --base REV [--runs 3] [--queries 200]
        [--langs zh,en] [--text spliced|prose|news]

``--keep`` is a folder bench/fragment_lookup.py built (``--units N --keep DIR``: its SQLite
database, the model trained on it in ``fragments/``, and, with INSTANCE_PATH set as when it was
built, the index snapshot). The queries of bench/fragment_lookup.py (``--text``) are made once; then
each run times tm.lookup.fragments_many alone for every query, with a fresh process (so the
alignment and renderings caches start empty: new text), first for ``--base`` (a git worktree
of that revision, made for the run and removed after it), then for this checkout, ``--runs``
times. Each run prints the median and mean per query and a digest of the whole JSON output,
so that a change meant to give the same fragments can be seen to; the last line is the ratio
of the medians. Figures on a shared machine drift by 10-20% between minutes: only the ratio of
alternating runs means much. Last run: bench/fragment_lookup.py's docstring (2026-12-06).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")

#: The child: imports the checkout at argv[1] and times fragments_many on the queries in argv[2].
CHILD = r"""
import hashlib, json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from app import create_app
from db import new_session
from tm import lookup
from tm.core import fragments, renderings, text
from web.extensions import fragment_models, live_index

queries = json.loads(open(sys.argv[2], encoding="utf-8").read())
app = create_app()
text.warm_up()
fragments.warm_up()  # as app.warm_up does before a worker's first request
renderings.warm_up()
out = {}
with app.app_context():
    session = new_session()
    index = live_index(app)
    index.build(session)
    store = fragment_models(app)
    assert store.current() is not None, "no model: train first"
    for lang, qs in queries.items():
        requests = [lookup.make_request(q=q, src=lang) for q in qs]
        for request in requests:  # the lookup's own caches, as a worker has them
            lookup.lookup(session, index, request)
        times, digest = [], hashlib.sha256()
        for request in requests:
            start = time.perf_counter()
            found = lookup.fragments_many(session, index, store, [request], [[]])[0]
            times.append(time.perf_counter() - start)
            session.rollback()
            digest.update(json.dumps(found, sort_keys=True, ensure_ascii=False).encode())
        out[lang] = {"median": statistics.median(times), "mean": statistics.mean(times),
                     "digest": digest.hexdigest()[:12]}
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", required=True, help="a folder bench/fragment_lookup.py --keep built")
    parser.add_argument("--base", required=True, help="the git revision to compare with")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--langs", default="zh,en")
    parser.add_argument("--text", choices=("spliced", "prose", "news"), default="spliced",
                        help="bench/fragment_lookup.py's kinds of new text (news: a memory built with --hold-out-news)")
    args = parser.parse_args()
    folder = Path(args.keep)
    database = next((path for path in folder.glob("bench-*.sqlite3") if path.stem[len("bench-"):].isdigit()), None)
    if database is None or not (folder / "fragments" / "model.npz").exists():
        raise SystemExit(f"{folder}: no bench-N.sqlite3 and fragments/model.npz; run bench/fragment_lookup.py first")
    url = f"sqlite:///{database}"
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench", FRAGMENT_MODEL_DIR=str(folder / "fragments"),
               FRAGMENT_TRAIN_AFTER_IMPORT="0")
    langs = args.langs.split(",")

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from fragment_lookup import make_queries
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    rng = random.Random(7)  # the queries of bench/fragment_lookup.py
    engine = create_engine(url)
    with Session(engine) as session:
        made = {lang: make_queries(session, args.queries, lang, rng, args.text) for lang in ("zh", "en")}
    engine.dispose()

    with tempfile.TemporaryDirectory(prefix="fragment-ab-") as scratch:
        queries = Path(scratch) / "queries.json"
        queries.write_text(json.dumps({lang: made[lang] for lang in langs}, ensure_ascii=False), encoding="utf-8")
        base = Path(scratch) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base), args.base], cwd=ROOT, check=True)
        try:
            results: dict[str, dict[str, list[float]]] = {"base": {}, "this": {}}
            for run in range(1, args.runs + 1):
                for label, root in (("base", base), ("this", ROOT)):
                    done = subprocess.run([PYTHON, "-c", CHILD, str(root), str(queries)], env=env, cwd=root,
                                          capture_output=True, text=True)
                    if done.returncode:
                        raise SystemExit(f"{label} failed:\n{done.stderr[-3000:]}")
                    figures = json.loads(done.stdout.strip().splitlines()[-1])
                    for lang in langs:
                        f = figures[lang]
                        results[label].setdefault(lang, []).append(f["median"])
                        print(f"run {run} {label:4} {lang}: median {f['median'] * 1e3:5.1f} ms, mean "
                              f"{f['mean'] * 1e3:5.1f} ms, output {f['digest']}", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False)
    for lang in langs:
        before, after = statistics.median(results["base"][lang]), statistics.median(results["this"][lang])
        print(f"{lang}: this checkout / {args.base} = {after / before:.2f} (median of run medians "
              f"{after * 1e3:.1f} against {before * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
