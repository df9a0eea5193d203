"""Term recognition: longest matches, Chinese folding, English inflections, dates, updates."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glossary.core.model import Entry, GlossaryFormatError, Term
from glossary.core.recognize import TermRecognizer, fold_zh
from glossary.demo import load_demo_entries


@pytest.fixture(scope="module")
def demo() -> TermRecognizer:
    return TermRecognizer(load_demo_entries())


def found(recognizer, text, lang, **kw):
    return [(h.surface, h.entry.id) for h in recognizer.find(text, lang, **kw)]


# -- Chinese -------------------------------------------------------------------------------------

def test_compound_institute_is_one_longest_match(demo):
    text = "中国社会科学院俄罗斯东欧中亚研究所研究员李永辉认为"
    hits = demo.find(text, "zh")
    assert [(h.start, h.end, h.entry.id) for h in hits] == [
        (0, 17, "cass-irees"), (17, 20, "research-fellow"), (20, 23, "li-yonghui")]
    institute = hits[0]
    assert institute.targets[0].text == "Institute of Russian, East European and Central Asian Studies"
    assert institute.targets[0].status == "preferred"
    assert "Institute for Russian, East European and Central Asian Studies" in [t.text for t in institute.targets]


def test_chinese_short_forms_and_offsets_on_original_text(demo):
    text = "据社科院俄欧亚所专家说，人民日报海外版和人民网均有报道。"
    hits = demo.find(text, "zh")
    assert [(h.surface, h.entry.id) for h in hits] == [
        ("社科院", "cass"), ("俄欧亚所", "cass-irees"),
        ("人民日报海外版", "peoples-daily-overseas"), ("人民网", "people-cn")]
    for hit in hits:
        assert text[hit.start:hit.end] == hit.surface


def test_longer_entry_shadows_embedded_term(demo):
    # 国务院 (State Council) sits inside 美国国务院 (US Department of State); 求是 inside 实事求是.
    assert found(demo, "美国国务院与国务院", "zh") == [("美国国务院", "us-state-department"),
                                                      ("国务院", "state-council")]
    assert found(demo, "坚持实事求是，刊于《求是》", "zh") == [("实事求是", "seek-truth-from-facts"),
                                                             ("求是", "qiushi")]


def test_traditional_and_full_width_input(demo):
    text = "《人民日報》報道，中國社會科學院專家稱ＣＧＴＮ"
    hits = demo.find(text, "zh")
    assert [(h.surface, h.entry.id) for h in hits] == [
        ("人民日報", "peoples-daily"), ("中國社會科學院", "cass"), ("ＣＧＴＮ", "cgtn")]
    assert hits[0].start == 1 and hits[0].end == 5


def test_name_separator_variants(demo):
    for dot in "·•・‧":
        assert found(demo, f"弗拉基米尔{dot}普京", "zh") == [(f"弗拉基米尔{dot}普京", "putin")]


def test_overlapping_terms_resolve_leftmost_longest():
    entries = [
        Entry("ab", "other", [Term("zh", "甲乙"), Term("en", "AB")]),
        Entry("bcd", "other", [Term("zh", "乙丙丁"), Term("en", "BCD")]),
        Entry("d", "other", [Term("zh", "丁"), Term("en", "D")]),
    ]
    recognizer = TermRecognizer(entries)
    assert found(recognizer, "甲乙丙丁", "zh") == [("甲乙", "ab"), ("丁", "d")]
    assert found(recognizer, "乙丙丁", "zh") == [("乙丙丁", "bcd")]
    every = found(recognizer, "甲乙丙丁", "zh", longest_only=False)
    assert every == [("甲乙", "ab"), ("乙丙丁", "bcd"), ("丁", "d")]


def test_fold_keeps_length():
    for text in ["人民日報", "ＡＢＣ　", "İstanbul", "弗拉基米尔•普京", "乾隆皇帝"]:
        assert len(fold_zh(text)) == len(text)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("人民日报報社科院中国國ＣＧTNİ ·•,，美国务卿")), max_size=40))
def test_hits_are_slices_of_the_text_and_do_not_overlap(demo, text):
    for lang in ("zh", "en"):
        hits = demo.find(text, lang)
        assert all(text[h.start:h.end] == h.surface for h in hits)
        spans = sorted({(h.start, h.end) for h in hits})  # homographs share one span
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))


# -- English -------------------------------------------------------------------------------------

def test_english_inflections_possessives_and_apostrophes(demo):
    text = "People’s Daily’s editors and People's Daily reported; two institutes of law met the Institute of Law."
    hits = demo.find(text, "en")
    assert [(h.surface, h.entry.id) for h in hits] == [
        ("People’s Daily’s", "peoples-daily"), ("People's Daily", "peoples-daily"),
        ("institutes of law", "cass-law"), ("Institute of Law", "cass-law")]
    assert hits[0].targets[0].text == "人民日报"


def test_english_word_boundaries(demo):
    # "Iranian" is not Iran, "Sochiville" is not Sochi.
    assert found(demo, "Iranian officials in Sochiville", "en") == []
    assert found(demo, "Iran's officials in Sochi", "en") == [("Iran's", "iran"), ("Sochi", "sochi")]


def test_english_hyphen_and_space_variants(demo):
    assert found(demo, "the Institute of West Asian and African Studies", "en") == [
        ("Institute of West Asian and African Studies", "cass-iwaas")]
    assert found(demo, "reform and opening-up", "en") == [("reform and opening-up", "reform-opening-up")]


def test_case_sensitive_terms(demo):
    assert found(demo, "CASS experts", "en") == [("CASS", "cass")]
    assert found(demo, "cass experts", "en") == []
    assert found(demo, "let us go", "en") == []
    assert found(demo, "the US and the U.S. economy", "en") == [("US", "usa"), ("U.S.", "usa")]
    # Not flagged case-sensitive: British style "Nato" is NATO.
    assert found(demo, "Nato allies", "en") == [("Nato", "nato")]


def test_accent_variant_resolves_to_the_written_term(demo):
    hits = demo.find("Nicolás Maduro and Nicolas Maduro", "en")
    assert [(h.entry.id, h.term.text, h.term.status) for h in hits] == [
        ("maduro", "Nicolás Maduro", "preferred"), ("maduro", "Nicolas Maduro", "admitted")]


def test_forbidden_longer_form_wins(demo):
    hits = demo.find("Peking University in Peking; the Ukraine", "en")
    assert [(h.surface, h.entry.id, h.term.status) for h in hits] == [
        ("Peking University", "peking-university", "preferred"),
        ("Peking", "beijing", "deprecated"),
        ("the Ukraine", "ukraine", "forbidden")]


def test_targets_are_preferred_first(demo):
    hit = demo.find("社科院", "zh")[0]
    assert [t.text for t in hit.targets] == ["Chinese Academy of Social Sciences", "CASS"]
    assert hit.preferred_target.text == "Chinese Academy of Social Sciences"
    assert hit.to_dict()["targets"][0]["status"] == "preferred"


# -- validity dates -------------------------------------------------------------------------------

def test_title_valid_only_during_office(demo):
    text = "美国国务卿蓬佩奥抵达索契"
    during = found(demo, text, "zh", on=dt.date(2019, 5, 14))
    after = found(demo, text, "zh", on=dt.date(2022, 1, 1))
    assert during[0] == ("美国国务卿蓬佩奥", "pompeo-secretary-of-state")
    assert after[:2] == [("美国国务卿", "us-secretary-of-state"), ("蓬佩奥", "pompeo")]
    # The period is inclusive at both ends.
    assert found(demo, text, "zh", on=dt.date(2021, 1, 20))[0][1] == "pompeo-secretary-of-state"
    assert found(demo, text, "zh", on=dt.date(2021, 1, 21))[0][1] == "us-secretary-of-state"


def test_term_validity_filters_targets(demo):
    old = demo.find("北京周报", "zh", on=dt.date(1970, 1, 1))[0]
    new = demo.find("北京周报", "zh", on=dt.date(2020, 1, 1))[0]
    assert [t.text for t in old.targets] == ["Peking Review"]
    assert [t.text for t in new.targets] == ["Beijing Review"]
    assert found(demo, "CGTN said", "en", on=dt.date(2015, 6, 1)) == []
    assert found(demo, "CGTN said", "en", on=dt.date(2017, 6, 1)) == [("CGTN", "cgtn")]


# -- building and updating -------------------------------------------------------------------------

def test_incremental_add_replace_and_remove():
    recognizer = TermRecognizer([Entry("sochi", "place", [Term("zh", "索契"), Term("en", "Sochi")])])
    assert found(recognizer, "索契会晤", "zh") == [("索契", "sochi")]
    recognizer.add(Entry("sochi-meeting", "event", [Term("zh", "索契会晤"), Term("en", "Sochi meeting")]))
    assert found(recognizer, "索契会晤", "zh") == [("索契会晤", "sochi-meeting")]
    recognizer.add(Entry("sochi-meeting", "event", [Term("zh", "索契会谈"), Term("en", "Sochi talks")]))
    assert found(recognizer, "索契会晤", "zh") == [("索契", "sochi")]
    recognizer.remove("sochi")
    assert found(recognizer, "索契会晤", "zh") == []
    assert len(recognizer) == 1
    recognizer.update(remove=["sochi-meeting"])
    assert len(recognizer) == 0 and recognizer.find("Sochi talks", "en") == []


@pytest.mark.parametrize("compact_after", [0, 3, 10_000])
def test_updates_find_what_a_fresh_build_finds(monkeypatch, compact_after):
    import random

    import glossary.core.recognize as recognize

    monkeypatch.setattr(recognize, "COMPACT_AFTER_KEYS", compact_after)
    demo_entries = load_demo_entries()
    rng = random.Random(compact_after)
    recognizer = TermRecognizer(demo_entries[:60])
    current = {e.id: e for e in demo_entries[:60]}
    zh_text = "".join(t.text for e in demo_entries for t in e.terms if t.lang == "zh")
    en_text = " ".join(t.text for e in demo_entries for t in e.terms if t.lang == "en")
    for _ in range(25):
        if rng.random() < 0.5 and current:
            gone = rng.choice(sorted(current))
            recognizer.remove(gone)
            del current[gone]
        else:
            entry = rng.choice(demo_entries)
            recognizer.add(entry)
            current[entry.id] = entry
    fresh = TermRecognizer(current.values())
    for text, lang in ((zh_text, "zh"), (en_text, "en")):
        got = {(h.start, h.end, h.entry.id, h.term.text) for h in recognizer.find(text, lang, longest_only=False)}
        want = {(h.start, h.end, h.entry.id, h.term.text) for h in fresh.find(text, lang, longest_only=False)}
        assert got == want


def test_homographs_give_one_hit_per_entry():
    recognizer = TermRecognizer([
        Entry("a", "other", [Term("zh", "总台"), Term("en", "China Media Group")]),
        Entry("b", "other", [Term("zh", "总台"), Term("en", "front desk")]),
    ])
    hits = recognizer.find("总台", "zh")
    assert [(h.start, h.end, h.entry.id) for h in hits] == [(0, 2, "a"), (0, 2, "b")]


def test_invalid_entry_is_refused_and_unknown_language_rejected():
    with pytest.raises(GlossaryFormatError, match="unknown status"):
        TermRecognizer([Entry("x", "other", [Term("zh", "某", status="banned")])])
    with pytest.raises(ValueError):
        TermRecognizer().find("text", "fr")


def test_empty_inputs():
    assert TermRecognizer().find("人民日报", "zh") == []
    assert TermRecognizer(load_demo_entries()).find("", "en") == []


def test_core_imports_nothing_but_the_standard_library_its_libraries_and_tm_core_text():
    import ast
    import sys
    from pathlib import Path

    import glossary.core

    # ``common`` is Flask-free and shared by every core (tests/core/test_layers.py); of it the
    # glossary core needs the messages, the language list and the OpenCC fold.
    allowed = {"ahocorasick", "opencc", "glossary", "tm", "common"}
    for path in Path(glossary.core.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top in allowed or top == "__future__", (path.name, name)
                if top == "glossary":
                    assert name.startswith("glossary.core"), (path.name, name)
                if top == "common":
                    assert name in {"common.messages", "common.languages", "common.text"}, (path.name, name)
                if top == "tm":
                    assert name == "tm.core.text", (path.name, name)
