"""The TM's long work as jobs (see jobs/): importing a saved upload, training the fragment model,
pre-translating a large XLIFF and exporting a large memory (these two write a file the user
downloads: `jobs.service.result_stream`), building a snapshot of the lookup index. No Flask here:
the web layer adds these kinds to the app (tm.webutil.add_job_kinds)."""
from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from jobs.service import Handler, JobContext, result_file, result_stream
from tm import fragments, lookup, pretranslate, service
from tm.index_snapshot import SnapshotStore
from tm.live_index import LiveIndex, write_snapshot

IMPORT = "tm.import"
TRAIN_FRAGMENTS = "tm.fragments.train"
PRETRANSLATE = "tm.pretranslate"
EXPORT = "tm.export"


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


def pretranslate_upload(index: Callable[[], LiveIndex], models: Callable[[], fragments.ModelStore]) -> Handler:
    """The handler pre-translating the saved XLIFF ``params["upload"]`` (as the API does within
    a request, to the job's bounds: `tm.pretranslate.JOB_MAX_BYTES` and `JOB_MAX_SEGMENTS`) into
    the job's result file. Progress in segments looked up of those to look up; a cancel is heard
    between segments. Nothing is stored: the runner commits an untouched session."""

    def handler(session: Session, context: JobContext) -> dict[str, Any]:
        params = context.params
        memories = params.get("memories") or None
        score = float(params["min_score"])
        counted = {"done": 0, "total": 0}

        def reached(done: int, total: int) -> None:  # from pretranslate_file: before and after each batch
            counted.update(done=done, total=total)
            context.progress(done, total)

        def segment() -> None:  # from the lookup, after each segment
            counted["done"] += 1
            context.progress(counted["done"], counted["total"])

        run = lookup.segment_lookup(session, index(), memories=memories, min_score=min(score, 100.0),
                                    limit=pretranslate.DEFAULT_CANDIDATES, each=segment)
        pieces = lookup.segment_fragments(session, index(), models(), memories=memories,
                                          between=lambda: context.progress(context.done))
        data = Path(params["upload"]).read_bytes()
        body, report = pretranslate.pretranslate_file(
            data, run, min_score=score, mode=params["mode"], bounded=True, max_bytes=pretranslate.JOB_MAX_BYTES,
            max_segments=pretranslate.JOB_MAX_SEGMENTS, fragments=pieces, progress=reached)
        del data
        context.check_cancel()
        with result_stream(context) as out:
            out.write(body)
        return {"filename": params["filename"], "report": report.to_dict(),
                "file": result_file(context, name=params["filename"],
                                    content_type=pretranslate.XLIFF_MIMETYPES[report.version])}

    return handler


def export_memories(session: Session, context: JobContext) -> dict[str, Any]:
    """Export ``params["memories"]`` (all when None) as ``params["format"]`` into the job's result
    file, streaming from the database (flat memory); progress in units written, a cancel heard
    every few hundred units."""
    params = context.params
    names = params.get("memories") or None
    total = service.export_size(session, names)
    context.progress(0, total)
    with result_stream(context) as out:
        count = service.export_units(session, memory_names=names, file_format=params["format"], stream=out,
                                     progress=lambda done: context.progress(done, max(total, done)))
    return {"units": count, "format": params["format"], "memories": names,
            "file": result_file(context, name=params["filename"],
                                content_type=service.EXPORT_MIMETYPES[params["format"]])}


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
