"""The rate-limit counters on the app's own database: atomic under concurrent workers, and a
window that has ended starts again."""
from __future__ import annotations

import threading
import time

from accounts.ratelimit import DatabaseStorage
from web.extensions import db_engine


def test_concurrent_increments_all_count_and_windows_restart(app, monkeypatch):
    storage = DatabaseStorage(engine=db_engine(app))
    threads = [threading.Thread(target=lambda: [storage.incr("k", 60) for _ in range(5)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert storage.get("k") == 40
    assert time.time() < storage.get_expiry("k") <= time.time() + 60

    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1  # a new window, not 41
    storage.clear("k")
    assert storage.get("k") == 0 and storage.check()
