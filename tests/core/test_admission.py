"""The admission gate (common.admission): running, waiting and refused requests, with threads."""
from __future__ import annotations

import threading
import time

import pytest

from common.admission import AdmissionLimits, Gate


def waiting_until(gate: Gate, count: int) -> None:
    for _ in range(2000):
        if gate.waiting == count:
            return
        threading.Event().wait(0.005)
    raise AssertionError(f"never {count} waiting (now {gate.waiting})")


def test_a_full_queue_refuses_at_once_and_a_freed_slot_admits_the_one_waiting():
    gate = Gate(AdmissionLimits(active=1, queue=1, wait=30))
    holder = gate.enter()
    assert holder is not None
    admitted = []
    waiter = threading.Thread(target=lambda: admitted.append(gate.enter()))
    waiter.start()
    waiting_until(gate, 1)
    assert gate.enter() is None  # the queue of one is full: refused without waiting
    assert gate.refused == 1 and not admitted
    gate.leave(holder)
    waiter.join(5)
    assert len(admitted) == 1 and admitted[0] is not None and (gate.running, gate.waiting) == (1, 0)
    gate.leave(admitted[0])
    assert gate.running == 0


def test_a_request_that_waits_past_the_limit_is_refused():
    gate = Gate(AdmissionLimits(active=2, queue=4, wait=0.05))
    assert gate.enter() is not None and gate.enter() is not None
    assert gate.enter() is None  # waited 50 ms for a slot that never came
    assert (gate.running, gate.waiting, gate.refused) == (2, 0, 1)


def test_a_request_the_measured_service_time_says_would_wait_too_long_is_refused_at_once():
    # In seconds where a server would have milliseconds, so that a slow machine's pauses do not
    # matter: requests that each ran 8 s, two slots free one every 4 s, so the second and third
    # in line would wait 8 and 12 s, and 10 s is the limit.
    gate = Gate(AdmissionLimits(active=2, queue=16, wait=10))
    for _ in range(200):
        gate.leave(gate.enter() - 8)  # type: ignore[operator]
    assert gate.service_time == pytest.approx(8, rel=0.01)
    first, second = gate.enter(), gate.enter()
    assert first is not None and second is not None
    waiters = [threading.Thread(target=gate.enter) for _ in range(2)]
    for count, waiter in enumerate(waiters, 1):
        waiter.start()
        waiting_until(gate, count)
    started = time.monotonic()
    assert gate.enter() is None  # third in line, 12 s > 10 s: refused without waiting
    assert time.monotonic() - started < 5
    assert gate.refused == 1
    gate.leave(first)
    gate.leave(second)
    for waiter in waiters:
        waiter.join(5)
    assert (gate.running, gate.waiting) == (2, 0)


def test_the_first_in_line_waits_whatever_the_estimate_says():
    # In seconds, as above. Requests of 20 s (the cap: 4 x 5 s), so even the first in line would
    # wait 10 s by the average, past the 5 s limit. It still waits, and a slot freed in time
    # admits it; the second in line is refused at once.
    gate = Gate(AdmissionLimits(active=2, queue=16, wait=5))
    for _ in range(200):
        gate.leave(gate.enter() - 60)  # type: ignore[operator]
    assert gate.expected_wait(1) > gate.limits.wait
    first, second = gate.enter(), gate.enter()
    admitted = []
    waiter = threading.Thread(target=lambda: admitted.append(gate.enter()))
    waiter.start()
    waiting_until(gate, 1)
    assert gate.enter() is None and gate.refused == 1
    gate.leave(first)
    waiter.join(5)
    assert admitted and admitted[0] is not None
    gate.leave(second)
    gate.leave(admitted[0])


def test_one_long_request_does_not_stop_the_queue_for_long():
    gate = Gate(AdmissionLimits(active=2, queue=16, wait=0.1))
    gate.leave(gate.enter() - 600)  # type: ignore[operator]  # a ten-minute export
    assert gate.service_time <= 0.1 * 4 * 0.05 + 1e-9  # it counts as 400 ms, at the average's weight
    assert gate.expected_wait(1) < gate.limits.wait  # the next one in line may still wait


@pytest.mark.parametrize("limits", [AdmissionLimits(active=0), AdmissionLimits(queue=-1), AdmissionLimits(wait=-1)])
def test_impossible_limits_are_refused(limits):
    with pytest.raises(ValueError):
        Gate(limits)
