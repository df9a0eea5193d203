"""The candidate index: upkeep, and exactness against a brute-force scan on real sentences."""
from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.helpers import require_shared
from tm.core import index as index_module
from tm.core.index import CandidateIndex
from tm.core.match import base_score
from tm.core.text import match_key, scoring_units

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
PARALLEL = SHARED / "data" / "parallel"
SAMPLE = 1500


@cache
def sentences(lang: str) -> tuple[str, ...]:
    """A fixed sample of real sentences: WMT news, TICO-19 and Tatoeba, read in place."""
    require_shared(PARALLEL)
    rng = random.Random(7)
    lines: list[str] = []
    for path in sorted((PARALLEL / "wmt_newstest_zh_en").glob(f"newstest2019*.{lang}")):
        lines += path.read_text(encoding="utf-8").splitlines()[:600]
    lines += (PARALLEL / "tico19_zh_en" / f"tico19-test.{lang}").read_text(encoding="utf-8").splitlines()[:400]
    with open(PARALLEL / "tatoeba_cmn" / "cmn.txt", encoding="utf-8-sig") as handle:
        pairs = [line.split("\t") for line in handle]
    lines += [p[1] if lang == "zh" else p[0] for p in rng.sample(pairs, 600)]
    lines = [line.strip() for line in lines if line.strip()]
    rng.shuffle(lines)
    return tuple(lines[:SAMPLE])


def edit(text: str, lang: str, rng: random.Random, edits: int) -> str:
    """Drop, insert, swap or replace a few characters (zh) or words (en)."""
    parts = list(text) if lang == "zh" else text.split()
    for _ in range(edits):
        if not parts:
            break
        i = rng.randrange(len(parts))
        kind = rng.choice("dist")
        if kind == "d":
            del parts[i]
        elif kind == "i":
            parts.insert(i, rng.choice(parts))
        elif kind == "s" and i + 1 < len(parts):
            parts[i], parts[i + 1] = parts[i + 1], parts[i]
        else:
            parts[i] = rng.choice(parts)
    return ("" if lang == "zh" else " ").join(parts)


@cache
def tm(lang: str) -> tuple[CandidateIndex, tuple[str, ...]]:
    """An index over the sample plus edited copies (so there are many near neighbours)."""
    rng = random.Random(11)
    base = sentences(lang)
    texts = list(base) + [edit(rng.choice(base), lang, rng, rng.randint(1, 4)) for _ in range(len(base))]
    index = CandidateIndex(lang).build(enumerate(texts))
    return index, tuple(scoring_units(t, lang) for t in texts)


def brute_force(units: str, stored: tuple[str, ...], min_score: float) -> dict[int, float]:
    hits = {}
    for i, other in enumerate(stored):
        score = base_score(units, other, score_cutoff=min_score)
        if score >= min_score and score > 0:
            hits[i] = score
    return hits


def test_add_remove_update_and_len():
    index = CandidateIndex("zh").build([(1, "今天天气很好"), (2, "今天天气不好"), (3, "明天见")])
    assert len(index) == 3 and 2 in index
    assert index.candidates("今天天气很好", min_score=90) == [1]
    assert index.candidates("今天天气很好", min_score=50) == [1, 2]
    assert index.remove(1) and not index.remove(1)
    assert len(index) == 2 and 1 not in index
    assert index.candidates("今天天气很好", min_score=50) == [2]
    index.update(2, "今天天气很好")
    assert index.search("今天天气很好") == [(2, 100.0)]
    index.add(4, match_key("今天天氣很好!", "zh"))
    assert [i for i, _ in index.search("今天天气很好")] == [2, 4]


def test_compaction_keeps_the_live_units():
    index = CandidateIndex("en").build((i, f"sentence unit{i} here") for i in range(3000))
    for i in range(2500):
        index.remove(i)
    assert len(index) == 500
    assert index.candidates("sentence unit2999 here", limit=1, slack=0) == [2999]
    assert index.units(2999) == scoring_units("sentence unit2999 here", "en")


def test_units_added_one_by_one_fold_into_the_frozen_postings(monkeypatch):
    monkeypatch.setattr(index_module, "_DELTA_MIN", 50)
    texts = sentences("zh")[:300]
    grown = CandidateIndex("zh")
    for i, text in enumerate(texts):
        grown.add(i, text)
    assert grown._posted.size and grown._delta  # folded at least once, some still added
    built = CandidateIndex("zh").build(enumerate(texts))
    for text in texts[:40]:
        assert grown.search(text, min_score=50, limit=None) == built.search(text, min_score=50, limit=None)
    assert grown.grams() == built.grams()


def test_short_queries_scan_their_length_window():
    index = CandidateIndex("zh").build([(1, "好"), (2, "好的"), (3, "你")])
    assert index.candidates("好") == [1]
    assert index.candidates("好的") == [2]
    assert index.candidates("") == []


def test_english_uses_words():
    index = CandidateIndex("en").build([(1, "The cat sat on the mat."), (2, "A dog barked.")])
    assert index.search("the cat sat on a mat.") == [(1, pytest.approx(100 * 6 / 7))]


def test_slack_returns_near_ties_beyond_the_limit():
    query = "今天北京的天气很好，阳光明媚"
    index = CandidateIndex("zh").build((i, query + "呀" * (i % 2)) for i in range(6))
    assert len(index.candidates(query, limit=1)) == 6  # 14/15 is within 10 points of 100
    assert len(index.candidates(query, limit=1, slack=0)) == 3


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lang=st.sampled_from(["zh", "en"]),
    seed=st.integers(0, 10**6),
    edits=st.integers(0, 6),
    min_score=st.sampled_from([50, 60, 70, 70, 80, 90]),
)
def test_index_finds_every_match_the_brute_force_finds(lang, seed, edits, min_score):
    index, stored = tm(lang)
    rng = random.Random(seed)
    query = edit(rng.choice(sentences(lang)), lang, rng, edits)
    units = scoring_units(query, lang)
    assume(units)  # an empty query looks nothing up
    expected = brute_force(units, stored, min_score)
    got = dict(index.search(query, min_score=min_score, limit=None))
    assert got.keys() == expected.keys()
    for i, score in expected.items():
        assert got[i] == pytest.approx(score)


@pytest.mark.parametrize("lang, side", [("zh", 0), ("en", 1)])
def test_containing_finds_exactly_the_units_holding_the_run(lang, side):
    """Concordance through the index: every unit whose units hold the needle, no other,
    for single units (no gram of their own), runs, and rows added after the build."""
    from tests.helpers import wmt_pairs

    pairs = wmt_pairs(1500)
    index = CandidateIndex(lang).build((i, pair[side]) for i, pair in enumerate(pairs))
    for i, pair in enumerate(wmt_pairs(100, "newstest2020.zho-eng")):
        index.add(10_000 + i, pair[side])
    stored = {i: index.units(i) for i in [*range(len(pairs)), *range(10_000, 10_100)]}
    rng = random.Random(7)
    for _ in range(150):
        units = stored[rng.choice(list(stored))]
        start, length = rng.randrange(len(units)), rng.choice([1, 1, 2, 3, 6])
        needle = units[start:start + length]
        assert set(index.containing(needle)) == {i for i, u in stored.items() if needle in u}


def top(scores: dict[int, float], limit: int) -> list[float]:
    return sorted(scores.values(), reverse=True)[:limit]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_min_score_zero_finds_the_true_best_matches(lang):
    """min_score 0 is a threshold like any other: the best ``limit`` scores of a brute-force
    scan over every unit, with the default budget (the few thousand rows fit in it)."""
    index, stored = tm(lang)
    rng = random.Random(5)
    for _ in range(25):
        query = edit(rng.choice(sentences(lang)), lang, rng, rng.randint(0, 30))
        units = scoring_units(query, lang)
        if not units:
            continue
        stats = index_module.SearchStats()
        got = index.search(query, min_score=0, limit=10, slack=0, stats=stats)
        every = {i: base_score(units, other) for i, other in enumerate(stored)}
        assert [s for _, s in got][:10] == pytest.approx(top(every, 10))
        assert stats.exact and stats.rescored <= index_module.RESCORE_BUDGET


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("min_score", [0, 20, 45])
def test_low_thresholds_rescore_at_most_the_budget(lang, min_score):
    """Where the q-gram lemma bounds nothing and the window outgrows the budget, a search
    rescores ``budget`` rows (those with the best score bounds) and no more; what it returns
    is scored exactly, sorted, and holds the brute-force best matches of 60 or more."""
    index, stored = tm(lang)
    rng = random.Random(min_score)
    budget = 300
    for _ in range(20):
        query = edit(rng.choice(sentences(lang)), lang, rng, rng.randint(0, 8))
        units = scoring_units(query, lang)
        if not units:
            continue
        stats = index_module.SearchStats()
        got = index.search(query, min_score=min_score, limit=10, slack=0, budget=budget, stats=stats)
        # The tiers and the bounded pass share the budget; the bounded pass always gets at
        # least ``limit`` rows, so the total may pass the budget by that much.
        assert stats.rescored <= budget + 10
        scores = [s for _, s in got]
        assert scores == sorted(scores, reverse=True) and all(s >= min_score for s in scores)
        for unit, score in got:
            assert score == pytest.approx(base_score(units, stored[unit]))
        expected = brute_force(units, stored, 60)
        best = sorted(expected, key=expected.get, reverse=True)[:10]
        assert set(best) <= {unit for unit, _ in got}


def test_the_bounded_search_is_bounded_on_a_window_of_every_row():
    """A one-character query at min_score 0 has every row in its length window: the work is
    the budget, not the index."""
    index = CandidateIndex("zh").build((i, "中国" * (1 + i % 40) + str(i)) for i in range(5000))
    stats = index_module.SearchStats()
    got = index.search("中", min_score=0, limit=5, budget=500, stats=stats)
    assert stats.rescored <= 500 and not stats.exact
    assert len(got) >= 5 and [s for _, s in got] == sorted((s for _, s in got), reverse=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("min_score", [50, 55, 65, 75])
def test_thresholds_of_50_and_more_stay_exact(lang, min_score):
    """At 50 and above, with or without a limit, the index returns the brute-force set."""
    index, stored = tm(lang)
    rng = random.Random(min_score + 1)
    for _ in range(15):
        query = edit(rng.choice(sentences(lang)), lang, rng, rng.randint(0, 6))
        units = scoring_units(query, lang)
        if not units:
            continue
        expected = brute_force(units, stored, min_score)
        everything = dict(index.search(query, min_score=min_score, limit=None))
        assert everything.keys() == expected.keys()
        stats = index_module.SearchStats()
        limited = index.search(query, min_score=min_score, limit=10, slack=0, stats=stats)
        assert [s for _, s in limited][:10] == pytest.approx(top(expected, 10)) and stats.exact


def test_groups_filter_before_the_limit():
    """A search restricted to some groups (memories) gets the best matches of those groups,
    even when every better match sits in another."""
    query = "今天北京的天气很好，阳光明媚"
    rows = [(i, query, 1) for i in range(50)] + [(100 + i, query[:-i - 1], 2) for i in range(6)]
    index = CandidateIndex("zh").build_units((i, scoring_units(t, "zh"), g) for i, t, g in rows)
    assert [i for i, _ in index.search(query, min_score=0, limit=3, slack=0, groups={2})] == [100, 101, 102]
    index.add(200, query[:-1], group=3)
    assert index.candidates(query, min_score=0, limit=1, slack=0, groups={3}) == [200]
    assert index.search(query, min_score=0, limit=3, groups={4}) == []


def test_frozen_strings_read_many_rows_as_one_by_one():
    import numpy as np

    from tm.core.arrays import FrozenStrings, encode_strings

    texts = ["中国经济", "", "一带一路倡议", "a\U00020000b", "新闻"]
    strings = FrozenStrings(*encode_strings(texts))
    strings.append("added")
    strings[2] = None
    rows = np.array([4, 0, 2, 5, 1, 3, 0])
    assert strings.many(rows) == [strings[r] for r in rows.tolist()] == ["新闻", "中国经济", None, "added", "",
                                                                          "a\U00020000b", "中国经济"]
    assert strings.many(np.empty(0, dtype=np.int64)) == []
    # Only frozen rows present: the one-pass path.
    assert strings.many(np.array([4, 0, 3, 1])) == ["新闻", "中国经济", "a\U00020000b", ""]


def test_union_with_ranges_is_numpys_union_without_the_sort():
    import numpy as np

    from tm.core.index import union_with_ranges

    rng = np.random.default_rng(18)
    for _ in range(300):
        n = int(rng.integers(0, 400))
        rows = np.unique(rng.integers(0, n + 1, size=int(rng.integers(0, 200))))
        a, b, c = sorted(int(x) for x in rng.integers(0, n + 1, size=3))
        ranges = ((a, b), (c, n))
        expected = np.union1d(rows, np.r_[np.arange(a, b), np.arange(c, n)]).astype(np.int64)
        got = union_with_ranges(rows, ranges)
        assert got.dtype == np.int64 and np.array_equal(got, expected), (rows, ranges)


@pytest.mark.parametrize("dense", [True, False])
def test_the_gram_tally_counts_what_each_row_shares(monkeypatch, dense):
    """Both ways of counting (over the window, or by sorting the postings) give each row the
    weighted number of lists it is posted in, added rows included, and leave the index's own
    posting arrays as they were (a single list is counted in place only when it is a copy)."""
    import numpy as np

    monkeypatch.setattr(index_module, "_DENSE_COUNT_RATIO", 10**9 if dense else 0)
    index = CandidateIndex("zh").build(enumerate(["中国经济", "经济发展", "发展中国家", "国家主席", "主席团"]))
    for k, text in enumerate(["中国经济发展", "人民日报"], start=5):
        index.add(k, text)  # added after the freeze: posted in the delta
    total = len(index._ids)
    rng = np.random.default_rng(17)
    for _ in range(200):
        lists = [np.unique(rng.integers(0, total, size=int(rng.integers(1, 6)))).astype(np.int32)
                 for _ in range(int(rng.integers(1, 4)))]
        weights = [int(w) for w in rng.integers(1, 3, size=len(lists))]
        kept = [a.copy() for a in lists]
        at_least = int(rng.integers(1, 3))
        rows, tally = index._tally(lists, weights, 0, index._frozen_rows, total, at_least=at_least)
        expected: dict[int, int] = {}
        for array, weight in zip(kept, weights, strict=True):
            for row in array.tolist():
                expected[row] = expected.get(row, 0) + weight
        if dense:  # the dense count keeps only rows reaching at_least
            expected = {row: n for row, n in expected.items() if n >= at_least}
        assert dict(zip(rows.tolist(), tally.tolist(), strict=True)) == expected
        assert all(np.array_equal(a, b) for a, b in zip(lists, kept, strict=True))
