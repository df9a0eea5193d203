"""A translator's own XLIFF, pre-translated and given back whole (issue 16).

The files are written here as CAT tools write them (zh-en XLIFF 1.2 with groups, notes, context
groups, another tool's <alt-trans>, extension elements, single quotes, character references and
CDATA; en-zh XLIFF 2.0 with the metadata, matches and glossary modules, <originalData>,
ignorables and several segments a unit), with real news sentences from ../shared and inline
codes of every kind. Each is checked as the issue asks: strip the targets, pre-translate from a
memory that holds the file's own translations, and (1) every byte outside the filled targets is
the stripped file's, (2) at least 95% of the targets come back as they were, (3)
translate-toolkit and lxml read the result, (4) a second run changes nothing.
"""
from __future__ import annotations

import io
import re

import pytest
from lxml import etree

from tests.helpers import wmt_pairs
from tests.xliff_samples import esc, files, strip_ours, strip_targets, targets
from tm.core.inline import Code, place
from tm.core.match import Candidate, rank
from tm.formats.records import ImportFormatError
from tm.formats.xliff import NS_12, read_xliff
from tm.formats.xliff_pretranslate import NS_MTC
from tm.pretranslate import pretranslate_file

PAIRS = wmt_pairs(1)


def memory_of(data: bytes):
    """A lookup over the units the XLIFF importer learns from ``data``: its own translations,
    ranked by the TM's own scorer."""
    records = list(read_xliff(io.BytesIO(data)))

    def lookup(segments, src, tgt):
        candidates = [Candidate(unit_id=i, source=getattr(r, src), target=getattr(r, tgt), memory="file",
                                penalties=()) for i, r in enumerate(records, 1)]
        return [[m.to_dict() for m in rank(s, candidates, lang=src, min_score=50, limit=3)] for s in segments]
    return lookup


@pytest.fixture(scope="module")
def made():
    return files()


@pytest.mark.parametrize("name, encoding", [("xliff12", "UTF-8"), ("xliff20", "UTF-8"), ("xliff12", "GB18030"),
                                            ("xliff12", "UTF-16")])
def test_round_trip(made, name, encoding):
    text, unplaceable = made[name]
    if encoding != "UTF-8":
        text = re.sub(r"encoding='UTF-8'", f"encoding='{encoding}'", text)
    original = text.encode(encoding)
    stripped = strip_targets(text).encode(encoding)
    lookup = memory_of(original)

    out, report = pretranslate_file(stripped, lookup, mode="both")
    # (1) Byte for byte outside what was filled: take the fills and candidates away again.
    assert strip_ours(out.decode(encoding)).encode(encoding) == stripped
    # (2) The targets come back as they were, inline codes in place; the unplaceable offered.
    before, after = targets(original), targets(out)
    same = [key for key in before if after.get(key) == before[key]]
    assert len(same) / len(before) >= 0.95, sorted(set(before) - set(same))
    assert report.filled_exact + report.filled_fuzzy == len(after) >= len(same)
    assert report.codes_not_placed == len(unplaceable)
    missing = {k.split("/")[0] for k in before if k not in after}
    assert missing == set(unplaceable)
    assert report.left_empty == len(unplaceable) + 1  # and the segment nobody translated
    # (3) lxml and translate-toolkit (an independent reader) read the result.
    root = etree.fromstring(out)
    if name == "xliff12":
        from translate.storage.xliff import xlifffile
        store = xlifffile.parsestring(out)
        read = {u.getid(): u.target for u in store.units if u.target}
        assert len(read) == len(after)
        assert root.find(f".//{{{NS_12}}}alt-trans[@origin='duizhao']") is not None
    else:
        from translate.storage.xliff2 import Xliff2File
        store = Xliff2File.parsestring(out)
        assert sum(1 for u in store.units if u.target) == len(after)
        assert root.find(f".//{{{NS_MTC}}}match[@origin='duizhao']") is not None
    # (4) Running twice changes nothing.
    again, second = pretranslate_file(out, lookup, mode="both")
    assert again == out
    assert second.skipped_translated == len(after) and second.filled_exact + second.filled_fuzzy == 0


def test_fill_mode_writes_no_candidates_but_the_unplaceable(made):
    text, unplaceable = made["xliff12"]
    original, stripped = text.encode(), strip_targets(text).encode()
    out, report = pretranslate_file(stripped, memory_of(original), mode="fill")
    root = etree.fromstring(out)
    offered = root.findall(f".//{{{NS_12}}}alt-trans[@origin='duizhao']")
    assert [a.getparent().get("id") for a in offered] == unplaceable
    assert report.with_candidates == len(unplaceable)


def test_candidates_mode_fills_nothing(made):
    text, _ = made["xliff20"]
    stripped = strip_targets(text).encode()
    out, report = pretranslate_file(stripped, memory_of(text.encode()), mode="candidates")
    assert report.filled_exact + report.filled_fuzzy == 0 and targets(out) == {}
    assert report.with_candidates == report.segments - 1
    assert pretranslate_file(out, memory_of(text.encode()), mode="candidates")[0] == out


def test_a_person_s_target_is_never_replaced():
    zh, en = PAIRS[0]
    data = (f'<?xml version="1.0"?>\n<xliff version="1.2" xmlns="{NS_12}"><file source-language="zh" '
            f'target-language="en" original="a"><body><trans-unit id="1"><source>{esc(zh)}</source>'
            f'<target state="translated">My own.</target></trans-unit></body></file></xliff>').encode()
    out, report = pretranslate_file(data, memory_of(data.replace(b"My own.", esc(en).encode())))
    assert out == data and report.skipped_translated == 1


@pytest.mark.parametrize("data, words", [
    (b'<?xml version="1.0"?>\n<tmx version="1.4"/>', "not an XLIFF"),
    (f'<xliff version="1.2" xmlns="{NS_12}"><file source-language="de" target-language="en"><body/></file>'
     '</xliff>'.encode(), "not Chinese and English"),
    (f'<xliff version="1.2" xmlns="{NS_12}">\n<file source-language="zh" target-language="en">\n<body>'
     '<trans-unit id="1"><source>a</trans-unit></body></file></xliff>'.encode(), "line 3"),
])
def test_wrong_files_are_refused(data, words):
    with pytest.raises(ImportFormatError) as caught:
        pretranslate_file(data, lambda segments, _src, _tgt: [[] for _ in segments])
    assert words in str(caught.value.message)


# ------------------------------------------------------------------ placing codes

def codes(*spec):
    return [Code(offset, kind, raw, pair) for offset, kind, raw, pair in spec]


def test_codes_at_the_edges_keep_punctuation_outside():
    source = "Hello world."
    found = place(source, "你好，世界。", codes((0, "open", "<g>", 1), (11, "close", "</g>", 1),
                                             (12, "standalone", "<x/>", None)))
    assert found == [0, 5, 6]


def test_an_interior_code_goes_next_to_a_shared_number():
    source = "价格上涨了3%。"
    assert place(source, "Prices rose by 3%.", codes((5, "standalone", "<ph/>", None))) == [15]
    assert place("Prices rose by 3%.", source, codes((15, "standalone", "<ph/>", None))) == [5]


def test_a_code_between_words_cannot_be_placed():
    assert place("双方同意加强合作。", "Both sides agreed to strengthen cooperation.",
                 codes((4, "open", "<g>", 1), (6, "close", "</g>", 1))) is None


def test_fragments_are_offered_in_xliff_2_where_no_match_is_good_enough():
    zh, en = PAIRS[0]
    data = (f'<xliff version="2.0" xmlns="urn:oasis:names:tc:xliff:document:2.0" srcLang="zh" trgLang="en">'
            f'<file id="f"><unit id="u"><segment id="s"><source>{esc(zh)}</source></segment></unit>'
            f'<unit id="v"><segment id="s"><source>{esc(zh)}</source></segment></unit></file></xliff>').encode()
    run = zh[2:6]
    asked = []

    def fragments(segments, src, tgt):
        asked.extend(segments)
        return [[{"source": run, "start": 2, "end": 6, "units": 3,
                  "translations": [{"text": "a <run>", "confidence": 0.8}]}] for _ in segments]

    def lookup(segments, src, tgt):  # the second unit has a match, the first none good enough
        return [[{"source": zh, "target": en, "score": 60 if n == 0 else 100}] for n, _ in enumerate(segments)]

    out, report = pretranslate_file(data, lookup, fragments=fragments)
    assert asked == [zh] and report.filled_exact == 1
    root = etree.fromstring(out)
    (piece,) = root.iterfind(f".//{{{NS_MTC}}}match[@subType='duizhao:fragment']")
    assert piece.getparent().getparent().get("id") == "u" and piece.get("type") == "tm"
    assert float(piece.get("similarity")) == round(100 * len(run) / len(zh), 1) < 75
    assert piece[0].text == run and piece[1].text == "a <run>"
    assert root.find(".//{urn:oasis:names:tc:xliff:document:2.0}unit[@id='u']//"
                     "{urn:oasis:names:tc:xliff:document:2.0}segment/{urn:oasis:names:tc:xliff:document:2.0}"
                     "target") is None
    assert pretranslate_file(out, lookup, fragments=fragments)[0] == out
    assert b"fragment" not in pretranslate_file(data, lookup, fragments=fragments, mode="fill")[0]
