"""TMX 1.4b: round trips on real data, an independent reader, bad input, safety, streaming."""

from __future__ import annotations

import io
import os
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.helpers import T0, rich_records, wmt_lines
from tm.formats.records import ImportFormatError, UnitRecord
from tm.formats.tmx import format_tmx_date, iter_tmx, parse_tmx_date, read_tmx, write_tmx


def to_bytes(records, **kwargs) -> bytes:
    buffer = io.BytesIO()
    write_tmx(records, buffer, **kwargs)
    return buffer.getvalue()


def test_chunks_join_to_the_written_document():
    records = rich_records([(f"第{i}句。", f"Sentence {i}.") for i in range(1, 1101)])
    chunks = list(iter_tmx(records, units_per_chunk=500))
    assert len(chunks) == 3  # after units 500 and 1,000, then the rest with the closing tags
    assert b"".join(chunks) == to_bytes(records)
    assert read_bytes(b"".join(chunks)) == records
    assert b"".join(iter_tmx([])) == to_bytes([])


def read_bytes(data: bytes) -> list[UnitRecord]:
    return list(read_tmx(io.BytesIO(data)))


def tmx_doc(body: str, *, header: str = '<header srclang="zh-CN" segtype="sentence"/>') -> bytes:
    """A small TMX document; line 5 is the first line of ``body``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4">\n'
        f"{header}\n<body>\n{body}\n</body>\n</tmx>\n"
    ).encode()


def tu(zh: str = "你好", en: str = "Hello", attrs: str = "") -> str:
    return f'<tu{attrs}><tuv xml:lang="zh-CN"><seg>{zh}</seg></tuv><tuv xml:lang="en-US"><seg>{en}</seg></tuv></tu>'


def expect_error(data: bytes, line: int, *words: str) -> ImportFormatError:
    with pytest.raises(ImportFormatError) as info:
        read_bytes(data)
    err = info.value
    assert err.line == line, str(err)
    assert str(err).startswith(f"line {line}: ")
    for word in words:
        assert word in err.reason, err.reason
    return err


# --------------------------------------------------------------------------- round trips


def test_round_trip_real_news_pairs_is_lossless():
    records = rich_records(wmt_lines())
    data = to_bytes(records)
    assert read_bytes(data) == records


def test_round_trip_with_english_source_and_all_srclang():
    records = rich_records(wmt_lines("newstest2019.eng-zho", 100))
    for srclang in ("en", "en-GB", "*all*", "zh-TW"):
        data = to_bytes(records, srclang=srclang)
        assert read_bytes(data) == records
    root = etree.fromstring(to_bytes(records[:1], srclang="en"))
    assert root.find("header").get("srclang") == "en-US"
    assert root.find("body/tu/tuv").get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"


def test_translate_toolkit_reads_the_same_units_and_metadata():
    """An independent TMX reader (translate-toolkit, a test-only dependency) agrees."""
    tmx = pytest.importorskip("translate.storage.tmx")
    # One variant pair per file: translate-toolkit finds the source <tuv> by the
    # header's exact srclang (a zh-TW unit under srclang zh-CN would have no source).
    records = [
        replace(r, zh_lang="zh-CN", en_lang="en-US")
        for r in rich_records(wmt_lines("newstest2018.zho-eng", 300))
    ]
    store = tmx.tmxfile.parsestring(to_bytes(records))
    assert store.sourcelanguage == "zh-CN"
    units = store.units
    assert len(units) == len(records)
    for unit, record in zip(units, records, strict=True):
        assert unit.source == record.zh
        assert unit.target == record.en
        assert unit.getnotes() == (record.note or "")
        element = unit.xmlelement  # the attributes translate-toolkit parsed
        assert element.get("creationdate") == format_tmx_date(record.creationdate)
        assert element.get("creationid") == record.creationid
        assert element.get("changeid") == record.changeid
        assert int(element.get("usagecount", "0")) == record.usagecount
        props = [(p.get("type"), p.text) for p in element.iterfind("prop")]
        assert ("x-status", record.status) in props
        assert [p for p in props if not p[0].startswith("x-") or p[0] in ("x-domain", "x-tag")] == list(
            record.props
        )


def test_written_header_follows_tmx_14b():
    root = etree.fromstring(to_bytes(rich_records(wmt_lines(limit=2))))
    assert root.tag == "tmx" and root.get("version") == "1.4"
    header = root.find("header")
    assert header.get("creationtool") == "Duizhao"
    assert header.get("segtype") == "sentence"
    assert header.get("datatype") == "plaintext"
    assert header.get("adminlang") and header.get("o-tmf") and header.get("srclang") == "zh-CN"
    first = root.find("body/tu")
    assert first.get("creationdate") == "20190514T083000Z"
    # OmegaT reads <tuv xml:lang> with one <seg>; notes and props precede the tuvs (TMX DTD).
    children = [child.tag for child in first]
    assert children[-2:] == ["tuv", "tuv"] and all(t in ("note", "prop") for t in children[:-2])
    assert [len(tuv.findall("seg")) for tuv in first.iterfind("tuv")] == [1, 1]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), min_size=1).filter(str.strip),
            st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")) | st.sampled_from("\t\n\r"),
                    min_size=1).filter(str.strip),
            st.none() | st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), min_size=1),
        ),
        max_size=5,
    )
)
def test_any_xml_safe_text_round_trips(rows):
    records = [UnitRecord(zh=zh, en=en, note=note, props=(("p", note or ""),)) for zh, en, note in rows]
    assert read_bytes(to_bytes(records)) == records


def test_an_empty_memory_round_trips():
    buffer = io.BytesIO()
    assert write_tmx([], buffer) == 0
    assert read_bytes(buffer.getvalue()) == []


def test_dates_in_tmx_form_and_iso():
    assert parse_tmx_date("20190514T083000Z") == T0
    assert parse_tmx_date("2019-05-14T08:30:00Z") == T0
    assert parse_tmx_date("2019-05-14T16:30:00+08:00") == T0
    assert format_tmx_date(datetime(2019, 5, 14, 16, 30, tzinfo=timezone(timedelta(hours=8)))) == "20190514T083000Z"
    with pytest.raises(ValueError):
        parse_tmx_date("yesterday")


def test_characters_xml_cannot_hold_are_dropped_or_refused():
    record = UnitRecord(zh="退格\x08键", en="back\x00space\ufffe", note="a\x1fb")
    [back] = read_bytes(to_bytes([record]))
    assert (back.zh, back.en, back.note) == ("退格键", "backspace", "ab")
    with pytest.raises(ValueError, match="unit 2: note contains U\\+001F"):
        to_bytes([UnitRecord(zh="好", en="good"), record], invalid_xml="error")


# --------------------------------------------------------------------------- reading what others write


def test_header_srclang_all_and_tmx_11_lang_attribute():
    body = '<tu><tuv lang="EN"><seg>Hello</seg></tuv><tuv lang="ZH-CN"><seg>你好</seg></tuv></tu>'
    [record] = read_bytes(tmx_doc(body, header='<header srclang="*all*"/>'))
    assert (record.zh, record.en, record.zh_lang, record.en_lang) == ("你好", "Hello", "ZH-CN", "EN")


def test_multilingual_memory_keeps_zh_and_en_only():
    body = (
        '<tu><tuv xml:lang="fr-FR"><seg>Bonjour</seg></tuv><tuv xml:lang="zh-TW"><seg>你好</seg></tuv>'
        '<tuv xml:lang="zh-CN"><seg>你好啊</seg></tuv><tuv xml:lang="en-GB"><seg>Hello</seg></tuv></tu>'
    )
    [record] = read_bytes(tmx_doc(body))
    assert (record.zh, record.zh_lang, record.en) == ("你好", "zh-TW", "Hello")


def test_tuv_level_metadata_notes_and_props_are_kept():
    body = (
        '<tu tuid="7"><note>unit note</note><prop type="client">ACME</prop>\n'
        '<tuv xml:lang="zh-CN" creationdate="20180101T000000Z" creationid="src">'
        '<prop type="x-zh">z</prop><seg>你好</seg></tuv>\n'
        '<tuv xml:lang="en-US" creationdate="20190101T000000Z" creationid="tgt" changedate="20190102T000000Z"'
        ' usagecount="4"><note>tuv note</note><seg>Hello</seg></tuv></tu>'
    )
    [record] = read_bytes(tmx_doc(body))
    # The translation's variant (English, as srclang is zh) supplies what the unit lacks.
    assert record.creationdate == datetime(2019, 1, 1, tzinfo=UTC)
    assert record.changedate == datetime(2019, 1, 2, tzinfo=UTC)
    assert (record.creationid, record.usagecount) == ("tgt", 4)
    assert record.note == "unit note\n\ntuv note"
    assert record.props == (("client", "ACME"), ("x-zh", "z"))


def test_inline_markup_keeps_text_and_drops_codes():
    body = (
        '<tu><tuv xml:lang="zh-CN"><seg>点击<bpt i="1">&lt;b&gt;</bpt>这里<ept i="1">&lt;/b&gt;</ept>。'
        '<ph x="2">&lt;br/&gt;</ph><it pos="begin">&lt;i&gt;</it>斜体</seg></tuv>'
        '<tuv xml:lang="en-US"><seg>Click <bpt i="1">{\\b </bpt>here<ept i="1">}</ept>. '
        '<hi type="emphasis">Really <ph>&lt;x/&gt;</ph>now</hi><ut>{\\i}</ut>!'
        '<ph>footnote<sub>a sub-flow</sub></ph></seg></tuv></tu>'
    )
    [record] = read_bytes(tmx_doc(body))
    assert record.zh == "点击这里。斜体"
    assert record.en == "Click here. Really now!"


def test_whitespace_and_escapes_inside_seg_are_kept_exactly():
    [record] = read_bytes(tmx_doc(tu(zh="  你&amp;我&lt;他&gt; ", en="a&#x9;b&#13;\nc ")))
    assert record.zh == "  你&我<他> "
    assert record.en == "a\tb\r\nc "


def test_utf16_and_declared_gbk_files_read():
    text = tmx_doc(tu()).decode("utf-8")
    [record] = read_bytes(text.replace("UTF-8", "UTF-16").encode("utf-16"))
    assert record.zh == "你好"
    [record] = read_bytes(text.replace("UTF-8", "GBK").encode("gbk"))
    assert record.zh == "你好"


# --------------------------------------------------------------------------- bad input, with lines


def test_unclosed_tag():
    body = tu() + "\n" + '<tu><tuv xml:lang="zh-CN"><seg>你好</seg></tuv>'
    # libxml2 notices at </body> (line 7) that the <tu> of line 6 was never closed.
    expect_error(tmx_doc(body), 7, "malformed XML", "tu line 6")


def test_invalid_utf8():
    data = tmx_doc(tu() + "\n" + tu(zh="XX")).replace(b"XX", b"\xff\xfe")
    expect_error(data, 6, "encoding")


def test_undeclared_legacy_encoding():
    data = tmx_doc(tu() + "\n" + tu(zh="GG")).replace(b"GG", "中文".encode("gbk"))
    expect_error(data, 6, "encoding")


def test_wrongly_declared_encoding():
    data = tmx_doc(tu()).replace(b"UTF-8", b"UTF-9")
    expect_error(data, 1, "encoding", "UTF-9")


def test_tu_without_chinese_or_english():
    no_zh = '<tu><tuv xml:lang="en-US"><seg>Hello</seg></tuv><tuv xml:lang="fr"><seg>Salut</seg></tuv></tu>'
    err = expect_error(tmx_doc(tu() + "\n\n" + no_zh), 7, "<tu> has no Chinese variant", "it has fr")
    assert "zh-CN" in err.reason  # the supported codes are listed when other languages were found
    no_en = '<tu>\n<tuv xml:lang="zh-CN"><seg>你好</seg></tuv></tu>'
    expect_error(tmx_doc(no_en), 5, "<tu> has no English variant")


def test_empty_segment_missing_seg_and_missing_lang():
    expect_error(tmx_doc(tu() + "\n" + tu(en=" ")), 6, "empty <seg>")
    no_seg = '<tu><tuv xml:lang="zh-CN"><seg>你</seg></tuv><tuv xml:lang="en-US"></tuv></tu>'
    expect_error(tmx_doc(no_seg), 5, "no <seg>")
    no_lang = '<tu><tuv><seg>你</seg></tuv></tu>'
    expect_error(tmx_doc(no_lang), 5, "no xml:lang")


def test_bad_metadata():
    expect_error(tmx_doc(tu(attrs=' creationdate="14/05/2019"')), 5, "creationdate", "14/05/2019")
    expect_error(tmx_doc(tu(attrs=' usagecount="many"')), 5, "usagecount")
    status = '<tu><prop type="x-status">maybe</prop>' + tu()[4:]
    expect_error(tmx_doc(status), 5, "x-status")


def test_undefined_entity():
    expect_error(tmx_doc(tu() + "\n" + tu(en="&nbsp;")), 6, "malformed XML", "nbsp")


def test_not_tmx_and_empty():
    expect_error(b'<?xml version="1.0"?>\n<xliff version="1.2"><file/></xliff>', 2, "not a TMX file")
    expect_error(b"", 1, "empty")


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE tmx [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>\n<tmx version=\"1.4\"><header srclang=\"zh\"/><body>\n"
    + tu(zh="&lol9;").encode()
    + b"\n</body></tmx>\n"
)


def test_entity_expansion_bomb_is_refused_not_expanded():
    tracemalloc.start()
    try:
        err = expect_error(BILLION_LAUGHS, 3, "entity", "lol")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "lol" * 100 not in str(err)
    assert peak < 5_000_000  # one billion "lol"s would be 3 GB


def test_external_entity_is_refused_and_the_file_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE tmx [\n<!ENTITY xxe SYSTEM "{secret.as_uri()}">\n]>\n'
        '<tmx version="1.4"><header srclang="zh"/><body>\n'
        + tu(en="&xxe;")
        + "\n</body></tmx>\n"
    ).encode()
    err = expect_error(data, 3, "external entity", "xxe")
    assert "TOP-SECRET" not in str(err)


def test_external_dtd_is_never_loaded(tmp_path):
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY x "TOP-SECRET-CONTENT">', encoding="utf-8")
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE tmx SYSTEM "{dtd.as_uri()}">\n'
        '<tmx version="1.4"><header srclang="zh"/><body>\n'
        + tu(zh="a&x;b")
        + "\n</body></tmx>\n"
    ).encode()
    err = expect_error(data, 4, "entity")
    assert "TOP-SECRET" not in str(err)


def test_records_before_an_error_are_yielded_first():
    units = read_tmx(io.BytesIO(tmx_doc(tu() + "\n" + tu(en=""))))
    assert next(units).zh == "你好"
    with pytest.raises(ImportFormatError):
        next(units)


# --------------------------------------------------------------------------- streaming


def _big_tmx(path: Path, units: int) -> None:
    """A TMX file of ``units`` units: the writer's own output, its body repeated."""
    block = 1000
    pairs = wmt_lines("newstest2017.zho-eng", block)
    sample = to_bytes(UnitRecord(zh=z, en=e, creationdate=T0, creationid="bench") for z, e in pairs)
    start = sample.index(b"<body>") + len(b"<body>")
    end = sample.index(b"</body>")
    with path.open("wb") as out:
        out.write(sample[:start])
        for _ in range(units // len(pairs)):
            out.write(sample[start:end])
        out.write(sample[end:])


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return None


def test_reading_200k_units_runs_in_flat_memory(tmp_path):
    path = tmp_path / "big.tmx"
    _big_tmx(path, 200_000)
    assert path.stat().st_size > 50_000_000
    rss = []
    # tracemalloc slows every allocation about eightfold, so it watches the last
    # 20,000 units only (by then 180,000 would have piled up if any were kept);
    # RSS, sampled throughout, covers libxml2's memory, which tracemalloc cannot see.
    try:
        with path.open("rb") as stream:
            for count, record in enumerate(read_tmx(stream), start=1):
                last = record
                if count % 20_000 == 0:
                    rss.append(_rss_bytes())
                if count == 180_000:
                    tracemalloc.start()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert last.creationid == "bench"
    # Python objects: a few records at a time.  Loose bound, not a benchmark.
    assert peak < 20_000_000, peak
    # libxml2's tree (invisible to tracemalloc): a kept tree would grow by hundreds of MB.
    if rss[0] is not None:
        assert max(rss) - rss[0] < 40_000_000, rss
