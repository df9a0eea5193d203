"""A segment's QA (tm.core.qa): numbers by value across 万/亿 and scale words, month names,
Chinese left in an English target; on sentences of the seed article and of WMT news."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.helpers import needs_shared, wmt_pairs
from tm.core.qa import NUMBER_CHANGED, NUMBER_MISSING, UNTRANSLATED, check_segment, sort_issues

SEED = Path(__file__).resolve().parents[2] / "demo" / "seed_article.tsv"


def seed_pairs() -> dict[str, str]:
    with SEED.open(encoding="utf-8", newline="") as f:
        return {row["zh"]: row["en"] for row in csv.DictReader(f, delimiter="\t")}


TRADE_ZH = "2018年美俄双边贸易总额为250亿美元，约为中俄贸易额的四分之一。"
MEETING_ZH = "5月14日，俄罗斯总统弗拉基米尔·普京在索契会见了到访的美国国务卿迈克·蓬佩奥。"
VISIT_ZH = "据党报人民日报海外版网站报道，此次访问是两国10个月来级别最高的正式会晤。"


def kinds(issues):
    return [i.kind for i in issues]


def test_the_seed_articles_published_translations_pass_in_both_directions():
    # Every pair of the seed article is a published translation: no number is wrong in any.
    pairs = seed_pairs()
    assert TRADE_ZH in pairs and MEETING_ZH in pairs
    flagged = {zh: check_segment(zh, en, "zh", "en") for zh, en in pairs.items()}
    assert {zh: kinds(i) for zh, i in flagged.items() if i} == {}
    back = {en: check_segment(en, zh, "en", "zh") for zh, en in pairs.items()}
    assert {en: kinds(i) for en, i in back.items() if i} == {}


def test_250_yi_is_25_billion_and_a_slip_of_scale_is_a_changed_number():
    en = seed_pairs()[TRADE_ZH]  # "... for 2018 hit US$25 billion ..."
    assert check_segment(TRADE_ZH, en, "zh", "en") == []
    assert check_segment(TRADE_ZH, en.replace("25 billion", "25,000,000,000"), "zh", "en") == []
    [issue] = check_segment(TRADE_ZH, en.replace("25 billion", "2.5 billion"), "zh", "en")
    assert issue.kind == NUMBER_CHANGED and issue.severity == "error"
    assert TRADE_ZH[slice(*issue.source_span)] == "250亿"
    assert en.replace("25 billion", "2.5 billion")[slice(*issue.target_span)] == "2.5 billion"
    assert "250亿" in issue.message and "2.5 billion" in issue.message


def test_a_number_left_out_is_missing_with_its_source_span():
    en = seed_pairs()[TRADE_ZH].replace("for 2018 ", "")
    [issue] = check_segment(TRADE_ZH, en, "zh", "en")
    assert issue.kind == NUMBER_MISSING and issue.target_span is None
    assert TRADE_ZH[slice(*issue.source_span)] == "2018"


def test_months_and_small_numbers_spelt_out_count_as_their_values():
    assert check_segment(MEETING_ZH, seed_pairs()[MEETING_ZH], "zh", "en") == []  # 5月14日 = May 14
    assert check_segment(VISIT_ZH, "The visit was the highest formal meeting in ten months.", "zh", "en") == []
    [issue] = check_segment(MEETING_ZH, "Putin met Pompeo on June 14 in Sochi.", "zh", "en")
    assert issue.kind == NUMBER_CHANGED and MEETING_ZH[slice(*issue.source_span)] == "5"
    # "May" as a verb and "one" as a pronoun are words, never a number asked for or a changed one.
    assert check_segment("May I help?", "我可以帮忙吗？", "en", "zh") == []
    assert check_segment("其中之一", "one of them", "zh", "en") == []


def test_wan_converts_in_both_directions():
    assert check_segment("约有2000万名烈士", "around 20 million martyrs", "zh", "en") == []
    assert check_segment("没收非法广告2.6万张", "confiscated 26,000 illegal advertisements", "zh", "en") == []
    assert kinds(check_segment("没收非法广告2.6万张", "confiscated 2,600 illegal advertisements", "zh", "en")) == [
        NUMBER_CHANGED]
    assert check_segment("1.2 million people", "120万人", "en", "zh") == []


def test_chinese_left_in_an_english_target():
    target = "Putin met Pompeo in 索契 on May 14."
    [issue] = check_segment(MEETING_ZH, target, "zh", "en")
    assert issue.kind == UNTRANSLATED and target[slice(*issue.target_span)] == "索契"
    # English words in a Chinese target are ordinary (names, CGTN): not flagged.
    assert check_segment("CGTN reported", "CGTN报道", "en", "zh") == []


def test_nothing_typed_is_no_issue_and_one_language_is_refused():
    assert check_segment(TRADE_ZH, "  ", "zh", "en") == []
    with pytest.raises(ValueError):
        check_segment(TRADE_ZH, "x", "zh", "zh")


def test_issues_sort_source_first_then_target_whatever_their_kind():
    issues = check_segment(TRADE_ZH, "Trade hit US$2.5 billion in 美俄.", "zh", "en")
    glossary_like = {"kind": "missing_term", "source_span": [0, 1], "target_span": None}
    ordered = sort_issues([*issues, glossary_like])
    assert ordered[0] is glossary_like and kinds(ordered[1:]) == [NUMBER_MISSING, NUMBER_CHANGED, UNTRANSLATED]


@needs_shared
def test_wmt_news_with_scale_words_mostly_pass():
    # Published news translations paraphrase (约2000万 may become "about 20 million" or "20m"):
    # most sentences with a 万/亿 number still pass, and none is flagged for a correct conversion.
    pairs = [(zh, en) for zh, en in wmt_pairs(2000) if ("万" in zh or "亿" in zh) and any(c.isdigit() for c in zh)]
    assert len(pairs) >= 20
    passed = [p for p in pairs if not check_segment(*p, "zh", "en")]
    assert len(passed) >= len(pairs) // 2


def test_more_than_between_a_numeral_and_its_scale_word():
    # WMT news: "涉及30多亿人口" is "more than 3 billion people"; "200多万项" "more than 2 million".
    assert check_segment("涉及30多亿人口", "involving more than 3 billion people", "zh", "en") == []
    assert check_segment("完成了200余万项作业", "completed over 2 million tasks", "zh", "en") == []
    [issue] = check_segment("完成了200多万项作业", "completed more than 200 million tasks", "zh", "en")
    assert issue.kind == NUMBER_CHANGED and issue.message.params["number"] == "200多万"
