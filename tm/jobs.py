"""The TM's long work as jobs (see jobs/): importing a saved upload, training the fragment model.
No Flask here: the web layer adds these kinds to the app (tm.webutil.add_job_kinds)."""
from __future__ import annotations

import dataclasses
import os
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
            context.progress(stream.tell(), size)

        report = service.import_file(session, memory_name=params["memory"], stream=stream,
                                     filename=params["filename"], file_format=params.get("format"),
                                     user=context.user, progress=progress)
    context.progress(size, size)
    return report.to_dict()


def train_fragments(directory: Callable[[], Path], priors: fragments.TermPairs | None) -> Handler:
    """The training handler for the model in ``directory()`` (asked when the job runs).
    tm.fragments.train_model reads in chunks and says so through its log, so a cancel is heard
    there."""

    def handler(session: Session, context: JobContext) -> dict[str, Any]:
        def log(_line: str) -> None:
            context.check_cancel()

        outcome = fragments.train_model(session, directory(), priors=priors,
                                        force=bool(context.params.get("force")), log=log)
        return dataclasses.asdict(outcome)

    return handler
