"""Scoring, penalties, number adaptation, context and differences."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tm.core.match import (
    DRAFT_PENALTY,
    IN_CONTEXT,
    Candidate,
    Penalty,
    diff,
    length_window,
    rank,
    similarity,
)


def reasons(match):
    return [p.reason for p in match.penalties]


def only(query, source, target="", lang="zh", **kwargs):
    [match] = rank(query, [Candidate(1, source, target)], lang=lang, min_score=0, **kwargs)
    return match


def test_identical_scores_100_with_no_penalty():
    match = only("中国经济稳定增长。", "中国经济稳定增长。")
    assert match.score == 100 and match.penalties == () and not match.adapted


def test_levenshtein_over_characters_for_chinese():
    # One substitution in four characters: 100 × (1 − 1/4).
    assert similarity("今天很好", "今天不好", "zh") == 75.0


def test_levenshtein_over_tokens_for_english_normalised_by_the_longer_side():
    # "the cat sat" / "the cat sat down": one token inserted, longer side 4 tokens.
    assert similarity("the cat sat", "the cat sat down", "en") == 75.0
    assert similarity("the cat sat down", "the cat sat", "en") == 75.0


@pytest.mark.parametrize(
    ("query", "source", "lang", "kinds"),
    [
        ("你好，世界。", "你好,世界.", "zh", ["width", "punctuation"]),
        ("他说“好”", "他说「好」", "zh", ["punctuation"]),
        ("Hello world", "hello world", "en", ["case"]),
        ("ＧＤＰ增长", "GDP增长", "zh", ["width"]),
        ("臺灣經濟", "台湾经济", "zh", ["script"]),
        ("Hello  world", "Hello world", "en", ["whitespace"]),
        ("Hello WORLD…", "hello world...", "en", ["punctuation", "case"]),
    ],
)
def test_folded_differences_cost_a_named_penalty_each(query, source, lang, kinds):
    match = only(query, source, lang=lang)
    assert reasons(match) == kinds
    assert match.score == 100 - len(kinds)
    assert match.base_score == 100


def test_hong_kong_query_finds_simplified_unit_and_the_reverse():
    assert similarity("香港經濟發展迅速", "香港经济发展迅速", "zh") == 99
    assert similarity("香港经济发展迅速", "香港經濟發展迅速", "zh") == 99


def test_number_only_change_is_adapted_and_scores_below_100():
    match = only("2019年为期11个月", "2018年为期10个月", "a 10-month programme in 2018")
    assert match.score == 96  # two numbers changed, 2 points each
    assert reasons(match) == ["numbers"]
    assert match.adapted and match.adapted_target == "a 11-month programme in 2019"
    assert match.to_dict()["adapted"] is True


def test_scale_words_adapt_across_languages():
    match = only("去年增长300亿元。", "去年增长250亿元。", "It grew by 25 billion yuan last year.")
    assert match.score == 98
    assert match.adapted_target == "It grew by 30 billion yuan last year."
    match = only(
        "The plan covers 450 million people.",
        "The plan covers 300 million people.",
        "该计划覆盖3亿人。",
        lang="en",
    )
    assert match.score == 98
    assert match.adapted_target == "该计划覆盖4.5亿人。"
    match = only("共有2万人参加", "共有1.5万人参加", "15,000 people took part")
    assert match.adapted_target == "20,000 people took part"


def test_number_not_found_in_target_costs_more_and_is_not_adapted():
    match = only("为期11个月", "为期10个月", "for ten months")
    assert reasons(match) == ["numbers", "numbers not adapted"]
    assert match.score == 95 and not match.adapted


def test_number_only_ranks_above_a_word_change():
    candidates = [
        Candidate(1, "2018年中国经济增长了百分之六点六", "x"),
        Candidate(2, "2019年中国经济增长了百分之六点五", "y"),
    ]
    ranked = rank("2019年中国经济增长了百分之六点六", reversed(candidates), lang="zh")
    assert [m.unit_id for m in ranked] == [1, 2]


def test_in_context_exact_match_scores_101():
    candidates = [
        Candidate(1, "第二句。", "Second.", prev="第一句。", next="第三句。"),
        Candidate(2, "第二句。", "Sentence two.", prev="别的句子。", next="第三句。"),
    ]
    ranked = rank("第二句。", candidates, lang="zh", prev="第一句。", next="第三句。")
    assert [(m.unit_id, m.score, m.in_context) for m in ranked] == [
        (1, IN_CONTEXT, True),
        (2, 100.0, False),
    ]
    # Without context from the caller nobody gets 101.
    assert [m.score for m in rank("第二句。", candidates, lang="zh")] == [100.0, 100.0]
    # A fuzzy hit in context stays fuzzy.
    assert rank("第二句!", candidates, lang="zh", prev="第一句。", next="第三句。")[0].score < 100


def test_context_at_a_document_boundary_and_unknown_context():
    candidate = Candidate(1, "标题", "Title", prev="", next="正文。")
    [match] = rank("标题", [candidate], lang="zh", prev="", next="正文。")
    assert match.score == IN_CONTEXT
    # Only the side the caller knows is checked.
    assert rank("标题", [candidate], lang="zh", next="正文。")[0].score == IN_CONTEXT
    # A unit stored without context is never in context.
    assert only("标题", "标题", prev="", next="正文。").score == 100


def test_caller_penalties_are_applied_and_listed():
    candidates = [
        Candidate(1, "你好", "Hello", penalties=(DRAFT_PENALTY,)),
        Candidate(2, "你好", "Hi", memory="other", penalties=(Penalty("lower-priority memory", 1.0),)),
    ]
    ranked = rank("你好", candidates, lang="zh")
    assert [(m.unit_id, m.score) for m in ranked] == [(2, 99.0), (1, 95.0)]
    assert ranked[1].to_dict()["penalties"] == [{"reason": "draft", "points": 5.0}]


def test_min_score_and_limit():
    candidates = [Candidate(i, "今天天气很好" + "!" * i, str(i)) for i in range(6)]
    ranked = rank("今天天气很好", candidates, lang="zh", min_score=70, limit=3)
    assert [m.unit_id for m in ranked] == [0, 1, 2]
    assert all(m.score >= 70 for m in rank("今天天气很好", candidates, lang="zh", limit=None))
    assert len(rank("今天天气很好", candidates, lang="zh", limit=None)) == 3  # 6/9 < 70


def test_near_identical_long_text_never_shows_100():
    long = "很" * 5000
    assert similarity(long, long[:-1] + "好", "zh") < 100


def test_diff_offsets_point_into_the_original_strings():
    query = "臺灣經濟，２０１９年增長了"
    source = "台湾经济,2018年增长"
    ops = diff(query, source, "zh")
    assert [op.op for op in ops] == ["equal", "replace", "equal", "insert"]
    equal, number, _, insert = ops
    assert query[slice(*equal.q)] == "臺灣經濟，" and source[slice(*equal.s)] == "台湾经济,"
    assert query[slice(*number.q)] == "２０１９" and source[slice(*number.s)] == "2018"
    assert query[slice(*insert.q)] == "了" and insert.s[0] == insert.s[1] == len(source)


def test_diff_in_english_is_over_tokens():
    query = "The quick brown fox jumps."
    source = "the quick red fox jumps"
    ops = diff(query, source, "en")
    got = [(op.op, query[slice(*op.q)], source[slice(*op.s)]) for op in ops]
    assert got == [
        ("equal", "The quick", "the quick"),
        ("replace", "brown", "red"),
        ("equal", "fox jumps", "fox jumps"),
        ("insert", ".", ""),
    ]


def test_match_to_dict_is_json():
    match = only("2019年", "2018年", "in 2018")
    data = json.loads(json.dumps(match.to_dict(), ensure_ascii=False))
    assert data["score"] == 98 and data["adapted_target"] == "in 2019"
    assert data["diff"][0] == {"op": "replace", "q": [0, 4], "s": [0, 4]}


def test_length_window_follows_from_the_score():
    assert length_window(10, 70) == (7, 14)
    assert length_window(1, 70) == (1, 1)


@pytest.mark.parametrize("score", [0, -0.0, 5e-324, 1e-300])
def test_a_score_that_bounds_nothing_opens_the_window(score):
    assert length_window(10, score) == (0, 2**31 - 1)


_TEXT = st.text(st.sampled_from(list("中国经济發展臺灣，。ab AB12３ .,!")), max_size=30)


@settings(max_examples=200, deadline=None)
@given(_TEXT, st.sampled_from(["zh", "en"]))
def test_similarity_of_a_text_with_itself_is_100(text, lang):
    assert similarity(text, text, lang) == 100


@settings(max_examples=200, deadline=None)
@given(_TEXT, _TEXT, st.sampled_from(["zh", "en"]))
def test_scores_stay_in_range_and_100_means_identical(a, b, lang):
    score = similarity(a, b, lang)
    assert 0 <= score <= 100
    if score == 100:
        assert a == b
    for op in diff(a, b, lang):
        assert 0 <= op.q[0] <= op.q[1] <= len(a)
        assert 0 <= op.s[0] <= op.s[1] <= len(b)


def test_precomputed_units_and_early_stop_give_the_same_ranking():
    from tm.core.text import scoring_units

    sources = ["今天天气很好", "今天天气不好", "今天天氣很好!", "2019年今天天气很好", "明天天气很好",
               "今天的天气很好", "今天天气很好啊", "今天天气"]
    plain = [Candidate(i, s, f"t{i}") for i, s in enumerate(sources)]
    hinted = [Candidate(i, s, f"t{i}", units=scoring_units(s, "zh")) for i, s in enumerate(sources)]
    for limit in (1, 2, 3, None):
        a = rank("今天天气很好", plain, lang="zh", min_score=50, limit=limit)
        b = rank("今天天气很好", hinted, lang="zh", min_score=50, limit=limit)
        assert a == b
        if limit:
            everything = rank("今天天气很好", plain, lang="zh", min_score=50, limit=None)
            assert [m.score for m in a] == [m.score for m in everything[:limit]]
