"""The aligner's evidence on small cases: the word-translation evidence
(``evidence.TranslationEvidence``) on hand-made pairs with a hand-written model, what a pair's
coverage counts and what it leaves out; the crossing margin; changes of speaker in real
dialogue."""
import dataclasses

import numpy as np

from align.core.aligner import align
from align.core.beads import DEFAULT_WEIGHTS
from align.core.evidence import TRANSLATION_MIN_PROB, TranslationEvidence
from align.core.search import full_band
from tests.helpers import SHARED, needs_shared
from tm.core.wordalign import AlignmentModel, _Direction, tokens


def model_of(table: dict[tuple[str, str], float]) -> AlignmentModel:
    """An AlignmentModel whose t(en | zh) and t(zh | en) are both ``table`` (words as tokenised)."""
    zh_vocab = ["<null>"] + sorted({z for z, _ in table})
    en_vocab = ["<null>"] + sorted({e for _, e in table})
    zi = {w: i for i, w in enumerate(zh_vocab)}
    ei = {w: i for i, w in enumerate(en_vocab)}

    def direction(pairs: list[tuple[int, int, float]], n_target: int) -> _Direction:
        keys = np.array([s * n_target + t for s, t, _ in pairs], dtype=np.int64)
        probs = np.array([p for *_, p in pairs], dtype=np.float32)
        order = np.argsort(keys)
        return _Direction(keys[order], probs[order], n_target)

    z2e = [(zi[z], ei[e], p) for (z, e), p in table.items()]
    e2z = [(ei[e], zi[z], p) for (z, e), p in table.items()]
    return AlignmentModel(zh_vocab, en_vocab, direction(z2e, len(en_vocab)), direction(e2z, len(zh_vocab)))


def first_word(text: str, lang: str) -> str:
    return tokens(text, lang).words[0]


ZH = ["医院", "经济", "昨天"]
EN = ["hospital", "economy", "yesterday"]


def test_a_translated_pair_covers_its_words_and_an_unrelated_pair_none():
    model = model_of({(z, e): 0.3 for z, e in zip(ZH, EN, strict=True)})
    zh = ["医院", "经济"]
    en = ["hospital", "economy"]
    evidence = TranslationEvidence(zh, en, model, full_band(2, 2))
    rows = np.arange(3)[:, None]
    cover = evidence.coverage(full_band(2, 2), rows, full_band(2, 2).cols, 1, 1)
    assert cover[1, 1] == 1.0 and cover[2, 2] == 1.0  # 医院 / hospital, 经济 / economy
    assert cover[1, 2] == 0.0 and cover[2, 1] == 0.0  # crossed: nothing translates


def test_a_word_s_likeliest_rendering_counts_in_full_however_thin_its_probability():
    # The model spreads a word over its renderings: 增长 is "growth" 0.10, "increase" 0.07
    # (and "increase" is mostly 增加, so its own direction gives less).
    model = model_of({("增长", "growth"): 0.10, ("增长", "increase"): 0.07, ("增长", "rise"): 0.01,
                      ("增加", "increase"): 0.5})
    band = full_band(1, 3)
    evidence = TranslationEvidence(["增长"], ["growth", "increase", "rise"], model, band)
    cover = evidence.coverage(band, np.arange(2)[:, None], band.cols, 1, 1)
    assert cover[1, 1] == 1.0                       # the best rendering: full credit
    assert 0.6 < cover[1, 2] < 0.8                  # 0.07 / 0.10 of it, on both sides
    assert 0.01 < TRANSLATION_MIN_PROB and cover[1, 3] == 0.0   # below the floor: none


def test_words_the_model_does_not_know_and_function_words_count_for_neither_side():
    model = model_of({("医院", "hospital"): 0.3, ("的", "the"): 0.9})
    band = full_band(1, 1)
    # 医院 / hospital translate; 的, "the", "to", punctuation are function words; 跑步 and
    # "jogging" are unknown to the model: the share is still full.
    evidence = TranslationEvidence(["医院的跑步。"], ["The hospital, jogging to."], model, band)
    assert evidence.zh_cum[-1] == 1 and evidence.en_cum[-1] == 1
    assert evidence.coverage(band, np.arange(2)[:, None], band.cols, 1, 1)[1, 1] == 1.0


def test_the_model_decides_where_the_sentence_vectors_cannot():
    # An encoder that sees nothing (every sentence the same vector), CC-CEDICT left out: only
    # the model tells that the English opens with a sentence the Chinese does not have.
    def blind(texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), 512), dtype=np.float32) / np.sqrt(512)

    zh = ["他跑了。", "她哭了。"]
    en = ["Snow fell.", "He ran.", "She cried."]
    model = model_of({("跑", "ran"): 0.4, ("哭", "cried"): 0.4, ("雪", "snow"): 0.4})
    weights = dataclasses.replace(DEFAULT_WEIGHTS, translation=1.0, lexicon=0.0)
    beads = align(zh, en, src_lang="zh", embed=blind, translations=model, weights=weights)
    assert [(b.src, b.tgt) for b in beads] == [((), (0,)), ((0,), (1,)), ((1,), (2,))]
    without = align(zh, en, src_lang="zh", embed=blind, weights=weights)
    assert [(b.src, b.tgt) for b in without] != [(b.src, b.tgt) for b in beads]


def test_crossing_is_the_margin_of_a_two_to_two_bead_over_its_halves():
    # Each English sentence renders part of both Chinese ones: the halves are half-translations
    # (cosine 0.71 each), the whole bead a full one (1.0).
    from align.core.evidence import Runs, crossing

    s = np.sqrt(0.5)
    vectors = {"甲": [1, 0, 0], "乙": [0, 1, 0], "甲乙": [s, s, 0],
               "A": [s, s, 0], "B": [0, 1, 0], "A B": [s, s, 0]}

    def embed(texts: list[str]) -> np.ndarray:
        return np.array([vectors[t] for t in texts], dtype=np.float32)

    zr, er = Runs(["甲", "乙"], "", embed), Runs(["A", "B"], " ", embed)
    band = full_band(2, 2)
    from align.core.search import banded_products

    cos = banded_products(zr.vectors(2), er.vectors(2), band, 2, 2)
    margin = crossing(zr, er, band, cos, 2, 2)
    assert margin is not None
    assert abs(margin[2, 2] - (1.0 - (s + 1.0) / 2)) < 1e-5   # halves: cos(甲, A) = 0.71, cos(乙, B) = 1
    assert crossing(zr, er, band, cos, 1, 1) is None          # only beads of 2+ on both sides


@needs_shared
def test_changes_of_speaker_in_real_dialogue():
    # The Deer and the Cauldron, as translated by John Minford (mac-dev 002), read in place.
    from align.core.evidence import speaker_changes

    chapter = SHARED / "data" / "align" / "mac-dev"
    zh = (chapter / "zh" / "002").read_text(encoding="utf-8").splitlines()
    en = (chapter / "en" / "002").read_text(encoding="utf-8").splitlines()
    zh_changes, en_changes = speaker_changes(zh, "zh"), speaker_changes(en, "en")
    # 小玄子笑了笑，道：“……” / 韦小宝道：“……” / 小玄子道：“很好！”: each line a new speaker; the
    # narration before the first is no speech, so the first is no change.
    assert zh[57].startswith("小玄子道") and list(zh_changes[54:58]) == [0, 0, 1, 1]
    # 'Is that right?' protested Trinket. / 'Come on then: let's see—' / 'At you!': a line
    # after its speaker's tag is the same speaker; a line after an untagged one is the other.
    assert en[96] == "'At you!'" and list(en_changes[94:97]) == [1, 0, 1]
    assert en[141] == "'But I—'" and list(en_changes[140:143]) == [1, 0, 1]
    # "... with all these references to 'His Majesty'." quotes a name, not speech: the line
    # after it opens a turn after narration, which is no change of speaker.
    assert "'His Majesty'" in en[183] and en_changes[184] == 0


def test_a_change_of_speaker_counts_inside_a_bead_only_after_its_first_sentence():
    from align.core.evidence import speaker_change_inside

    # Chinese sentence 1 and English sentence 2 open a new speaker's turn.
    zh = np.concatenate([[0], np.cumsum([0, 1, 0])])
    en = np.concatenate([[0], np.cumsum([0, 0, 1, 0])])
    band = full_band(3, 4)
    rows = np.arange(4)[:, None]
    one_one = speaker_change_inside(zh, en, rows, band.cols, 1, 1)
    assert not one_one.any()                     # a single sentence's own change is its start
    two_one = speaker_change_inside(zh, en, rows, band.cols, 2, 1)
    assert two_one[2, 1] == 1 and two_one[3, 1] == 0   # Chinese 0-1 spans the change, 1-2 starts at it
    one_two = speaker_change_inside(zh, en, rows, band.cols, 1, 2)
    assert one_two[1, 3] == 1 and one_two[1, 4] == 0   # English 1-2 spans it, 2-3 starts at it
