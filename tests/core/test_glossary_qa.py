"""Terminology QA in both directions."""
from __future__ import annotations

import datetime as dt

import pytest

from glossary.core.model import Entry, Term
from glossary.core.qa import (
    DEPRECATED_TERM,
    FORBIDDEN_TERM,
    INCONSISTENT_VARIANTS,
    MISSING_TERM,
    check,
)
from glossary.core.recognize import TermRecognizer
from glossary.demo import load_demo_entries

SOCHI_DAY = dt.date(2019, 5, 14)


@pytest.fixture(scope="module")
def demo() -> TermRecognizer:
    return TermRecognizer(load_demo_entries())


def kinds(issues):
    return [(i.kind, i.entry.id) for i in issues]


def test_good_zh_to_en_translation_has_no_issues(demo):
    source = "中国社会科学院俄罗斯东欧中亚研究所研究员李永辉说，俄罗斯总统普京在索契会见了美国国务卿蓬佩奥。"
    translation = ("Li Yonghui, a research fellow at the Institute of Russian, East European and Central "
                   "Asian Studies of the Chinese Academy of Social Sciences, said Russian President Vladimir "
                   "Putin met US Secretary of State Mike Pompeo in Sochi.")
    assert check(source, translation, "zh", "en", demo, on=SOCHI_DAY) == []


def test_admitted_variant_and_inflected_forms_count_as_present(demo):
    source = "社科院和人民日报"
    translation = "CASS's experts told People’s Daily’s reporters"
    assert check(source, translation, "zh", "en", demo) == []


def test_missing_term_reported_with_source_span(demo):
    source = "人民日报海外版报道，索契会晤"
    translation = "The overseas edition of Party-run newspaper People's Daily reported on the meeting."
    issues = check(source, translation, "zh", "en", demo)
    assert kinds(issues) == [(MISSING_TERM, "peoples-daily-overseas"), (MISSING_TERM, "sochi")]
    first = issues[0]
    assert first.source_span == (0, 7) and first.severity == "error"
    assert first.expected[0] == "People's Daily Overseas Edition"
    assert first.to_dict()["entry_id"] == "peoples-daily-overseas"


def test_forbidden_and_deprecated_target_terms(demo):
    source = "乌克兰局势和北京大学"
    translation = "The situation in the Ukraine, seen from Peking University in Peking."
    issues = check(source, translation, "zh", "en", demo)
    assert kinds(issues) == [(FORBIDDEN_TERM, "ukraine"), (DEPRECATED_TERM, "beijing")]
    forbidden, deprecated = issues
    assert translation[slice(*forbidden.target_span)] == "the Ukraine"
    assert forbidden.expected == ("Ukraine",) and forbidden.severity == "error"
    assert deprecated.severity == "warning" and deprecated.found == ("Peking",)


def test_inconsistent_variants_but_not_full_form_then_abbreviation(demo):
    source = "马杜罗政府。马杜罗说。中国社会科学院，社科院"
    translation = ("The Nicolás Maduro government. Nicolas Maduro said. "
                   "The Chinese Academy of Social Sciences (CASS), CASS.")
    issues = check(source, translation, "zh", "en", demo)
    assert kinds(issues) == [(INCONSISTENT_VARIANTS, "maduro")]
    assert issues[0].found == ("Nicolás Maduro", "Nicolas Maduro")
    assert issues[0].expected == ("Nicolás Maduro",)


def test_en_to_zh_by_substring(demo):
    source = "Xinhua News Agency and the Chinese Academy of Social Sciences met Donald Trump in Beijing."
    translation = "新华社记者和中国社科院专家在北京会见了川普。"
    issues = check(source, translation, "en", "zh", demo)
    # Rendered, though with a deprecated form: reported as such, not also as missing.
    assert kinds(issues) == [(DEPRECATED_TERM, "trump")]
    assert issues[0].found == ("川普",) and issues[0].expected[0] == "特朗普"


def test_en_to_zh_missing_and_traditional_translation(demo):
    source = "People's Daily cited the Institute of World Economics and Politics."
    translation = "人民日報援引世界经济研究所。"
    issues = check(source, translation, "en", "zh", demo)
    assert kinds(issues) == [(MISSING_TERM, "cass-iwep")]
    assert issues[0].expected[0] == "世界经济与政治研究所"


def test_dates_decide_what_is_expected(demo):
    source = "美国国务卿蓬佩奥"
    translation = "US Secretary of State Mike Pompeo"
    assert check(source, translation, "zh", "en", demo, on=SOCHI_DAY) == []
    # In 2022 the title entry does not apply: the title and the name are checked separately.
    assert check(source, translation, "zh", "en", demo, on=dt.date(2022, 1, 1)) == []
    assert kinds(check(source, "Mike Pompeo", "zh", "en", demo, on=SOCHI_DAY)) == [
        (MISSING_TERM, "pompeo-secretary-of-state")]
    assert kinds(check(source, "Mike Pompeo", "zh", "en", demo, on=dt.date(2022, 1, 1))) == [
        (MISSING_TERM, "us-secretary-of-state")]


def test_do_not_translate_term_present_verbatim():
    recognizer = TermRecognizer([
        Entry("cgtn", "media_outlet", [Term("zh", "CGTN", do_not_translate=True),
                                       Term("en", "China Global Television Network")]),
    ])
    assert check("CGTN报道", "CGTN reported", "zh", "en", recognizer) == []
    issues = check("CGTN报道", "The network reported", "zh", "en", recognizer)
    assert issues[0].expected == ("CGTN", "China Global Television Network")


def test_entries_without_a_target_term_expect_nothing(demo):
    assert check("By Xu Mouquan", "作者", "en", "zh", demo) == []


def test_longest_hits_derived_from_every_hit_equal_find(demo):
    from glossary.core.qa import _leftmost_longest

    texts = {
        "zh": "中国社会科学院俄罗斯东欧中亚研究所、美国国务院与国务院、实事求是的《求是》、中国日报",
        "en": ("the Institute of Law of the Chinese Academy of Social Sciences, Peking University in Peking, "
               "the Ukraine"),
    }
    for lang, text in texts.items():
        every = demo.find(text, lang, longest_only=False)
        assert _leftmost_longest(every) == demo.find(text, lang)
