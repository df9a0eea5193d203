"""The queue library's part: carrying job ids from the web processes to a worker (huey).

Which storage carries them is ``JOBS_QUEUE``:

- ``sqlite:///PATH`` (the default, a file in the instance folder): no other server, one machine;
- ``redis://HOST:PORT/DB``: several app hosts and workers (needs the ``redis`` package);
- ``immediate``: no queue; a job runs inside the request that starts it, which then answers
  with it finished (the tests of what imports do, and a one-process setup without a worker).

Only the id travels: what to do, and how it went, is in the ``jobs`` table. No Flask here.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

QUEUE_NAME = "duizhao"
#: The longest a worker sleeps between two looks at an empty queue (huey backs off up to this):
#: a job starts within a second of being queued.
MAX_POLL_DELAY = 1.0


class QueueConfigError(ValueError):
    pass


def make_huey(url: str) -> Huey:
    # No result store: a job's result is in its row.
    if url == "immediate":
        return MemoryHuey(QUEUE_NAME, immediate=True, results=False)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(QUEUE_NAME, filename=str(path), results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(QUEUE_NAME, url=url, results=False)
    raise QueueConfigError(f"JOBS_QUEUE must be sqlite:///PATH, redis://HOST:PORT/DB or immediate, not {url!r}")


class JobQueue:
    """One task, ``run_job(job_id)``, which calls ``runner`` in whichever process dequeues it."""

    def __init__(self, url: str, runner: Callable[[int], object]) -> None:
        if not (url == "immediate" or url.startswith(("sqlite:///", "redis://", "rediss://", "unix://"))):
            raise QueueConfigError(f"JOBS_QUEUE must be sqlite:///PATH, redis://HOST:PORT/DB or immediate, "
                                   f"not {url!r}")
        self.url = url
        self._runner = runner
        self._huey: Huey | None = None
        self._task: Any = None

    @property
    def huey(self) -> Huey:
        # Made on first use: an app that never queues a job (a CLI command, most tests) never
        # creates the queue's file or connects to Redis.
        if self._huey is None:
            runner = self._runner

            def run_job(job_id: int) -> None:
                runner(job_id)

            huey = make_huey(self.url)
            self._task = huey.task(name="run_job", retries=0)(run_job)
            self._huey = huey
        return self._huey

    @property
    def immediate(self) -> bool:
        return self.url == "immediate"

    def enqueue(self, job_id: int) -> None:
        """Queue the job (its row must be committed first: the worker reads it); in immediate
        mode, run it now."""
        if self._task is None:
            self.huey  # noqa: B018 - a property that makes the task with the queue
        self._task(job_id)

    def pending(self) -> int:
        """Messages waiting in the queue (0 in immediate mode)."""
        return 0 if self.immediate else int(self.huey.pending_count())

    def run_pending(self) -> int:
        """Run every job waiting in the queue here and now, one after another (tests, and a
        one-off ``flask jobs worker --drain``); returns how many ran."""
        ran = 0
        while (task := self.huey.dequeue()) is not None:
            self.huey.execute(task)
            ran += 1
        return ran

    def work(self, *, workers: int = 1) -> None:
        """Run a worker until SIGINT/SIGTERM: ``workers`` threads taking jobs one at a time each."""
        consumer = self.huey.create_consumer(workers=workers, worker_type="thread", periodic=False,
                                             initial_delay=0.1, backoff=1.15, max_delay=MAX_POLL_DELAY)
        consumer.run()
