"""Admission control: how many requests of one process run at once, how many may wait, and for
how long, so that past capacity the service turns requests away at once (503 with Retry-After)
instead of letting every client's latency grow without bound. No Flask here.

A lookup is CPU-bound Python with short waits on the database: two running at once keep a core
busy while the other waits for PostgreSQL; more only share the GIL. Those beyond the running
ones wait in a bounded queue; a request that finds the queue full, or waits longer than
``wait`` seconds, is refused. Refusing costs a millisecond, so a refused client can retry
elsewhere (another worker, another host) instead of joining a queue it would leave too late.
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
    #: Seconds a request may wait; then it is refused.
    wait: float = 1.0


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

    def enter(self) -> bool:
        """Take a running slot, waiting for one within the limits: False if refused."""
        with self._free:
            if self.running < self.limits.active and not self.waiting:
                self.running += 1
                return True
            if self.waiting >= self.limits.queue:
                self.refused += 1
                return False
            self.waiting += 1
            try:
                deadline = time.monotonic() + self.limits.wait
                while self.running >= self.limits.active:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        self.refused += 1
                        return False
                    self._free.wait(left)
                self.running += 1
                return True
            finally:
                self.waiting -= 1

    def leave(self) -> None:
        with self._free:
            self.running -= 1
            self._free.notify()
