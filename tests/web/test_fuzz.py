"""Fuzz every door a CAT tool, a script or an attacker can reach, on SQLite and PostgreSQL.

Mutated TMX/TSV/CSV/XLIFF and TBX/TSV/CSV files (tests/fuzz_corpus/, see tests/fuzzing.py) go to
the TM and glossary imports; odd parameter sets (every JSON type, surrogates, huge numbers,
NaN/Infinity, odd language codes and dates) go to the lookups (GET, POST, batch), glossary
recognition and QA, tmserver and MyMemory. A door fails on any 5xx, any exception escaping a
view, and any single request over ``TIME_LIMIT`` seconds (a watchdog interrupts it there, so a
stalled request costs 5 s, not minutes). Every failure is reported with the case that rebuilds it
(``python -m tests.fuzzing DOOR INDEX`` prints that request and writes its body to a file).

The cases are deterministic (``FUZZ_SEED``, default 12). ``FUZZ_EXAMPLES`` is the number of
inputs per engine over all doors (default 4,000); set it
higher, or run bench/fuzz_bench.py against gunicorn, for a longer run.
"""
from __future__ import annotations

import os
import time
import traceback
from collections import Counter
from dataclasses import dataclass

import pytest

from tests import fuzzing
from tests.fuzzing import TIME_LIMIT, RequestTimedOut, watchdog
from tests.helpers import ROOT, auth, job_outcome

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4000"))
SEED = int(os.environ.get("FUZZ_SEED", str(fuzzing.DEFAULT_SEED)))
#: A door that stalls stalls on many inputs: after this many requests over the limit, stop it
#: (the failure is already proven) rather than spend 5 s on each of the rest.
STOP_AFTER_SLOW = 2
#: Distinct failures shown in the assertion message; the rest are counted.
SHOWN = 12


@dataclass
class Failure:
    key: str
    summary: str
    request: fuzzing.FuzzRequest


def where(err: BaseException) -> str:
    """The innermost frame of our own code in a traceback: the place to fix."""
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if f.filename.startswith(str(ROOT)) and "/tests/" not in f.filename and ".venv" not in f.filename]
    frame = frames[-1] if frames else traceback.extract_tb(err.__traceback__)[-1]
    return f"{os.path.relpath(frame.filename, ROOT)}:{frame.lineno} in {frame.name}"


def send(client, request: fuzzing.FuzzRequest, token: str):
    headers = auth(token) if request.needs_token else {}
    if request.content_type:
        headers["Content-Type"] = request.content_type
    response = client.open(request.url, method=request.method, data=request.body, headers=headers)
    if response.status_code == 202 and "/api/v1/jobs/" in response.headers.get("Location", ""):
        # An import is a job: how it ended (a 500 inside it too) is what the case answers.
        return job_outcome(client, response, auth(token))
    return response


def run_door(client, door: str, count: int, token: str) -> tuple[list[Failure], Counter, list[tuple[float, str]]]:
    """Send ``count`` cases of ``door``; returns the failures, the statuses and the slowest."""
    failures: list[Failure] = []
    statuses: Counter = Counter()
    timings: list[tuple[float, str]] = []
    slow = 0
    for request in fuzzing.cases(door, count, SEED):
        started = time.perf_counter()
        try:
            with watchdog(TIME_LIMIT):
                response = send(client, request, token)
                response.get_data()
        except RequestTimedOut:
            statuses["timeout"] += 1
            slow += 1
            failures.append(Failure(f"{door}: over {TIME_LIMIT:g} s", f"no answer within {TIME_LIMIT:g} s", request))
            if slow >= STOP_AFTER_SLOW:
                break
            continue
        except Exception as err:  # an exception escaping a view is a 500 in production
            statuses["exception"] += 1
            failures.append(Failure(f"{door}: {type(err).__name__} at {where(err)}",
                                    f"500: {type(err).__name__}: {str(err)[:200]} at {where(err)}", request))
            continue
        elapsed = time.perf_counter() - started
        timings.append((elapsed, request.describe(120)))
        statuses[f"{response.status_code // 100}xx"] += 1
        if response.status_code >= 500:
            failures.append(Failure(f"{door}: {response.status_code} {response.get_data(as_text=True)[:80]}",
                                    f"{response.status_code}: {response.get_data(as_text=True)[:200]}", request))
        elif elapsed > TIME_LIMIT:
            slow += 1
            failures.append(Failure(f"{door}: over {TIME_LIMIT:g} s", f"answered {response.status_code} after "
                                    f"{elapsed:.1f} s", request))
            if slow >= STOP_AFTER_SLOW:
                break
    timings.sort(reverse=True)
    return failures, statuses, timings[:3]


def report(failures: list[Failure]) -> str:
    """Distinct failures (by kind and place), each with the first case that shows it."""
    first: dict[str, Failure] = {}
    seen: Counter = Counter()
    for failure in failures:
        seen[failure.key] += 1
        first.setdefault(failure.key, failure)
    lines = [f"{len(failures)} failing inputs, {len(first)} distinct:"]
    for key, failure in list(first.items())[:SHOWN]:
        lines.append(f"- {failure.summary} ({seen[key]} inputs); first: {failure.request.describe(200)}")
    if len(first) > SHOWN:
        lines.append(f"... and {len(first) - SHOWN} more")
    return "\n".join(lines)


@pytest.fixture
def seeded(client, token_for):
    """The seed memory and glossary in place (so lookups score and terms are recognised);
    returns an admin's write token."""
    token = token_for("admin")
    for request in fuzzing.setup_requests():
        response = send(client, request, token)
        assert response.status_code == 201, (request.describe(), response.get_json())
    return token


def door_cases():
    for door in fuzzing.DOORS:
        for engine in ("sqlite", "postgresql"):
            yield pytest.param(engine, door, id=f"{engine}-{door}")


@pytest.mark.parametrize(("database_url", "door"), list(door_cases()), indirect=["database_url"])
def test_no_5xx_and_no_slow_answer(client, seeded, door):
    count = fuzzing.split(EXAMPLES)[door]
    started = time.perf_counter()
    failures, statuses, slowest = run_door(client, door, count, seeded)
    # Shown with -s, and with the failure otherwise.
    print(f"\n{door}: {sum(statuses.values())} inputs in {time.perf_counter() - started:.1f} s, "
          f"{dict(statuses)}; slowest {[(round(t, 2), d[:80]) for t, d in slowest]}")
    assert not failures, report(failures)


def test_the_watchdog_interrupts_a_stalled_request(client):
    """The harness itself: a request that never ends is cut at the limit and counted as a failure."""
    app = client.application

    @app.get("/_fuzz_stall")
    def stall():
        while True:
            pass

    request = fuzzing.FuzzRequest("stall", 0, "GET", "/_fuzz_stall")
    started = time.perf_counter()
    with pytest.raises(RequestTimedOut):
        with watchdog(0.3):
            send(client, request, "")
    assert time.perf_counter() - started < 2


def test_the_cases_are_reproducible():
    for door in fuzzing.DOORS:
        assert fuzzing.case(door, 7, SEED) == fuzzing.case(door, 7, SEED)
    assert fuzzing.case("import", 1, SEED) != fuzzing.case("import", 2, SEED)
