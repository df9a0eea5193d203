"""The lookup index on disk: one snapshot per machine that every worker maps. No Flask here.

A snapshot is a directory of .npy files (the arrays of tm.live_index.LiveIndex: both languages'
candidate and fragment indexes, unit -> memory) and ``manifest.json``: the format, the database
it was built from (a digest of its URL), the event-log position it reflects, and the English
token codes its units were encoded with (tm.core.text codes are per process: a worker adopts
them before reading the arrays). Workers load the arrays with ``mmap_mode="r"``: the pages are
the page cache's, shared by every process on the machine, so a further worker costs only its
small per-row copies and its delta of later events (docs/deploy.md has the figures).

Writing is atomic: the arrays and then the manifest go into a hidden temporary directory that is
renamed into place (a reader lists only finished names); older snapshots are then removed. A
worker still mapping a removed one keeps working (unlinked files stay valid while mapped, on
POSIX) until it switches to the newest at its next check.

    build (a job, the CLI) -> write(): .tmp-<random>/ -> rename to snap-<event id>-<time>/
    worker start -> newest() -> load(): adopt token codes, map arrays -> apply later events
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import make_url

from common import filelock
from tm.core import text

#: Bumped whenever what is saved changes meaning (arrays, their dtypes, how units are encoded):
#: a snapshot of another format is ignored and rebuilt.
FORMAT = 1
MANIFEST = "manifest.json"
TOKENS = "tokens.json"
PREFIX = "snap-"
TEMP_PREFIX = ".tmp-"
LOCK_FILE = "build.lock"
#: A temporary directory older than this belongs to a builder that died: removed at the next write.
STALE_TEMP_SECONDS = 6 * 3600


def database_digest(url: str) -> str:
    """Who a snapshot belongs to: the database URL without its password, hashed (short)."""
    safe = make_url(url).render_as_string(hide_password=True)
    return hashlib.sha256(safe.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Manifest:
    name: str
    format: int
    database: str
    #: The newest event the snapshot reflects, and the ids below it not yet committed when it
    #: was read (common.eventlog): a worker applies events after it and among those.
    last_event_id: int
    gaps: tuple[int, ...]
    units: int
    built_at: float
    build_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "format": self.format, "database": self.database,
                "last_event_id": self.last_event_id, "gaps": list(self.gaps), "units": self.units,
                "built_at": self.built_at, "build_seconds": self.build_seconds}


class SnapshotStore:
    """The snapshots of one database under ``directory`` (INDEX_DIR, default instance/index/<digest>)."""

    def __init__(self, directory: str | Path, database: str) -> None:
        self.directory = Path(directory)
        self.database = database

    # -------------------------------------------------------------- reading

    def _names(self) -> list[str]:
        try:
            with os.scandir(self.directory) as entries:
                return [e.name for e in entries if e.name.startswith(PREFIX) and e.is_dir()]
        except FileNotFoundError:
            return []

    def newest_name(self) -> str | None:
        """The newest finished snapshot's name (one directory listing: cheap to ask often)."""
        names = self._names()
        return max(names, key=_order) if names else None

    def newest(self) -> Manifest | None:
        """The newest snapshot this store may use: finished, of this FORMAT and this database.
        Others (an older format, another database's) are passed over."""
        for name in sorted(self._names(), key=_order, reverse=True):
            manifest = self.manifest(name)
            if manifest is not None:
                return manifest
        return None

    def manifest(self, name: str) -> Manifest | None:
        """The manifest of snapshot ``name`` when this store may use it, else None."""
        try:
            data = json.loads((self.directory / name / MANIFEST).read_text())
        except (OSError, ValueError):
            return None
        if data.get("format") != FORMAT or data.get("database") != self.database:
            return None
        return Manifest(name=name, format=FORMAT, database=self.database,
                        last_event_id=int(data["last_event_id"]), gaps=tuple(data.get("gaps", ())),
                        units=int(data["units"]), built_at=float(data["built_at"]),
                        build_seconds=float(data.get("build_seconds", 0.0)))

    def load(self, manifest: Manifest) -> tuple[dict[str, np.ndarray], bool]:
        """(arrays, whether this process's token codes agreed with the snapshot's): the arrays
        memory-mapped read-only, the token codes adopted first (tm.core.text.adopt_token_table)."""
        path = self.directory / manifest.name
        table = json.loads((path / TOKENS).read_text())
        agreed = text.adopt_token_table(table["tokens"], table["codes"])
        arrays = {file.stem: np.load(file, mmap_mode="r", allow_pickle=False) for file in path.glob("*.npy")}
        return arrays, agreed

    def seed_token_codes(self, manifest: Manifest) -> bool:
        """Before a build: take the codes of snapshot ``manifest`` where this process has none
        that disagree (else leave its own alone: an index here may use them)."""
        try:
            table = json.loads((self.directory / manifest.name / TOKENS).read_text())
        except (OSError, ValueError):
            return False
        return text.adopt_token_table(table["tokens"], table["codes"], replace=False)

    # -------------------------------------------------------------- writing

    def building(self, *, wait: bool = True) -> contextlib.AbstractContextManager[bool]:
        """Hold the store's build lock (released if the process dies): one build at a time per
        machine. Yields False at once when ``wait`` is False and another holds it."""
        return filelock.exclusive(self.directory / LOCK_FILE, wait=wait)

    def write(self, arrays: dict[str, np.ndarray], *, last_event_id: int, gaps: list[int], units: int,
              build_seconds: float) -> Manifest:
        """Save a snapshot atomically and remove the ones it replaces."""
        self.directory.mkdir(parents=True, exist_ok=True)
        temp = self.directory / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        temp.mkdir()
        try:
            for name, array in arrays.items():
                np.save(temp / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
            tokens, codes = text.token_table()
            (temp / TOKENS).write_text(json.dumps({"tokens": tokens, "codes": codes}, ensure_ascii=False))
            built_at = time.time()
            name = f"{PREFIX}{last_event_id:012d}-{time.time_ns():020d}"
            manifest = Manifest(name=name, format=FORMAT, database=self.database, last_event_id=last_event_id,
                                gaps=tuple(gaps), units=units, built_at=built_at, build_seconds=build_seconds)
            # The manifest last, and everything on disk before the rename makes it visible.
            (temp / MANIFEST).write_text(json.dumps(manifest.to_dict()))
            for file in temp.iterdir():
                with open(file, "rb") as handle:
                    os.fsync(handle.fileno())
            os.rename(temp, self.directory / name)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        self.prune(keep=name)
        return manifest

    def prune(self, *, keep: str) -> None:
        """Remove every finished snapshot but ``keep`` and temporary directories of dead builders.
        Workers mapping a removed one keep their mappings until they switch."""
        now = time.time()
        for entry in self.directory.iterdir():
            if entry.name.startswith(PREFIX) and entry.name != keep and _order(entry.name) < _order(keep):
                shutil.rmtree(entry, ignore_errors=True)
            elif entry.name.startswith(TEMP_PREFIX):
                with contextlib.suppress(OSError):
                    if now - entry.stat().st_mtime > STALE_TEMP_SECONDS:
                        shutil.rmtree(entry, ignore_errors=True)


def _order(name: str) -> tuple[int, int]:
    """Snapshots sort by the event they reflect, then by when they were written."""
    parts = name.removeprefix(PREFIX).split("-")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return -1, -1
