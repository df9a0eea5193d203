"""Match keys: normalisation for matching, tokens and the offset map back to the original."""
from __future__ import annotations

import functools
import string
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tm.core.text import (
    NUMBER_UNIT,
    detect_language,
    han_ratio,
    match_key,
    normalize,
    scoring_units,
    tokenize_en,
)


def test_language_detection_is_kept():
    assert detect_language("习近平在G20峰会上发表讲话") == "zh"
    assert detect_language("The G20 summit opened today.") == "en"
    assert detect_language("2019 !!") is None
    assert han_ratio("中a") == 0.5


@pytest.mark.parametrize(
    ("text", "lang", "key"),
    [
        ("ＡＢＣ１２３", "en", "abc123"),  # full-width folded, case folded
        ("Hello，World！", "en", "hello,world!"),
        ("你好，世界。", "zh", "你好,世界."),
        ("他说：“好。”", "zh", '他说:"好."'),
        ("《人民日报》", "zh", '"人民日报"'),
        ("等等……", "zh", "等等..."),
        ("wait...", "en", "wait..."),
        ("  two   spaces\tand tab  ", "en", "two spaces and tab"),
        ("使用 Python 编程", "zh", "使用python编程"),
        ("臺灣的電腦軟體", "zh", "台湾的电脑软体"),
        ("香港經濟發展", "zh", "香港经济发展"),
        ("Straße", "en", "strasse"),
        ("e\u0301te\u0301", "en", "été"),
    ],
)
def test_normalize(text, lang, key):
    assert normalize(text, lang) == key


def test_traditional_and_simplified_share_a_key():
    assert normalize("國務院發佈通知", "zh") == normalize("国务院发布通知", "zh")


def test_skip_leaves_one_fold_out():
    assert normalize("ＡＢ", "en", skip="width") == "ａｂ"
    assert normalize("ＡＢ", "en", skip="case") == "AB"
    assert normalize("臺灣。", "zh", skip="script") == "臺灣."
    assert normalize("臺灣。", "zh", skip="punctuation") == "台湾。"
    assert normalize("a  b", "en", skip="whitespace") == "a  b"


def test_unsupported_language():
    with pytest.raises(ValueError):
        normalize("x", "fr")


def test_tokenize_en_does_not_escape():
    tokens = tokenize_en("AT&T's price, $5")
    assert "&" in tokens and "&amp;" not in tokens
    assert tokens[-4:] == ["price", ",", "$", "5"]


def test_match_key_tokens_and_spans_point_at_the_original():
    text = "臺灣：２０１８年，GDP增長3.5%。"
    key = match_key(text, "zh")
    assert key.text == "台湾:2018年,gdp增长3.5%."
    assert key.numbers == ("2018", "3.5")
    assert key.units.count(NUMBER_UNIT) == 2
    pieces = [text[a:b] for a, b in key.spans]
    assert pieces[:3] == ["臺", "灣", "："]
    assert pieces[3] == "２０１８"
    assert "3.5" in pieces


def test_match_key_english_tokens():
    text = "  The  COVID-19 cases rose to 1,200 in May…"
    key = match_key(text, "en")
    assert key.tokens == ("the", "covid-19", "cases", "rose", "to", "1,200", "in", "may", "...")
    assert [text[a:b] for a, b in key.spans] == [
        "The", "COVID-19", "cases", "rose", "to", "1,200", "in", "May", "…",
    ]
    assert key.numbers == ("1,200",)
    assert key.to_original(0, 3) == (2, 5)


def test_scoring_units_equal_match_key_units():
    for text, lang in [("It cost $1,000 in 2018.", "en"), ("２０１８年增长3.5万", "zh"), ("", "en")]:
        assert scoring_units(text, lang) == match_key(text, lang).units


_ALPHABET = st.sampled_from(
    list(string.ascii_letters + string.digits + " \t.,!?\"'-")
    + list("中国经济發展臺灣，。、：；？！“”《》（）…—　ＡＢ１２ﬁé\u0301ß")
)
_TEXT = st.text(_ALPHABET, max_size=40)


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.sampled_from(["zh", "en"]))
def test_match_key_is_consistent_with_normalize(text, lang):
    key = match_key(text, lang)
    assert key.text == normalize(text, lang)
    assert key.units == scoring_units(text, lang)
    assert len(key.offsets) == len(key.offset_ends) == len(key.text)
    assert len(key.tokens) == len(key.units) == len(key.spans)
    for start, end in zip(key.offsets, key.offset_ends, strict=True):
        assert 0 <= start < end <= len(text)
    previous = 0
    for start, end in key.spans:
        assert 0 <= start <= end <= len(text)
        assert start >= previous
        previous = start


@settings(max_examples=200, deadline=None)
@given(_TEXT, st.sampled_from(["zh", "en"]))
def test_normalize_is_idempotent(text, lang):
    once = normalize(text, lang)
    assert normalize(once, lang) == once


def test_a_token_table_is_adopted_only_when_it_agrees():
    from tm.core.text import adopt_token_table, encode_tokens, token_table

    encode_tokens(["snapshot", "worker"])
    tokens, codes = token_table()
    before = dict(zip(tokens, codes, strict=True))
    assert adopt_token_table(tokens, codes)  # its own table: nothing changes
    swapped = [before["worker"], before["snapshot"]]
    # Another process's codes for the same tokens: refused without replace, and nothing changes.
    assert not adopt_token_table(["snapshot", "worker"], swapped, replace=False)
    assert dict(zip(*token_table(), strict=True)) == before
    # New tokens with fresh codes extend the table; codes handed out later never reuse them.
    top = max(codes)
    assert adopt_token_table(["never-seen-a", "never-seen-b"], [top + 5, top + 6])
    assert ord(encode_tokens(["never-seen-c"])) > top + 6


def test_tokens_encode_with_the_codes_adopted_last():
    """Encoded tokens are remembered; a snapshot's codes that replace this process's are used
    from then on, for scoring units (numbers as one unit) and literal ones alike."""
    from tm.core.text import NUMBER_UNIT, adopt_token_table, encode_tokens, token_table

    tokens = ["replaced-a", "replaced-b", "2025", "replaced-a"]
    first = encode_tokens(tokens)
    assert first[2] == NUMBER_UNIT and first[0] == first[3] != first[1]
    assert encode_tokens(iter(tokens)) == first  # any iterable, encoded once
    literal = encode_tokens(tokens, literal_numbers=True)
    assert literal[2] != NUMBER_UNIT and literal[:2] == first[:2]
    everything = token_table()
    table = dict(zip(*everything, strict=True))
    swapped = [table["replaced-b"], table["replaced-a"], table["2025"]]
    try:
        assert not adopt_token_table(["replaced-a", "replaced-b", "2025"], swapped)  # another lineage's
        assert encode_tokens(tokens) == first[1] + first[0] + NUMBER_UNIT + first[1]
        assert encode_tokens(tokens, literal_numbers=True) == first[1] + first[0] + literal[2] + first[1]
    finally:
        adopt_token_table(*everything)  # this process's own codes back, for the other tests


#: Sentences through every rule the faster tokenizer short-cuts: prefixes that do and do not
#: break (listed, numeric-only before a number or not, dotted, before a lower-case word),
#: apostrophes in each position, commas inside and outside numbers, dot runs.
MOSES_HARD = [
    "Mr. Smith met Dr. Who at No. 5 and No. b. Then left.",
    "mr. smith's u.s. trip, no. 5: it's 5,000 km... isn't it?",
    "The U.S. officials said. then e.g. this and St. Louis.", "A. B. C.", "pp. 12-13 and vol. iii.",
    "rock 'n' roll's 1990's 'quoted' o'clock ' lone", "a,b 1,000,000 ,lead trail, 5,", "Wait.... what..",
    "Art. 1 of the Act.", "", "   ", "no punctuation at all",
]


@functools.cache
def _stock_moses():
    from sacremoses import MosesTokenizer

    return MosesTokenizer(lang="en")


@pytest.mark.parametrize("text", MOSES_HARD)
def test_tokenize_en_is_sacremoses_own(text):
    assert tokenize_en(text) == _stock_moses().tokenize(text, escape=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("aAbZ1 9.,'-:?\"é") + ["Mr.", "No.", "U.S.", " e.g. "]), max_size=30)
       .map("".join))
def test_tokenize_en_is_sacremoses_own_on_any_text(text):
    assert tokenize_en(text) == _stock_moses().tokenize(text, escape=False)


def test_a_snapshot_that_extends_the_adopted_table_keeps_it_and_drops_clashing_own_codes():
    from tm.core import text
    from tm.core.text import adopt_token_table, encode_tokens, token_table

    saved = token_table()
    try:
        base = ["ext-a", "ext-b"]
        top = max(saved[1], default=0x100) + 100
        assert adopt_token_table(base, [top, top + 1])
        own = encode_tokens(["ext-own"], literal_numbers=True)  # coded here after the adoption
        kept = encode_tokens(["ext-kept"], literal_numbers=True)
        # The next snapshot's table extends the first; its builder gave the own token's code to
        # another token, and the token this process coded as "ext-kept" the same code.
        extended = [*base, "ext-theirs", "ext-kept"]
        assert not adopt_token_table(extended, [top, top + 1, ord(own), ord(kept)])
        assert encode_tokens(base + ["ext-theirs", "ext-kept"], literal_numbers=True) == (
            chr(top) + chr(top + 1) + own + kept)
        recoded = encode_tokens(["ext-own"], literal_numbers=True)
        assert recoded != own and ord(recoded) > ord(kept)  # coded again, past every code in use
        # A table of the same lineage that agrees with the own codes keeps them.
        later = [*extended, "ext-later"]
        assert adopt_token_table(later, [top, top + 1, ord(own), ord(kept), ord(recoded) + 7])
        assert encode_tokens(["ext-own", "ext-later"], literal_numbers=True) == recoded + chr(ord(recoded) + 7)
        assert text._own_codes == {"ext-own": recoded}
    finally:
        adopt_token_table(*saved)


def test_adopting_an_extended_table_leaves_the_inherited_one_shared():
    """A forked worker adopting its master's table extended by a few tokens writes to none of
    the inherited entries: its private memory grows by little (what reading the new table
    allocates), where comparing every entry (a table of another lineage) copies the table's
    pages."""
    script = r"""
import gc, json, os, sys
from tm.core.text import adopt_token_table

def private_mb():
    with open("/proc/self/smaps_rollup") as rollup:
        return sum(int(line.split()[1]) for line in rollup
                   if line.startswith(("Private_Dirty:", "Private_Clean:"))) / 1024

tokens = [f"token-{n}" for n in range(300_000)]
codes = list(range(0x100, 0x100 + len(tokens)))
adopt_token_table(tokens, codes)
# As a snapshot's tokens.json: the worker reads the table into objects of its own.
extended = json.dumps([tokens + ["new-a", "new-b"], codes + [codes[-1] + 1, codes[-1] + 2]])
other = json.dumps([tokens, codes[1:] + [codes[-1] + 1]])  # every token with another code
del tokens, codes
gc.freeze()
for table in (extended, other):
    pid = os.fork()
    if pid == 0:
        table = json.loads(table)
        before = private_mb()
        adopt_token_table(*table)
        sys.stdout.write(json.dumps(private_mb() - before) + "\n")
        sys.stdout.flush()
        os._exit(0)
    os.waitpid(pid, 0)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          cwd=str(Path(__file__).resolve().parents[2]))
    extended_mb, other_mb = map(float, done.stdout.split())
    assert other_mb > 20  # the measure sees a copied table
    assert extended_mb < other_mb / 4
