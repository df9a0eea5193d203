"""Admission control: how many requests of one process run at once, how many may wait, and for
how long, so that past capacity the service turns requests away at once (503 with Retry-After)
instead of letting every client's latency grow without bound. No Flask here.

A lookup is CPU-bound Python with short waits on the database: two running at once keep a core
busy while the other waits for PostgreSQL; more only share the GIL. Those beyond the running
ones wait in a bounded queue; a request that finds the queue full, or waits longer than
``wait`` seconds, is refused. Refusing costs well under a millisecond, so a refused client can
retry elsewhere (another worker, another host) instead of joining a queue it would leave too late.

The wait is the latency budget's, so the queue's useful length depends on how fast it drains:
the gate keeps a moving average of how long an admitted request runs, and a request that would,
by that average, wait past ``wait`` behind others already waiting is refused at once rather than
after waiting in vain (under a closed-loop overload of 50 clients on 2 cores the requests refused
after waiting the whole second were the p99).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class AdmissionLimits:
    #: Requests of this process that run at once.
    active: int = 2
    #: Requests that may wait for one of them to finish; more are refused at once.
    queue: int = 16
    #: Seconds a request may wait; then it is refused. Those the measured service time says
    #: would wait longer are refused at once.
    wait: float = 0.1


#: Weight of the newest request in the moving average of service time: about the last 20
#: requests count, so the estimate follows a change of load within a fraction of a second.
SERVICE_TIME_WEIGHT = 0.05
#: One request's service time counts at most this many times ``wait``: a long export holding a
#: slot for minutes slows the queue, but must not keep refusing every waiter once it is done.
SERVICE_TIME_CAP = 4.0


class Gate:
    """Counts the requests running and waiting; thread-safe."""

    def __init__(self, limits: AdmissionLimits) -> None:
        if limits.active < 1 or limits.queue < 0 or limits.wait < 0:
            raise ValueError(f"impossible admission limits: {limits}")
        self.limits = limits
        self._free = threading.Condition()
        self.running = 0
        self.waiting = 0
        self.refused = 0
        #: Moving average of the seconds an admitted request runs (0 until one has left).
        self.service_time = 0.0

    def expected_wait(self, position: int) -> float:
        """Seconds the ``position``-th in the queue (1: the next) should wait for a slot: the
        running requests free one every service_time / active seconds on average."""
        return position * self.service_time / self.limits.active

    def enter(self) -> float | None:
        """Take a running slot, waiting for one within the limits: the moment it was taken
        (time.monotonic(), for ``leave``), or None if refused."""
        with self._free:
            if self.running < self.limits.active and not self.waiting:
                self.running += 1
                return time.monotonic()
            # The first in line always gets its wait: the average is of the recent past, and at a
            # light load a refusal on it alone turned away requests a slot was about to take.
            too_slow = self.waiting > 0 and self.expected_wait(self.waiting + 1) > self.limits.wait
            if self.waiting >= self.limits.queue or too_slow:
                self.refused += 1
                return None
            self.waiting += 1
            try:
                deadline = time.monotonic() + self.limits.wait
                while self.running >= self.limits.active:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        self.refused += 1
                        return None
                    self._free.wait(left)
                self.running += 1
                return time.monotonic()
            finally:
                self.waiting -= 1

    def leave(self, admitted: float | None = None) -> None:
        """Give the slot back; ``admitted`` (what ``enter`` returned) times the request."""
        now = time.monotonic()
        with self._free:
            self.running -= 1
            if admitted is not None:
                took = min(now - admitted, SERVICE_TIME_CAP * max(self.limits.wait, 0.001))
                self.service_time += SERVICE_TIME_WEIGHT * (took - self.service_time)
            if self.waiting:
                self._free.notify()
