"""The fragment finder (tm.core.fragments) on hand-made memories and the demo memory."""
import csv
import itertools
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.text import to_simplified
from tm.core import fragments as fr
from tm.core.fragments import EN_STOPWORDS, FragmentIndex, find_fragments, fragment_units
from tm.core.lexicon import jieba_tokenizer
from tm.core.text import match_key, normalize
from tm.lookup import MAX_SCORED_CHARS

ROOT = Path(__file__).resolve().parents[2]

ZH_UNITS = [
    "中国社会科学院俄罗斯东欧中亚研究所研究员李永辉表示，双方关系稳定。",
    "推动构建人类命运共同体是中国外交的总目标。",
    "我们要坚持和发展中国特色社会主义，推动构建人类命运共同体。",
    "2018年上半年，国内生产总值同比增长6.8%。",
    "世界卫生组织宣布新冠肺炎疫情构成国际关注的突发公共卫生事件。",
]
EN_UNITS = [
    "The World Health Organization declared the outbreak a public health emergency.",
    "Both sides expressed different views on hotspot issues including Iran and Venezuela.",
    "The Institute for Russian, East European and Central Asian Studies published a report.",
    "In 2018 the economy grew by 6.8 percent in the first half.",
]


def zh_index(units=ZH_UNITS, *, groups=None) -> FragmentIndex:
    items = [(i, fragment_units(u, "zh"), (groups or {}).get(i, 0)) for i, u in enumerate(units)]
    return FragmentIndex("zh").build_units(items)


def en_index(units=EN_UNITS) -> FragmentIndex:
    return FragmentIndex("en").build_units((i, fragment_units(u, "en")) for i, u in enumerate(units))


def han(text: str) -> int:
    return sum(1 for c in text if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf")


def word_bounds(text: str) -> set[int]:
    """jieba word boundaries of a Chinese text's match key, as offsets into that key."""
    bounds, at = {0}, 0
    for word in jieba_tokenizer().lcut(text):
        at += len(word)
        bounds.add(at)
    return bounds


def check_fragment(f, query: str, lang: str, stored: dict) -> None:
    """What every fragment promises: offsets into the query, the minimums, its units."""
    assert 0 <= f.start < f.end <= len(query)
    assert f.source == query[f.start : f.end]
    units = fragment_units(f.source, lang)
    assert f.unit_ids, f
    assert len(f.unit_ids) <= fr.SAMPLE
    for unit_id in f.unit_ids:
        assert units in fragment_units(stored[unit_id], lang)
    if lang == "zh":
        assert han(to_simplified(f.source)) >= fr.MIN_HAN
    else:
        tokens = [t for t in match_key(f.source, "en").tokens if any(c.isalnum() for c in t)]
        assert len(tokens) >= fr.MIN_WORDS
        assert any(t not in EN_STOPWORDS and any(c.isalpha() for c in t) for t in tokens)


def check_cover(found) -> None:
    spans = sorted((f.start, f.end) for f in found)
    assert all(b <= c for (_, b), (c, _) in itertools.pairwise(spans)), spans
    assert [f.start for f in found] == sorted(f.start for f in found)


# --- the demo memory -------------------------------------------------------------------------


def test_seed_sentence_finds_the_institute_in_the_demo_memory():
    rows = []
    for path in sorted((ROOT / "demo").glob("*.tsv")):
        with open(path, encoding="utf-8", newline="") as handle:
            for i, row in enumerate(csv.DictReader(handle, delimiter="\t")):
                rows.append((f"{path.name}:{i}", row["zh"]))
    seed = next(uid for uid, zh in rows if "研究所研究员李永辉" in zh)
    index = FragmentIndex("zh").build_units((uid, fragment_units(zh, "zh")) for uid, zh in rows)
    query = "中国社会科学院俄罗斯东欧中亚研究所研究员李永辉说"
    found = find_fragments(query, "zh", index)
    assert [f.source for f in found] == ["中国社会科学院俄罗斯东欧中亚研究所研究员李永辉"]
    assert found[0].start == 0 and found[0].units >= 1 and seed in found[0].unit_ids


# --- offsets, minimums, words ----------------------------------------------------------------


def test_traditional_and_full_width_query_maps_to_offsets_as_sent():
    query = "據報道，ＷＨＯ稱：世界衛生組織宣佈新冠肺炎疫情構成國際關注的突發公共衛生事件！"
    found = find_fragments(query, "zh", zh_index())
    assert found
    for f in found:
        check_fragment(f, query, "zh", dict(enumerate(ZH_UNITS)))
    assert found[0].source.startswith("世界衛生組織")


def test_english_mixed_case_and_offsets():
    query = "Yesterday THE WORLD HEALTH ORGANIZATION DECLARED a new policy."
    found = find_fragments(query, "en", en_index())
    assert [f.source for f in found] == ["THE WORLD HEALTH ORGANIZATION DECLARED"]
    check_fragment(found[0], query, "en", dict(enumerate(EN_UNITS)))


def test_english_stop_words_alone_are_no_fragment():
    index = en_index(["It was one of the best of times.", "He said that it was in the end."])
    assert find_fragments("And it was in the house.", "en", index) == []
    found = find_fragments("Truly one of the best of them.", "en", index)
    assert [f.source for f in found] == ["one of the best"]  # not ending on "of"


def test_edges_that_lean_on_the_next_or_previous_word_are_trimmed():
    index = zh_index(["我们看好中国经济的发展前景", "发展了中国特色社会主义"])
    assert [f.source for f in find_fragments("中国经济的规模", "zh", index)] == ["中国经济"]
    assert [f.source for f in find_fragments("坚持了中国特色社会主义道路", "zh", index)] == ["中国特色社会主义"]
    index = en_index(["The plan is based on the report of the committee."])
    assert find_fragments("This is based on the data.", "en", index) == []
    found = find_fragments("A report of the committee of experts.", "en", index)
    assert [f.source for f in found] == ["report of the committee"]


def test_chinese_fragments_do_not_cut_words():
    # 研究所研究员 is stored; the query's 研究员李永辉 and 研究所长 differ after 研究所.
    index = zh_index()
    query = "俄罗斯东欧中亚研究所所长表示"
    found = find_fragments(query, "zh", index)
    key = match_key(query, "zh").text
    bounds = word_bounds(key)
    for f in found:
        assert f.start in bounds and f.end in bounds
    assert [f.source for f in found] == ["俄罗斯东欧中亚研究所"]


def test_minimum_of_four_han_characters():
    index = zh_index(["国际关注的事件", "双方关系"])
    assert find_fragments("双方关系", "zh", index) == [
        fr.Fragment(0, 4, "双方关系", 1, (1,))]
    assert [f.source for f in find_fragments("国际关注很高", "zh", index)] == ["国际关注"]
    # 关注的事 is stored, but 事情 is one word: snapped to 关注的, three characters, too short.
    assert find_fragments("关注的事情", "zh", index) == []


@pytest.mark.parametrize("query", ["2018年6.8%", "，。！？……", "123 456 789", "...", "   ", ""])
def test_numbers_or_punctuation_alone_give_nothing(query):
    units = ["2018年6.8%，。！？……123 456 789"]
    assert find_fragments(query, "zh", zh_index(units)) == []
    assert find_fragments(query, "en", en_index(["123 456 789 ... , , ."])) == []


def test_empty_memory_and_one_unit_memory():
    assert find_fragments("推动构建人类命运共同体", "zh", FragmentIndex("zh")) == []
    assert find_fragments("The World Health Organization", "en", FragmentIndex("en")) == []
    one = zh_index(["推动构建人类命运共同体"])
    assert find_fragments("今天天气很好", "zh", one) == []
    assert [f.units for f in find_fragments("各国推动构建人类命运共同体", "zh", one)] == [1]


def test_query_longer_than_the_scoring_cap():
    rng = random.Random(7)
    parts = [rng.choice(ZH_UNITS) for _ in range(MAX_SCORED_CHARS // 10)]
    query = "".join(parts)
    assert len(query) > MAX_SCORED_CHARS
    found = find_fragments(query, "zh", zh_index())
    assert found
    check_cover(found)
    long_en = " ".join(rng.choice(EN_UNITS) for _ in range(100))
    check_cover(find_fragments(long_en, "en", en_index()))


def test_wrong_language_is_refused():
    with pytest.raises(ValueError):
        find_fragments("abc", "en", zh_index())


# --- counts, cover, glossary -----------------------------------------------------------------


def test_counts_are_units_not_occurrences():
    units = ["人类命运共同体，人类命运共同体，人类命运共同体", "构建人类命运共同体", "人类命运共同体理念", "别的句子"]
    found = find_fragments("人类命运共同体", "zh", zh_index(units))
    assert [(f.units, sorted(f.unit_ids)) for f in found] == [(3, [0, 1, 2])]


def test_numbers_must_be_the_same_numbers():
    index = zh_index(["截至9月11日，共有3人确诊", "截至9月12日，共有3人确诊"])
    found = find_fragments("截至9月11日，共有5人", "zh", index)
    assert [(f.source, f.units) for f in found] == [("截至9月11日，共有", 1)]
    index = en_index(["On September 17, the committee met.", "On September 18, the committee met."])
    found = find_fragments("On September 17, they met.", "en", index)
    assert [(f.source, f.units) for f in found] == [("On September 17", 1)]


def test_fragment_units_from_the_stored_columns():
    text = "The WHO said on 12 March: ＣＯＶＩＤ-19 is a pandemic."
    key = match_key(text, "en")
    from tm.core.text import encode_tokens

    assert fragment_units(text, "en") == fragment_units(key, "en") == encode_tokens(key.tokens, literal_numbers=True)
    assert (fragment_units("中國２０２０年", "zh") == fragment_units(match_key("中國２０２０年", "zh"), "zh")
            == "中国2020年")


def test_sample_is_capped_and_spread():
    units = [f"第{i}次推动构建人类命运共同体" for i in range(200)]
    found = find_fragments("推动构建人类命运共同体", "zh", zh_index(units))
    assert found[0].units == 200
    ids = found[0].unit_ids
    assert len(ids) == fr.SAMPLE == len(set(ids)) and ids[0] == 0 and ids[-1] == 199


def test_cover_prefers_longest_then_cuts_overlaps():
    units = ["坚持和发展中国特色社会主义", "中国特色社会主义进入新时代", "中国特色社会主义进入新时代"]
    query = "坚持和发展中国特色社会主义进入新时代"
    found = find_fragments(query, "zh", zh_index(units))
    check_cover(found)
    # Both runs are 13 units long; the one in more units (2) wins, the other keeps its part.
    assert [(f.source, f.units) for f in found] == [("坚持和发展", 1), ("中国特色社会主义进入新时代", 2)]


def test_glossary_terms_are_not_repeated_unless_the_fragment_is_longer():
    index = zh_index()
    query = "世界卫生组织认为"
    assert [f.source for f in find_fragments(query, "zh", index)] == ["世界卫生组织"]
    assert find_fragments(query, "zh", index, glossary_spans=[(0, 6)]) == []
    longer = "世界卫生组织宣布新冠肺炎疫情"
    found = find_fragments(longer, "zh", index, glossary_spans=[(0, 6)])
    assert [f.source for f in found] == [longer]


def test_groups_restrict_counts_and_samples():
    units = ["推动构建人类命运共同体", "推动构建人类命运共同体是目标", "构建人类命运共同体理念"]
    index = zh_index(units, groups={0: 1, 1: 2, 2: 2})
    found = find_fragments("推动构建人类命运共同体", "zh", index, groups={2})
    assert [(f.source, f.units, f.unit_ids) for f in found] == [("推动构建人类命运共同体", 1, (1,))]
    # In group 3 nothing; the longest run, only in group 1, gives way to a shorter one in 2.
    assert find_fragments("推动构建人类命运共同体", "zh", index, groups={3}) == []
    index = zh_index(units, groups={0: 1, 1: 1, 2: 2})
    found = find_fragments("推动构建人类命运共同体", "zh", index, groups={2})
    assert [(f.source, f.unit_ids) for f in found] == [("构建人类命运共同体", (2,))]


def test_parts_of_a_fragment_are_the_sub_runs_in_the_most_units():
    # The whole run is in one unit; the set phrase inside it in four or five.
    units = ["他说人类命运共同体理念深入人心", "推动构建人类命运共同体", "构建人类命运共同体是目标", "人类命运共同体",
             "命运共同体意识"]
    index = zh_index(units)
    query = "人类命运共同体理念深入人心的原因"
    (whole,) = find_fragments(query, "zh", index)
    assert (whole.source, whole.units) == ("人类命运共同体理念深入人心", 1)
    parts = fr.fragment_parts(query, "zh", index, whole)
    # Most units first, then the longest; 人类命运 is in the same four units as 人类命运共同体, so
    # only the longer one is offered.
    assert [(p.source, p.units) for p in parts] == [("命运共同体", 5), ("人类命运共同体", 4),
                                                    ("命运共同体理念深入人心", 1)]
    bounds = word_bounds(query)
    stored = dict(enumerate(units))
    for part in parts:
        check_fragment(part, query, "zh", stored)
        assert whole.start <= part.start and part.end <= whole.end and part.source != whole.source
        assert part.start in bounds and part.end in bounds
    # None inside a glossary term already shown.
    parts = fr.fragment_parts(query, "zh", index, whole, glossary_spans=[(0, 7)])
    assert parts and all(not (p.start >= 0 and p.end <= 7) for p in parts)
    assert fr.fragment_parts(query, "zh", index, whole, limit=1)[0].source == "命运共同体"


def test_a_runs_count_is_that_of_its_units_when_runs_share_their_places():
    # The runs inside the whole, counted once per suffix interval: runs in the same places
    # (人类命运 and 人类命运共同体 are in the same four units) share one count, and a unit
    # removed since the index was built is not among them.
    units = ["他说人类命运共同体理念深入人心", "推动构建人类命运共同体", "构建人类命运共同体是目标", "人类命运共同体",
             "命运共同体意识", "人类命运共同体理念"]
    index = zh_index(units)
    index.remove(5)
    query = "人类命运共同体理念深入人心的原因"
    runs = fr._QueryRuns(query, "zh", index, (), None)
    counted = 0
    for a, b in itertools.combinations(range(len(runs.units) + 1), 2):
        if runs.long_enough(a, b):
            expected = sum(runs.units[a:b] in unit for k, unit in enumerate(units) if k != 5)
            assert runs.count(a, b) == expected == len(index.rows_with(runs.units[a:b]))
            counted += 1
    assert counted > len(runs._counted) > 1


def test_parts_of_an_english_fragment_and_of_a_minimal_one():
    index = en_index(["He said the Belt and Road Initiative is open to all.",
                      "The Belt and Road Initiative began in 2013.", "the Belt and Road Initiative"])
    query = "He said the Belt and Road Initiative would grow."
    (whole,) = find_fragments(query, "en", index)
    assert whole.source == "He said the Belt and Road Initiative"
    parts = fr.fragment_parts(query, "en", index, whole)
    assert [(p.source, p.units) for p in parts][0] == ("the Belt and Road Initiative", 3)
    assert all(p.units == 1 for p in parts[1:])
    # A fragment of four Han characters has no parts; nor has one found by another query.
    (short,) = find_fragments("国际关注很高", "zh", zh_index(["国际关注的事件"]))
    assert fr.fragment_parts("国际关注很高", "zh", zh_index(["国际关注的事件"]), short) == []
    assert fr.fragment_parts(query, "en", index, fr.Fragment(0, 7, "He said", 1, (0,))) == []


# --- the index kept current ------------------------------------------------------------------


def test_added_removed_and_updated_units():
    index = zh_index()
    query = "他说全面深化改革开放取得成效"
    assert find_fragments(query, "zh", index) == []
    index.add_units(100, fragment_units("全面深化改革开放", "zh"))
    index.add_units(101, fragment_units("坚持全面深化改革开放不动摇", "zh"))
    found = find_fragments(query, "zh", index)
    assert [(f.source, sorted(f.unit_ids)) for f in found] == [("全面深化改革开放", [100, 101])]
    assert index.remove(100) and not index.remove(100)
    assert [f.units for f in find_fragments(query, "zh", index)] == [1]
    index.add_units(101, fragment_units("另一句话", "zh"))  # an update replaces the text
    assert find_fragments(query, "zh", index) == []
    assert len(index) == len(ZH_UNITS) + 1


def test_many_adds_merge_into_few_segments_and_stay_exact():
    rng = random.Random(3)
    stored = {}
    index = FragmentIndex("zh")
    for i in range(300):
        text = rng.choice(ZH_UNITS)[rng.randrange(5) :] + str(i)
        stored[i] = text
        index.add_units(i, fragment_units(text, "zh"))
    assert index.segments <= 8
    for i in range(0, 300, 3):
        index.remove(i)
        del stored[i]
    for query in ZH_UNITS:
        for f in find_fragments(query, "zh", index):
            check_fragment(f, query, "zh", stored)
            want = sum(1 for t in stored.values() if fragment_units(f.source, "zh") in fragment_units(t, "zh"))
            assert f.units == want


def test_compaction_after_many_removals():
    index = FragmentIndex("en")
    for i in range(2_100):
        index.add_units(i, fragment_units(f"unit number {i} of the public health emergency", "en"))
    for i in range(2_000):
        index.remove(i)
    assert len(index) == 100 and index.segments <= 3
    found = find_fragments("a public health emergency", "en", index)
    assert [(f.source, f.units) for f in found] == [("public health emergency", 100)]


# --- properties ------------------------------------------------------------------------------

_TRADITIONAL = str.maketrans("国际卫组织发类运们进个为说这时", "國際衛組織發類運們進個為說這時")
_FULL_WIDTH = str.maketrans("0123456789,.!?%", "０１２３４５６７８９，．！？％")


@st.composite
def zh_queries(draw):
    """Queries stitched from stored phrases and other text, some traditional or full-width."""
    pieces = draw(st.lists(st.one_of(
        st.sampled_from(ZH_UNITS).flatmap(lambda u: st.tuples(st.integers(0, len(u)), st.integers(0, len(u))).map(
            lambda ab: u[min(ab) : max(ab)])),
        st.text(alphabet="的了是我你他说天气很好，。！ 0123456789abcAB年月日", max_size=12),
    ), max_size=6))
    query = "".join(pieces)
    if draw(st.booleans()):
        query = query.translate(_TRADITIONAL)
    if draw(st.booleans()):
        query = query.translate(_FULL_WIDTH)
    return query


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zh_queries())
def test_property_chinese_offsets_map_to_the_query(query):
    index = zh_index()
    found = find_fragments(query, "zh", index)
    check_cover(found)
    bounds = word_bounds(normalize(query, "zh"))
    key = match_key(query, "zh")
    for f in found:
        check_fragment(f, query, "zh", dict(enumerate(ZH_UNITS)))
        starts = [i for i, o in enumerate(key.offsets) if o == f.start]
        assert starts and starts[0] in bounds
        # Its parts keep every promise, inside it.
        for part in fr.fragment_parts(query, "zh", index, f):
            check_fragment(part, query, "zh", dict(enumerate(ZH_UNITS)))
            assert f.start <= part.start and part.end <= f.end and (part.start, part.end) != (f.start, f.end)
            assert part.units >= f.units


@st.composite
def en_queries(draw):
    words = " ".join(EN_UNITS).split() + ["hello", "of", "the", "2020", ",", "!"]
    picked = draw(st.lists(st.sampled_from(words), max_size=20))
    start = draw(st.integers(0, len(EN_UNITS) - 1))
    run = EN_UNITS[start].split()[: draw(st.integers(0, 8))]
    cut = draw(st.integers(0, len(picked)))
    query = " ".join(picked[:cut] + run + picked[cut:])
    if draw(st.booleans()):
        query = query.upper()
    return query


@settings(max_examples=150, deadline=None)
@given(en_queries())
def test_property_english_offsets_map_to_the_query(query):
    index = en_index()
    found = find_fragments(query, "en", index)
    check_cover(found)
    for f in found:
        check_fragment(f, query, "en", dict(enumerate(EN_UNITS)))
        for part in fr.fragment_parts(query, "en", index, f):
            check_fragment(part, query, "en", dict(enumerate(EN_UNITS)))
            assert f.start <= part.start and part.end <= f.end and (part.start, part.end) != (f.start, f.end)


@pytest.mark.parametrize("alphabet", ["ab", "中国人民共和国的\x00", "ab\U00020000\U00020001x\uffff"])
@pytest.mark.parametrize("size", [1, 40, 12_000])
def test_suffix_array_is_python_string_order(alphabet, size):
    """Both sorters (prefix doubling for short texts, libdivsufsort above) agree with sorted()."""
    rng = random.Random(size)
    text = "".join(rng.choice(alphabet) for _ in range(size))
    assert fr._suffix_array(text).tolist() == sorted(range(size), key=lambda i: text[i:])
