"""TSV and CSV tables: round trips on real data, headers, bad input with lines."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import SHARED, require_shared, rich_records, wmt_lines
from tm.formats import read_units, sniff_format
from tm.formats.records import ImportFormatError, UnitRecord
from tm.formats.tmx import read_tmx, write_tmx
from tm.formats.tsv import METADATA_COLUMNS, read_table, write_table

DIALECTS = ["tsv", "csv"]


def grouped(record: UnitRecord) -> UnitRecord:
    """The record as a table gives it back: props grouped by type, in first-seen order."""
    order = list(dict.fromkeys(name for name, _ in record.props))
    props = tuple(p for name in order for p in record.props if p[0] == name)
    return UnitRecord(**{**_fields(record), "props": props})


def _fields(record: UnitRecord) -> dict:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def table(records, dialect, **kwargs) -> str:
    out = io.StringIO(newline="")
    write_table(records, out, dialect=dialect, **kwargs)
    return out.getvalue()


def read_text(text: str, dialect: str = "tsv") -> list[UnitRecord]:
    return list(read_table(io.StringIO(text, newline=""), dialect=dialect))


def expect_error(data, line: int, *words: str, dialect: str = "tsv") -> ImportFormatError:
    stream = io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data, newline="")
    with pytest.raises(ImportFormatError) as info:
        list(read_table(stream, dialect=dialect))
    err = info.value
    assert err.line == line, str(err)
    assert str(err).startswith(f"line {line}: ")
    for word in words:
        assert word in err.reason, err.reason
    return err


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("dialect", DIALECTS)
def test_round_trip_real_news_pairs(dialect):
    records = rich_records(wmt_lines("newstest2020.zho-eng", 300))
    text = table(records, dialect)
    assert read_text(text, dialect) == [grouped(r) for r in records]
    # and from bytes, as an upload arrives, with Excel's BOM
    assert list(read_table(io.BytesIO(text.encode("utf-8-sig")), dialect=dialect)) == [
        grouped(r) for r in records
    ]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_tmx_to_table_to_tmx(dialect):
    records = [grouped(r) for r in rich_records(wmt_lines("newstest2021.zho-eng", 200))]
    tmx = io.BytesIO()
    write_tmx(records, tmx)
    from_tmx = list(read_tmx(io.BytesIO(tmx.getvalue())))
    assert read_text(table(from_tmx, dialect), dialect) == records


@pytest.mark.parametrize("dialect", DIALECTS)
def test_streaming_write_with_explicit_columns(dialect):
    records = [grouped(r) for r in rich_records(wmt_lines(limit=50))]
    columns = ["zh", "en", *METADATA_COLUMNS, "prop:x-domain", "prop:x-tag", "prop:x-tag"]
    text = table(iter(records), dialect, columns=columns)
    assert read_text(text, dialect) == records
    with pytest.raises(ValueError, match="x-tag"):
        table(iter(records), dialect, columns=["zh", "en", *METADATA_COLUMNS, "prop:x-domain"])
    with pytest.raises(ValueError, match="note"):
        table([UnitRecord(zh="你", en="you", note="n")], dialect, columns=["zh", "en"])


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(min_size=1).filter(str.strip),
            # awkward pieces: escapes, the escape sequences themselves, separators, quotes
            st.lists(st.characters() | st.sampled_from(["\\", "\\t", "\\n", "\t", "\n", "\r", '"', ","]))
            .map("".join)
            .filter(str.strip),
            st.text(),
        ),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from(DIALECTS),
)
def test_any_text_round_trips(rows, dialect):
    records = [
        UnitRecord(zh=zh, en=en, note=note or None, props=(("p", note),) if note else ())
        for zh, en, note in rows
    ]
    assert read_text(table(records, dialect), dialect) == records


def test_tsv_escapes_only_four_sequences():
    text = "zh\ten\n路径\tC:\\\\new \\t tab \\x kept\n"
    [record] = read_text(text)
    assert record.en == "C:\\new \t tab \\x kept"


# --------------------------------------------------------------------------- headers


def test_language_code_headers_set_the_variant():
    [record] = read_text("ZH-tw\tEN_GB\tNote\n你好\tHello\thi\n")
    assert (record.zh, record.en, record.note) == ("你好", "Hello", "hi")
    assert (record.zh_lang, record.en_lang) == ("ZH-tw", "EN_GB")
    [record] = read_text("EN\tChinese\nHello\t你好\n")
    assert (record.zh, record.en, record.zh_lang) == ("你好", "Hello", "zh-CN")


def test_metadata_columns_and_props():
    text = (
        "en,zh,creationdate,changedate,usagecount,status,creationid,doc_title,doc_url,"
        "context_prev,context_next,prop:client,prop:client,Prop:domain\n"
        "Hi,你好,2019-05-14T08:30:00Z,20190515T000000Z,3,Draft,li,标题,https://example.org,"
        "前一句,后一句,ACME,,health\n"
    )
    [record] = read_text(text, "csv")
    assert record.creationdate == datetime(2019, 5, 14, 8, 30, tzinfo=UTC)
    assert record.changedate == datetime(2019, 5, 15, tzinfo=UTC)
    assert (record.usagecount, record.status, record.creationid) == (3, "draft", "li")
    assert (record.doc_title, record.doc_url) == ("标题", "https://example.org")
    assert (record.context_prev, record.context_next) == ("前一句", "后一句")
    assert record.props == (("client", "ACME"), ("domain", "health"))


def test_utf16_excel_unicode_text_export():
    data = "zh\ten\r\n你好\tHello\r\n".encode("utf-16")
    [record] = list(read_table(io.BytesIO(data)))
    assert (record.zh, record.en) == ("你好", "Hello")


def test_blank_lines_are_skipped():
    assert len(read_text("zh\ten\n\n你好\tHello\n\n")) == 1


# --------------------------------------------------------------------------- bad input, with lines


def test_missing_column():
    expect_error("zh\tnote\n你好\tx\n", 1, "missing column 'en'")
    expect_error("\n\nen,note\nHi,x\n", 3, "missing column 'zh'", dialect="csv")


def test_unknown_and_duplicate_columns():
    expect_error("zh\ten\tnotes\n", 1, "unknown column 'notes'", "prop:NAME")
    expect_error("zh\ten\tfr\n", 1, "unknown column 'fr'")
    expect_error("zh\ten\tzh-CN\n", 1, "appears twice")


def test_empty_side():
    expect_error("zh\ten\n你好\tHello\n再见\t \n", 3, "English side")
    expect_error("zh,en\n你好,Hello\n\n,Bye\n", 4, "Chinese side", dialect="csv")


def test_bad_date_count_status():
    expect_error("zh\ten\tcreationdate\n你\tyou\t2019-05-14\n他\the\t14/05/2019\n", 3, "creationdate", "14/05/2019")
    expect_error("zh\ten\tusagecount\n你\tyou\tmany\n", 2, "usagecount")
    expect_error("zh\ten\tstatus\n你\tyou\tfinal\n", 2, "status")
    expect_error("zh\ten\tzh_lang\n你\tyou\tfr\n", 2, "unsupported language")


def test_wrong_number_of_cells():
    expect_error("zh\ten\n你好\tHello\n你好\tHello\textra\n", 3, "expected 2 cells")


def test_invalid_utf8():
    expect_error(b"zh\ten\n\xe4\xbd\xa0\tyou\n\xc4\xe3\thello\n", 3, "UTF-8")


def test_malformed_csv_names_the_line():
    # a quoted field may span lines: the error is on the line where it breaks
    expect_error('zh,en\n"你好\n世界",Hi\n"bad"x,y\n', 4, "malformed CSV", dialect="csv")


def test_empty_file():
    expect_error("", 1, "empty")


# --------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    "filename, start, expected",
    [
        ("memory.tmx", b'<?xml version="1.0"?><tmx', "tmx"),
        ("export.txt", b'\xef\xbb\xbf  <?xml version="1.0"?>', "tmx"),
        (None, "<?xml".encode("utf-16"), "tmx"),
        ("pairs.TSV", b"zh,en\n", "tsv"),
        ("pairs.csv", b"zh\ten\n", "csv"),
        ("pairs.txt", b"zh\ten\tnote\n", "tsv"),
        (None, "zh-CN,en-US\n你好,Hi".encode(), "csv"),
        (None, "zh\ten\n".encode("utf-16"), "tsv"),
        # XLIFF: the suffix decides before the content, the root element when the name does not tell.
        ("job.xlf", b"zh\ten\n", "xliff"),
        ("JOB.XLIFF", b"", "xliff"),
        (None, b'<?xml version="1.0"?>\n<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">', "xliff"),
        ("memory.tmx", b'\xef\xbb\xbf<xliff version="2.0" srcLang="zh-CN">', "xliff"),
        (None, '<?xml version="1.0" encoding="UTF-16"?><xliff version="2.0">'.encode("utf-16"), "xliff"),
        ("job.txt", b'<?xml version="1.0"?><!-- a comment --><!DOCTYPE x:xliff><x:xliff xmlns:x="u">', "xliff"),
        ("job.txt", b'<?xml version="1.0"?><!-- ' + b"x" * 5000, "tmx"),
        ("job.txt", b'<?xml version="1.0"?><!-- ' + b"x" * 3000 + b" --><xliff", "xliff"),
        ("memory.tmx", b'<?xml version="1.0"?><!-- exported from <xliff> --><tmx version="1.4">', "tmx"),
        ("pairs.tsv", b"zh\ten\n<xliff>\t<xliff>\n", "tsv"),
    ],
)
def test_sniff_format(filename, start, expected):
    assert sniff_format(filename, start) == expected


def test_sniff_format_refuses_what_it_cannot_tell():
    with pytest.raises(ImportFormatError, match="cannot tell"):
        sniff_format("notes.txt", b"just some words\n")


@pytest.mark.parametrize("dialect", DIALECTS + ["tmx"])
def test_read_units_picks_the_reader(dialect):
    records = [grouped(r) for r in rich_records(wmt_lines(limit=20))]
    if dialect == "tmx":
        data = io.BytesIO()
        write_tmx(records, data)
        data = data.getvalue()
    else:
        data = table(records, dialect).encode("utf-8")
    assert list(read_units(io.BytesIO(data), f"upload.{dialect}")) == records
    assert list(read_units(io.BytesIO(data))) == records  # sniffed from content alone


def test_read_units_reads_xliff_too():
    data = ('<?xml version="1.0" encoding="UTF-8"?>\n<xliff version="2.0" '
            'xmlns="urn:oasis:names:tc:xliff:document:2.0" srcLang="zh-CN" trgLang="en">'
            '<file id="f"><unit id="u"><segment state="final"><source>中国</source><target>China</target>'
            '</segment></unit></file></xliff>').encode()
    assert [(r.zh, r.en) for r in read_units(io.BytesIO(data))] == [("中国", "China")]


# --------------------------------------------------------------------------- shipped demo files

DEMO = Path(__file__).resolve().parents[2] / "demo"


@pytest.mark.parametrize(
    "name, pairs", [("seed_article.tsv", 20), ("public_health_cc0.tsv", 2100), ("everyday_ccby.tsv", 3000)]
)
def test_demo_files_read_and_keep_their_provenance(name, pairs):
    with (DEMO / name).open("rb") as stream:
        records = list(read_table(stream))
    assert len(records) == pairs
    props = [dict(r.props) for r in records]
    if name == "everyday_ccby.tsv":
        # CC-BY 2.0 FR: every pair keeps its own Tatoeba attribution.
        assert all(p["attribution"].startswith("CC-BY 2.0 (France) Attribution: tatoeba.org #") for p in props)
    if name == "public_health_cc0.tsv":
        assert all(p["license"] == "CC0-1.0" for p in props)
    if name == "seed_article.tsv":
        assert records[0].doc_title == records[0].en  # the title unit
        for before, after in itertools.pairwise(records):
            assert before.context_next == after.zh and after.context_prev == before.zh


def test_no_wmt_text_is_shipped():
    """WMT news sets may be used in place but never copied into the repository."""
    wmt = SHARED / "data" / "parallel" / "wmt_newstest_zh_en"
    require_shared(wmt)
    news = {line.strip() for path in wmt.glob("*.zh") for line in path.read_text(encoding="utf-8").splitlines()}
    news |= {line.strip() for path in wmt.glob("*.en") for line in path.read_text(encoding="utf-8").splitlines()}
    news.discard("")
    for path in DEMO.glob("*.tsv"):
        with path.open("rb") as stream:
            shipped = {text.strip() for r in read_table(stream) for text in (r.zh, r.en)}
        assert not shipped & news, path.name
