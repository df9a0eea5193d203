"""Prometheus metrics, with prometheus_client (Apache-2.0).

Under gunicorn every worker is a process of its own, so the samples go through
prometheus_client's multiprocess mode: ``gunicorn.conf.py`` sets ``PROMETHEUS_MULTIPROC_DIR``
(emptied at start) before the app, and so this module, is first imported; ``/metrics`` then
reads every worker's files. Without that variable (``flask run``, tests) the samples are this
process's own.

No label carries a request's path or parameters, only the URL rule (``/tmserver/<token>/...``),
so a token in a tmserver or feed URL never reaches a scraper, and the number of series is fixed.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event

from tm.live_index import LiveIndex

#: From a cached lookup (a few ms) to gunicorn's timeout (120 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)
#: What a request that matched no URL rule (a 404, a 405 before routing) is counted under.
UNMATCHED = "<unmatched>"
#: The WSGI environ key where the admission gate (ops.admission) notes a request's arrival, so
#: that its wait at the gate counts in its latency.
ARRIVED = "duizhao.arrived"

#: This process's own metrics when not in multiprocess mode; unused by the multiprocess exposition.
REGISTRY = CollectorRegistry(auto_describe=True)

REQUEST_LATENCY = Histogram(
    "duizhao_http_request_duration_seconds", "Time from the request's arrival to its response, by URL rule.",
    ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=REGISTRY)
# livesum: a dead worker's connections are gone, and the master's (it builds the index, then
# closes its pool before forking) count as the 0 they are.
REQUESTS_REFUSED = Counter(
    "duizhao_http_requests_refused_total",
    "Requests turned away with 503 because the process was at its admission limits (ops.admission).",
    registry=REGISTRY)
POOL_IN_USE = Gauge(
    "duizhao_db_pool_connections_in_use", "Database connections checked out of the pools of all live processes.",
    registry=REGISTRY, multiprocess_mode="livesum")


class _IndexGauges:
    """One worker's index, set after each of its requests. Made on first use, so only processes
    that serve requests (never the preloading master, whose index is the workers' starting copy)
    have samples; each live worker has its own (``pid`` label), as each has its own index."""

    def __init__(self) -> None:
        self.units = Gauge("duizhao_tm_index_units", "Units in this worker's lookup index.",
                           registry=REGISTRY, multiprocess_mode="liveall")
        self.event_id = Gauge("duizhao_tm_index_event_id",
                              "The newest TM event this worker's index has applied.",
                              registry=REGISTRY, multiprocess_mode="liveall")
        self.refreshed = Gauge("duizhao_tm_index_refreshed_timestamp_seconds",
                               "When this worker's index last read the event log (Unix time).",
                               registry=REGISTRY, multiprocess_mode="liveall")
        self.snapshot_event_id = Gauge("duizhao_tm_index_snapshot_event_id",
                                       "The TM event the snapshot this worker maps reflects (0: built from the "
                                       "database).", registry=REGISTRY, multiprocess_mode="liveall")

    def update(self, index: LiveIndex) -> None:
        if not index.built:
            return
        self.units.set(len(index))
        self.event_id.set(index.cursor.last_id)
        self.refreshed.set(time.time() - (time.monotonic() - index.last_poll))
        self.snapshot_event_id.set(index.snapshot.last_event_id if index.snapshot is not None else 0)


_index_gauges_made: list[_IndexGauges] = []
_index_gauges_lock = threading.Lock()


def _index_gauges() -> _IndexGauges:
    """The worker's gauges, made once: a new worker's first requests finish together, and a
    second registration of the same names is an error (functools.cache would make two)."""
    if not _index_gauges_made:
        with _index_gauges_lock:
            if not _index_gauges_made:
                _index_gauges_made.append(_IndexGauges())
    return _index_gauges_made[0]


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def instrument(app: Flask) -> None:
    """Time every request by its URL rule, and count the pool's checked-out connections."""
    from web.extensions import db_engine, live_index

    def start() -> None:
        g.ops_request_started = request.environ.get(ARRIVED) or time.perf_counter()

    def finish(response: Response) -> Response:
        started = g.pop("ops_request_started", None)
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
            REQUEST_LATENCY.labels(request.method, route, str(response.status_code)).observe(
                time.perf_counter() - started)
        _index_gauges().update(live_index())
        return response

    # First of all the before-request hooks (the rate limit, the session loader...), so their
    # time is counted too.
    app.before_request_funcs.setdefault(None, []).insert(0, start)
    app.after_request(finish)

    engine = db_engine(app)
    event.listen(engine, "checkout", lambda *_: POOL_IN_USE.inc())
    event.listen(engine, "checkin", lambda *_: POOL_IN_USE.dec())


class _LagCollector:
    """The index lag of each worker, computed when scraped: the event log's newest id (read
    now) minus the newest event that worker applied."""

    def __init__(self, source: Iterable[Metric], event_log_last_id: int | None) -> None:
        self.source = list(source)
        self.last_id = event_log_last_id

    def collect(self) -> Iterator[Metric]:
        yield from self.source
        if self.last_id is None:
            return
        log = GaugeMetricFamily("duizhao_tm_event_log_last_id", "The newest event in the TM's event log.")
        log.add_metric([], self.last_id)
        yield log
        yield from self._lag("duizhao_tm_index_event_id", "duizhao_tm_index_lag_events",
                             "TM events not yet applied by this worker's index.")
        # The same for each worker's snapshot: events since it, which that worker holds in its own
        # delta (a new snapshot, built once for the machine, takes them into the shared arrays).
        # A worker built from the database reports 0 there: it maps no snapshot, so no lag.
        yield from self._lag("duizhao_tm_index_snapshot_event_id", "duizhao_tm_index_snapshot_lag_events",
                             "TM events after the snapshot this worker maps.", skip_zero=True)

    def _lag(self, source_name: str, name: str, documentation: str, *,
             skip_zero: bool = False) -> Iterator[Metric]:
        """``name``: the event log's newest id minus each worker's ``source_name``, by its labels."""
        assert self.last_id is not None
        family: GaugeMetricFamily | None = None
        for metric in self.source:
            if metric.name != source_name:
                continue
            for sample in metric.samples:
                if skip_zero and sample.value <= 0:
                    continue
                labels = sorted(sample.labels.items())
                if family is None:
                    family = GaugeMetricFamily(name, documentation, labels=[label for label, _ in labels])
                family.add_metric([value for _, value in labels], max(self.last_id - sample.value, 0))
        if family is not None:
            yield family


class _JobsCollector:
    """Jobs by state, read from the jobs table when scraped (the table, not any one process,
    knows them): ``duizhao_jobs{state="queued"}`` is the queue's depth."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        if not self.counts:
            return
        family = GaugeMetricFamily("duizhao_jobs", "Jobs by state (queued: the job queue's depth).",
                                   labels=["state"])
        for state, count in self.counts.items():
            family.add_metric([state], count)
        yield family


def exposition(event_log_last_id: int | None, job_counts: dict[str, int] | None = None) -> tuple[bytes, str]:
    """The text format: every live worker's samples in multiprocess mode, else this process's."""
    if multiprocess():
        gathered = CollectorRegistry()
        MultiProcessCollector(gathered)
        families = list(gathered.collect())
    else:
        families = list(REGISTRY.collect())
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_LagCollector(families, event_log_last_id))
    registry.register(_JobsCollector(job_counts or {}))
    return generate_latest(registry), CONTENT_TYPE_LATEST
