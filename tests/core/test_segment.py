"""Sentence segmentation: real text (the seed article, WMT news), hard cases, and offsets."""
import re
from itertools import islice
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import needs_shared
from tm.core.segment import Segment, split_clauses, split_sentences

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
WMT = SHARED / "data" / "parallel" / "wmt_newstest_zh_en"


def texts(text, lang, **kw):
    return [s.text for s in split_sentences(text, lang, **kw)]


def assert_offsets(text, segments):
    last_end = 0
    for seg in segments:
        assert seg.text == text[seg.start : seg.end]
        assert seg.text and seg.text == seg.text.strip()
        assert seg.start >= last_end
        last_end = seg.end


def wmt_lines(name, pattern, limit=60):
    lines = (WMT / name).read_text(encoding="utf-8").splitlines()
    return list(islice((line for line in lines if re.search(pattern, line)), limit))


# --------------------------------------------------------------------------- the seed article


@needs_shared
def test_seed_article_paragraphs_and_sentences():
    path = next((SHARED / "seed").glob("*.txt"))
    text = path.read_text(encoding="utf-8")
    segments = split_sentences(text, "en")
    assert_offsets(text, segments)
    by_text = [s.text for s in segments]
    # Headings and the byline are paragraphs of their own, not glued to the story.
    assert "HEADLINES" in by_text
    assert "By Xu Mouquan Updated May.22" in by_text
    # The first story paragraph has four sentences, and they stay in one paragraph.
    first = next(s for s in segments if s.text.startswith("Russian President"))
    same_paragraph = [s.text for s in segments if s.paragraph == first.paragraph]
    assert [t.split()[0] for t in same_paragraph] == ["Russian", "Both", "The", "However,"]
    assert same_paragraph[0].endswith("in Sochi.")
    # "US$25 billion" and the "People’s Daily." sentence end are not broken up.
    assert any("US$25 billion, around one-fourth" in t for t in by_text)
    # Every sentence of the story ends in a terminator; the paragraph count is the blank-line count.
    paragraphs = [p for p in re.split(r"\n", text) if p.strip()]
    assert max(s.paragraph for s in segments) + 1 == len(paragraphs)


@needs_shared
def test_seed_article_hard_wrapped_mode_joins_single_lines():
    raw = next((SHARED / "seed").glob("*.txt")).read_text(encoding="utf-8")
    text = "\n\n".join(line for line in raw.splitlines() if line.strip())
    rewrapped = re.sub(r"(\S) (\S)", lambda m: m.group(1) + "\n" + m.group(2), text, count=40)
    soft = split_sentences(text, "en")
    hard = split_sentences(rewrapped, "en", hard_wrapped=True)
    assert [s.text.split() for s in hard] == [s.text.split() for s in soft]


# --------------------------------------------------------------------------- WMT news lines


@needs_shared
def test_wmt_english_abbreviations_do_not_end_sentences():
    lines = wmt_lines("newstest2019.zho-eng.en", r"\b(?:Mr|Mrs|Dr|U\.S)\. [a-z]")
    lines += wmt_lines("newstest2020.eng-zho.en", r"\b(?:Mr|Mrs|Dr)\. [A-Z]")
    assert len(lines) > 10
    for line in lines:
        for seg in split_sentences(line, "en"):
            assert not re.search(r"\b(?:Mr|Mrs|Dr)\.$", seg.text), line


@needs_shared
def test_wmt_english_decimals_stay_whole():
    lines = wmt_lines("newstest2019.zho-eng.en", r"\d\.\d")
    assert len(lines) > 10
    for line in lines:
        for seg in split_sentences(line, "en"):
            assert not line[seg.end : seg.end + 1].isdigit(), line


@needs_shared
def test_wmt_chinese_lines_split_at_terminators_and_keep_quotes():
    lines = wmt_lines("newstest2019.zho-eng.zh", r"[。！？]”", limit=100)
    lines += wmt_lines("newstest2018.zho-eng.zh", r"。.", limit=100)
    assert len(lines) > 50
    for line in lines:
        segments = split_sentences(line, "zh")
        assert_offsets(line, segments)
        assert "".join(s.text for s in segments).replace(" ", "") == line.replace(" ", "")
        for seg in segments:
            assert seg.text[0] not in "”’」』）", line  # a closing quote never starts a sentence
        for seg in segments[:-1]:
            assert re.search(r"[。！？；…][”’」』）\"]*$", seg.text), line


@needs_shared
def test_wmt_news_text_one_paragraph_per_line():
    lines = (WMT / "newstest2017.zho-eng.zh").read_text(encoding="utf-8").splitlines()[:200]
    segments = split_sentences("\n".join(lines), "zh")
    assert max(s.paragraph for s in segments) + 1 == sum(1 for line in lines if line.strip())
    assert len(segments) >= len(lines)


# --------------------------------------------------------------------------- hard cases


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("他说：“好。”然后走了。", ["他说：“好。”", "然后走了。"]),
        ("“倒计时的尽头是什么？”汪淼无力地问。他没有回答。",
         ["“倒计时的尽头是什么？”汪淼无力地问。", "他没有回答。"]),
        ("真的吗？！我不信！！", ["真的吗？！", "我不信！！"]),
        ("我……我昨晚杀了他。他走了…… 天黑了。", ["我……我昨晚杀了他。", "他走了……", "天黑了。"]),
        ("第一句；第二句。", ["第一句；", "第二句。"]),
        ("「走吧。」她轻声说。", ["「走吧。」她轻声说。"]),
        ("增长3.5%。价格（含税）上涨。", ["增长3.5%。", "价格（含税）上涨。"]),
        ("第一段。\n第二段", ["第一段。", "第二段"]),
        ("萨达姆?侯赛因被推倒了。真的?  是的。", ["萨达姆?侯赛因被推倒了。", "真的?", "是的。"]),
    ],
)
def test_chinese_hard_cases(text, expected):
    assert texts(text, "zh") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Smith and Mrs. Jones met Dr. Who.", ["Mr. Smith and Mrs. Jones met Dr. Who."]),
        ("J. R. R. Tolkien wrote it. He was English.", ["J. R. R. Tolkien wrote it.", "He was English."]),
        ("Growth was 3.5 percent. Prices rose.", ["Growth was 3.5 percent.", "Prices rose."]),
        ("It arrived at 5 p.m. The talks began.", ["It arrived at 5 p.m.", "The talks began."]),
        ("The U.S. Senate voted. It passed.", ["The U.S. Senate voted.", "It passed."]),
        ("He lives in the U.S. He works.", ["He lives in the U.S.", "He works."]),
        ("See No. 5 on Jan. 3 at Acme Co. Ltd. today.", ["See No. 5 on Jan. 3 at Acme Co. Ltd. today."]),
        ("\"Why?\" he asked. \"Go!\" She left.", ["\"Why?\" he asked.", "\"Go!\"", "She left."]),
        ("Well... maybe. Wait... No.", ["Well... maybe.", "Wait...", "No."]),
        ("He said “Stop.” Then he left.", ["He said “Stop.”", "Then he left."]),
        ("First line\nsecond line", ["First line", "second line"]),
    ],
)
def test_english_hard_cases(text, expected):
    assert texts(text, "en") == expected


def test_blank_line_is_the_only_break_when_hard_wrapped():
    text = "The first sentence runs\nover two lines. Another.\n\nNew paragraph"
    segments = split_sentences(text, "en", hard_wrapped=True)
    assert [s.text for s in segments] == [
        "The first sentence runs\nover two lines.", "Another.", "New paragraph"]
    assert [s.paragraph for s in segments] == [0, 0, 1]


def test_whitespace_and_empty_input_give_no_segments():
    assert split_sentences("", "en") == []
    assert split_sentences(" \n\u3000\n ", "zh") == []


def test_unsupported_language_is_refused():
    with pytest.raises(ValueError):
        split_sentences("Bonjour.", "fr")


def test_segments_are_frozen():
    seg = split_sentences("好。", "zh")[0]
    assert seg == Segment("好。", 0, 2, 0)
    with pytest.raises(AttributeError):
        seg.text = "x"


# --------------------------------------------------------------------------- property


_ALPHABET = st.sampled_from(list("ab Z9.!?;。！？；…“”「」\"') \n\u3000汉字Mr") + ["Mr.", "U.S.", "3.5", "……"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join), st.sampled_from(["zh", "en"]), st.booleans())
def test_offsets_map_back_and_cover_all_text(text, lang, hard_wrapped):
    segments = split_sentences(text, lang, hard_wrapped=hard_wrapped)
    assert_offsets(text, segments)
    covered = "".join(s.text for s in segments)
    assert "".join(covered.split()) == "".join(text.split())
    paragraphs = [s.paragraph for s in segments]
    assert paragraphs == sorted(paragraphs)


# --------------------------------------------------------------------------- clauses


def test_chinese_clauses_end_at_commas_semicolons_and_colons():
    assert split_clauses("大家都说不存在的东西一定存在，比如王二，假如他不存在，这个名字是从哪里来的？", "zh") == [
        "大家都说不存在的东西一定存在，", "比如王二，", "假如他不存在，", "这个名字是从哪里来的？"]


def test_english_clauses_keep_numbers_whole_and_drop_slight_pieces():
    assert split_clauses("Trade reached $1,000 million in 2017; imports, however, fell by half.", "en") == [
        "Trade reached $1,000 million in 2017;", "fell by half."]


def test_dashes_bound_clauses_and_a_sentence_without_clauses_stays_whole():
    assert split_clauses("The plan — announced on Monday by the ministry — was welcomed by all.", "en") == [
        "announced on Monday by the ministry", "was welcomed by all."]
    assert split_clauses("好。", "zh") == ["好。"]
    assert split_clauses("Yes, sir.", "en") == ["Yes, sir."]
