"""How gunicorn serves Duizhao: ``gunicorn -c gunicorn.conf.py`` (``make run`` does).

Settings come from the environment so one file serves the demo, tests and a deployment:
``HOST``/``PORT`` (or ``BIND``), ``WORKERS``, ``THREADS``, ``GUNICORN_TIMEOUT``, ``PROMETHEUS_MULTIPROC_DIR``
(and the app's ``ADMIT_*`` limits, which size the threads).
"""
from __future__ import annotations

import gc
import os
import shutil
import tempfile
from pathlib import Path

from common.heap import limit_arenas as _limit_arenas

wsgi_app = "app:create_app()"
bind = os.environ.get("BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WORKERS", "2"))
# Threaded workers: a worker's requests wait at its admission gate (ops.admission), where the
# queue is bounded and a request past it is refused at once with 503, and not in gunicorn's own
# queue of connections waiting for a thread, which nothing bounds. So there are threads enough
# for every client a worker usually holds: beyond ADMIT_ACTIVE they only wait at the gate or
# answer 503.
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "64"))
# As many malloc arenas as requests a worker runs at once (common.heap.limit_arenas), set here in
# the master before any thread starts, so the workers inherit it; MALLOC_ARENA_MAX overrides.
_limit_arenas(int(os.environ.get("MALLOC_ARENA_MAX") or os.environ.get("ADMIT_ACTIVE") or 2))
# The master builds the lookup index once (WARM_UP=1) and the workers share it copy-on-write.
preload_app = True
os.environ.setdefault("WARM_UP", "1")
# Imports and training are jobs run by the worker (docs/jobs.md), not requests: what is left is
# exports, alignment and pre-translation of very large inputs.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))

# Weblate's tmserver client percent-encodes up to 500 characters with nothing kept safe: 9 bytes
# a Chinese character, so 500 of them, a token and the language pair make a 4,622-byte request
# line (6,122 for characters outside the BMP), over gunicorn's default of 4,094 (a 414 page at
# ~460 characters). 8,190 is the most gunicorn allows short of "unlimited".
limit_request_line = 8190

# prometheus_client's multiprocess mode: every worker writes its samples to files in this folder
# and /metrics reads them all. It must be set before prometheus_client is first imported (the
# app loads here, in the master, under preload) and must not hold a previous run's files.
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
_metrics_dir_made_here = not _metrics_dir
if _metrics_dir:
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    Path(_metrics_dir).mkdir(parents=True, exist_ok=True)
else:
    _metrics_dir = tempfile.mkdtemp(prefix="duizhao-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def pre_fork(server, worker):
    # The preloaded index is millions of long-lived objects: frozen, the workers' collections
    # neither scan them (65 ms p99 pauses at a million tuples) nor write to their pages, which
    # would unshare them.
    gc.freeze()


def post_worker_init(worker):
    # A lookup's temporaries stay in glibc's heap once freed; they are handed back every few
    # seconds instead of held by each worker (common/heap.py has the figures).
    from common.heap import keep_trimmed

    keep_trimmed()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    # The dead worker's live gauges (pool in use, index size) stop counting.
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _metrics_dir_made_here:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
