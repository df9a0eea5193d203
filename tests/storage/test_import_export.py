"""TMX/TSV import and export through the CLI and the service, on SQLite and PostgreSQL."""
from __future__ import annotations

import io
from datetime import UTC, datetime

from sqlalchemy import func, select

from db import new_session
from tests.helpers import wmt_pairs
from tm.formats.records import UnitRecord
from tm.formats.tmx import read_tmx, write_tmx
from tm.models import Unit


def _wmt_records(count: int) -> list[UnitRecord]:
    records = []
    for i, (zh, en) in enumerate(wmt_pairs(count)):
        records.append(UnitRecord(
            zh=zh, en=en,
            creationdate=datetime(2019, 5, 14, 8, i % 60, 0, tzinfo=UTC),
            changedate=datetime(2020, 1, 2, 3, 4, i % 60, tzinfo=UTC),
            creationid=f"translator{i % 7}", changeid=f"reviser{i % 3}",
            usagecount=i % 5, note=f"note {i}" if i % 4 == 0 else None,
            props=(("x-domain", "news"), ("x-batch", str(i // 100))),
            zh_lang="zh-CN", en_lang="en-US",
        ))
    return records


def _unit_count(app) -> int:
    with app.app_context():
        session = new_session()
        try:
            return session.scalar(select(func.count()).select_from(Unit))
        finally:
            session.close()


def _comparable(record: UnitRecord) -> tuple:
    return (record.zh, record.en, record.creationdate, record.changedate, record.creationid,
            record.changeid, record.usagecount, record.note, record.props, record.status)


def test_tmx_round_trip_through_cli_keeps_units_and_metadata(app, runner, tmp_path, monkeypatch):
    monkeypatch.setattr("tm.repository.IMPORT_BATCH", 100)  # several batches ...
    monkeypatch.setattr("tm.repository.INLINE_BATCHES", 1)  # ... most keyed by worker processes
    records = _wmt_records(300)
    source = tmp_path / "wmt.tmx"
    with open(source, "wb") as stream:
        write_tmx(records, stream)

    result = runner.invoke(args=["tm", "import", str(source), "--memory", "news"])
    assert result.exit_code == 0, result.output
    assert "300 units added" in result.output

    exported = tmp_path / "out.tmx"
    result = runner.invoke(args=["tm", "export", "--memory", "news", "--format", "tmx", "-o", str(exported)])
    assert result.exit_code == 0, result.output
    with open(exported, "rb") as stream:
        back = list(read_tmx(stream))
    assert [_comparable(r) for r in back] == [_comparable(r) for r in records]
    assert {r.origin_file for r in back} == {"wmt.tmx"}


def test_export_to_standard_output(app, runner, tmp_path):
    source = tmp_path / "wmt.tmx"
    with open(source, "wb") as stream:
        write_tmx(_wmt_records(5), stream)
    runner.invoke(args=["tm", "import", str(source), "--memory", "news"])
    result = runner.invoke(args=["tm", "export", "--memory", "news", "--format", "tsv"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split("\t")[:2] == ["zh", "en"]
    assert len(lines) == 6


def test_same_pair_twice_is_one_unit_but_a_new_translation_is_another(app, runner, tmp_path):
    records = _wmt_records(20)
    path = tmp_path / "a.tmx"
    with open(path, "wb") as stream:
        write_tmx(records + [UnitRecord(zh=records[0].zh, en="A different translation.")], stream)
    assert runner.invoke(args=["tm", "import", str(path), "--memory", "m"]).exit_code == 0
    result = runner.invoke(args=["tm", "import", str(path), "--memory", "m"])
    assert result.exit_code == 0
    assert "0 units added" in result.output and "21 duplicates" in result.output
    assert _unit_count(app) == 21


def test_a_utf16_table_imports_from_the_command_line(app, runner, tmp_path):
    """Its reader closes the file when it has read it all; the progress bar must not ask the
    closed file where it is."""
    records = _wmt_records(20)
    path = tmp_path / "pairs.csv"
    rows = [r for r in records if '"' not in r.zh + r.en]
    path.write_bytes(("zh,en\n" + "".join(f'"{r.zh}","{r.en}"\n' for r in rows)).encode("utf-16"))
    result = runner.invoke(args=["tm", "import", str(path), "--memory", "m"])
    assert result.exit_code == 0, result.output
    assert _unit_count(app) == len(rows)


def test_a_file_that_fails_imports_nothing(app, runner, tmp_path, monkeypatch):
    # Key the first batch here and the rest in worker processes, as a large file would be.
    monkeypatch.setattr("tm.repository.INLINE_BATCHES", 1)
    good = io.BytesIO()
    write_tmx(_wmt_records(2500), good)  # more than one insert batch before the error
    broken = good.getvalue().replace(b"</body>", b"<tu><tuv xml:lang=\"zh\"><seg>\xe5\xad\xa4</seg></tuv></tu></body>")
    path = tmp_path / "broken.tmx"
    path.write_bytes(broken)
    result = runner.invoke(args=["tm", "import", str(path), "--memory", "m"])
    assert result.exit_code != 0
    assert "line" in result.output and "English" in result.output
    assert _unit_count(app) == 0


def test_tsv_with_metadata_columns(app, runner, tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("zh\ten\tnote\tstatus\n你好。\tHello.\tgreeting\tdraft\n再见。\tGoodbye.\t\tapproved\n",
                    encoding="utf-8")
    result = runner.invoke(args=["tm", "import", str(path), "--memory", "m"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        session = new_session()
        units = session.scalars(select(Unit).order_by(Unit.id)).all()
        assert [(u.zh, u.en, u.note, u.status) for u in units] == [
            ("你好。", "Hello.", "greeting", "draft"), ("再见。", "Goodbye.", None, "approved")]
        session.close()


def test_upgrade_of_a_populated_database_keeps_its_data(app, runner, tmp_path):
    path = tmp_path / "a.tmx"
    with open(path, "wb") as stream:
        write_tmx(_wmt_records(10), stream)
    runner.invoke(args=["tm", "import", str(path), "--memory", "m"])
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert _unit_count(app) == 10
