"""The evidence a bead's quality is made of, for every bead of one shape at once.

Each feature answers one question about a bead: do its two sides say the same thing, and is
this the right place to cut? The weights that combine them are ``beads.Weights``; how each was
found to help is in ``docs/alignment-tuning.md``. Every function here works on banded arrays
(``search.Band``), one value per bead ending at each node of the band.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from align.core.embedding import Embedder, unit
from align.core.search import Band, banded_products, monotone
from tm.core.lexicon import chinese_words, english_stems, load_lexicon, stem
from tm.core.segment import split_clauses
from tm.core.wordalign import FLOOR, AlignmentModel, is_function_word, tokens

__all__ = [
    "Runs", "LexicalEvidence", "TranslationEvidence", "Leakage", "take_runs", "neighbours", "length_ratio",
    "weakest_part",
    "paragraph_conflicts", "crossing", "open_quotes", "quote_mismatch", "speaker_changes", "speaker_change_inside",
    "unrelated_level",
]

#: Runs longer than this are not embedded themselves: their vector is the normalised sum of the
#: vectors of their parts. Embedding every run up to six sentences costs 21 passes over a text,
#: which is most of the aligner's time; past three sentences the sum loses little and needs under
#: a third of the embedding work.
EXACT_RUN = 3
#: Characters added to both sides before taking the length ratio, so one-word sentences do not
#: swing the log ratio wildly.
LENGTH_SMOOTHING = 8.0
#: See ``unrelated_level``: robust standard deviations above the median, how far off the
#: diagonal (in sentences) a pair of runs must lie to count as unrelated, and how many such
#: pairs it takes to measure the level at all.
UNRELATED_SPREADS = 0.5
UNRELATED_DISTANCE = 10
UNRELATED_MIN_SAMPLES = 24


# --------------------------------------------------------------------------- runs and their vectors

class Runs:
    """Vectors and lengths of runs of consecutive sentences of one side.

    A bead's first witness is the cosine of the vectors of its two runs: a run is embedded as
    one text, which the encoder reads better than an average of its sentences' vectors.
    """

    def __init__(self, texts: list[str], joiner: str, embed: Embedder):
        self.texts, self.joiner, self.embed = texts, joiner, embed
        self.chars = np.cumsum([0] + [len(t) for t in texts])
        self._vectors: dict[int, np.ndarray] = {}

    def length(self, k: int) -> np.ndarray:
        """Characters of each run of k sentences (index = first sentence)."""
        # numpy's stubs type arithmetic on arrays of unknown dtype as Any; here and below, a
        # name annotated as an array keeps the result checked.
        lengths: np.ndarray = self.chars[k:] - self.chars[:-k]
        return lengths.astype(np.float64)

    def vectors(self, k: int) -> np.ndarray:
        """Unit vectors of each run of k sentences (row = first sentence)."""
        if k not in self._vectors:
            n = len(self.texts)
            if n - k + 1 <= 0:
                self._vectors[k] = np.zeros((0, 512), np.float32)
            elif k <= EXACT_RUN:
                runs = [self.joiner.join(self.texts[s : s + k]) for s in range(n - k + 1)]
                self._vectors[k] = unit(self.embed(runs)) if runs else np.zeros((0, 512), np.float32)
            else:
                head = self.vectors(EXACT_RUN)[: n - k + 1]
                tail = self.vectors(k - EXACT_RUN)[EXACT_RUN:]
                # Weighted by characters, as the encoder itself averages over tokens.
                wh = self.length(EXACT_RUN)[: n - k + 1, None]
                wt = self.length(k - EXACT_RUN)[EXACT_RUN:, None]
                self._vectors[k] = unit(head * wh + tail * wt).astype(np.float32)
        return self._vectors[k]


def take_runs(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``values[starts]`` where a run starts there, NaN where none does."""
    if len(values) == 0:
        return np.full(starts.shape, np.nan)
    ok = (starts >= 0) & (starts < len(values))
    return np.where(ok, values[np.clip(starts, 0, len(values) - 1)], np.nan)


def neighbours(band: Band, cos: np.ndarray, rows: np.ndarray, cols: np.ndarray, a: int, b: int) -> np.ndarray:
    """The mean cosine of the same runs shifted by one run along either side: subtracted from a
    bead's own cosine, so that a generic sentence which resembles everything does not win over
    a specific one."""
    shifted = [
        band.take(cos, rows, cols - b),
        band.take(cos, rows, cols + b),
        band.take(cos, rows - a, cols),
        band.take(cos, rows + a, cols),
    ]
    with np.errstate(all="ignore"):
        stacked = np.stack(shifted)
        seen = np.isfinite(stacked).sum(axis=0)
        return np.where(seen > 0, np.nansum(stacked, axis=0) / np.maximum(seen, 1), 0.0)


def length_ratio(zr: Runs, er: Runs, rows: np.ndarray, cols: np.ndarray, a: int, b: int,
                 log_ratio: float) -> np.ndarray:
    """The log of each bead's English/Chinese character ratio against the document's own
    (``log_ratio``): Gale and Church's observation that lengths of translations are
    proportional, in the form vecalign and Bertalign found robust (the caller squares it)."""
    lz = take_runs(zr.length(a), rows - a)
    le = take_runs(er.length(b), cols - b)
    return np.log((le + LENGTH_SMOOTHING) / (lz + LENGTH_SMOOTHING)) - log_ratio


def weakest_part(zr: Runs, er: Runs, band: Band, cos: np.ndarray, a: int, b: int) -> np.ndarray:
    """The lowest cosine between one sentence of a bead and the whole other side: a
    sentence that belongs elsewhere, or nowhere, drags a bead down even when the run's
    vector, dominated by the other sentences, still looks right."""
    weakest = cos
    if b > 1:
        zv, e1 = zr.vectors(a), er.vectors(1)
        for d in range(b):
            weakest = np.fmin(weakest, banded_products(zv, e1, band, a, b - d))
    if a > 1:
        z1, ev = zr.vectors(1), er.vectors(b)
        for d in range(a):
            weakest = np.fmin(weakest, banded_products(z1, ev, band, a - d, b))
    return np.where(np.isfinite(cos), weakest, np.nan)


def paragraph_conflicts(zh_par: np.ndarray, en_par: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                        a: int, b: int) -> np.ndarray:
    """Paragraph breaks, when both texts have them: a bead should neither straddle one nor
    start one on one side only. Counts the bead's offences (0 to 3)."""
    def starts_and_crossings(par: np.ndarray, ends: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        first = np.clip(ends - k, 0, len(par) - 1)
        last = np.clip(ends - 1, 0, len(par) - 1)
        prev = np.clip(ends - k - 1, 0, len(par) - 1)
        starts = (ends - k == 0) | (par[first] != par[prev])
        return starts, par[first] != par[last]

    zs, zc = starts_and_crossings(zh_par, rows, a)
    es, ec = starts_and_crossings(en_par, cols, b)
    offences: np.ndarray = zc.astype(float) + ec + (zs != es)
    return offences


#: Beads of up to this many sentences in all are compared with their splits in two
#: (``crossing``): 2-2 only. With 2-3 and 3-2 too (5) leave-one-out lost a bead of nonlit-mag
#: (docs/alignment-tuning.md).
CROSSING_MAX_SENTENCES = 4


def crossing(zr: Runs, er: Runs, band: Band, cos: np.ndarray, a: int, b: int) -> np.ndarray | None:
    """For a bead of at least two sentences on both sides (and at most
    ``CROSSING_MAX_SENTENCES`` in all): its cosine minus the mean cosine of its two parts under
    the best split into two beads (2-2 into 1-1 and 1-1; 2-3 into 1-1 and 1-2 or 1-2 and 1-1).
    None for other shapes.

    The search adds one gain per bead, so two 1-1 beads of cosine 0.4 outscore the 2-2 bead
    they make whenever its cosine is below 0.8: a 2-2 bead is found only if its halves are
    nearly unrelated. Yet where the translator moved a clause across the boundary, the halves
    are half-translations and the whole is a better one than either: on mac-dev's gold 2-2
    beads the run's cosine exceeds the mean of its 1-1 halves by 0.19 (median), on pairs of
    consecutive gold 1-1 beads by 0.04. This measures that margin."""
    if a < 2 or b < 2 or a + b > CROSSING_MAX_SENTENCES:
        return None
    best = np.full(cos.shape, -np.inf, dtype=np.float64)
    for a1 in range(1, a):
        for b1 in range(1, b):
            first = banded_products(zr.vectors(a1), er.vectors(b1), band, a, b)
            second = banded_products(zr.vectors(a - a1), er.vectors(b - b1), band, a - a1, b - b1)
            best = np.fmax(best, (first + second) / 2)
    margin: np.ndarray = np.where(np.isfinite(best), cos - best, np.nan)
    return margin


# --------------------------------------------------------------------------- clauses that belong next door


class _Clauses:
    """Unit vectors of the clauses of one side's sentences, in order; ``first[s]`` is the row of
    sentence s's first clause (``first[len]`` closes the last). A sentence that is one clause
    reuses its sentence vector."""

    def __init__(self, runs: Runs, lang: str, embed: Embedder):
        pieces: list[str] = []
        owners: list[int] = []
        for k, text in enumerate(runs.texts):
            parts = split_clauses(text, lang)
            pieces += parts
            owners += [k] * len(parts)
        sentence_vectors = runs.vectors(1)
        whole = [piece == runs.texts[k] for piece, k in zip(pieces, owners, strict=True)]
        own = [i for i, is_whole in enumerate(whole) if is_whole]
        other = [i for i, is_whole in enumerate(whole) if not is_whole]
        vectors = np.zeros((len(pieces), sentence_vectors.shape[1]), dtype=np.float32)
        if own:
            vectors[own] = sentence_vectors[[owners[i] for i in own]]
        if other:
            vectors[other] = unit(embed([pieces[i] for i in other]))
        self.vectors = vectors
        self.first = np.searchsorted(np.asarray(owners), np.arange(len(runs.texts) + 1))


class Leakage:
    """Clauses that belong next door, for every bead shape, from tables computed once per
    alignment: when a clause of a bead's first or last sentence resembles the sentence just
    outside the bead on the other side more than the bead's own other side, the bead's boundary
    is in the wrong place. Translators move sentence boundaries to commas; the vectors of whole
    sentences blur that (a 2-2 bead and its two 1-1 halves score alike), the clauses do not.

    Described for clauses of side X against side Y (done both ways): for an X sentence s, a Y
    node v and a Y run length q, ``after[q][s, v]`` is the largest, over the clauses c of s, of
    cos(c, y[v]) - cos(c, run of q Y sentences ending at v), and ``before[q][s, v]`` the same
    with y[v - q - 1], the sentence before the run. A bead whose X side ends with s and whose Y
    side is that run leaks by ``after``; one whose X side starts with s, by ``before``. The
    tables are banded like the DP, so the cost grows with the document, not its square.
    """

    def __init__(self, zr: Runs, er: Runs, band: Band, longest: int):
        n, m = len(zr.texts), len(er.texts)
        # Rows are Chinese sentences s and columns English nodes: a bead ending at node row
        # i = s + 1 (s last) or i = s + a (s first) reaches the columns of those rows.
        lo, hi = monotone(band)
        zh_rows = np.arange(n)
        zh_band = Band(lo[np.minimum(zh_rows + 1, n)], hi[np.minimum(zh_rows + longest, n)])
        # Rows are English sentences t and columns Chinese nodes i: (i, j) with t = j - 1 or
        # t = j - b is in the band when lo[i] <= t + b and hi[i] >= t + 1.
        en_rows = np.arange(m)
        first_i = np.searchsorted(hi, en_rows + 1, side="left")
        last_i = np.searchsorted(lo, en_rows + longest, side="right") - 1
        first_i = np.clip(first_i, 0, n)
        en_band = Band(first_i, np.clip(np.maximum(last_i, first_i), 0, n))
        zh_clauses = _Clauses(zr, "zh", zr.embed)
        en_clauses = _Clauses(er, "en", er.embed)
        e1, z1 = er.vectors(1), zr.vectors(1)
        self.zh_band, self.en_band = zh_band, en_band
        self.zh_tables = {b: _leak_tables(zh_clauses, e1, er.vectors(b), b, zh_band)
                          for b in range(1, min(longest, m) + 1)}
        self.en_tables = {a: _leak_tables(en_clauses, z1, zr.vectors(a), a, en_band)
                          for a in range(1, min(longest, n) + 1)}

    def of_shape(self, a: int, b: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Leakage of every bead of shape (a, b), banded by its end node (rows i, cols j)."""
        rows = np.broadcast_to(rows, cols.shape)
        after, before = self.zh_tables[b]
        zh_side = np.fmax(self.zh_band.take(after, rows - 1, cols, fill=-np.inf),
                          self.zh_band.take(before, rows - a, cols, fill=-np.inf))
        after, before = self.en_tables[a]
        en_side = np.fmax(self.en_band.take(after, cols - 1, rows, fill=-np.inf),
                          self.en_band.take(before, cols - b, rows, fill=-np.inf))
        leaks: np.ndarray = np.maximum(zh_side, 0.0) + np.maximum(en_side, 0.0)
        return leaks


def _leak_tables(clauses: _Clauses, y1: np.ndarray, y_runs: np.ndarray, q: int,
                 band: Band) -> tuple[np.ndarray, np.ndarray]:
    """(after, before) of ``Leakage`` for Y runs of length q, banded like ``band`` (rows are X
    sentences, columns Y nodes); -inf where a neighbour or run does not exist."""
    rows, width = len(band.lo), band.width
    after = np.full((rows, width), -np.inf, dtype=np.float32)
    before = np.full((rows, width), -np.inf, dtype=np.float32)
    block = 32
    for r0 in range(0, rows, block):
        r1 = min(rows, r0 + block)
        c0, c1 = int(band.lo[r0:r1].min()), int(band.hi[r0:r1].max())
        k0, k1 = int(clauses.first[r0]), int(clauses.first[r1])
        vectors = clauses.vectors[k0:k1]
        nodes = np.arange(c0, c1 + 1)
        own = _cosines(vectors, y_runs, nodes - q)
        with np.errstate(invalid="ignore"):
            gain_after = np.nan_to_num(_cosines(vectors, y1, nodes) - own, nan=-np.inf)
            gain_before = np.nan_to_num(_cosines(vectors, y1, nodes - q - 1) - own, nan=-np.inf)
        starts = clauses.first[r0:r1] - k0
        k = np.clip(band.cols[r0:r1] - c0, 0, c1 - c0)
        inside = band.cols[r0:r1] <= band.hi[r0:r1, None]
        for table, gain in ((after, gain_after), (before, gain_before)):
            per_sentence = np.maximum.reduceat(gain, starts, axis=0)
            table[r0:r1] = np.where(inside, np.take_along_axis(per_sentence, k, axis=1), -np.inf)
    return after, before


def _cosines(vectors: np.ndarray, of: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Cosines of ``vectors`` (rows) with ``of[index]`` (columns); NaN where ``index`` is outside ``of``."""
    ok = (index >= 0) & (index < len(of))
    out = np.full((len(vectors), len(index)), np.nan, dtype=np.float32)
    if ok.any():
        out[:, ok] = vectors @ of[index[ok]].T
    return out


# --------------------------------------------------------------------------- quotations


#: English quotation marks: an opening one starts a word, a closing one follows a word or its
#: punctuation and ends it. Apostrophes inside words (it's) are neither; a plural possessive
#: (the girls' room) passes for a closing mark, rare enough not to matter.
_EN_OPENING_QUOTE = re.compile(r"(?:^|(?<=[\s(\[—-]))['‘“\"](?=\S)")
_EN_CLOSING_QUOTE = re.compile(r"(?<=[.,!?;:—…\-\w])['’”\"](?=\s|$|[)\],.;:!?—])")


def quote_balance(text: str, lang: str) -> int:
    """Quotations a sentence opens minus those it closes."""
    if lang == "zh":
        return (text.count("“") + text.count("「") + text.count("『")
                - text.count("”") - text.count("」") - text.count("』"))
    return len(_EN_OPENING_QUOTE.findall(text)) - len(_EN_CLOSING_QUOTE.findall(text))


def open_quotes(texts: list[str], lang: str) -> np.ndarray:
    """Prefix sums of ``quote_balance`` over a side's sentences (``quote_mismatch`` reads them)."""
    return np.concatenate([[0], np.cumsum([quote_balance(t, lang) for t in texts])])


def quote_mismatch(zh_open: np.ndarray, en_open: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                   a: int, b: int) -> np.ndarray:
    """1 where a bead opens (or closes) more quotations than it closes (opens) on one side
    but not on the other, else 0. A bead that leaves a quotation open on one side only has cut
    a line of dialogue in the wrong place (“But sharp!” belongs with the retort it opens, not
    the remark before)."""
    n, m = len(zh_open) - 1, len(en_open) - 1
    rows, cols = np.broadcast_to(rows, cols.shape), np.clip(cols, 0, m)
    zh = zh_open[rows] - zh_open[np.clip(rows - a, 0, n)]
    en = en_open[cols] - en_open[np.clip(cols - b, 0, m)]
    differs: np.ndarray = np.sign(zh) != np.sign(en)
    return differs.astype(np.float64)


#: English quotation marks of each kind: a document's main kind marks its speech, the other
#: kind nests inside it (or is an apostrophe).
_EN_SINGLE, _EN_DOUBLE = "'‘’", "\"“”"
#: A quotation opens a turn of speech when it opens the sentence or follows a colon, a comma or a
#: dash (他说：“……”, 'Yes,' he said, 'and…'); one after other words quotes a word or a name
#: (这个“准”字, all these references to 'His Majesty'), which is no speech.
_SPEECH_LEAD = "：:，,—"
#: A word after a sentence's last closing mark: the sentence ends on a speech tag
#: ('I won a dozen taels,' replied Trinket.).
_WORD = re.compile(r"\w")


def _marks(text: str, lang: str, kind: str) -> list[tuple[int, int]]:
    """(position, +1 opening / -1 closing) of the quotation marks of ``text``, in order; for
    English only the marks of ``kind``."""
    if lang == "zh":
        return [(k, 1 if c in "“「『" else -1) for k, c in enumerate(text) if c in "“”「」『』"]
    found = [(m.start(), 1) for m in _EN_OPENING_QUOTE.finditer(text) if text[m.start()] in kind]
    found += [(m.start(), -1) for m in _EN_CLOSING_QUOTE.finditer(text) if text[m.start()] in kind]
    return sorted(found)


def _english_speech_marks(texts: list[str]) -> str:
    """The kind of quotation mark (single or double) that opens more quotations in ``texts``."""
    def openings(kind: str) -> int:
        return sum(1 for t in texts for m in _EN_OPENING_QUOTE.finditer(t) if t[m.start()] in kind)

    return _EN_SINGLE if openings(_EN_SINGLE) > openings(_EN_DOUBLE) else _EN_DOUBLE


def speaker_changes(texts: list[str], lang: str) -> np.ndarray:
    """1 for each sentence that opens a new turn of speech straight after a sentence of speech
    (the point where one speaker hands over to the next), else 0.

    Whether a sentence starts inside a quotation is read from the last mark before it, so a
    missed mark costs one sentence, not the rest of the document. A sentence is speech when it
    starts inside a quotation or opens one as speech (``_SPEECH_LEAD``). A turn opens where a
    sentence outside a quotation opens one as speech, unless the sentence before ended on a
    speech tag: English closes a line round its tag and opens the rest anew ('I won a dozen
    taels,' replied Trinket. / 'But I—') where the speaker has not changed. The rule cannot
    tell a tag at the start of the next sentence from a new speaker (“站住！” / 劫路人喊着，“再走一步…”
    is one speaker), so it marks some changes that are none.
    """
    kind = _english_speech_marks(texts) if lang == "en" else ""
    changes = np.zeros(len(texts), dtype=np.int64)
    inside = after_tag = speech_before = False
    for k, text in enumerate(texts):
        marks = _marks(text, lang, kind)
        opens_speech = any(
            step > 0 and (not text[:pos].strip() or text[:pos].rstrip()[-1] in _SPEECH_LEAD)
            for pos, step in marks)
        changes[k] = speech_before and not inside and opens_speech and not after_tag
        speech_before = inside or opens_speech
        if marks:
            inside = marks[-1][1] > 0
        closing = [pos for pos, step in marks if step < 0]
        after_tag = not inside and bool(closing) and bool(_WORD.search(text[closing[-1] + 1:]))
    return changes


def speaker_change_inside(zh_changes: np.ndarray, en_changes: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                          a: int, b: int) -> np.ndarray:
    """1 where a bead holds a change of speaker after its first sentence, on either side, else
    0; the arguments are prefix sums of ``speaker_changes``.

    Translators keep the exchange of turns even where they cut, merge and reword the sentences
    of a turn: a tag moves into the narration next door, a line is split at each question mark,
    but the reply stays a reply, so a bead boundary falls where the speaker changes. On the gold
    beads of the eight gold documents, 7 of 3,409 hold a change (two lines the translator
    joined, or a tag the rule takes for a new speaker); of the aligner's wrong beads on mac-dev
    before this evidence, 10 of 118 did, where a short reply ('No, ma'am.', 'At you!') was
    pulled into the question's bead or a question's second half into the reply's."""
    n, m = len(zh_changes) - 1, len(en_changes) - 1
    rows, cols = np.broadcast_to(rows, cols.shape), np.clip(cols, 0, m)
    zh = zh_changes[np.clip(rows, 0, n)] - zh_changes[np.clip(rows - a + 1, 0, n)]
    en = en_changes[cols] - en_changes[np.clip(cols - b + 1, 0, m)]
    inside: np.ndarray = (zh > 0) | (en > 0)
    return inside.astype(np.float64)


# --------------------------------------------------------------------------- words


class _PairCoverage:
    """Word counts of sentence pairs in the band, summed over a bead's runs by prefix sums.

    ``hz[s, k]`` is how many words of Chinese sentence s find a translation in English sentence
    t = band.lo[s] + k - 1 (column 0 is left empty for the prefix sums), ``he`` the same for the
    words of t; ``zh_count`` and ``en_count`` the words of each sentence that could. Runs sum these
    over their sentences, so a word translated in two sentences of a run counts twice, clipped to
    the run's words.
    """

    def __init__(self, hz: np.ndarray, he: np.ndarray, zh_count: np.ndarray, en_count: np.ndarray,
                 band: Band):
        self.band = band
        self.hz_cum = np.cumsum(hz, axis=1)
        self.he_cum = np.cumsum(he, axis=1)
        self.zh_cum = np.concatenate([[0.0], np.cumsum(zh_count)])
        self.en_cum = np.concatenate([[0.0], np.cumsum(en_count)])

    def _block(self, cum: np.ndarray, s: np.ndarray, t: np.ndarray, a: int, b: int) -> np.ndarray:
        """Sum of pair counts over sentences s..s+a-1 × t..t+b-1 (t within the row's band)."""
        total = np.zeros(np.broadcast_shapes(s.shape, t.shape))
        for d in range(a):
            row = np.clip(s + d, 0, len(self.band.lo) - 1)
            lo, hi = self.band.lo[row], np.minimum(self.band.hi[row], len(self.en_cum) - 2)
            k0 = np.clip(t - lo, 0, self.band.width)
            k1 = np.clip(np.minimum(t + b - 1, hi) - lo + 1, 0, self.band.width)
            total += np.where(k1 > k0, cum[row, k1] - cum[row, k0], 0.0)
        return total

    def coverage(self, band: Band, rows: np.ndarray, cols: np.ndarray, a: int, b: int) -> np.ndarray:
        """Dice-like share of words of both runs that have a translation on the other side."""
        s, t = rows - a, cols - b
        sc, tc = np.clip(s, 0, len(self.zh_cum) - 1 - a), np.clip(t, 0, len(self.en_cum) - 1 - b)
        nz = self.zh_cum[sc + a] - self.zh_cum[sc]
        ne = self.en_cum[tc + b] - self.en_cum[tc]
        hz = np.minimum(self._block(self.hz_cum, s, t, a, b), nz)
        he = np.minimum(self._block(self.he_cum, s, t, a, b), ne)
        share: np.ndarray = (hz + he) / np.maximum(nz + ne, 1.0)
        return share


class LexicalEvidence(_PairCoverage):
    """Word-level translation evidence between sentence pairs in the band: the share of words
    on either side covered by a CC-CEDICT translation, a shared number or Latin-script name, or a
    caller-supplied glossary term. It catches pairs the sentence vectors rank close together.

    For a Chinese sentence s and an English sentence t: how many Chinese words of s have a
    translation among the stems of t, and how many stems of t translate some word of s. Runs
    sum these over their sentences, so a bead's coverage comes from prefix sums.
    """

    def __init__(self, zh: list[str], en: list[str], glossary: Sequence[tuple[str, str]], band: Band):
        lexicon = load_lexicon()
        zh_words: list[list[frozenset[str]]] = []
        en_sets: list[set[str]] = []
        en_lists: list[list[str]] = []
        for text in zh:
            words: list[frozenset[str]] = []
            for word in chinese_words(text):
                if word.isascii():
                    words.append(frozenset([stem(word)]))  # numbers and Latin names
                elif word in lexicon:
                    words.append(lexicon[word])
            words += [frozenset([f"\x00g{k}"]) for k, (z, _) in enumerate(glossary) if z in text]
            zh_words.append(words)
        for text in en:
            stems = english_stems(text)
            lower = f" {text.lower()} "
            stems += [f"\x00g{k}" for k, (_, e) in enumerate(glossary) if f" {e}" in lower]
            en_lists.append(stems)
            en_sets.append(set(stems))
        zh_count = np.array([len(w) for w in zh_words], dtype=np.float64)
        en_count = np.array([len(s) for s in en_lists], dtype=np.float64)
        unions = [frozenset().union(*w) for w in zh_words]
        # Pair counts for sentence s (row s) and sentence t, banded like the DP rows.
        n = len(zh)
        hz = np.zeros((n + 1, band.width + 1))
        he = np.zeros((n + 1, band.width + 1))
        for s in range(n):
            lo, hi = int(band.lo[s]), min(int(band.hi[s]), len(en) - 1)
            words, union = zh_words[s], unions[s]
            for t in range(lo, hi + 1):
                stems_t, set_t = en_lists[t], en_sets[t]
                hz[s, t - lo + 1] = sum(1 for w in words if not w.isdisjoint(set_t))
                he[s, t - lo + 1] = sum(1 for x in stems_t if x in union)
        super().__init__(hz, he, zh_count, en_count, band)


#: A word pair counts as a translation when either direction of the word-translation model
#: gives it at least this probability: below it, t(e | z) is mostly the spread of a common word
#: over the words it co-occurs with, not a translation.
TRANSLATION_MIN_PROB = 0.05


class TranslationEvidence(_PairCoverage):
    """Word-translation evidence from a model learnt on parallel text (``tm.core.wordalign``:
    the fragment model of the memory, or one trained on parallel corpora): the soft share of
    the content words on either side that the model translates into some word of the other.

    Where CC-CEDICT says whether a word *can* mean another, the model says how often it *is*
    rendered so in real translations, and it knows the words a dictionary lacks (names, set
    phrases of the domain, colloquial renderings). A word's credit in a sentence pair is the
    strongest link to the other sentence, max(t(e | z), t(z | e)) when that reaches
    ``TRANSLATION_MIN_PROB``; words the model has never seen count for neither side.
    """

    def __init__(self, zh: list[str], en: list[str], model: AlignmentModel, band: Band):
        zh_ids = [_content_ids(model, text, "zh") for text in zh]
        en_ids = [_content_ids(model, text, "en") for text in en]
        n, m = len(zh), len(en)
        zh_count = np.array([len(ids) for ids in zh_ids], dtype=np.float64)
        en_count = np.array([len(ids) for ids in en_ids], dtype=np.float64)
        hz = np.zeros((n + 1, band.width + 1))
        he = np.zeros((n + 1, band.width + 1))
        links = _strong_links(model, np.unique(np.concatenate([np.zeros(0, np.int64), *zh_ids])),
                              np.unique(np.concatenate([np.zeros(0, np.int64), *en_ids])))
        # Every English word occurrence: its id and its sentence, grouped by id.
        occ_ids = np.concatenate([np.zeros(0, np.int64), *en_ids])
        occ_sentence = np.repeat(np.arange(m), [len(ids) for ids in en_ids])
        where: dict[int, np.ndarray] = {}
        if len(occ_ids):
            order = np.argsort(occ_ids, kind="stable")
            bounds = np.flatnonzero(np.diff(occ_ids[order])) + 1
            for group in np.split(order, bounds):
                where[int(occ_ids[group[0]])] = group
        for s in range(n):
            if not len(zh_ids[s]):
                continue
            best_zh = np.zeros((len(zh_ids[s]), m))   # each Chinese word's best link into each t
            best_occ = np.zeros(len(occ_ids))          # each English occurrence's best link from s
            for k, z in enumerate(zh_ids[s].tolist()):
                for e, p in links.get(z, ()):
                    occ = where.get(e)
                    if occ is None:
                        continue
                    np.maximum.at(best_zh[k], occ_sentence[occ], p)
                    best_occ[occ] = np.maximum(best_occ[occ], p)
            row_zh = best_zh.sum(axis=0)
            row_en = np.bincount(occ_sentence, weights=best_occ, minlength=m) if len(occ_ids) else np.zeros(m)
            lo, hi = int(band.lo[s]), min(int(band.hi[s]), m - 1)
            if hi >= lo:
                hz[s, 1 : hi - lo + 2] = row_zh[lo : hi + 1]
                he[s, 1 : hi - lo + 2] = row_en[lo : hi + 1]
        super().__init__(hz, he, zh_count, en_count, band)


def _content_ids(model: AlignmentModel, text: str, lang: str) -> np.ndarray:
    """Vocabulary ids of the content words of ``text`` the model knows (function words and
    punctuation say nothing about which sentence translates which)."""
    toks = tokens(text, lang)
    words = [w for w, (a, b) in zip(toks.words, toks.spans, strict=True)
             if not is_function_word(w, lang, text[a:b])]
    ids = model.ids(words, lang)
    return ids[ids > 0]


def _strong_links(model: AlignmentModel, zh_ids: np.ndarray,
                  en_ids: np.ndarray) -> dict[int, list[tuple[int, float]]]:
    """For each Chinese id among ``zh_ids``: the English ids among ``en_ids`` it translates
    into, with the link's strength: t(e | z) relative to z's likeliest translation, or t(z | e)
    relative to e's, whichever is higher, where the probability reaches
    ``TRANSLATION_MIN_PROB``. Relative, because the model's probabilities are spread thin over
    a word's renderings (t(hospital | 医院) is 0.29, t(growth | 增长) 0.10) and a word's best
    rendering is the evidence, however many others it has."""
    strength: dict[tuple[int, int], float] = {}
    for table, sources, targets, flip in ((model.zh_to_en, zh_ids, en_ids, False),
                                          (model.en_to_zh, en_ids, zh_ids, True)):
        if not len(table.keys) or not len(sources):
            continue
        source, target = np.divmod(table.keys, table.n_target)
        mine = np.isin(source, sources)
        source, target, probs = source[mine], target[mine], table.probs[mine].astype(np.float64)
        # The keys are sorted by source: each source's entries are one run.
        starts = np.flatnonzero(np.r_[True, source[1:] != source[:-1]]) if len(source) else np.zeros(0, np.int64)
        best = np.maximum.reduceat(probs, starts) if len(starts) else probs
        best = np.repeat(best, np.diff(np.r_[starts, len(source)])) if len(starts) else probs
        relative = probs / np.maximum(best, FLOOR)
        keep = (probs >= TRANSLATION_MIN_PROB) & np.isin(target, targets)
        for a, b, p in zip(source[keep].tolist(), target[keep].tolist(), relative[keep].tolist(), strict=True):
            pair = (b, a) if flip else (a, b)
            strength[pair] = max(strength.get(pair, 0.0), p)
    links: dict[int, list[tuple[int, float]]] = {}
    for (z, e), p in strength.items():
        links.setdefault(z, []).append((e, p))
    return links


# --------------------------------------------------------------------------- unrelated runs


def unrelated_level(zr: Runs, er: Runs, a: int, b: int) -> float | None:
    """The cosine that runs of a and b sentences reach in this document when they are not
    translations of each other: the median plus ``UNRELATED_SPREADS`` robust standard
    deviations of the cosines of runs at least ``UNRELATED_DISTANCE`` sentences off the
    diagonal (each Chinese run against the English runs an eighth, a quarter, ... of the
    text further on, wrapping round), which no alignment of the two texts pairs. None when
    the texts are too short for runs that far apart: in a ten-sentence scene every pair is
    a neighbour. A bead whose cosine does not rise above it pays for the shortfall.

    Why per document and per shape: a news story's sentences resemble each other more than
    a novel's do, and a run's vector drifts towards the document's mean as the run grows,
    so six unrelated sentences of one story reach a cosine (0.26) that a true pair of
    loosely translated literary sentences may not.
    """
    zv, ev = zr.vectors(a), er.vectors(b)
    n, m = len(zv), len(ev)
    if n == 0 or m == 0:
        return None
    s = np.arange(n)
    cosines = []
    for offset in np.arange(1, 8) / 8:
        t = np.round((s / n + offset) * m).astype(np.int64) % m
        far = np.abs(s / n - t / m) * max(n, m) >= UNRELATED_DISTANCE
        cosines.append(np.einsum("ij,ij->i", zv[s[far]], ev[t[far]]))
    c = np.concatenate(cosines)
    if len(c) < UNRELATED_MIN_SAMPLES:
        return None
    median = float(np.median(c))
    spread = max(0.02, 1.4826 * float(np.median(np.abs(c - median))))
    return median + UNRELATED_SPREADS * spread
