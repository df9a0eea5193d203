"""The TM's long work as jobs (see jobs/): importing a saved upload, training the fragment model,
building a snapshot of the lookup index.
No Flask here: the web layer adds these kinds to the app (tm.webutil.add_job_kinds)."""
from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from jobs.service import Handler, JobContext
from tm import fragments, service
from tm.index_snapshot import SnapshotStore
from tm.live_index import write_snapshot

IMPORT = "tm.import"
TRAIN_FRAGMENTS = "tm.fragments.train"


def import_upload(session: Session, context: JobContext) -> dict[str, Any]:
    """Import the saved upload ``params["upload"]`` into ``params["memory"]``; progress in bytes
    of the file read, a cancel heard between batches. All or nothing: the runner commits."""
    params = context.params
    path = Path(params["upload"])
    size = os.path.getsize(path)
    with open(path, "rb") as stream:
        def progress(_units: int) -> None:
            # A reader that decodes through a text wrapper (a UTF-16 table) closes the file once it
            # has read it all, before the last batches are stored: then all of it has been read.
            context.progress(size if stream.closed else stream.tell(), size)

        report = service.import_file(session, memory_name=params["memory"], stream=stream,
                                     filename=params["filename"], file_format=params.get("format"),
                                     user=context.user, progress=progress)
    context.progress(size, size)
    return report.to_dict()


#: What tm.fragments.train_model says after each chunk it reads: the job's progress.
_READ_LINE = re.compile(r"read (\d+) of (\d+) units")


def train_fragments(directory: Callable[[], Path], priors: fragments.TermPairs | None) -> Handler:
    """The training handler for the model in ``directory()`` (asked when the job runs).
    tm.fragments.train_model reports through its log, in chunks as it reads and then as it
    learns: each line is the job's sign of life (a training lasts minutes to half an hour, and a
    silent job would be taken for a dead worker's), a moment to hear a cancel, and, while it
    reads, its progress in units."""

    def handler(session: Session, context: JobContext) -> dict[str, Any]:
        def log(line: str) -> None:
            read = _READ_LINE.match(line)
            if read:
                context.progress(int(read[1]), int(read[2]))
            else:
                context.progress(context.done)

        outcome = fragments.train_model(session, directory(), priors=priors,
                                        force=bool(context.params.get("force")), log=log)
        return dataclasses.asdict(outcome)

    return handler


SNAPSHOT = "tm.index.snapshot"


def index_snapshot(store: Callable[[], SnapshotStore | None]) -> Handler:
    """The snapshot handler for the store ``store()`` gives (asked when the job runs): builds the
    lookup index from the database and saves it (tm.live_index.write_snapshot), unless the newest
    snapshot is current already (``params["force"]`` builds anyway). Only reads: the runner's
    commit is empty. Workers switch to the new snapshot at their next check."""

    def handler(session: Session, context: JobContext) -> dict[str, Any]:
        where = store()
        if where is None:
            return {"built": False, "reason": "INDEX_SNAPSHOTS is off"}
        context.progress(0, 1)
        manifest, built = write_snapshot(session, where, force=bool(context.params.get("force")))
        context.progress(1, 1)
        return {"built": built, **manifest.to_dict()}

    return handler
