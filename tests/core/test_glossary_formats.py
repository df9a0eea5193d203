"""Exchange formats: TBX-Basic 2008, TBX v3 and CSV/TSV round trips, errors, hostile XML."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from glossary.core.model import (
    CONCEPT_TYPES,
    STATUSES,
    TERM_TYPES,
    Entry,
    GlossaryFormatError,
    Term,
    validate_entry,
)
from glossary.demo import TERMBASE_PATH, load_demo_entries
from glossary.formats.table import dumps_table, iter_table, read_table, write_table
from glossary.formats.tbx import TBX_V3_NS, dumps_tbx, iter_tbx, read_tbx, write_tbx


def tbx_round_trip(entries, dialect):
    return read_tbx(io.BytesIO(dumps_tbx(entries, dialect=dialect)))


def table_round_trip(entries, delimiter="\t"):
    return read_table(io.StringIO(dumps_table(entries, delimiter=delimiter)))


# -- the demo termbase -----------------------------------------------------------------------------

def test_demo_termbase_is_sizeable_and_valid():
    entries = load_demo_entries()
    assert 80 <= len(entries) <= 150
    assert len({e.id for e in entries}) == len(entries)
    for entry in entries:
        validate_entry(entry)
    by_id = {e.id: e for e in entries}
    irees = by_id["cass-irees"]
    assert irees.preferred("en").text == "Institute of Russian, East European and Central Asian Studies"
    seed_form = next(t for t in irees.terms if t.text.startswith("Institute for"))
    assert seed_form.status == "admitted"
    assert by_id["pompeo-secretary-of-state"].valid_from == dt.date(2018, 4, 26)
    assert by_id["pompeo-secretary-of-state"].valid_to == dt.date(2021, 1, 20)
    assert sum(1 for e in entries if e.id.startswith("cass-")) >= 21
    statuses = {t.status for e in entries for t in e.terms}
    assert statuses == set(STATUSES)


@pytest.mark.parametrize("dialect", ["basic2008", "v3"])
def test_demo_round_trips_through_tbx(dialect, tmp_path):
    entries = load_demo_entries()
    path = tmp_path / f"demo-{dialect}.tbx"
    write_tbx(entries, path, dialect=dialect)
    assert read_tbx(path) == entries


@pytest.mark.parametrize("suffix", [".tsv", ".csv"])
def test_demo_round_trips_through_table(suffix, tmp_path):
    entries = load_demo_entries()
    path = tmp_path / f"demo{suffix}"
    write_table(entries, path)
    assert read_table(path) == entries
    if suffix == ".tsv":
        assert path.read_text(encoding="utf-8") == TERMBASE_PATH.read_text(encoding="utf-8")


def test_tbx_2008_structure():
    entry = next(e for e in load_demo_entries() if e.id == "ukraine")
    root = etree.fromstring(dumps_tbx([entry]))
    assert root.tag == "martif" and root.get("type") == "TBX-Basic"
    tig = root.xpath("//termEntry/langSet[@xml:lang='en']/tig[term='the Ukraine']")[0]
    assert tig.xpath("termNote[@type='administrativeStatus']/text()") == ["deprecatedTerm-admn-sts"]
    assert tig.xpath("termNote[@type='x-usageStatus']/text()") == ["forbidden"]
    assert tig.xpath("termNote[@type='partOfSpeech']/text()") == ["properNoun"]


def test_tbx_v3_structure():
    entry = next(e for e in load_demo_entries() if e.id == "cgtn")
    root = etree.fromstring(dumps_tbx([entry], dialect="v3"))
    ns = {"t": TBX_V3_NS}
    assert root.tag == f"{{{TBX_V3_NS}}}tbx" and root.get("style") == "dca"
    terms = root.xpath("//t:conceptEntry[@id='cgtn']/t:langSec/t:termSec/t:term/text()", namespaces=ns)
    assert "China Global Television Network" in terms
    assert root.xpath("//t:conceptEntry/t:admin[@type='x-validFrom']/text()", namespaces=ns) == ["2016-12-31"]


def test_reads_foreign_tbx_with_doctype_ntig_and_language_regions():
    data = b"""<?xml version="1.0"?>
<!DOCTYPE martif SYSTEM "TBXcoreStructV02.dtd">
<martif type="TBX-Basic" xml:lang="en"><text><body>
 <termEntry id="t1">
  <descrip type="subjectField">media</descrip>
  <langSet xml:lang="zh-CN"><tig><term> \xe4\xba\xba\xe6\xb0\x91\xe6\x97\xa5\xe6\x8a\xa5 </term></tig></langSet>
  <langSet xml:lang="en-US"><ntig><termGrp><term>People's Daily</term>
   <termNote type="administrativeStatus">admittedTerm-admn-sts</termNote></termGrp></ntig>
   <tig><term>Old name</term><termNote type="administrativeStatus">supersededTerm-admn-sts</termNote></tig></langSet>
  <langSet xml:lang="fr"><tig><term>Quotidien du Peuple</term></tig></langSet>
 </termEntry>
 <termEntry id="t2"><langSet xml:lang="de"><tig><term>Volkszeitung</term></tig></langSet></termEntry>
 </body></text></martif>"""
    [entry] = read_tbx(io.BytesIO(data))
    assert [(t.lang, t.text, t.status) for t in entry.terms] == [
        ("zh", "人民日报", "preferred"), ("en", "People's Daily", "admitted"), ("en", "Old name", "deprecated")]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.builds(
    Term,
    lang=st.sampled_from(["zh", "en"]),
    text=st.text(st.characters(exclude_categories=("Cs", "Cc", "Cn", "Zs", "Zl", "Zp")), min_size=1, max_size=12),
    status=st.sampled_from(STATUSES),
    case_sensitive=st.booleans(),
    do_not_translate=st.booleans(),
    valid_from=st.none() | st.dates(max_value=dt.date(2000, 1, 1)),
    valid_to=st.none() | st.dates(min_value=dt.date(2000, 1, 2)),
    note=st.text(st.characters(exclude_categories=("Cs", "Cc", "Cn")), max_size=10),
    term_type=st.none() | st.sampled_from(TERM_TYPES),
), min_size=1, max_size=4, unique_by=lambda t: (t.lang, t.text)),
    st.sampled_from(CONCEPT_TYPES),
    st.text(st.characters(exclude_categories=("Cs", "Cc", "Cn")), max_size=15))
def test_any_valid_entry_round_trips(terms, concept_type, note):
    entry = Entry("e1", concept_type, terms, definition=note, note=note, source=note)
    assert tbx_round_trip([entry], "basic2008") == [entry]
    assert tbx_round_trip([entry], "v3") == [entry]
    assert table_round_trip([entry]) == [entry]
    assert table_round_trip([entry], ",") == [entry]


def test_entry_without_id_round_trips_through_tbx():
    entry = Entry(None, "place", [Term("zh", "索契"), Term("en", "Sochi")])
    assert tbx_round_trip([entry], "basic2008") == [entry]
    assert tbx_round_trip([entry], "v3") == [entry]
    with pytest.raises(GlossaryFormatError, match="entry #1"):
        dumps_table([entry])


def test_reading_is_streamed():
    entries = load_demo_entries()
    stream = iter_tbx(io.BytesIO(dumps_tbx(entries)))
    assert next(stream) == entries[0]
    rows = iter_table(io.StringIO(dumps_table(entries)))
    assert next(rows) == entries[0]


# -- bad TBX ----------------------------------------------------------------------------------------

def tbx(body: str, *, lead: str = "") -> io.BytesIO:
    text = (f'<?xml version="1.0"?>\n{lead}<martif type="TBX-Basic" xml:lang="en"><text><body>\n'
            f'{body}\n</body></text></martif>')
    return io.BytesIO(text.encode())


GOOD = '<termEntry id="ok"><langSet xml:lang="zh"><tig><term>索契</term></tig></langSet></termEntry>\n'


@pytest.mark.parametrize("body, entry, line, reason", [
    (GOOD + '<termEntry id="e2"><langSet><tig><term>x</term></tig></langSet></termEntry>',
     "e2", 4, "missing its xml:lang"),
    (GOOD + '<termEntry id="e2"><langSet xml:lang="en"><tig><term>  </term></tig></langSet></termEntry>',
     "e2", 4, "empty term"),
    (GOOD + '<termEntry><langSet xml:lang="en"><tig><term>Sochi</term>'
     '<termNote type="administrativeStatus">bannedTerm-admn-sts</termNote></tig></langSet></termEntry>',
     "#2", 4, "unknown status"),
    (GOOD + '<termEntry id="e2"><langSet xml:lang="en"><tig><term>Sochi</term></tig>'
     '<tig><term>Sochi</term></tig></langSet></termEntry>', "e2", 4, "duplicate term"),
    (GOOD + GOOD, "ok", 4, "duplicate entry id"),
    (GOOD + '<termEntry id="e2"><langSet xml:lang="en"><tig><term>Sochi</tig></langSet></termEntry>',
     "#2", 4, "broken XML"),
    (GOOD + '<termEntry id="e2"><descrip type="x-conceptType">planet</descrip>'
     '<langSet xml:lang="en"><tig><term>Mars</term></tig></langSet></termEntry>', "e2", 4, "unknown concept type"),
    (GOOD + '<termEntry id="e2"><langSet xml:lang="en"><tig><term>Mars</term>'
     '<admin type="x-validFrom">May 2019</admin></tig></langSet></termEntry>', "e2", 4, "not an ISO date"),
])
def test_tbx_errors_name_entry_and_line(body, entry, line, reason):
    with pytest.raises(GlossaryFormatError) as info:
        read_tbx(tbx(body))
    err = info.value
    assert (err.entry, err.line) == (entry, line)
    assert reason in str(err) and f"entry {entry}" in str(err) and f"line {line}" in str(err)


def test_not_tbx_and_empty():
    assert read_tbx(io.BytesIO(dumps_tbx([], dialect="v3"))) == []
    with pytest.raises(GlossaryFormatError, match="not a TBX file"):
        read_tbx(io.BytesIO(b"<tmx/>"))
    with pytest.raises(GlossaryFormatError, match="broken XML"):
        read_tbx(io.BytesIO(b""))


def test_entity_expansion_bomb_is_refused():
    lead = ('<!DOCTYPE martif [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>\n')
    body = '<termEntry id="bomb"><langSet xml:lang="en"><tig><term>&d;&d;&d;&d;</term></tig></langSet></termEntry>'
    with pytest.raises(GlossaryFormatError, match="entit"):
        read_tbx(tbx(body, lead=lead))


def test_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    lead = f'<!DOCTYPE martif [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'
    body = '<termEntry id="xxe"><langSet xml:lang="en"><tig><term>&xxe;</term></tig></langSet></termEntry>'
    with pytest.raises(GlossaryFormatError, match="entit") as info:
        read_tbx(tbx(body, lead=lead))
    assert "TOP-SECRET" not in str(info.value)


def test_undeclared_entity_with_external_dtd_is_refused():
    lead = '<!DOCTYPE martif SYSTEM "http://example.invalid/tbx.dtd">\n'
    body = '<termEntry id="e1"><langSet xml:lang="en"><tig><term>&foo;</term></tig></langSet></termEntry>'
    with pytest.raises(GlossaryFormatError, match="entity") as info:
        read_tbx(tbx(body, lead=lead))
    assert info.value.entry == "e1"


def test_write_refuses_invalid_entry():
    with pytest.raises(GlossaryFormatError, match="entry x: .*missing its language"):
        dumps_tbx([Entry("x", "other", [Term("", "某")])])
    with pytest.raises(GlossaryFormatError, match="entry #2: .*control character"):
        dumps_tbx([Entry("a", "other", [Term("en", "A")]), Entry(None, "other", [Term("en", "B\x00")])])
    with pytest.raises(GlossaryFormatError, match="line break"):
        dumps_table([Entry("x", "other", [Term("en", "two\nlines")])])
    with pytest.raises(ValueError, match="dialect"):
        dumps_tbx([], dialect="tbx1")


# -- bad tables ---------------------------------------------------------------------------------------

HEADER = "entry_id\tconcept_type\tlang\tterm\tstatus\n"


@pytest.mark.parametrize("rows, entry, line, reason", [
    ("a\tplace\tzh\t索契\t\na\t\t\tSochi\t\n", "a", 3, "missing its language"),
    ("a\tplace\tzh\t索契\t\na\t\ten\t\t\n", "a", 3, "empty"),
    ("a\tplace\tzh\t索契\t\na\t\ten\tSochi\tbanned\n", "a", 3, "unknown status"),
    ("a\tplace\tzh\t索契\t\na\t\tzh\t索契\tadmitted\n", "a", 3, "duplicate term"),
    ("a\tplace\tzh\t索契\t\nb\tplace\ten\tSochi\t\na\t\ten\tSochi\t\n", "a", 4, "duplicate entry id"),
    ("a\tplace\tzh\t索契\t\na\tevent\ten\tSochi\t\n", "a", 3, "conflicts"),
    ("a\tplanet\ten\tMars\t\n", "a", 2, "unknown concept type"),
])
def test_table_errors_name_entry_and_line(rows, entry, line, reason):
    with pytest.raises(GlossaryFormatError) as info:
        read_table(io.StringIO(HEADER + rows))
    err = info.value
    assert (err.entry, err.line) == (entry, line)
    assert reason in str(err)


def test_table_header_errors_and_quoted_multiline_fields():
    with pytest.raises(GlossaryFormatError, match="unknown column.*'langue'"):
        read_table(io.StringIO("entry_id\tlangue\tterm\n"))
    with pytest.raises(GlossaryFormatError, match="missing column.*lang"):
        read_table(io.StringIO("entry_id,term\n"))
    data = 'entry_id,lang,term,term_note\na,zh,索契,"two\nlines"\nb,en,Mars,\nb,en,,\n'
    with pytest.raises(GlossaryFormatError) as info:
        read_table(io.StringIO(data))
    assert (info.value.entry, info.value.line) == ("b", 5)
