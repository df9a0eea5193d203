"""Choosing what a fragment shows (tm.core.renderings), without a model: hand-made renderings."""
from tm.core.renderings import ProjectedSpan, Rendering, StoredUnit, best_part, extend_by_agreement, group_renderings


def rendering(text: str, confidence: float, units: int = 1) -> Rendering:
    return Rendering(text, units, confidence, {"unit_id": 0, "memory": None, "source": "", "target": text,
                                               "target_span": [0, len(text)]})


def test_the_part_whose_first_rendering_is_the_most_confident_stands_for_the_fragment():
    parts = [
        ("人类命运", [rendering("human destiny", 0.62, units=4)]),
        ("命运共同体", []),  # nothing shown
        ("人类命运共同体", [rendering("community with a shared future for mankind", 0.81, units=3),
                        rendering("community of common destiny", 0.9, units=1)]),
    ]
    best = best_part(parts)
    assert best is not None
    assert best[0] == "人类命运共同体"
    assert [r.text for r in best[1]] == ["community with a shared future for mankind", "community of common destiny"]
    assert best_part([("命运共同体", [])]) is None
    assert best_part([]) is None


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
    return ProjectedSpan(StoredUnit(unit_id, "源", target), start, end, 0.9, 0.1, (tuple(left), tuple(right)))


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
