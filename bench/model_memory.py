"""What the fragment model costs each gunicorn worker, at start and after a newer model lands.

    .venv/bin/python bench/model_memory.py --database-url sqlite:////DIR/bench-1000000.sqlite3 \
        --instance DIR/instance --model-dir DIR/fragments [--baseline DIR]

The memory must have a trained model in ``--model-dir`` (bench/fragment_lookup.py --keep DIR
leaves one) and an index snapshot in ``--instance`` (``flask tm index snapshot``). The script
starts ``gunicorn -c gunicorn.conf.py`` as ``make run`` does with 1 and then 3 workers: the
master loads the model before forking (app.warm_up), so the workers start sharing it. It sends
``--lookups`` lookups with fragments from as many clients as workers, then puts a copy of the
model file in place (as a training does: a new file renamed over the old one), asks again until
every worker has loaded it (each loads a newer model in a background thread at its next lookup),
and sends the lookups again. Printed each time: the PSS of every process, split into anonymous
and file-backed (bench/gunicorn_memory.py), and what a further worker adds (3 workers against
1, halved). ``--baseline DIR`` serves a checkout of an earlier revision (``git worktree add DIR
REV`` with a ``.venv`` link) the same way first, on the same data.

Runs of 2026-12-05 (998,136 units on SQLite, the model of bench/fragment_lookup.py --units
1000000: 266 MB file, 420 MB of stored alignments; baseline a65bacc, which reads the model's
tables into each process; quiet machine, under the bench lock; 100 lookups), each further
worker, PSS (anonymous, file-backed):

                                              at start          after a newer model
  a65bacc (tables read)                       72 / 68 MB        396 / 393 MB (all anonymous)
  tables mapped, 50,000 cached alignments     81 MB             132 MB (anonymous 143 over 3,
                                                                one table still read: unaligned)
  tables mapped and aligned, 5,000 cached     82 MB             219 MB (anonymous 128, file 90)

A newer model now costs each worker its vocabularies and their indexes (~45 MB anonymous,
tracemalloc: the load alone is +44 MB against +308 MB) and the pages of the new file's tables it
touches, which the page cache holds once for every process of the machine; the previous file's
pages stay mapped by the master, which loaded it before forking, until it is restarted.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from gunicorn_memory import look_up, processes, pss_split, sample_queries, start_server  # noqa: E402


def maps_model(pid: int, inode: int) -> bool:
    """Whether process ``pid`` has the model file of this inode open or mapped."""
    with open(f"/proc/{pid}/maps") as maps:
        if any(line.split()[4] == str(inode) for line in maps if len(line.split()) > 4):
            return True
    return False


def replace_model(model: Path) -> int:
    """A copy of the model file renamed over it, as a training saves a newer one; its inode."""
    fresh = model.with_name(model.name + ".bench")
    shutil.copy(model, fresh)
    os.replace(fresh, model)
    return model.stat().st_ino


def run(tree: Path, env: dict[str, str], model: Path, queries: list[str]) -> dict[int, list[float]]:
    totals: dict[int, list[float]] = {}
    for workers in (1, 3):
        server, _ = start_server(env, workers, tree)
        try:
            look_up(env["PORT"], queries, workers)
            anonymous, file = pss_split(server)
            points = [anonymous + file]
            print(f"  {workers} worker(s), {len(queries)} lookups: PSS {anonymous + file:.0f} MB "
                  f"[anonymous {anonymous:.0f}, file {file:.0f}]", flush=True)
            inode = replace_model(model)
            started = time.monotonic()
            # A worker starts loading the newer model at its next lookup; wait until each maps it
            # (a read model holds no mapping of the file: then the time limit ends the wait).
            while time.monotonic() - started < 30:
                look_up(env["PORT"], queries[: 4 * workers], workers)
                if all(maps_model(pid, inode) for pid in processes(server)[1]):
                    break
                time.sleep(0.5)
            time.sleep(3)  # a background load that reads the file has finished by now
            look_up(env["PORT"], queries, workers)
            anonymous, file = pss_split(server)
            points.append(anonymous + file)
            print(f"  {workers} worker(s) after a newer model and {len(queries)} more lookups: PSS "
                  f"{anonymous + file:.0f} MB [anonymous {anonymous:.0f}, file {file:.0f}]", flush=True)
            totals[workers] = points
        finally:
            server.terminate()
            server.wait()
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--instance", required=True)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--lookups", type=int, default=100)
    parser.add_argument("--port", default="8797")
    args = parser.parse_args()
    model = Path(args.model_dir) / "model.npz"
    if not model.is_file():
        sys.exit(f"no model at {model}")
    env = dict(os.environ, DATABASE_URL=args.database_url, SECRET_KEY="model-memory", FLASK_APP="app",
               INSTANCE_PATH=args.instance, FRAGMENT_MODEL_DIR=args.model_dir, FRAGMENT_TRAIN_AFTER_IMPORT="0",
               PORT=args.port)
    queries = sample_queries(args.database_url, args.lookups)
    trees = ([("baseline", args.baseline)] if args.baseline else []) + [("this", ROOT)]
    for name, tree in trees:
        print(f"{name} ({tree}):", flush=True)
        totals = run(Path(tree), env, model, queries)
        print(f"  each further worker: {(totals[3][0] - totals[1][0]) / 2:.0f} MB PSS at start, "
              f"{(totals[3][1] - totals[1][1]) / 2:.0f} MB after a newer model", flush=True)


if __name__ == "__main__":
    main()
