"""The admission gate (common.admission): running, waiting and refused requests, with threads."""
from __future__ import annotations

import threading

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
    assert gate.enter()
    admitted = []
    waiter = threading.Thread(target=lambda: admitted.append(gate.enter()))
    waiter.start()
    waiting_until(gate, 1)
    assert gate.enter() is False  # the queue of one is full: refused without waiting
    assert gate.refused == 1 and not admitted
    gate.leave()
    waiter.join(5)
    assert admitted == [True] and (gate.running, gate.waiting) == (1, 0)
    gate.leave()
    assert gate.running == 0


def test_a_request_that_waits_past_the_limit_is_refused():
    gate = Gate(AdmissionLimits(active=2, queue=4, wait=0.05))
    assert gate.enter() and gate.enter()
    assert gate.enter() is False  # waited 50 ms for a slot that never came
    assert (gate.running, gate.waiting, gate.refused) == (2, 0, 1)


@pytest.mark.parametrize("limits", [AdmissionLimits(active=0), AdmissionLimits(queue=-1), AdmissionLimits(wait=-1)])
def test_impossible_limits_are_refused(limits):
    with pytest.raises(ValueError):
        Gate(limits)
