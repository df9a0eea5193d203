"""Index snapshots (tm.index_snapshot): a worker started from one, plus the events after it,
answers as a worker that built from the database; half-written snapshots and those of another
database or format are ignored; a newer snapshot replaces a worker's delta. Both engines."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from db import new_session
from tm import live_index as live
from tm import service
from tm.core.text import match_key
from tm.index_snapshot import MANIFEST, TEMP_PREFIX, SnapshotStore
from tm.live_index import LiveIndex, write_snapshot

DEMO = Path(__file__).resolve().parents[2] / "demo"


def _table(name: str, start: int, stop: int) -> bytes:
    lines = (DEMO / name).read_text(encoding="utf-8").splitlines()
    return "\n".join([lines[0], *lines[1 + start:1 + stop]]).encode()


def _import(session, memory: str, data: bytes) -> None:
    service.import_file(session, memory_name=memory, stream=io.BytesIO(data), filename="part.tsv", user="test")
    session.commit()


def _queries() -> list[tuple[str, str]]:
    """Stored sources, cut and changed, in both languages: fuzzy matches of many scores."""
    lines = (DEMO / "public_health_cc0.tsv").read_text(encoding="utf-8").splitlines()[1:]
    out = []
    for line in lines[:300:30]:
        zh, en = line.split("\t")[:2]
        out += [(zh[:-2] + "的", "zh"), (zh, "zh"), (" ".join(en.split()[1:]) + " now", "en"), (en, "en")]
    return out


def _answers(index: LiveIndex, session) -> list:
    """What lookups, restricted lookups, concordance and fragments find: comparable across
    builds (every match >= 50, so no tie at a cut; fragments without their sampled ids)."""
    index.refresh(session, force=True)
    out = []
    for query, lang in _queries():
        key = match_key(query, lang)
        for memories in (None, {1}):
            found = index.search(key, min_score=50, memory_ids=memories, limit=None)
            out.append(sorted((unit_id, round(score, 6)) for unit_id, score in found))
        out.append(index.containing(key.units[:3], lang, memory_ids=None))
        out.append(sorted((f.start, f.end, f.source, f.units) for f in index.fragments(query, lang)))
    out.append(len(index))
    return out


@pytest.fixture
def store(app, tmp_path) -> SnapshotStore:
    return SnapshotStore(tmp_path / "index", "this-database")


@pytest.fixture
def session(app):
    with app.app_context():
        session = new_session()
        _import(session, "health", _table("public_health_cc0.tsv", 0, 300))
        _import(session, "everyday", _table("everyday_ccby.tsv", 0, 200))
        yield session
        session.close()


def _fresh(session) -> LiveIndex:
    index = LiveIndex()
    index.build(session)
    return index


def _later_events(session) -> None:
    """Units added one by one and by an import, one edited, one deleted, after a snapshot."""
    service.create_unit(session, memory_name="health", fields={"zh": "这些症状已经持续了好几天。",
                                                                  "en": "These symptoms have lasted for days."},
                        user="test")
    _import(session, "everyday", _table("everyday_ccby.tsv", 200, 260))
    units = service.get_unit(session, 5)
    service.update_unit(session, units.id, {"zh": "各种胸痛都应当这样治疗", "en": "Every chest pain is treated so"},
                        user="test")
    service.delete_unit(session, 7, user="test")
    session.commit()


def test_a_snapshot_answers_as_a_fresh_build(session, store):
    fresh = _fresh(session)
    manifest, built = write_snapshot(session, store)
    assert built and manifest.units == len(fresh) == 500
    mapped = LiveIndex(store)
    mapped.build(session)
    assert mapped.snapshot == manifest
    assert isinstance(mapped.indexes["zh"]._posted, np.memmap)  # mapped, not read
    answers = _answers(mapped, session)
    assert answers == _answers(fresh, session)
    assert sum(1 for found in answers[:-1] if found) > 60  # most lookups find something
    # Current already: a second build is not made.
    assert write_snapshot(session, store) == (manifest, False)


def test_a_snapshot_plus_later_events_answers_as_a_fresh_build(session, store):
    write_snapshot(session, store)
    _later_events(session)
    mapped = LiveIndex(store)
    mapped.build(session)
    assert mapped.snapshot is not None
    assert _answers(mapped, session) == _answers(_fresh(session), session)
    # The later units are this worker's own delta beside the mapped arrays.
    assert mapped.indexes["zh"]._delta


def test_half_written_and_foreign_snapshots_are_ignored(session, store):
    manifest, _ = write_snapshot(session, store)
    # A builder that died while writing: a temporary directory, and a snapshot without manifest.
    (store.directory / f"{TEMP_PREFIX}dead").mkdir()
    (store.directory / f"{TEMP_PREFIX}dead" / MANIFEST).write_text("{}")
    unfinished = store.directory / "snap-999999999999-00000000000000000001"
    unfinished.mkdir()
    np.save(unfinished / "cand-zh-ids.npy", np.arange(3))
    assert store.newest() == manifest
    # Another database's snapshot in the same folder, and one of another format.
    assert SnapshotStore(store.directory, "another-database").newest() is None
    path = store.directory / manifest.name / MANIFEST
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "format": data["format"] + 1}))
    assert store.newest() is None
    index = LiveIndex(store)
    index.build(session)
    assert index.snapshot is None and len(index) == 500  # built from the database instead


def test_a_newer_snapshot_replaces_the_delta(session, store, monkeypatch):
    first, _ = write_snapshot(session, store)
    worker = LiveIndex(store)
    worker.build(session)
    _later_events(session)
    worker.refresh(session, force=True)
    assert worker.indexes["zh"]._delta and worker.snapshot == first
    second, built = write_snapshot(session, store)
    assert built and second.last_event_id > first.last_event_id
    assert [p.name for p in store.directory.iterdir() if p.name.startswith("snap-")] == [second.name]
    monkeypatch.setattr(live, "SNAPSHOT_CHECK_INTERVAL", 0.0)
    # The worker still maps the removed snapshot's files and answers until it switches.
    assert worker.search(match_key("这些症状已经持续了好几天。", "zh"), min_score=90, memory_ids=None, limit=1)
    worker.refresh(session, force=True)
    assert worker.snapshot == second
    assert not worker.indexes["zh"]._delta and not worker.indexes["en"]._delta
    assert worker.fragment_indexes["zh"].segments == 1
    assert _answers(worker, session) == _answers(_fresh(session), session)


def test_a_large_import_queues_one_snapshot_that_workers_use_and_report(app, client, runner, token_for,
                                                                         monkeypatch):
    from prometheus_client.parser import text_string_to_metric_families
    from sqlalchemy import select

    from jobs.models import Job
    from tests.helpers import auth, import_pairs
    from web.extensions import index_snapshots, live_index

    app.config["INDEX_SNAPSHOT_AFTER_UNITS"] = 100
    admin = token_for("admin")
    lines = (DEMO / "public_health_cc0.tsv").read_text(encoding="utf-8").splitlines()[1:301]
    pairs = [tuple(line.split("\t")[:2]) for line in lines]
    import_pairs(client, admin, pairs[:50])  # small: no snapshot
    store = index_snapshots(app)
    assert store is not None and store.newest() is None
    import_pairs(client, admin, pairs[50:])  # the job runs inside the request (immediate queue)
    with app.app_context():
        session = new_session()
        jobs = session.scalars(select(Job).where(Job.kind == "tm.index.snapshot")).all()
        assert [(job.state, job.result["units"]) for job in jobs] == [("done", 300)]  # the service's own
        session.close()
    first = store.newest()
    assert first is not None and first.units == 300

    assert client.get("/api/v1/tm/lookup", query_string={"q": pairs[0][0]}).get_json()["matches"]
    index = client.get("/readyz").get_json()["index"]
    assert index["snapshot"] == first.name and index["snapshot_events_behind"] == 0 and index["units"] == 300
    created = client.post("/api/v1/units", json={"memory": "news", "zh": "一个新句子。", "en": "A new sentence."},
                          headers=auth(admin))
    assert created.status_code == 201
    client.get("/api/v1/tm/lookup", query_string={"q": "一个新句子。"})
    index = client.get("/readyz").get_json()["index"]
    assert index["snapshot"] == first.name and index["snapshot_events_behind"] >= 1 and index["units"] == 301
    text = client.get("/metrics").get_data(as_text=True)
    found = {family.name: family.samples for family in text_string_to_metric_families(text)}
    assert found["duizhao_tm_index_snapshot_event_id"][0].value == first.last_event_id
    assert found["duizhao_tm_index_snapshot_lag_events"][0].value >= 1

    result = runner.invoke(args=["tm", "index", "snapshot"])
    assert result.exit_code == 0 and "Saved 301 units" in result.output
    assert "is current" in runner.invoke(args=["tm", "index", "snapshot"]).output
    monkeypatch.setattr(live, "SNAPSHOT_CHECK_INTERVAL", 0.0)
    live_index(app).changed()  # its next refresh is due (POLL_INTERVAL), and looks for snapshots
    assert client.get("/api/v1/tm/lookup", query_string={"q": "一个新句子。"}).get_json()["matches"]
    index = client.get("/readyz").get_json()["index"]
    assert index["snapshot"] == store.newest().name != first.name and index["snapshot_events_behind"] == 0


def test_a_mapped_index_asks_for_a_snapshot_instead_of_rebuilding(session, store, monkeypatch):
    from tm.core import index as core_index

    write_snapshot(session, store)
    _later_events(session)
    monkeypatch.setattr(core_index, "_DELTA_MIN", 0)  # any add is past the fold's threshold
    monkeypatch.setattr(core_index, "_DELTA_SHARE", 0.0)
    asked: list[bool] = []
    worker = LiveIndex(store, want_snapshot=lambda: asked.append(True))
    worker.build(session)
    worker.refresh(session, force=True)
    assert asked == [True] and worker.snapshot_wanted
    assert isinstance(worker.indexes["zh"]._posted, np.memmap) and worker.indexes["zh"]._delta  # not rebuilt
    alone = LiveIndex(store)  # nobody to ask: it rebuilds its own arrays, as without snapshots
    alone.build(session)
    alone.refresh(session, force=True)
    assert not isinstance(alone.indexes["zh"]._posted, np.memmap) and not alone.indexes["zh"]._delta
    fresh = _answers(_fresh(session), session)
    assert _answers(worker, session) == fresh and _answers(alone, session) == fresh


def test_a_snapshot_of_an_empty_database_then_units(app, store):
    with app.app_context():
        session = new_session()
        manifest, _ = write_snapshot(session, store)
        assert manifest.units == 0
        worker = LiveIndex(store)
        worker.build(session)
        assert worker.snapshot == manifest and len(worker) == 0
        _import(session, "health", _table("public_health_cc0.tsv", 0, 20))
        assert _answers(worker, session) == _answers(_fresh(session), session)
        session.close()


def test_a_large_import_waits_for_its_snapshot(session, store, monkeypatch):
    write_snapshot(session, store)
    asked: list[bool] = []
    pending = [True]
    worker = LiveIndex(store, want_snapshot=lambda: asked.append(True), snapshot_pending=lambda: pending[0])
    worker.defer_imports_from = 50
    worker.build(session)
    _import(session, "everyday", _table("everyday_ccby.tsv", 200, 260))  # 60 units: left to a snapshot
    service.create_unit(session, memory_name="health", fields={"zh": "一个新句子。", "en": "A new sentence."},
                        user="test")
    session.commit()
    worker.refresh(session, force=True)
    assert asked == [True] and len(worker.deferred) == 1 and len(worker) == 501  # the single unit is in
    write_snapshot(session, store)
    monkeypatch.setattr(live, "SNAPSHOT_CHECK_INTERVAL", 0.0)
    worker.refresh(session, force=True)
    assert not worker.deferred and len(worker) == 561
    assert _answers(worker, session) == _answers(_fresh(session), session)
    # The job ended without a snapshot here (another host's, or it failed): applied at once.
    _import(session, "everyday", _table("everyday_ccby.tsv", 260, 320))
    worker.refresh(session, force=True)
    assert len(worker.deferred) == 1 and len(worker) == 561
    pending[0] = False
    worker.refresh(session, force=True)
    assert not worker.deferred and len(worker) == 621
    # And with a job that never ends, after DEFER_LIMIT.
    pending[0] = True
    _import(session, "everyday", _table("everyday_ccby.tsv", 320, 380))
    worker.refresh(session, force=True)
    assert len(worker.deferred) == 1 and len(worker) == 621
    monkeypatch.setattr(live, "DEFER_LIMIT", 0.0)
    worker.refresh(session, force=True)
    assert not worker.deferred and len(worker) == 681


def test_the_first_lookups_of_a_new_worker_build_the_index_once(app, session, monkeypatch):
    """Threads of a new worker that refresh at once: one builds, the others wait for it."""
    import threading
    import time

    from sqlalchemy.orm import Session

    builds = []
    plain = LiveIndex._build_from_database

    def slow_build(self, build_session):
        builds.append(threading.get_ident())
        time.sleep(0.3)  # long enough for every thread to arrive while it builds
        plain(self, build_session)

    monkeypatch.setattr(LiveIndex, "_build_from_database", slow_build)
    index = LiveIndex()
    bind = session.get_bind()

    def first_lookup() -> None:
        with Session(bind) as own:
            index.refresh(own)

    threads = [threading.Thread(target=first_lookup) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert len(index) == len(_fresh(session))


def test_an_import_committed_below_the_high_water_mark_reaches_builds_and_snapshots(session, store):
    """An import inserts its event last, then commits; a unit written meanwhile takes a higher
    id and may commit first. A build (and the snapshot made from one) that reads the log and
    the units between those two commits takes the import's units once it commits."""
    from sqlalchemy.orm import Session

    if session.get_bind().dialect.name == "sqlite":
        pytest.skip("SQLite has one writer: no event commits below another's")
    bind = session.get_bind()
    with Session(bind) as importing:
        service.import_file(importing, memory_name="late", stream=io.BytesIO(_table("everyday_ccby.tsv", 200, 230)),
                            filename="late.tsv", user="test")  # its units and event in, not committed
        with Session(bind) as other:
            service.create_unit(other, memory_name="health", fields={"zh": "一个新句子。", "en": "A new sentence."},
                                user="test")
            other.commit()
        session.commit()  # a new transaction: it sees the unit, not the import
        built = _fresh(session)
        manifest, _ = write_snapshot(session, store)
        assert len(built) == manifest.units == 501
        importing.commit()
    session.commit()
    mapped = LiveIndex(store)
    mapped.build(session)
    fresh = _answers(_fresh(session), session)
    assert _answers(built, session) == fresh and _answers(mapped, session) == fresh
    assert len(built) == len(mapped) == 531
