"""The TM's long work as jobs (see jobs/): importing a saved upload, training the fragment model.
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
