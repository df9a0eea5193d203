"""Choosing what a fragment shows (tm.core.renderings), without a model: hand-made renderings."""
from tm.core.renderings import Rendering, best_part


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
