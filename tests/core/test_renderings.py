"""Choosing what a fragment shows (tm.core.renderings), without a model: hand-made renderings."""
import math
from dataclasses import replace

import pytest

from tm.core.renderings import (
    MIN_CONFIDENCE,
    ProjectedSpan,
    Rendering,
    StoredUnit,
    _witness,
    choose_part,
    extend_by_agreement,
    group_renderings,
    pilot_units,
    rendering_key,
)
from tm.core.wordalign import Alignment, Tokens


def rendering(text: str, confidence: float, units: int = 1) -> Rendering:
    return Rendering(text, units, confidence, {"unit_id": 0, "memory": None, "source": "", "target": text,
                                               "target_span": [0, len(text)]})


def test_parts_are_translated_in_full_in_the_order_of_their_pilots_until_one_is_shown():
    pilots = {"人类命运": [rendering("human destiny", 0.4, units=4)],
              "命运共同体": [],  # nothing projected on the pilot's units
              "人类命运共同体": [rendering("community with a shared future for mankind", 0.7, units=3)]}
    full = {"人类命运": [rendering("human destiny", 0.62, units=9)],
            "命运共同体": [rendering("shared future", 0.95, units=2)],
            "人类命运共同体": []}  # nothing to show on all its units
    asked: list[str] = []

    def translate(part: str) -> list[Rendering]:
        asked.append(part)
        return full[part]

    chosen = choose_part(list(full), pilot=lambda part: pilots[part], full=translate)
    # The best pilot first, shown nothing in full; then the next pilot, shown: the last part,
    # whose pilot had nothing, is never translated in full.
    assert asked == ["人类命运共同体", "人类命运"]
    assert chosen is not None and chosen[0] == "人类命运" and [r.text for r in chosen[1]] == ["human destiny"]
    asked.clear()
    full["人类命运"] = []
    chosen = choose_part(list(full), pilot=lambda part: pilots[part], full=translate)
    assert chosen == ("命运共同体", full["命运共同体"])
    assert asked == ["人类命运共同体", "人类命运", "命运共同体"]
    assert choose_part([], pilot=lambda part: [], full=translate) is None


def test_a_lone_part_needs_no_pilot():
    def no_pilot(part: str) -> list[Rendering]:
        raise AssertionError("a single part is translated in full at once")

    shown = [rendering("shared future", 0.8)]
    assert choose_part(["命运共同体"], pilot=no_pilot, full=lambda part: shown) == ("命运共同体", shown)
    assert choose_part(["命运共同体"], pilot=no_pilot, full=lambda part: []) is None


def test_a_pilot_is_spread_over_the_sample():
    units = list(range(50))
    assert pilot_units(units) == [0, 5, 11, 16, 22, 27, 33, 38, 44, 49]
    assert pilot_units(units[:7]) == units[:7]
    assert pilot_units(units, 2) == [0, 49]


def projected(unit_id: int, target: str, phrase: str, before: list[tuple[str, bool]] = (),
              after: list[tuple[str, bool]] = ()) -> ProjectedSpan:
    """``phrase`` projected in ``target``, with the words around it as translate_fragment
    records them: ``before`` nearest first, each (word, may join)."""
    start = target.index(phrase)
    end = start + len(phrase)
    left, at = [], start
    for word, free in before:
        at = target.lower().rindex(word.lower(), 0, at)
        left.append((word.lower(), at, free))
    right, at = [], end
    for word, free in after:
        at = target.lower().index(word.lower(), at) + len(word)
        right.append((word.lower(), at, free))
    return ProjectedSpan(StoredUnit(unit_id, "源", target), start, end, 0.9, (tuple(left), tuple(right)))


def test_a_rendering_grows_over_the_words_most_of_its_units_agree_on():
    spans = [projected(k, t, "other hand", [("the", True), ("On", True)], [(",", False)])
             for k, t in enumerate(["On the other hand, prices rose.", "But on the other hand, it rained.",
                                    "On the other hand, we stayed."])]
    grown = extend_by_agreement(spans, "en")
    assert [p.text for p in grown] == ["On the other hand", "on the other hand", "On the other hand"]
    out = group_renderings(spans, target_lang="en", min_confidence=0.0)
    assert [(r.text, r.units) for r in out] == [("On the other hand", 3)]
    a, b = out[0].example["target_span"]
    assert out[0].example["target"][a:b] == out[0].text
    # A content word most units have after the span joins it: "food" + "safety".
    spans = [projected(0, "improve food safety now", "food", after=[("safety", True)]),
             projected(1, "food safety and energy", "food", after=[("safety", True)]),
             projected(2, "food prices", "food", after=[("prices", True)])]
    assert [p.text for p in extend_by_agreement(spans, "en")] == ["food safety", "food safety", "food"]


def test_a_rendering_does_not_grow_on_weak_or_taken_words():
    # Two units ending on a function word are not enough ("cooperation for").
    spans = [projected(k, t, "cooperation", after=[("for", True)])
             for k, t in enumerate(["a memorandum on cooperation for trade", "cooperation for peace"])]
    assert [p.text for p in extend_by_agreement(spans, "en")] == ["cooperation", "cooperation"]
    # Never over an article, nor over a word that translates something outside the fragment.
    spans = [projected(k, t, "international community", [("the", True)])
             for k, t in enumerate(["the international community", "and the international community"])]
    assert [p.text for p in extend_by_agreement(spans, "en")] == ["international community"] * 2
    spans = [projected(k, t, "development", [("economic", False)])
             for k, t in enumerate(["economic development", "economic development"])]
    assert [p.text for p in extend_by_agreement(spans, "en")] == ["development"] * 2
    # One unit alone, or half of them, do not make a phrase.
    single = [projected(0, "food safety", "food", after=[("safety", True)])]
    assert [p.text for p in extend_by_agreement(single, "en")] == ["food"]
    spans = [projected(0, "so far", "far", [("so", True)]), projected(1, "thus far", "far", [("thus", True)])]
    assert [p.text for p in extend_by_agreement(spans, "en")] == ["far", "far"]


def test_a_rendering_never_grows_to_end_on_a_conjunction_or_begin_with_de():
    # All four units go on "and Foreign Minister Wang Yi": three in four would let another
    # function word end the rendering ("referred to as"), never a conjunction.
    spans = [projected(k, f"State Councilor and Foreign Minister Wang Yi {verb}", "State Councilor",
                       after=[("and", True), ("Foreign", False)])
             for k, verb in enumerate(["met", "said", "spoke", "left"])]
    assert [p.text for p in extend_by_agreement(spans, "en")] == ["State Councilor"] * 4
    # ... though it grows over one to a content word they share ("food and drink").
    spans = [projected(k, f"food and drink {k}", "food", after=[("and", True), ("drink", True)]) for k in range(3)]
    assert [p.text for p in extend_by_agreement(spans, "en")] == ["food and drink"] * 3
    # A Chinese rendering does not grow to begin with the particle 的.
    spans = [projected(k, f"新的{k}COVID-19患者", "COVID-19患者", [("的", True)]) for k in range(4)]
    assert [p.text for p in extend_by_agreement(spans, "zh")] == ["COVID-19患者"] * 4


def test_an_abbreviation_with_its_dots_and_without_is_one_rendering():
    assert rendering_key("U.S. economy", "en") == rendering_key("US economy", "en") == "us economy"
    assert rendering_key("the U.S.-China trade talks", "en") == "the us china trade talk"
    assert rendering_key("U.N. Security Council", "en") == rendering_key("UN Security Council", "en")
    # Only letters joined by dots: a decimal, a title and a hyphenated word keep their parts.
    assert rendering_key("3.5 percent", "en") == "3 5 percent"
    assert rendering_key("Mr. Li", "en") == "mr li"
    assert rendering_key("state-owned", "en") == "state owned"
    spans = [projected(0, "The U.S. economy grew.", "U.S. economy"),
             projected(1, "The US economy slowed.", "US economy"),
             projected(2, "the U.S. economy and jobs", "U.S. economy")]
    out = group_renderings(spans, target_lang="en", min_confidence=0.0)
    assert [(r.text, r.units) for r in out] == [("U.S. economy", 3)]


def test_copies_of_one_sentence_are_one_witness_to_a_phrase():
    # Ten units holding one sentence (imported twice, numbers edited) agree on every word
    # around the fragment: that is one sentence's wording, not a phrase the memory repeats.
    copies = [replace(projected(k, "66 percent of the registered voters went to the polls", "registered voters",
                                [("the", True), ("of", True), ("percent", True)], [("went", True)]),
                      witness=("0%", "的", "\x00", "参与", "投票"))
              for k in range(10)]
    assert {p.text for p in extend_by_agreement(copies, "en")} == {"registered voters"}
    # The same spans from ten different sentences grow as before.
    distinct = [replace(p, witness=(str(k),)) for k, p in enumerate(copies)]
    assert {p.text for p in extend_by_agreement(distinct, "en")} == {"percent of the registered voters went"}
    # Without a witness (no alignment), each unit is its own.
    assert {p.text for p in extend_by_agreement([replace(p, witness=None) for p in copies], "en")} == \
        {"percent of the registered voters went"}


def test_copies_of_one_sentence_back_a_rendering_as_one_witness():
    # The confidence counts units by witness: ten copies of one sentence are one sentence's
    # word for it, ten sentences are ten. Both give the rendering ten units.
    copies = [replace(projected(k, f"{k} registered voters went to the polls", "registered voters"),
                      witness=("0", "\x00", "参与", "投票")) for k in range(10)]
    distinct = [replace(p, witness=(str(k),)) for k, p in enumerate(copies)]
    (from_copies,), (from_sentences,) = (group_renderings(spans, target_lang="en", min_confidence=0.0)
                                        for spans in (copies, distinct))
    assert from_copies.units == from_sentences.units == 10
    assert from_copies.features[:2] == (0.0, 1.0) and from_sentences.features[:2] == (pytest.approx(math.log(10)), 1.0)
    assert from_copies.confidence < MIN_CONFIDENCE < from_sentences.confidence
    # Units tried whose projection failed count as units beside them.
    (tried,) = group_renderings(copies, target_lang="en", min_confidence=0.0, tried=12)
    assert tried.features[1] == pytest.approx(1 / 3)


def test_a_witness_is_the_source_words_around_the_fragment_with_digits_folded():
    words = ("当时", "有", "66%", "的", "注册", "选民", "参与", "投票", "。")
    spans, at = [], 0
    for w in words:
        spans.append((at, at + len(w)))
        at += len(w)
    source = "".join(words)
    al = Alignment(Tokens(words, tuple(spans)), Tokens((), ()), frozenset(), {})
    start = source.index("注册选民")
    assert _witness(al, "zh", (start, start + 4)) == ("0%", "的", "\x00", "参与", "投票")
    assert _witness(al, "zh", (0, 2)) == ("\x00", "有", "0%")
