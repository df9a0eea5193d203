"""The bulk import (duplicates dropped before keying, keys in worker processes, rows as driver
tuples, COPY on PostgreSQL) stores exactly what a plain importer stores: one ORM-free insert
per new pair, its keys from sacremoses' own tokenizer. On SQLite and PostgreSQL."""
from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sacremoses import MosesTokenizer
from sqlalchemy import insert, select

from db import new_session
from tests.helpers import wmt_pairs
from tm import repository as repo
from tm import service
from tm.core.text import normalize
from tm.formats.records import ImportFormatError, UnitRecord
from tm.formats.tmx import read_tmx, write_tmx
from tm.models import ImportRun, Unit

#: Every column a unit is compared on: all but its id, its import and its memory.
COMPARED = [c for c in repo.IMPORT_COLUMNS if c not in ("memory_id", "import_id")]


def _records() -> list[UnitRecord]:
    pairs = wmt_pairs(40) + [
        ("臺灣的經濟，２０２０年。", "Mr. Smith's U.S. trip, No. 5: it's 5,000 km... isn't it?"),
        ("“你好”，他说。", "\"Hello,\" he said -- twice (or thrice)."),
        ("第一条", "Article 1 e.g. of the A.B.C. rules & regulations."),
    ]
    records = [UnitRecord(zh=zh, en=en, creationdate=datetime(2020, 1, 1, 0, i, tzinfo=UTC),
                          creationid=f"t{i % 3}", usagecount=i % 4, note=f"n{i}" if i % 5 == 0 else None,
                          props=(("x-domain", "news"),) if i % 2 else (),
                          doc_title="标题" * 300 if i == 7 else None)  # cut to the column's 500
               for i, (zh, en) in enumerate(pairs)]
    # Duplicates: in the same batch, in a later batch keyed at the same time, and a pair the
    # memory holds already; a new translation of a stored source is not one.
    return (records[:10] + [records[3], records[0]] + records[10:20] + [records[12]] + records[20:] + records[5:9]
            + [UnitRecord(zh=records[1].zh, en="Another translation.", creationdate=datetime(2021, 1, 1, tzinfo=UTC))])


def _stock_keys(zh: str, en: str) -> dict[str, str]:
    en_key = normalize(en, "en")
    tokens = MosesTokenizer(lang="en").tokenize(en_key, escape=False)
    return {"zh_key": normalize(zh, "zh"), "en_key": en_key, "en_tokens": " ".join(tokens)}


def _plain_import(session, memory, records: list[UnitRecord]) -> None:
    """The reference: each pair not yet in the memory inserted on its own, in file order."""
    run = repo.start_import(session, memory, filename="a.tmx", file_format="tmx", user="me")
    for record in records:
        if repo.find_pair(session, memory, record.zh, record.en) is None:
            digest = repo.pair_hash(record.zh, record.en)
            row = repo._row_from_record(record, digest, memory.id, run, datetime(2000, 1, 1))
            values = dict(zip(repo.IMPORT_COLUMNS, row, strict=False)) | _stock_keys(record.zh, record.en)
            session.execute(insert(Unit), values)


def _units(session, memory) -> list[tuple]:
    rows = session.scalars(select(Unit).where(Unit.memory_id == memory.id).order_by(Unit.id))
    # A unit added by hand is dated when it was added; an imported one by its file.
    return [tuple(None if u.created_by == "hand" and c.endswith("_at") else getattr(u, c) for c in COMPARED)
            for u in rows]


def test_the_bulk_import_stores_what_a_plain_importer_stores(app, monkeypatch):
    monkeypatch.setattr(repo, "IMPORT_BATCH", 7)  # many batches, several keyed at once ...
    monkeypatch.setattr(repo, "INLINE_BATCHES", 1)  # ... by worker processes
    records = _records()
    data = io.BytesIO()
    write_tmx(records, data)
    # A third language in a unit is skipped by the reader, as before.
    tmx = data.getvalue().replace(b"</tu>", b'<tuv xml:lang="de"><seg>Hallo.</seg></tuv></tu>', 1)
    read = list(read_tmx(io.BytesIO(tmx)))
    assert len(read) == len(records)
    with app.app_context():
        session = new_session()
        bulk = repo.get_or_create_memory(session, "bulk")
        repo.create_unit(session, bulk, {"zh": records[2].zh, "en": records[2].en}, user="hand")
        report = service.import_file(session, memory_name="bulk", stream=io.BytesIO(tmx), filename="a.tmx",
                                     user="me")
        plain = repo.get_or_create_memory(session, "plain")
        repo.create_unit(session, plain, {"zh": records[2].zh, "en": records[2].en}, user="hand")
        _plain_import(session, plain, read)
        session.commit()

        bulk_units, plain_units = _units(session, bulk), _units(session, plain)
        assert bulk_units == plain_units
        assert len(bulk_units) == 44  # 43 distinct pairs and the new translation
        assert (report.read, report.added, report.duplicates) == (len(records), 43, len(records) - 43)
        run = session.get(ImportRun, report.import_id)
        assert (run.added, run.duplicates) == (43, len(records) - 43)
        # The two sessions' processes agree with sacremoses itself on the hard English.
        hard = session.scalar(select(Unit).where(Unit.memory_id == bulk.id, Unit.zh == "臺灣的經濟，２０２０年。"))
        assert hard.en_tokens == _stock_keys(hard.zh, hard.en)["en_tokens"]
        assert hard.en_tokens == "mr. smith 's u.s. trip , no . 5 : it 's 5,000 km ... isn 't it ?"
        session.close()


def test_an_import_into_an_empty_memory_asks_for_no_stored_pairs_and_stores_the_same(app, monkeypatch):
    """A new memory holds nothing a file could repeat: no batch asks the database which of its
    pairs are stored (on PostgreSQL a check that grew with the memory). The duplicates within the
    file, in one batch or across batches keyed at once, are still skipped, the first copy kept."""
    monkeypatch.setattr(repo, "IMPORT_BATCH", 7)
    monkeypatch.setattr(repo, "INLINE_BATCHES", 1)
    records = _records()
    data = io.BytesIO()
    write_tmx(records, data)
    asked = []
    stored_hashes = repo._stored_hashes
    monkeypatch.setattr(repo, "_stored_hashes", lambda *args: asked.append(args) or stored_hashes(*args))
    with app.app_context():
        session = new_session()
        report = service.import_file(session, memory_name="new", stream=io.BytesIO(data.getvalue()),
                                     filename="a.tmx", user="me")
        assert asked == []
        plain = repo.get_or_create_memory(session, "plain")
        _plain_import(session, plain, list(read_tmx(io.BytesIO(data.getvalue()))))
        session.commit()
        new = repo.memory_by_name(session, "new")
        assert _units(session, new) == _units(session, plain)
        assert (report.read, report.added, report.duplicates) == (len(records), 44, len(records) - 44)
        # Imported again, into a memory that now holds it all: every batch asks, nothing is keyed.
        monkeypatch.setattr(repo, "keys_of_batch", lambda pairs: [()] * len(pairs) if not pairs else 1 / 0)
        again = service.import_file(session, memory_name="new", stream=io.BytesIO(data.getvalue()),
                                    filename="a.tmx", user="me")
        assert (again.added, again.duplicates) == (0, len(records))
        assert len(asked) == -(-len(records) // 7)
        session.rollback()
        session.close()


def test_a_failed_store_of_a_batch_fails_the_import_and_leaves_nothing(app, monkeypatch):
    """On PostgreSQL a batch is stored by a thread while the next is read: its error still
    ends the import, raised in the importing thread, and the transaction holds nothing."""
    monkeypatch.setattr(repo, "IMPORT_BATCH", 7)
    data = io.BytesIO()
    write_tmx(_records(), data)
    stored = []
    real_store = repo._UnitWriter._store
    real_insert = repo._UnitWriter.insert

    def store(self, rows):
        stored.append(len(rows))
        if len(stored) == 3:
            raise RuntimeError("the disk is full")
        return real_store(self, rows)

    def insert(self, rows):
        if self.postgresql:
            return real_insert(self, rows)
        stored.append(len(rows))
        if len(stored) == 3:
            raise RuntimeError("the disk is full")
        return real_insert(self, rows)

    monkeypatch.setattr(repo._UnitWriter, "_store", store)
    monkeypatch.setattr(repo._UnitWriter, "insert", insert)
    with app.app_context():
        session = new_session()
        with pytest.raises(RuntimeError, match="the disk is full"):
            service.import_file(session, memory_name="m", stream=io.BytesIO(data.getvalue()), filename="a.tmx",
                                user="me")
        session.rollback()
        assert len(stored) == 3
        assert session.scalar(select(Unit.id)) is None
        session.close()


def test_a_bad_line_stores_nothing(app):
    table = "zh\ten\n你好。\tHello.\n\tNo Chinese here.\n再见。\tGoodbye.\n"
    with app.app_context():
        session = new_session()
        with pytest.raises(ImportFormatError) as caught:
            service.import_file(session, memory_name="m", stream=io.BytesIO(table.encode()), filename="a.tsv",
                                user="me")
        assert caught.value.line == 3
        session.rollback()
        assert session.scalar(select(Unit.id)) is None
        session.close()



def test_an_import_plans_each_statement_for_the_table_as_it_grows(app):
    """psycopg prepares a statement run five times, and PostgreSQL may then keep one generic
    plan made while the import's table was empty: for each batch's duplicate check a sequential
    scan of what the import itself adds (97 s of server CPU for 100,000 units instead of 5, and
    seconds a batch at a million). Within a bulk write, statements are planned anew each time,
    for that transaction only."""
    from sqlalchemy import text

    with app.app_context():
        session = new_session()
        if session.get_bind().dialect.name != "postgresql":
            session.close()
            pytest.skip("a PostgreSQL plan")
        memory, _ = repo.create_memory(session, "plans")
        repo.lock_memory_for_bulk_write(session, memory)
        assert session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
        session.rollback()
        assert session.scalar(text("SHOW plan_cache_mode")) == "auto"
        session.close()
