"""What an alignment is made of: beads, their shapes, the weights of their quality, and what
a finished alignment tells a reader (confidence, passages one text leaves out).

A bead joins runs of consecutive sentences of the two texts (1-1, 1-2, 2-1, 2-2, 1-4, ...);
unaligned sentences (1-0 / 0-1) are left to the search's gaps. The tuning behind each default
is recorded in ``docs/alignment-tuning.md``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Bead", "Weights", "DEFAULT_WEIGHTS", "bead_shapes", "confidence", "unaligned_passages"]

#: Beads join at most this many sentences in all: literary translation merges up to 1-5 and 1-6.
MAX_BEAD_SENTENCES = 7
#: Up to this many sentences on one side of a bead.
MAX_RUN = 6
#: Beads of up to this many sentences pay no merge cost (see ``Weights.merge``).
MERGE_FREE = 2
#: Confidence is a logistic function of bead quality, fitted (logistic regression) to whether
#: each aligned bead of the six mac-dev chapters is exactly a gold bead (refitted with the
#: clause evidence in the quality).
CONFIDENCE_MIDPOINT = -0.10
CONFIDENCE_SLOPE = 4.1
#: Unaligned sentences of one side in a row that make a passage one text leaves out, which the
#: harvest and the command line name in a warning (``unaligned_passages``).
PASSAGE_SENTENCES = 3
#: One side with more than this many times the sentences of the other is probably not the same
#: text, or a shortened one: the harvest and the command line still align it, and warn.
SENTENCE_RATIO_WARNING = 2.0


@dataclass(frozen=True)
class Bead:
    """``src`` and ``tgt`` sentence indices aligned together (either may be empty) and a
    confidence in 0..1."""

    src: tuple[int, ...]
    tgt: tuple[int, ...]
    score: float


@dataclass(frozen=True)
class Weights:
    """The weights of the bead quality and of gaps. The defaults were tuned on the mac-dev
    novels with leave-one-document-out checks, the gap and unrelated-level weights also on news
    with passages missing, built from WMT newstest2017 (see ``bench/align_bench.py``); the runs
    that chose each value are in ``docs/alignment-tuning.md``."""

    cosine: float = 1.0
    neighbours: float = 0.15
    #: Low: loose literary translation makes the length ratio a weak witness next to the
    #: embeddings, yet dropping it costs more than keeping a little.
    length: float = 0.2
    lexicon: float = 0.3
    #: Weight of the word-translation model's coverage (``evidence.TranslationEvidence``), used
    #: only when the caller passes a model.
    translation: float = 0.0
    paragraph: float = 0.3
    #: Gain of the first sentence of a gap (a run of unaligned sentences, on either side or
    #: both) and of each further one. The first costs what every unaligned sentence used to;
    #: the rest are nearly free, because translations leave things out in passages: an
    #: abridged English version drops whole paragraphs, and charging every dropped sentence as
    #: much as the first glued the passage onto its neighbours. A lone credit line still stays
    #: on its own at this opening cost. Equal costs make it the plain per-sentence skip.
    gap_open: float = -0.3
    gap_extend: float = -0.01
    #: Penalty per unit the weakest sentence of a bead falls below ``weakest_floor``.
    weakest: float = 1.0
    #: A sentence whose cosine with the other side of its bead is below this belongs elsewhere
    #: (or nowhere): "Photo: Reuters" glued onto a translated sentence, or unrelated sentences
    #: glued into a long bead where a passage is missing from one text.
    weakest_floor: float = 0.1
    #: Extra cost per sentence beyond two in a bead, so long beads need real evidence.
    merge: float = 0.05
    #: Penalty per unit a boundary clause resembles the neighbouring sentence more than its
    #: own bead (``evidence.Leakage``); a broad range of values gains alike.
    leak: float = 0.5
    #: Penalty for a bead whose quotations are left open (or closed) on one side only
    #: (``evidence.quote_mismatch``).
    quotes: float = 0.1
    #: Penalty for a bead that holds a change of speaker after its first sentence, on either side
    #: (``evidence.speaker_change_inside``). Chosen by leave-one-document-out across all gold sets
    #: (every fold picked 0.2); every value from 0.15 to 0.3 gains (mac-dev 0.926-0.929 in
    #: sample), from 0.3 a Chinese speech tag at the start of a line (“站住！” / 劫路人喊着，“……)
    #: passes for a change of speaker and costs a chapter two beads.
    speaker: float = 0.2
    #: Penalty per unit a bead's cosine falls below the level unrelated runs of its shape reach
    #: in the same document (``evidence.unrelated_level``). Without it, sentences of a passage
    #: that only one text has were paired with unrelated sentences that stood in its place in
    #: the other; stronger settings find more of those and cost the loosely translated novels.
    unrelated: float = 1.0
    #: Gain per unit a 2-2 bead's cosine beats the mean of its two 1-1 halves
    #: (``evidence.crossing``) beyond ``crossing_floor``: one gain per bead otherwise splits a
    #: 2-2 bead whose halves are half-translations. Chosen by leave-one-document-out across all
    #: gold sets (seven folds of eight picked 0.5 and 0.2); without a floor it over-merges.
    crossing: float = 0.5
    #: Consecutive 1-1 beads reach a margin of 0.04 (median) to 0.11 (90th percentile): a run's
    #: cosine grows with its length.
    crossing_floor: float = 0.2


DEFAULT_WEIGHTS = Weights()


def bead_shapes(max_bead: int, max_zh: int, max_en: int) -> list[tuple[int, int]]:
    """Bead shapes (a Chinese, b English sentences); unaligned ones are the search's gaps."""
    return [
        (a, b)
        for a in range(1, max_zh + 1)
        for b in range(1, max_en + 1)
        if a + b <= max_bead
    ]


def confidence(quality: float) -> float:
    """A bead's chance, 0..1, of being exactly right, from its quality."""
    return 1.0 / (1.0 + math.exp(-CONFIDENCE_SLOPE * (quality - CONFIDENCE_MIDPOINT)))


def unaligned_passages(beads: Sequence[Bead],
                       shortest: int = PASSAGE_SENTENCES) -> list[tuple[str, int, int]]:
    """Runs of at least ``shortest`` unaligned sentences of one side, each within one gap (a
    gap may hold unaligned sentences of both sides), as ("src" or "tgt", first, last), 0-based
    and inclusive: the passages one text has and the other leaves out."""
    passages: list[tuple[str, int, int]] = []
    gap: dict[str, list[int]] = {"src": [], "tgt": []}

    def close_gap() -> None:
        for side, run in gap.items():
            if len(run) >= shortest:
                passages.append((side, run[0], run[-1]))
        gap["src"], gap["tgt"] = [], []

    for bead in beads:
        if bead.src and bead.tgt:
            close_gap()
        else:
            gap["src"] += bead.src
            gap["tgt"] += bead.tgt
    close_gap()
    return passages
