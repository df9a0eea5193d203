"""Reading an append-only event log from several processes without missing an event.

Event ids are assigned when a row is inserted but become visible when its transaction
commits, so a slow transaction (an import) can commit an id below one a reader has already
passed. The cursor remembers the ids it skipped over and keeps asking for them for
``patience`` seconds before giving them up (a rolled-back transaction leaves such a hole for
good). Pure bookkeeping: callers run the query.
"""
from __future__ import annotations

import time
from collections.abc import Iterable

#: How long an event id that was skipped over may take to commit before it is given up.
GAP_PATIENCE = 120.0


class EventCursor:
    def __init__(self, last_id: int = 0, *, patience: float = GAP_PATIENCE) -> None:
        self.last_id = last_id
        self.patience = patience
        self.gaps: dict[int, float] = {}

    def wanted(self) -> tuple[int, list[int]]:
        """Ask for events with an id above the first value, or among the listed ids."""
        return self.last_id, list(self.gaps)

    def advance(self, seen_ids: Iterable[int], *, now: float | None = None) -> None:
        """Record the ids a query returned (ascending)."""
        now = time.monotonic() if now is None else now
        for event_id in seen_ids:
            self.gaps.pop(event_id, None)
            for missing in range(self.last_id + 1, event_id):
                self.gaps.setdefault(missing, now)
            self.last_id = max(self.last_id, event_id)
        self.gaps = {i: since for i, since in self.gaps.items() if now - since < self.patience}
