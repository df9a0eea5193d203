"""Bands and counts of the article analysis (no app)."""
from __future__ import annotations

import pytest

from workbench.analysis import ROWS, analyse, band, chart_bars, chinese_characters, english_words


@pytest.mark.parametrize("score, expected", [
    (101, "context"), (100, "exact"), (99.99, "95-99"), (95, "95-99"), (94.5, "85-94"), (85, "85-94"),
    (84, "75-84"), (75, "75-84"), (74.99, "50-74"), (50, "50-74"), (49.9, "none"), (None, "none"), (0, "none"),
])
def test_band_edges(score, expected):
    assert band(score) == expected


def test_counting_units():
    assert chinese_characters("美国国务卿蓬佩奥14日说，OK。") == 10
    assert english_words("The U.S. don't pay $2.5 billion.") == 6
    assert english_words("俄罗斯") == 0


def test_repetitions_count_once_and_totals_add_up():
    segments = ["两国关系。", "Hello world.", "两国关系。", "新的句子。"]
    result = analyse(segments, [100, 80, 100, None])
    assert result.segment_bands == ["exact", "75-84", "repetition", "none"]
    assert result.rows["exact"].chinese_characters == 4
    assert result.rows["repetition"].segments == 1
    assert result.rows["75-84"].english_words == 2
    total = result.total
    assert total.segments == 4 and total.chinese_characters == 12 and total.english_words == 2
    assert set(result.to_dict()["rows"]) == set(ROWS)


def test_chart_bars_are_scaled_to_the_largest():
    result = analyse(["a.", "b.", "c."], [100, 100, 60])
    bars = dict((key, (value, share)) for key, value, share in chart_bars(result))
    assert bars["exact"] == (2, 1.0) and bars["50-74"] == (1, 0.5) and bars["none"] == (0, 0.0)


def test_empty_article():
    result = analyse([], [])
    assert result.total.segments == 0
    assert all(share == 0 for _, _, share in chart_bars(result))


def test_fragment_coverage_per_segment_and_in_total():
    segments = ["中国社会科学院俄罗斯东欧中亚研究所研究员李永辉说。", "两国关系。", "完全不同的一句话。",
                "Li Yonghui said the talks went well.", "中国社会科学院俄罗斯东欧中亚研究所研究员李永辉说。"]
    spans = [[(0, 17), (10, 23)], [(0, 4)], [], [(0, 10), (20, 35)], [(0, 17)]]
    result = analyse(segments, [None, 80, None, None, None], spans)
    # Below the lowest band: with a fragment "fragments only", without one "no match"; a match
    # keeps its band and a repetition stays a repetition, fragments or not.
    assert result.segment_bands == ["fragments", "75-84", "none", "fragments", "repetition"]
    per_segment = [(c.fragment_chinese_characters, c.fragment_english_words) for c in result.segment_counts]
    # Overlapping spans count once (0-23: 23 Han characters); "Li Yonghui" and "talks went well": 5 words.
    assert per_segment == [(23, 0), (4, 0), (0, 0), (0, 5), (17, 0)]
    assert result.rows["fragments"].segments == 2
    assert result.rows["fragments"].fragment_chinese_characters == 23
    assert result.rows["fragments"].fragment_english_words == 5
    assert result.total.fragment_chinese_characters == 23 + 4 + 17
    assert result.to_dict()["segments"][0]["fragment_chinese_characters"] == 23
    assert ROWS.index("50-74") < ROWS.index("fragments") < ROWS.index("none")


def test_fragment_spans_outside_the_segment_are_clipped():
    result = analyse(["两国关系。"], [None], [[(-3, 2), (3, 99)]])
    assert result.segment_counts[0].fragment_chinese_characters == 3
    assert analyse(["两国关系。"], [None]).segment_counts[0].fragment_chinese_characters == 0
