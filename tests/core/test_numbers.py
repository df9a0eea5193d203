"""Numbers: extraction with separators, decimals, full-width digits and scale words; adaptation."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tm.core.numbers import adapt_numbers, extract_numbers, render_like


def values(text):
    return [n.value for n in extract_numbers(text)]


def test_arabic_numbers_with_separators_and_decimals():
    assert values("It cost $1,000.50 in 2018, up 3.5%.") == [
        Decimal("1000.50"), Decimal("2018"), Decimal("3.5"),
    ]


def test_full_width_digits():
    [number] = extract_numbers("２０１８年")
    assert number.value == 2018 and number.fullwidth


def test_chinese_scale_words():
    assert values("250亿元，1.5万人，3亿，5千") == [
        Decimal("25000000000"), Decimal("15000"), Decimal("300000000"), Decimal("5000"),
    ]


def test_english_scale_words():
    assert values("25 billion yuan and 300 million people, 15 thousand jobs") == [
        Decimal("25000000000"), Decimal("300000000"), Decimal("15000"),
    ]


def test_unit_prefix_and_names_are_not_numbers_or_scales():
    assert values("跑了3千米") == [Decimal(3)]
    assert values("G20 summit, MP3 player, 3.6bn") == []


def test_a_number_after_a_sentence_end_is_found():
    assert values("增长了。2019年") == [Decimal(2019)]


@pytest.mark.parametrize(
    ("source", "target", "query", "adapted"),
    [
        ("2018年", "in 2018", "2019年", "in 2019"),
        ("为期10个月", "for 10 months", "为期11个月", "for 11 months"),
        ("增长250亿元", "grew by 25 billion yuan", "增长300亿元", "grew by 30 billion yuan"),
        ("1.5万人", "15,000 people", "2万人", "20,000 people"),
        ("1.5万人", "15 thousand people", "2.5万人", "25 thousand people"),
        ("3亿人", "300 million people", "4.5亿人", "450 million people"),
        ("300 million people", "3亿人", "450 million people", "4.5亿人"),
        ("15,000 people", "1.5万人", "20,000 people", "2万人"),
        ("in 2018 for 10 months", "2018年10个月", "in 2019 for 11 months", "2019年11个月"),
        ("２０１８年", "２０１８年", "2019年", "２０１９年"),
        ("$1,000.50", "1,000.50美元", "$1,200.5", "1,200.50美元"),
    ],
)
def test_adaptation(source, target, query, adapted):
    assert adapt_numbers(source, query, target) == adapted


def test_adaptation_picks_a_readable_scale():
    assert adapt_numbers("增长250亿元", "增长5万元", "grew by 25 billion yuan") == "grew by 50 thousand yuan"


def test_a_repeated_number_changes_everywhere():
    assert adapt_numbers("2018年", "2019年", "2018: the year 2018") == "2019: the year 2019"


def test_adaptation_fails_when_the_number_is_not_in_the_target():
    assert adapt_numbers("10个月", "11个月", "ten months") is None
    assert adapt_numbers("10个月", "11个月12天", "10 months") is None


def test_nothing_to_adapt_returns_the_target():
    assert adapt_numbers("1.5万", "15,000", "15 thousand") == "15 thousand"


def test_render_like_keeps_style():
    [like] = extract_numbers("１，０００")
    assert render_like(Decimal(2500), like) == "２，５００"
