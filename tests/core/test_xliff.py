"""XLIFF 1.2 and 2.x: reading translated units safely, and pre-translating a file."""
from __future__ import annotations

import io

import pytest
from lxml import etree

from tests.helpers import wmt_pairs
from tm.core.match import Candidate, rank
from tm.formats.records import ImportFormatError
from tm.formats.xliff import NS_12, NS_20, read_xliff
from tm.formats.xliff_pretranslate import NS_GLS, NS_MTC
from tm.pretranslate import pretranslate

PAIRS = wmt_pairs(40)


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xliff12(units: str, src="zh-CN", tgt="en-US", prolog="") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}'
            f'<xliff version="1.2" xmlns="{NS_12}">\n'
            f' <file original="news.html" source-language="{src}" target-language="{tgt}" datatype="html">\n'
            f'  <body>\n{units}  </body>\n </file>\n</xliff>\n').encode()


def xliff20(units: str, src="zh-CN", tgt="en") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<xliff version="2.0" xmlns="{NS_20}" srcLang="{src}" trgLang="{tgt}">\n'
            f' <file id="f1" original="news.docx">\n{units} </file>\n</xliff>\n').encode()


def read(data: bytes):
    return list(read_xliff(io.BytesIO(data)))


# ------------------------------------------------------------------ reading 1.2

def test_12_states_decide_what_is_learnt():
    (z0, e0), (z1, e1), (z2, e2), (z3, e3), (z4, e4), (z5, e5) = PAIRS[:6]
    units = (
        f'<trans-unit id="1" approved="yes"><source>{esc(z0)}</source><target>{esc(e0)}</target>'
        f'<note>checked by desk</note></trans-unit>\n'
        f'<trans-unit id="2"><source>{esc(z1)}</source><target state="final">{esc(e1)}</target></trans-unit>\n'
        f'<trans-unit id="3"><source>{esc(z2)}</source><target state="translated">{esc(e2)}</target></trans-unit>\n'
        f'<trans-unit id="4"><source>{esc(z3)}</source><target>{esc(e3)}</target></trans-unit>\n'
        f'<trans-unit id="5"><source>{esc(z4)}</source>'
        f'<target state="needs-review-translation">{esc(e4)}</target></trans-unit>\n'
        f'<trans-unit id="6"><source>{esc(z5)}</source><target state="new"/></trans-unit>\n'
        f'<trans-unit id="7" translate="no"><source>{esc(z5)}</source><target state="final">x</target></trans-unit>\n'
        f'<trans-unit id="8"><source>{esc(z5)}</source></trans-unit>\n'
    )
    records = read(xliff12(units))
    assert [(r.zh, r.en, r.status) for r in records] == [
        (z0, e0, "approved"), (z1, e1, "approved"), (z2, e2, "draft"), (z3, e3, "draft")]
    assert records[0].note == "checked by desk" and records[0].origin_file == "news.html"
    assert (records[0].zh_lang, records[0].en_lang) == ("zh-CN", "en-US")


def test_12_english_source_and_inline_codes():
    units = ('<trans-unit id="1" approved="yes"><source>Click <g id="1">here</g> to <x id="2"/>read '
             '<bpt id="3">&lt;b&gt;</bpt>more<ept id="3">&lt;/b&gt;</ept><ph id="4">{0}</ph>.</source>'
             '<target>点击<g id="1">这里</g><mrk mtype="term">阅读</mrk><bx id="5"/>更多。</target></trans-unit>\n')
    (record,) = read(xliff12(units, src="en-GB", tgt="zh-TW"))
    assert (record.en, record.zh) == ("Click here to read more.", "点击这里阅读更多。")
    assert (record.en_lang, record.zh_lang) == ("en-GB", "zh-TW")


# ------------------------------------------------------------------ reading 2.x

def test_20_segments_states_and_inline_codes():
    (z0, e0), (z1, e1), (z2, e2) = PAIRS[6:9]
    units = (
        f'  <unit id="u1"><notes><note>headline</note></notes>\n'
        f'   <segment id="s1" state="final"><source>{esc(z0)}</source><target>{esc(e0)}</target></segment>\n'
        f'   <ignorable><source> </source></ignorable>\n'
        f'   <segment id="s2" state="translated"><source>{esc(z1)}</source><target>{esc(e1)}</target></segment>\n'
        f'   <segment id="s3"><source>{esc(z2)}</source><target>{esc(e2)}</target></segment>\n'
        f'  </unit>\n'
        f'  <unit id="u2"><originalData><data id="d1">&lt;b&gt;</data></originalData>\n'
        f'   <segment state="reviewed"><source>加粗<pc id="1" dataRefStart="d1">文字</pc><ph id="2"/>。</source>'
        f'<target>Bold <pc id="1">text</pc><ph id="2"/>.</target></segment></unit>\n'
    )
    records = read(xliff20(units))
    assert [(r.zh, r.en, r.status) for r in records] == [
        (z0, e0, "approved"), (z1, e1, "draft"), ("加粗文字。", "Bold text.", "approved")]
    assert records[0].note == "headline" and records[0].origin_file == "news.docx"


# ------------------------------------------------------------------ refusing

@pytest.mark.parametrize("data, line, words", [
    (xliff12("", prolog='<!DOCTYPE xliff [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'), 2, "entity"),
    (xliff12("", prolog='<!DOCTYPE xliff [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'), 2, "XXE"),
    (xliff12('<trans-unit id="1"><source>a</source>\n<target>b</trans-unit>\n'), 6, "malformed"),
    (b'<?xml version="1.0"?>\n<tmx version="1.4"/>', 2, "not an XLIFF"),
    (xliff12("", src="en", tgt="de"), 3, "not Chinese and English"),
    (xliff20("", src="fr", tgt="en"), 2, "not Chinese and English"),
    (b"", 1, "empty"),
])
def test_unsafe_or_wrong_files_are_refused_with_their_line(data, line, words):
    with pytest.raises(ImportFormatError) as caught:
        read(data)
    assert caught.value.line == line and words in caught.value.reason


def test_reading_streams_a_large_file():
    zh, en = PAIRS[0]
    unit = f'<trans-unit id="x" approved="yes"><source>{esc(zh)}</source><target>{esc(en)}</target></trans-unit>\n'
    data = xliff12(unit * 20_000)
    count, last = 0, None
    for record in read_xliff(io.BytesIO(data)):
        count, last = count + 1, record
    assert count == 20_000 and last.en == en


# ------------------------------------------------------------------ pre-translating

def tm_lookup(pairs):
    """The TM's own ranking (tm.core.match.rank) over real pairs: lookup_many's shape."""
    def lookup(segments, src, tgt):
        candidates = [Candidate(unit_id=i, source=p[0] if src == "zh" else p[1],
                                target=p[1] if src == "zh" else p[0], memory="news")
                      for i, p in enumerate(pairs, start=1)]
        out = []
        for segment in segments:
            matches = rank(segment, candidates, lang=src, min_score=50, limit=5)
            out.append([{k: v for k, v in m.to_dict().items() if k != "adapted_target" or m.adapted}
                        for m in matches])
        return out
    return lookup


def glossary(segment, src, tgt):
    if "美国" not in segment:
        return []
    return [{"term": {"text": "美国"}, "targets": [{"text": "United States"}, {"text": "US"}]}]


def test_pretranslate_12_fills_marks_and_attaches_candidates():
    tm_pairs = PAIRS[:30]
    (z0, e0), (z1, _), (z2, _) = tm_pairs[0], tm_pairs[1], tm_pairs[2]
    fuzzy = z1[: int(len(z1) * 0.9)]
    unrelated = PAIRS[35][0]
    units = (
        f'   <trans-unit id="1"><source>{esc(z0)}</source></trans-unit>\n'
        f'   <trans-unit id="2"><source>{esc(fuzzy)}</source><target/></trans-unit>\n'
        f'   <trans-unit id="3"><source>{esc(z2)}</source><target state="translated">Mine.</target></trans-unit>\n'
        f'   <trans-unit id="4"><source>{esc(unrelated)}</source>'
        f'<my:ext xmlns:my="urn:x-mine">kept</my:ext></trans-unit>\n'
    )
    data = xliff12(units)
    out, report = pretranslate(data, tm_lookup(tm_pairs), glossary)
    assert (report.version, report.segments, report.filled, report.exact) == (1, 4, 2, 1)
    root = etree.fromstring(out)
    ns = {"x": NS_12}
    tu = {t.get("id"): t for t in root.iterfind(".//x:trans-unit", ns)}
    t1 = tu["1"].find("x:target", ns)
    assert (t1.text, t1.get("state"), t1.get("state-qualifier")) == (e0, "translated", "exact-match")
    assert [c.tag.split("}")[1] for c in tu["1"]][:2] == ["source", "target"]
    t2 = tu["2"].find("x:target", ns)
    assert t2.get("state") == "needs-review-translation" and t2.get("state-qualifier") == "fuzzy-match"
    assert tu["3"].find("x:target", ns).text == "Mine."  # a person's target is never replaced
    alt = tu["2"].find("x:alt-trans", ns)
    assert alt.get("origin") == "duizhao" and 75 <= float(alt.get("match-quality")) < 100
    assert alt.find("x:target", ns).get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
    assert tu["4"].find("x:target", ns) is None
    assert tu["4"][-1].tag == "{urn:x-mine}ext"  # extensions stay last
    notes = [n.text for n in root.iterfind(".//x:note[@from='duizhao-glossary']", ns)]
    assert notes == ["美国 = United States"] * sum("美国" in t.find("x:source", ns).text for t in tu.values())
    # The TM learns back only what a person confirmed: the exact fill and the person's target.
    assert {r.en for r in read_xliff(io.BytesIO(out))} == {e0, "Mine."}
    again, _ = pretranslate(out, tm_lookup(tm_pairs), glossary)
    assert again == out


def test_pretranslate_20_uses_the_matches_and_glossary_modules():
    tm_pairs = PAIRS[:30]
    (z0, e0), (z1, _) = tm_pairs[0], tm_pairs[1]
    segment_with_us = next(z for z, _ in tm_pairs if "美国" in z)
    units = (
        f'  <unit id="u1">\n   <segment id="s1"><source>{esc(z0)}</source></segment>\n'
        f'   <segment><source>{esc(z1[: int(len(z1) * 0.9)])}</source><target></target></segment>\n  </unit>\n'
        f'  <unit id="u2">\n   <notes><note>keep me</note></notes>\n'
        f'   <segment id="a"><source>{esc(segment_with_us)}</source></segment>\n  </unit>\n'
    )
    out, report = pretranslate(xliff20(units), tm_lookup(tm_pairs), glossary)
    assert report.filled == 3 and report.exact == 2
    root = etree.fromstring(out)
    ns = {"x": NS_20, "mtc": NS_MTC, "gls": NS_GLS}
    u1, u2 = root.iterfind(".//x:unit", ns)
    s1, s2 = u1.iterfind("x:segment", ns)
    assert (s1.get("state"), s1.get("subState"), s1.find("x:target", ns).text) == ("translated", "duizhao:exact", e0)
    assert (s2.get("state"), s2.get("subState")) == ("initial", "duizhao:fuzzy") and s2.get("id")
    assert u1[0].tag == f"{{{NS_MTC}}}matches"  # modules come first in a unit
    refs = [m.get("ref") for m in u1.iterfind("mtc:matches/mtc:match", ns)]
    assert "#s1" in refs and f"#{s2.get('id')}" in refs
    best = u1.find("mtc:matches/mtc:match", ns)
    assert best.get("origin") == "duizhao" and float(best.get("similarity")) == 100
    assert best.find("x:source", ns).text == z0 and best.find("x:target", ns).text == e0
    entry = u2.find("gls:glossary/gls:glossEntry", ns)
    assert (entry.find("gls:term", ns).text, entry.find("gls:translation", ns).text) == ("美国", "United States")
    assert u2.find("x:notes/x:note", ns).text == "keep me"
    again, _ = pretranslate(out, tm_lookup(tm_pairs), glossary)
    assert again == out
