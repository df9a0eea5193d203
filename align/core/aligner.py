"""Sentence alignment of a Chinese text with its English translation: ``align``, the one entry
point of ``align.core``.

``align`` finds the monotone sequence of beads (1-1, 1-2, 2-1, 2-2, 1-4, ... and the unaligned
1-0 / 0-1) that maximises the summed quality of its beads, by dynamic programming
(``search``). A bead's quality combines, for the runs of consecutive sentences it joins, the
features of ``evidence``, each weighted by ``beads.Weights``:

* the cosine of their multilingual sentence embeddings (``embedding``), minus the mean cosine
  of the same runs against their neighbours;
* a length term: the squared log of the run's English/Chinese character ratio against the
  document's own ratio;
* word evidence from a dictionary, numbers, names and glossary terms;
* word-translation evidence from a model learnt on parallel text, when one is given
  (``tm.core.wordalign``: the memory's fragment model in the service);
* the weakest sentence, whose cosine with the other side of the bead is near zero;
* paragraph breaks, when known;
* clauses that belong next door, on the other side of the bead's boundary;
* quotations left open on one side only;
* a change of speaker inside a bead (two turns of a dialogue in one bead);
* unrelated runs: a cosine no higher than unrelated runs of the bead's shape reach here.

Each bead adds its quality once, minus a small cost per sentence beyond two. Unaligned
sentences come in gaps, priced like gaps in sequence alignment: dear to open, cheap to extend,
because a translation leaves out passages, not scattered sentences. A long pair is searched
only in a corridor round a coarse path (``coarse``), so cost grows linearly with the texts.
How each feature and weight was chosen, with the figures, is ``docs/alignment-tuning.md``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from align.core import evidence
from align.core.beads import (
    DEFAULT_WEIGHTS,
    MAX_BEAD_SENTENCES,
    MAX_RUN,
    MERGE_FREE,
    Bead,
    Weights,
    bead_shapes,
    confidence,
)
from align.core.coarse import corridor
from align.core.embedding import Embedder, blas_threads, default_embedder, embedding_threads
from align.core.evidence import LENGTH_SMOOTHING, LexicalEvidence, Runs, TranslationEvidence
from align.core.search import Band, banded_products, viterbi
from tm.core.text import detect_language
from tm.core.wordalign import AlignmentModel

__all__ = ["Sentence", "align"]


class Sentence(Protocol):
    """A sentence given as an object (``tm.core.segment.Segment``); a ``paragraph`` attribute,
    when it has one, numbers its paragraph."""

    @property
    def text(self) -> str: ...


def align(
    src_sentences: Sequence[str | Sentence],
    tgt_sentences: Sequence[str | Sentence],
    *,
    src_lang: str | None = None,
    glossary: Sequence[tuple[str, str]] = (),
    src_paragraphs: Sequence[int] | None = None,
    tgt_paragraphs: Sequence[int] | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
    max_bead: int = MAX_BEAD_SENTENCES,
    embed: Embedder | None = None,
    translations: AlignmentModel | None = None,
) -> list[Bead]:
    """Align two lists of sentences, one Chinese and one English, in either order.

    Sentences may be strings or ``Segment``-like objects with ``text`` (and ``paragraph``,
    used when the ``*_paragraphs`` arguments are not given). ``src_lang`` is detected when
    omitted. ``glossary`` holds (zh, en) term pairs that count as translations of each other.
    ``embed`` maps a list of texts to unit row vectors; the default is USE multilingual v3.
    ``translations`` is a word-translation model (``tm.core.wordalign``) whose word pairs
    count as evidence beside the dictionary's (``evidence.TranslationEvidence``).
    Returns beads in order, covering every sentence of both sides exactly once.
    """
    src, src_par = _texts_and_paragraphs(src_sentences, src_paragraphs)
    tgt, tgt_par = _texts_and_paragraphs(tgt_sentences, tgt_paragraphs)
    if not src or not tgt:
        return [Bead((i,), (), 0.0) for i in range(len(src))] + [
            Bead((), (j,), 0.0) for j in range(len(tgt))
        ]
    if src_lang is None:
        src_lang = detect_language("".join(src[:200])) or "zh"
    if src_lang not in ("zh", "en"):
        raise ValueError(f"unsupported language {src_lang!r}: expected 'zh' or 'en'")
    zh_first = src_lang == "zh"
    zh, en = (src, tgt) if zh_first else (tgt, src)
    zh_par, en_par = (src_par, tgt_par) if zh_first else (tgt_par, src_par)
    with blas_threads(embedding_threads()):
        beads = _Aligner(zh, en, zh_par, en_par, glossary, weights, max_bead, embed or default_embedder(),
                         translations).run()
    if zh_first:
        return beads
    return [Bead(b.tgt, b.src, b.score) for b in beads]


def _texts_and_paragraphs(sentences: Sequence[str | Sentence],
                          paragraphs: Sequence[int] | None) -> tuple[list[str], Sequence[int] | None]:
    texts = [s if isinstance(s, str) else s.text for s in sentences]
    if paragraphs is None and sentences and not isinstance(sentences[0], str):
        paragraphs = [getattr(s, "paragraph", 0) for s in sentences]
    if paragraphs is not None and len(set(paragraphs)) <= 1:
        paragraphs = None  # one paragraph carries no evidence
    return texts, paragraphs


class _Aligner:
    def __init__(self, zh: list[str], en: list[str], zh_par: Sequence[int] | None, en_par: Sequence[int] | None,
                 glossary: Sequence[tuple[str, str]], weights: Weights, max_bead: int, embed: Embedder,
                 translations: AlignmentModel | None = None):
        self.zh, self.en = list(zh), list(en)
        self.n, self.m = len(zh), len(en)
        self.w = weights
        self.max_bead = max_bead
        self.longest = min(MAX_RUN, max_bead - 1)
        self.zr = Runs(self.zh, "", embed)
        self.er = Runs(self.en, " ", embed)
        # Paragraphs are evidence only when both texts have them.
        self.paragraphs = None if zh_par is None or en_par is None else (np.asarray(zh_par), np.asarray(en_par))
        self.glossary = [(z, e.lower()) for z, e in glossary if z and e]
        self.translations = translations
        self.model_lex: TranslationEvidence | None = None
        self._leak: evidence.Leakage | None = None
        self.zh_quotes = evidence.open_quotes(self.zh, "zh")
        self.en_quotes = evidence.open_quotes(self.en, "en")
        self.zh_changes = np.concatenate([[0], np.cumsum(evidence.speaker_changes(self.zh, "zh"))])
        self.en_changes = np.concatenate([[0], np.cumsum(evidence.speaker_changes(self.en, "en"))])
        total_zh, total_en = self.zr.chars[-1], self.er.chars[-1]
        self.log_ratio = math.log((total_en + LENGTH_SMOOTHING) / (total_zh + LENGTH_SMOOTHING))

    def corridor(self) -> Band:
        z1, e1 = self.zr.vectors(1), self.er.vectors(1)
        lz, le = self.zr.length(1), self.er.length(1)
        return corridor(z1, e1, lz, le, self.log_ratio, self.w)

    def run(self) -> list[Bead]:
        band = self.corridor()
        lex = LexicalEvidence(self.zh, self.en, self.glossary, band)
        self.model_lex = (TranslationEvidence(self.zh, self.en, self.translations, band)
                          if self.translations is not None and self.w.translation else None)
        shapes = bead_shapes(self.max_bead, min(self.longest, self.n), min(self.longest, self.m))
        quality: dict[tuple[int, int], np.ndarray] = {}
        gains: dict[tuple[int, int], np.ndarray] = {}
        rows = np.arange(self.n + 1)[:, None]
        cols = band.cols
        for a, b in shapes:
            q = self.bead_quality(band, lex, a, b, rows, cols)
            gains[(a, b)] = q
            # One gain per bead, not per sentence: a run's cosine grows with its length, so
            # weighting beads by their sentences over-merges.
            quality[(a, b)] = q - self.w.merge * max(0, a + b - MERGE_FREE)
        path = viterbi(self.n, self.m, band, quality, self.w.gap_open, self.w.gap_extend)
        beads: list[Bead] = []
        for s, t, a, b in path:
            if a and b:
                gain = float(band.take(gains[(a, b)], np.array([s + a]), np.array([t + b]))[0])
                score = confidence(gain)
            else:
                score = 0.0  # an unaligned sentence has no translation evidence
            beads.append(Bead(tuple(range(s, s + a)), tuple(range(t, t + b)), round(score, 4)))
        return beads

    def bead_quality(self, band: Band, lex: LexicalEvidence, a: int, b: int, rows: np.ndarray,
                     cols: np.ndarray) -> np.ndarray:
        """Quality of every bead of shape (a, b), banded by its end node."""
        w = self.w
        zv, ev = self.zr.vectors(a), self.er.vectors(b)
        cos = banded_products(zv, ev, band, a, b)
        neighbours = evidence.neighbours(band, cos, rows, cols, a, b)
        ratio = evidence.length_ratio(self.zr, self.er, rows, cols, a, b, self.log_ratio)
        q = w.cosine * cos - w.neighbours * neighbours - w.length * ratio**2
        q = q + w.lexicon * lex.coverage(band, rows, cols, a, b)
        if self.model_lex is not None:
            q = q + w.translation * self.model_lex.coverage(band, rows, cols, a, b)
        if w.weakest:
            weakest = evidence.weakest_part(self.zr, self.er, band, cos, a, b)
            q = q - w.weakest * np.maximum(0.0, w.weakest_floor - weakest)
        if self.paragraphs is not None:
            q = q - w.paragraph * evidence.paragraph_conflicts(*self.paragraphs, rows, cols, a, b)
        if w.leak:
            q = q - w.leak * self.leakage(band, a, b, rows, cols)
        if w.quotes:
            q = q - w.quotes * evidence.quote_mismatch(self.zh_quotes, self.en_quotes, rows, cols, a, b)
        if w.speaker:
            q = q - w.speaker * evidence.speaker_change_inside(self.zh_changes, self.en_changes, rows, cols, a, b)
        if w.crossing:
            margin = evidence.crossing(self.zr, self.er, band, cos, a, b)
            if margin is not None:
                q = q + w.crossing * np.maximum(0.0, margin - w.crossing_floor)
        if w.unrelated:
            level = evidence.unrelated_level(self.zr, self.er, a, b)
            if level is not None:
                q = q - w.unrelated * np.maximum(0.0, level - cos)
        return q

    def leakage(self, band: Band, a: int, b: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """How much the boundary clauses of each bead of shape (a, b) belong next door: for the
        first and last sentence on either side, the largest margin by which one of its clauses
        resembles the sentence just before (after) the bead on the other side more than the
        bead's own run there; zero when none does."""
        if self._leak is None:
            self._leak = evidence.Leakage(self.zr, self.er, band, self.longest)
        return self._leak.of_shape(a, b, rows, cols)
