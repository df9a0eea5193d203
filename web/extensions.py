"""The per-app objects other modules find at run time, each behind one typed accessor.

``create_app`` (and ``db.init_app``) put each in place once with its ``install_...`` function;
everything else asks the accessor of the same name, so every key of ``app.extensions`` is
spelt here and nowhere else. An accessor reads the current app, or the ``app`` it is given
(tests and scripts that hold an app outside a request).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from flask import Flask, current_app
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from flask_limiter import Limiter
    from flask_wtf.csrf import CSRFProtect

    from common.admission import Gate
    from glossary.service import LiveRecognizer
    from jobs.queue import JobQueue
    from jobs.service import Kind, Signals
    from tm.fragments import ModelStore
    from tm.fragments import TermPairs as FragmentTermPairs
    from tm.index_snapshot import SnapshotStore
    from tm.live_index import LiveIndex

_DB_ENGINE = "db_engine"
_DB_SESSIONMAKER = "db_sessionmaker"
_LIVE_INDEX = "tm_live_index"
_GLOSSARY_RECOGNIZER = "glossary_recognizer"
_LOOKUP_EXTRAS = "tm_lookup_extras"
_QA_CHECKS = "tm_qa_checks"
_ALIGN_GLOSSARY_PAIRS = "align_glossary_pairs"
_ALIGN_EMBEDDER = "align_embedder"
_FRAGMENT_MODELS = "tm_fragment_models"
_FRAGMENT_TERM_PAIRS = "tm_fragment_term_pairs"
_RATELIMIT_ENGINE = "ratelimit_engine"
_ADMISSION_GATE = "admission_gate"
_JOB_QUEUE = "job_queue"
_JOB_SIGNALS = "job_signals"
_JOB_KINDS = "job_kinds"
# Written by the libraries themselves when they are attached to the app.
_LIMITER = "limiter"  # Flask-Limiter: a set of the app's limiters
_CSRF = "csrf"  # Flask-WTF's CSRFProtect


class LookupExtra(Protocol):
    """What another area adds to a TM lookup answer (the glossary adds ``"terms"``), from the
    request's session, the query, its languages and the day the answer is for."""

    def __call__(self, session: Session, q: str, src: str, tgt: str, *,
                 on: dt.date | None = None) -> dict[str, Any]: ...


class QaCheck(Protocol):
    """What another area checks in a segment's translation (the glossary checks its terms):
    issues as dicts with ``kind``, ``severity``, ``message`` (a Message) and spans."""

    def __call__(self, session: Session, source: str, target: str, src: str, tgt: str, *,
                 on: dt.date | None = None) -> list[dict[str, Any]]: ...


#: (zh, en) term pairs the sentence aligner takes as evidence.
TermPairs = Callable[[], list[tuple[str, str]]]
#: A sentence encoder for the aligner (``Embedder`` of the alignment core): texts to vectors.
SentenceEncoder = Callable[[list[str]], Any]


def _extensions(app: Flask | None) -> dict[str, Any]:
    return (app if app is not None else current_app).extensions


# ------------------------------------------------------------------ storage

def install_db(app: Flask, engine: Engine, factory: sessionmaker[Session]) -> None:
    _extensions(app).update({_DB_ENGINE: engine, _DB_SESSIONMAKER: factory})


def db_engine(app: Flask | None = None) -> Engine:
    """The app's engine (one per app, shared by its sessions)."""
    return _extensions(app)[_DB_ENGINE]


def db_sessionmaker(app: Flask | None = None) -> sessionmaker[Session]:
    return _extensions(app)[_DB_SESSIONMAKER]


def install_ratelimit_engine(app: Flask, engine: Engine) -> None:
    _extensions(app)[_RATELIMIT_ENGINE] = engine


def ratelimit_engine(app: Flask | None = None) -> Engine | None:
    """Where the rate-limit counters are kept when they are kept in a database (accounts.ratelimit):
    an engine with its own pool, or the app's own engine (in-memory SQLite); None elsewhere (Redis)."""
    return _extensions(app).get(_RATELIMIT_ENGINE)


def install_admission_gate(app: Flask, gate: Gate) -> None:
    _extensions(app)[_ADMISSION_GATE] = gate


def admission_gate(app: Flask | None = None) -> Gate:
    """This process's admission gate (ops.admission): the requests running and waiting."""
    return _extensions(app)[_ADMISSION_GATE]


# ------------------------------------------------------------------ live lookup structures

def install_live_index(app: Flask, index: LiveIndex) -> None:
    _extensions(app)[_LIVE_INDEX] = index


def live_index(app: Flask | None = None) -> LiveIndex:
    """This process's TM candidate index (built on first use, refreshed from the event log)."""
    return _extensions(app)[_LIVE_INDEX]


def index_snapshots(app: Flask | None = None) -> SnapshotStore | None:
    """Where this app's index snapshots are kept (tm.index_snapshot): ``INDEX_DIR``, else
    ``instance/index``, in a folder per database; None when ``INDEX_SNAPSHOTS`` is off."""
    from tm.index_snapshot import SnapshotStore, database_digest

    flask_app = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
    if not flask_app.config.get("INDEX_SNAPSHOTS", True):
        return None
    url = flask_app.config["DATABASE_URL"]
    digest = database_digest(url)
    root = Path(flask_app.config.get("INDEX_DIR") or Path(flask_app.instance_path) / "index")
    return SnapshotStore(root / digest, digest)


def install_glossary_recognizer(app: Flask, recognizer: LiveRecognizer) -> None:
    _extensions(app)[_GLOSSARY_RECOGNIZER] = recognizer


def glossary_recognizer(app: Flask | None = None) -> LiveRecognizer:
    """This process's glossary term recognizer (rebuilt when the glossary's event log moves)."""
    return _extensions(app)[_GLOSSARY_RECOGNIZER]


def fragment_models(app: Flask | None = None) -> ModelStore:
    """This process's fragment alignment model, from ``FRAGMENT_MODEL_DIR`` (default
    ``instance/fragments``), loaded on first use and reloaded when training writes a new one."""
    from tm.fragments import ModelStore

    flask_app = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
    directory = Path(flask_app.config.get("FRAGMENT_MODEL_DIR") or Path(flask_app.instance_path) / "fragments")
    store = _extensions(flask_app).get(_FRAGMENT_MODELS)
    if store is None or store.directory != directory:
        store = _extensions(flask_app)[_FRAGMENT_MODELS] = ModelStore(directory)
    return store


# ------------------------------------------------------------------ hooks between areas

def install_lookup_extras(app: Flask, extras: Sequence[LookupExtra]) -> None:
    _extensions(app)[_LOOKUP_EXTRAS] = list(extras)


def lookup_extras(app: Flask | None = None) -> Sequence[LookupExtra]:
    """What other areas add to every TM lookup answer; none when nothing was installed."""
    return _extensions(app).get(_LOOKUP_EXTRAS, ())


def install_qa_checks(app: Flask, checks: Sequence[QaCheck]) -> None:
    _extensions(app)[_QA_CHECKS] = list(checks)


def qa_checks(app: Flask | None = None) -> Sequence[QaCheck]:
    """What other areas check in a segment's translation beside the TM's own checks; none
    when nothing was installed."""
    return _extensions(app).get(_QA_CHECKS, ())


def install_align_glossary_pairs(app: Flask, provider: TermPairs) -> None:
    _extensions(app)[_ALIGN_GLOSSARY_PAIRS] = provider


def align_glossary_pairs(app: Flask | None = None) -> TermPairs | None:
    """Where the aligner gets glossary term pairs; None when no area offers any."""
    return _extensions(app).get(_ALIGN_GLOSSARY_PAIRS)


def install_fragment_term_pairs(app: Flask, provider: FragmentTermPairs) -> None:
    _extensions(app)[_FRAGMENT_TERM_PAIRS] = provider


def fragment_term_pairs(app: Flask | None = None) -> FragmentTermPairs | None:
    """Where fragment training gets the glossary's term pairs as priors, read in the
    training's own snapshot; None when no area offers any."""
    return _extensions(app).get(_FRAGMENT_TERM_PAIRS)


def install_align_embedder(app: Flask, embed: SentenceEncoder | None) -> None:
    """Replace the aligner's sentence encoder (tests install a fast lexical one)."""
    _extensions(app)[_ALIGN_EMBEDDER] = embed


def align_embedder(app: Flask | None = None) -> SentenceEncoder | None:
    """The installed sentence encoder; None means the aligner's default."""
    return _extensions(app).get(_ALIGN_EMBEDDER)


# ------------------------------------------------------------------ what libraries install

def limiter(app: Flask | None = None) -> Limiter:
    """The app's Flask-Limiter (``accounts.ratelimit.init_app`` attaches one)."""
    (only,) = _extensions(app)[_LIMITER]
    return only


def csrf_protect(app: Flask | None = None) -> CSRFProtect:
    """The app's CSRF protection (``create_app`` attaches it)."""
    return _extensions(app)[_CSRF]


# ------------------------------------------------------------------ jobs

def install_jobs(app: Flask, queue: JobQueue, signals: Signals) -> None:
    _extensions(app).update({_JOB_QUEUE: queue, _JOB_SIGNALS: signals, _JOB_KINDS: {}})


def job_queue(app: Flask | None = None) -> JobQueue:
    """The queue that carries job ids to a worker (jobs.queue)."""
    return _extensions(app)[_JOB_QUEUE]


def job_signals(app: Flask | None = None) -> Signals:
    """How running jobs report progress and hear a cancel (jobs.service)."""
    return _extensions(app)[_JOB_SIGNALS]


def add_job_kind(app: Flask, name: str, kind: Kind) -> None:
    """Each area adds the kinds of job it runs (``tm.import``...) at start-up."""
    _extensions(app)[_JOB_KINDS][name] = kind


def job_kinds(app: Flask | None = None) -> dict[str, Kind]:
    return _extensions(app)[_JOB_KINDS]
