"""Fragments of a lookup and the word-alignment model behind their translations. No Flask here.

    lookup query -> LiveIndex.fragments (suffix arrays over stored sources, glossary spans
                    left alone) -> the sampled units, read in one query for a whole batch
                 -> tm.core.renderings.translate_fragment with the current model -> renderings
                 -> a fragment with none shown: its parts (LiveIndex.fragment_parts), their
                    units read in one more query, the renderings of the part
                    tm.core.renderings.choose_part picks in its place

The model (tm.core.wordalign) is learnt from the memory by ``train_model``: ``flask --app app
tm fragments train``, or a job queued after an import (tm.jobs, tm.webutil).
It is one file under the model directory, replaced atomically, whose header says what it
covers (the last unit event and the number of units of the snapshot it read), and the
directory of the alignments of every unit of that snapshot it names (memory-mapped, keyed by
unit id and the digest of the unit's texts: a lookup reads them and aligns only units added or
edited since, a few per lookup). Lookups load it on first use and again when a newer file
appears (``ModelStore``); no lookup ever trains.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import text
from sqlalchemy.orm import Session

from common import filelock
from common.timeutil import isoformat, utcnow
from tm import repository as repo
from tm.core.fragments import Fragment
from tm.core.renderings import (
    MAX_RENDERINGS,
    MIN_CONFIDENCE,
    Rendering,
    StoredUnit,
    choose_part,
    pilot_units,
    translate_fragment,
)
from tm.core.wordalign import Alignment, AlignmentModel, StoredAlignment, align, gather_stored
from tm.core.wordalign import train as train_alignment
from tm.live_index import LiveIndex

MODEL_FILE = "model.npz"
LOCK_FILE = "train.lock"
#: A model is stale after an import once the memory has grown by this share of the units it
#: covers (or has units and no model yet): retraining costs minutes at a million units, and
#: a few new units change few renderings.
STALE_SHARE = 0.1
#: ... and by at least this many units: on a small memory every import would retrain.
STALE_MIN_UNITS = 20
#: Alignments made at lookup kept per process (units added or edited since the training, see
#: UNCOVERED_BUDGET; and those of a model stored before its kept links, read back as
#: Alignments): aligning one costs milliseconds. A unit the model stores is read from its
#: arrays again instead (tm.core.wordalign.gather_stored): cheaper than keeping it, and a
#: lookup of new text at a million units reads some eighty.
ALIGNMENT_CACHE = 5_000
#: Renderings of a fragment kept per process, keyed by its text and the sampled units' texts:
#: the same set phrases and institutions recur across lookups with the same sample (until the
#: index changes), and translating one costs 5-15 ms (projecting up to SAMPLE units and
#: grouping), against a hash of the units' texts.
RENDERINGS_CACHE = 10_000
#: Units not covered by the model (added or edited after its training) aligned at lookup, at
#: most this many per query (about 6 ms each at 100k units): until the next training (see
#: STALE_SHARE) a new unit still gives its fragment's renderings, a few per lookup, and the
#: cache keeps them for the next; the rest are skipped, so a lookup right after a large
#: import is not slowed by aligning up to 50 units per fragment.
UNCOVERED_BUDGET = 8
#: Rows read from the database at a time while training (and between two progress lines).
TRAIN_CHUNK = 20_000

#: Aligns a fragment's sampled units (tm.core.renderings.translate_fragment's ``align_units``).
AlignUnits = Callable[[Sequence[StoredUnit]], list[Alignment | StoredAlignment | None]]

#: Gives (zh, en) term pairs for the aligner's priors, read in the given session (the
#: training snapshot). Installed by another area (the glossary); tm never imports it.
TermPairs = Callable[[Session], list[tuple[str, str]]]


# --- the model on disk ------------------------------------------------------------------------


class ModelStore:
    """The alignment model of one directory, loaded on first use and reloaded when the file
    changes; the alignments of stored pairs under the current model, cached. Thread-safe."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / MODEL_FILE
        self._model: AlignmentModel | None = None
        self._stamp: tuple[int, int] | None = None
        self._alignments: OrderedDict[tuple[Any, str, str], Alignment] = OrderedDict()
        self._renderings: OrderedDict[tuple[str, str, bytes, float, int], tuple[AlignmentModel, list[Rendering]]] = \
            OrderedDict()
        self._lock = threading.Lock()
        self._loading: threading.Thread | None = None

    def _stamp_on_disk(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def current(self) -> AlignmentModel | None:
        """The newest model on disk, loaded now if it is not yet (seconds for a large memory), or
        None when there is none (or it is unreadable: a model of another format version waits for
        the next training). For start-up, the CLI and tests; lookups use :meth:`available`."""
        stamp = self._stamp_on_disk()
        if stamp is None:
            return None
        with self._lock:
            if stamp != self._stamp:
                self._install(stamp, self._read())
            return self._model

    def available(self) -> AlignmentModel | None:
        """The model already loaded, at once; a newer file on disk is loaded in a background
        thread and used from the next lookup on. A lookup never waits for a load: the demo's
        model takes 1–2 s to read, a million units' several times that, and every worker reads
        it when a training finishes."""
        stamp = self._stamp_on_disk()
        with self._lock:
            if stamp is not None and stamp != self._stamp and self._loading is None:
                self._loading = threading.Thread(target=self._load_in_background, args=(stamp,),
                                                 name="fragment-model-load", daemon=True)
                self._loading.start()
            return self._model

    def _load_in_background(self, stamp: tuple[int, int]) -> None:
        model = self._read()
        with self._lock:
            self._loading = None
            # A training that replaced the file meanwhile makes this load stale: the next
            # lookup starts the newer one.
            if self._stamp_on_disk() == stamp:
                self._install(stamp, model)

    def _read(self) -> AlignmentModel | None:
        try:
            model = AlignmentModel.load(self.path)
        except (OSError, ValueError, KeyError):
            return None
        for lang in ("zh", "en"):
            model.word_kinds(lang)  # here rather than in the first lookup that projects
        return model

    def _install(self, stamp: tuple[int, int], model: AlignmentModel | None) -> None:
        # Called with the lock held.
        self._model = model
        self._stamp = stamp
        self._alignments.clear()
        self._renderings.clear()

    def aligner(self, model: AlignmentModel, lang: str, *,
                budget: int | None = None) -> AlignUnits:
        """``align_units`` for tm.core.renderings.translate_fragment with sources in ``lang``
        (one per lookup): the units the model was trained on are read from the model's stored
        alignments, together, as arrays (``gather_stored``; from a model stored before their
        kept links, as Alignments: ``UnitLinks.alignments``); one added or edited since (its
        texts' digest differs) is aligned now, at most ``budget`` (default UNCOVERED_BUDGET) of
        them per aligner, and the others skipped (None).
        An alignment made now (or read back as an Alignment) is cached per model, keyed by the
        texts too; reading the arrays again costs less than keeping them."""
        cache = self._alignments
        links = model.links
        left = UNCOVERED_BUDGET if budget is None else budget

        def align_units(units: Sequence[StoredUnit]) -> list[Alignment | StoredAlignment | None]:
            nonlocal left
            keys = [(unit.unit_id, *((unit.source, unit.target) if lang == "zh" else (unit.target, unit.source)))
                    for unit in units]
            with self._lock:
                out: list[Alignment | StoredAlignment | None] = [cache.get(key) for key in keys]
                for key, found in zip(keys, out, strict=True):
                    if found is not None:
                        cache.move_to_end(key)
            missing = [k for k, found in enumerate(out) if found is None]
            gathered = gather_stored(model, [keys[k] for k in missing]) if missing else None
            if gathered is not None:
                stored, index = gathered
                for k, unit in zip(missing, index, strict=True):
                    if unit is not None:
                        out[k] = StoredAlignment(stored, unit)
            elif links is not None and missing:
                for k, alignment in zip(missing, links.alignments(model, [keys[k] for k in missing]), strict=True):
                    out[k] = alignment
            for k in missing:
                if isinstance(out[k], StoredAlignment):
                    continue
                if out[k] is None:
                    if left <= 0:
                        continue
                    left -= 1
                    out[k] = align(model, keys[k][1], keys[k][2])
                with self._lock:
                    cache[keys[k]] = cast(Alignment, out[k])
                    while len(cache) > ALIGNMENT_CACHE:
                        cache.popitem(last=False)
            return out

        return align_units

    def translate(self, model: AlignmentModel, fragment: str, lang: str, units: Sequence[StoredUnit],
                  align_units: AlignUnits, *,
                  min_confidence: float = MIN_CONFIDENCE, limit: int = MAX_RENDERINGS,
                  projections: dict[Hashable, Any] | None = None) -> list[Rendering]:
        """tm.core.renderings.translate_fragment, cached per model by the fragment, its units'
        ids, texts and memories, and the options. A result for which ``align_units`` skipped a
        unit (over its budget) is not kept: a later lookup may align that unit.
        ``projections``: the units' projections kept for the rest of one lookup."""
        digest = hashlib.blake2b(digest_size=16)
        for unit in units:
            digest.update(f"{unit.unit_id}\x00{unit.memory}\x00{unit.source}\x00{unit.target}\x01".encode())
        key = (lang, fragment, digest.digest(), min_confidence, limit)
        with self._lock:
            found = self._renderings.get(key)
            if found is not None and found[0] is model:
                self._renderings.move_to_end(key)
                return found[1]
        skipped = False

        def counted(todo: Sequence[StoredUnit]) -> list[Alignment | StoredAlignment | None]:
            nonlocal skipped
            alignments = align_units(todo)
            skipped = skipped or None in alignments
            return alignments

        renderings = translate_fragment(model, fragment, lang, units, align_units=counted, projections=projections,
                                        min_confidence=min_confidence, limit=limit)
        if not skipped:
            with self._lock:
                self._renderings[key] = (model, renderings)
                while len(self._renderings) > RENDERINGS_CACHE:
                    self._renderings.popitem(last=False)
        return renderings

    def coverage(self) -> dict[str, Any]:
        """What the current model covers (its header's ``meta``), empty without one."""
        model = self.current()
        return dict(model.meta) if model is not None else {}


# --- training ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainOutcome:
    trained: bool
    units: int
    last_event_id: int
    priors: int = 0
    seconds: float = 0.0


def training_lock(directory: str | Path, *, wait: bool = True) -> contextlib.AbstractContextManager[bool]:
    """Hold the directory's training lock (released if the process dies); yields False at once,
    holding nothing, when ``wait`` is False and another process holds it."""
    return filelock.exclusive(Path(directory) / LOCK_FILE, wait=wait)


def _begin_snapshot(session: Session) -> None:
    """Start a read transaction that sees one state of the database throughout: an import
    committing meanwhile is not half in the model."""
    session.rollback()
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        # pysqlite opens a transaction only before writes; in WAL mode an explicit one keeps
        # the snapshot of its first read until it ends.
        session.connection().execute(text("BEGIN"))


def train_model(session: Session, directory: str | Path, *, priors: TermPairs | None = None,
                force: bool = False, log: Callable[[str], None] | None = None) -> TrainOutcome:
    """Train the alignment model on a snapshot of every unit and save it under ``directory``,
    unless the model there already covers the memory's last event (``force`` retrains).

    Takes the directory's training lock first, waiting for a training in another process; the
    session's transaction is rolled back afterwards (training only reads).
    """
    say = log or (lambda _message: None)
    store = ModelStore(directory)
    with training_lock(directory, wait=False) as free:
        if not free:
            say("another training is running: waiting for it")
    with training_lock(directory):
        started = time.monotonic()
        try:
            _begin_snapshot(session)
            last_event = repo.last_event_id(session)
            count = repo.unit_count(session)
            covered = store.coverage()
            # A model saved before alignments were stored with it is retrained once.
            if (not force and covered.get("last_event_id") == last_event and covered.get("memory_units") == count
                    and covered.get("stored_alignments")):
                say(f"the model is current: it covers all {count} units (event {last_event})")
                return TrainOutcome(False, count, last_event)
            pairs = list(priors(session)) if priors is not None else []
            say(f"training on {count} units (up to event {last_event}) with {len(pairs)} glossary term pairs")
            model = train_alignment(_pairs(session, count, say), priors=pairs, log=say)
        finally:
            session.rollback()
        seconds = round(time.monotonic() - started, 1)
        model.meta.update({"last_event_id": last_event, "memory_units": count, "term_pairs": len(pairs),
                           "stored_alignments": True,  # units are keyed: see the check above
                           "trained_at": isoformat(utcnow()), "seconds": seconds})
        Path(directory).mkdir(parents=True, exist_ok=True)
        model.save(store.path)  # a temporary file renamed over the old one
        say(f"saved {store.path} ({store.path.stat().st_size / 1e6:.1f} MB) in {seconds:g} s")
        return TrainOutcome(True, count, last_event, len(pairs), seconds)


def _pairs(session: Session, count: int, say: Callable[[str], None]) -> Iterator[tuple[int, str, str]]:
    read = 0
    for pair in repo.unit_pairs(session, chunk=TRAIN_CHUNK):
        yield pair
        read += 1
        if read % TRAIN_CHUNK == 0:
            say(f"read {read} of {count} units")


def is_stale(session: Session, store: ModelStore) -> bool:
    """Whether the memory has outgrown the model enough to train again (see STALE_SHARE)."""
    count = repo.unit_count(session)
    covered = int(store.coverage().get("memory_units", 0))
    grown = count - covered
    return count > 1 and grown >= max(STALE_MIN_UNITS, STALE_SHARE * covered)


# --- lookups ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FragmentQuery:
    """One lookup's part in the fragment step: the query as sent and its languages."""

    q: str
    src: str
    tgt: str
    memory_ids: frozenset[int] | None = None
    glossary_spans: tuple[tuple[int, int], ...] = ()


def fragments_many(session: Session, index: LiveIndex, store: ModelStore, queries: Sequence[FragmentQuery],
                   *, max_chars: int) -> list[list[dict]]:
    """For each query, its fragments with their translations, ordered by position, as dicts
    ready for JSON. A fragment is shown only with a rendering of MIN_CONFIDENCE or more; one
    without gives way to one of its parts that has one (tm.core.fragments.fragment_parts,
    chosen by tm.core.renderings.choose_part).
    No model yet, or a query over ``max_chars``, gives none. The units behind every fragment
    of every query are read in one query, and those behind the parts tried in one more."""
    model = store.available()
    if model is None or not queries:
        return [[] for _ in queries]
    found = [
        index.fragments(query.q, query.src, glossary_spans=query.glossary_spans, memory_ids=query.memory_ids)
        if len(query.q) <= max_chars and query.q.strip() else []
        for query in queries
    ]
    texts = _unit_texts(session, found, {})
    aligners = [store.aligner(model, query.src) for query in queries]
    # Per query, its units' projections of each fragment: a part is translated on a pilot of
    # its units, then (the chosen one) on all of them, the pilot's again among them.
    projections: list[dict[Hashable, Any]] = [{} for _ in queries]
    shown: list[list[tuple[Fragment, list[Rendering]]]] = []
    parts: list[list[list[Fragment]]] = []  # per query, per fragment without a rendering: its parts
    for query, fragments, align_units in zip(queries, found, aligners, strict=True):
        here, weak = [], []
        for fragment in fragments:
            renderings = _translate(store, model, query, fragment, texts, align_units)
            if renderings:
                here.append((fragment, renderings))
            else:
                weak.append(index.fragment_parts(query.q, query.src, fragment, glossary_spans=query.glossary_spans,
                                                 memory_ids=query.memory_ids))
        shown.append(here)
        parts.append(weak)
    if any(candidates for by_query in parts for candidates in by_query):
        texts = _unit_texts(session, [[p for weak in by_query for p in weak] for by_query in parts], texts)
        for query, here, by_query, align_units, projected in zip(queries, shown, parts, aligners, projections,
                                                                strict=True):
            for candidates in by_query:
                full = functools.partial(_translate, store, model, query, texts=texts, align_units=align_units,
                                         projections=projected)
                best = choose_part(candidates, pilot=functools.partial(full, pilot=True), full=full)
                if best is not None:
                    here.append(best)
    return [[fragment.to_dict() | {"translations": [r.to_dict() for r in renderings]}
             for fragment, renderings in sorted(here, key=lambda item: item[0].start)]
            for here in shown]


_Texts = dict[int, tuple[dict[str, str], str]]


def _unit_texts(session: Session, found: Sequence[Sequence[Fragment]], known: _Texts) -> _Texts:
    """unit id -> ({"zh": ..., "en": ...}, its memory's name) of the units behind ``found``,
    added to those ``known``, in one query."""
    # The live index keys units by their database ids.
    ids = {cast(int, unit_id) for fragments in found for f in fragments for unit_id in f.unit_ids}
    texts = dict(known)
    for unit_id, zh, en, memory in repo.unit_texts(session, sorted(ids - set(known))):
        texts[unit_id] = ({"zh": zh, "en": en}, memory)
    return texts


def _translate(store: ModelStore, model: AlignmentModel, query: FragmentQuery, fragment: Fragment, texts: _Texts,
               align_units: AlignUnits, *, pilot: bool = False,
               projections: dict[Hashable, Any] | None = None) -> list[Rendering]:
    """The renderings of ``fragment`` from its sampled units; ``pilot``: from a few of them, at
    any confidence, the first only (tm.core.renderings.choose_part)."""
    units = [StoredUnit(unit_id, sides[query.src], sides[query.tgt], memory)
             for unit_id in fragment.unit_ids if unit_id in texts
             for sides, memory in [texts[unit_id]]]
    if pilot:
        return store.translate(model, fragment.source, query.src, pilot_units(units), align_units,
                               min_confidence=0.0, limit=1, projections=projections)
    return store.translate(model, fragment.source, query.src, units, align_units, projections=projections)
