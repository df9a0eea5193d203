"""Word alignment learnt from the memory, and the projection of a span of a stored pair onto its
translation.

The model is the one of Dyer, Chahuneau and Smith, "A Simple, Fast, and Effective
Reparameterization of IBM Model 2" (NAACL 2013), written here from the paper: a lexical table
t(f | e) as in IBM Model 1 and an alignment distribution that favours the diagonal,

    p(a_j = 0)     = p0                                   (the NULL word)
    p(a_j = i > 0) = (1 - p0) · exp(λ·h(i, j, m, n)) / Z,  h = -|i/n - j/m|

trained by EM, first a few iterations with a flat distribution (IBM Model 1), then with the
diagonal, whose tension λ is fitted by gradient steps on the expected counts each iteration.
One model is trained in each direction (Chinese generating English and back) and the two
Viterbi alignments are symmetrised with grow-diag-final-and (Koehn et al. 2003; the bench in
bench/fragments_quality.py compares it with intersection and plain union).

Tokens are jieba words of the Chinese match key (width, case and traditional folded) and Moses
tokens of the English one (case folded), so the same text always gives the same tokens whatever
its script variant; every token keeps its span in the text as stored.

Priors: CC-CEDICT senses (tm.core.lexicon), glossary term pairs, and tokens written the same on
both sides (numbers, acronyms) are Dirichlet pseudo-counts added to the expected counts, so a
word seen once in the memory still finds its dictionary translation.

The lexical tables are sparse: one entry per (word, word) pair that co-occurs in some unit
(pairs seen only once are pruned on large memories, see ``train``), stored as a sorted int64 key
array and float32 probabilities; a pair not in the table gets ``FLOOR``. Everything is numpy:
the expected counts of a batch of units are a few vector operations over all its candidate
links. The alignments of the units trained on are stored with the model (``UnitLinks``); a
lookup gathers those of a fragment's sampled units into flat arrays (``gather_stored``) and
projects the fragment in all of them at once (``project_stored``), the same projections as
``project_scored`` of each unit's ``Alignment``. Pure: no Flask, no SQL, no scipy.
"""
from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import itertools
import json
import multiprocessing
import os
import re
import shutil
import struct
import tempfile
import time
import zipfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, NamedTuple, cast

import numpy as np

from tm.core.lexicon import jieba_tokenizer
from tm.core.text import match_key

__all__ = [
    "FORMAT_VERSION",
    "Alignment",
    "AlignmentModel",
    "Projection",
    "StoredAlignment",
    "StoredAlignments",
    "Tokens",
    "UnitLinks",
    "align",
    "gather_stored",
    "pair_digest",
    "project",
    "project_scored",
    "project_stored",
    "tokens",
    "train",
]

#: Bumped whenever the saved layout or the tokenisation changes: a model saved by another
#: version is refused by ``load`` (the caller retrains) rather than read wrongly. 2: the model
#: keeps its glossary term pairs, which the renderings' confidence reads (a model without them
#: would be judged current by training and never gain them).
FORMAT_VERSION = 2

#: Probability of a pair the table does not hold (never co-occurred, or pruned).
FLOOR = 1e-7
#: Fast_align's defaults: the NULL word's share and the starting tension.
NULL_PROB = 0.08
START_TENSION = 4.0
#: EM iterations: flat (Model 1) first, so the lexical table settles before the diagonal
#: prior is fitted on its posteriors.
MODEL1_ITERATIONS = 3
DIAGONAL_ITERATIONS = 4
#: Pseudo-count of one dictionary or glossary sense; measured on the bench (a large weight
#: lets a sense of a common word override what the memory says).
PRIOR_WEIGHT = 2.0
#: Variational Bayes for the lexical table (fast_align's -v): a Dirichlet with this small
#: concentration makes a word seen once keep its mass on a few translations instead of
#: "collecting garbage" (a rare name aligned to every word around it).
VB_ALPHA = 0.01
#: Target words whose links fit the diagonal's tension each iteration.
TENSION_SAMPLE = 20_000
#: Units longer than this many tokens on either side are left out of training: their link
#: count grows with the product of the lengths, and a 200-token "sentence" is usually a
#: misaligned paragraph.
MAX_TRAIN_TOKENS = 120
#: Memory for the links cached across EM iterations in each training process (6 bytes a
#: link); beyond it the cache goes to a temporary file, read back in order each iteration
#: (from the page cache, faster than finding each link's table entry again). At a million
#: units the file holds some 3 GB a direction whatever this is: 256 MB kept in memory only
#: spared reading 8 % of it, for a quarter of a GB in each of two processes at the peak; 64 MB
#: spared 2 % for 0.12 GB over both at the peak. About one batch's worth now: a small memory's
#: training still never writes the file.
LINK_CACHE_BYTES = 12_000_000
#: From this many units on, the two directions train in two processes and the units are
#: tokenised by ``workers`` processes; below it the processes' start (about a second each,
#: spawned, so a threaded server is safe to train from) costs more than it saves.
PARALLEL_MIN_UNITS = 20_000
#: Pairs a tokenising worker takes at a time.
TOKENISE_CHUNK = 2_000
#: Chunks handed to the tokenising workers ahead of the one being consumed: Pool.imap takes
#: every chunk into its task queue at once and does not wait for the consumer, so at a
#: million units the results piled up in the parent (the unbounded imap was measured at a
#: peak of several GB); a bounded window keeps both workers busy and memory flat.
TOKENISE_AHEAD = 8
#: Links handled per vectorised batch (memory ~ 100 bytes a link at the peak of a batch).
BATCH_LINKS = 2_000_000
#: Table entries the M-step's digamma works on at a time: its eight or so float64
#: temporaries take 64 bytes an entry (a quarter of a GB per training process at 4M).
NORMALISE_SLICE = 1_000_000
#: Above this many units, pairs that co-occur only once are pruned from the tables unless one
#: of the words is rare (measured: halves the table at 100k news units).
PRUNE_ABOVE_UNITS = 200_000

#: An unaligned target word at the edge of a projection joins it only if t(word | some word
#: of the source span) reaches this (see project_scored). On the quality bench 0.001, 0.01 and
#: 0.1 do alike (zh→en at the old threshold: precision 0.71, 21% of queries covered, against
#: 0.73 and 18% extending over any unaligned word): what counts is not extending over words
#: the span cannot have produced.
EXTEND_MIN_T = 0.01

_PUNCT = re.compile(r"^[\W_]+$")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# English function words: never the edge of a projected span, never a rendering on their own.
EN_STOPWORDS = frozenset(
    """a an the of to in on at by for from with into onto over under and or but nor not no is
    are was were be been being am do does did have has had will would shall should can could
    may might must it its this that these those there he him his she her they them their we us
    our you your i me my as so than then too very also just only such which who whom whose
    what when where why how all any some each if while because though although yet 's ' " s
    said says say about 't n't 're 've 'll 'd 'm""".split()
)
_ARTICLES = frozenset({"the", "a", "an"})
#: Words a rendering never begins or ends with, even where they translate a word of the span:
#: articles, and conjunctions, on which no phrase ends ("State Councilor and" for 国务委员,
#: "National Development and" for 国家发展 in the name of the commission). Not 并, which is
#: also the adverb of 并不 ("not at all"), a word of its own to jieba.
NEVER_AT_EDGE = _ARTICLES | {"and", "or", "but", "nor", "和", "与", "及", "或"}
#: And the particle no Chinese phrase begins with ("的 COVID-19 患者" for "patients with COVID-19").
NEVER_FIRST = NEVER_AT_EDGE | {"的"}
# Chinese grammatical words: the same role.
ZH_STOPWORDS = frozenset(
    """的 地 得 了 着 过 是 在 和 与 及 也 就 都 而 或 之 以 于 对 把 被 让 给 从 向 到 等 个 这
    那 吗 呢 吧 啊 其 将 已 又 并 为 由 但 该 此 中 上 下 说 称 表示""".split()
)


@dataclass(frozen=True, slots=True)
class Tokens:
    """The alignment tokens of one text: folded words and each one's [start, end) as stored."""

    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]


def tokens(text: str, lang: str, *, cached: bool = True) -> Tokens:
    """jieba words (Chinese) or Moses tokens (English) of ``text``'s match key, without spaces.
    ``cached=False`` bypasses match_key's cache (training reads every unit once)."""
    if not text or not text.strip():
        return Tokens((), ())
    key = match_key(text, lang) if cached else match_key.__wrapped__(text, lang)
    if lang == "en":
        pairs = [(w, s) for w, s in zip(key.tokens, key.spans, strict=False) if w.strip()]
    else:
        pairs = []
        for word, a, b in jieba_tokenizer().tokenize(key.text):
            if word.strip():
                pairs.append((word, key.to_original(a, b)))
    return Tokens(tuple(w for w, _ in pairs), tuple(s for _, s in pairs))


def is_function_word(word: str, lang: str, surface: str | None = None) -> bool:
    """Punctuation, or a word that carries no content of its own in ``lang``. ``surface`` is the
    word as written, when known: "US" written in capitals is the country, not the pronoun."""
    if _PUNCT.match(word):
        return True
    if surface is not None and _in_capitals(surface):
        return False
    return word in (EN_STOPWORDS if lang == "en" else ZH_STOPWORDS)


def _in_capitals(surface: str) -> bool:
    """A stop word written so is a name or an abbreviation ("US", "IT"), not the function word."""
    return len(surface) > 1 and surface.isupper()


@lru_cache(maxsize=20_000)
def _word_kind(word: str, lang: str) -> int:
    """is_function_word's answer for ``word`` before its surface is looked at: 1 punctuation
    (always a function word), 2 a stop word (unless written in capitals), 0 neither. Kept for
    the most recent words only (about 200 bytes each in every worker); a miss costs one match."""
    if _PUNCT.match(word):
        return 1
    return 2 if word in (EN_STOPWORDS if lang == "en" else ZH_STOPWORDS) else 0


def _function_flags(toks: Tokens, text: str, lang: str, kinds: Sequence[int] | None = None) -> list[bool]:
    """is_function_word of each token with its surface in ``text``: every sampled unit of
    every fragment asks this of both its sides, so the per-word part is remembered (``kinds``:
    each token's ``_word_kind``, when known)."""
    if kinds is None:
        kinds = [_word_kind(word, lang) for word in toks.words]
    flags = [kind != 0 for kind in kinds]
    if 2 in kinds:
        for k, kind in enumerate(kinds):
            if kind == 2:
                a, b = toks.spans[k]
                flags[k] = not _in_capitals(text[a:b])
    return flags


# --- The tables -------------------------------------------------------------------------------


@dataclass
class _Direction:
    """t(target word | source word) and the diagonal's parameters, for one direction.

    ``keys`` are ``source_id * n_target + target_id``, sorted; source id 0 is NULL.
    """

    keys: np.ndarray
    probs: np.ndarray
    n_target: int
    tension: float = START_TENSION
    null_prob: float = NULL_PROB
    #: Probabilities looked up by ``remembered``, by key.
    _remembered: dict[int, float] = field(default_factory=dict, repr=False, compare=False)

    def lookup(self, source_ids: np.ndarray, target_ids: np.ndarray) -> np.ndarray:
        return self._at_keys(source_ids.astype(np.int64) * self.n_target + target_ids)

    def _at_keys(self, wanted: np.ndarray) -> np.ndarray:
        if not len(self.keys):
            return np.full(len(wanted), FLOOR, dtype=np.float64)
        at = _positions(self.keys, wanted)
        return np.where(at >= 0, self.probs[at], FLOOR)

    def remembered(self, source_ids: Sequence[int], target_ids: Sequence[int]) -> list[float]:
        """``lookup`` of a few pairs, as Python floats, the pairs seen before answered from a
        dict: projecting a fragment looks up the same word pairs in unit after unit (its words
        and their translations), and one numpy lookup costs some 8 µs however few pairs it
        holds, where a projection needs two or three."""
        n_target, known = self.n_target, self._remembered
        keys = [s * n_target + t for s, t in zip(source_ids, target_ids, strict=True)]
        values = [known.get(key) for key in keys]
        missing = [k for k, value in enumerate(values) if value is None]
        if missing:
            found: list[float] = self._at_keys(np.array([keys[k] for k in missing], dtype=np.int64)).tolist()
            if len(known) > REMEMBERED_PROBS:
                known.clear()
            for k, value in zip(missing, found, strict=True):
                values[k] = known[keys[k]] = value
        return cast(list[float], values)


#: Probabilities a direction keeps for ``_Direction.remembered`` (some 10 MB a direction in
#: each worker) before it forgets them all and starts again.
REMEMBERED_PROBS = 100_000
#: From this many keys on, ``_positions`` searches them in sorted order.
SORTED_SEARCH_MIN = 50_000


def _positions(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The index of each key in the sorted ``table``, -1 where it is absent.

    Many keys are searched once each and in sorted order: a binary search per key in the
    order given touches a random cache line at every step of a table of tens of millions of
    entries; after sorting, consecutive searches walk the same lines (numpy also narrows each
    search by the previous result). Measured on a 17M-entry table and 2M keys: 19.6 s in the
    given order, 2.0 s through np.unique (load 9, both figures inflated alike)."""
    if not len(table):
        return np.full(len(keys), -1, dtype=np.int64)
    if len(keys) < SORTED_SEARCH_MIN:
        at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
        return np.where(table[at] == keys, at, -1)
    distinct, inverse = np.unique(keys, return_inverse=True)
    at = np.minimum(np.searchsorted(table, distinct), len(table) - 1)
    found = np.where(table[at] == distinct, at, -1)
    return found[inverse.reshape(-1)]


@dataclass
class AlignmentModel:
    """Two directional models over one pair of vocabularies (id 0 of each is NULL)."""

    zh_vocab: list[str]
    en_vocab: list[str]
    zh_to_en: _Direction  # Chinese words generate English ones: t(en | zh)
    en_to_zh: _Direction  # t(zh | en)
    units: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    #: The (Chinese, English) term pairs given as priors (a glossary's), kept so that a
    #: rendering can be checked against them (tm.core.renderings.glossary_support).
    terms: list[tuple[str, str]] = field(default_factory=list)
    #: The stored alignments of the units it was trained on, when trained on keyed units.
    links: UnitLinks | None = None
    _zh_index: dict[str, int] = field(default_factory=dict, repr=False)
    _en_index: dict[str, int] = field(default_factory=dict, repr=False)
    _kinds: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._zh_index = {w: i for i, w in enumerate(self.zh_vocab)}
        self._en_index = {w: i for i, w in enumerate(self.en_vocab)}

    def word_kinds(self, lang: str) -> np.ndarray:
        """``_word_kind`` of every ``lang`` vocabulary word, by id (uint8; NULL's is 0), computed
        on first use (tens of milliseconds at a million units; tm.fragments.ModelStore asks
        while loading): a projection reads the kinds of both sides of every sampled unit, and
        indexing by the ids it holds costs less than a word-by-word cache."""
        kinds = self._kinds.get(lang)
        if kinds is None:
            vocab = self.zh_vocab if lang == "zh" else self.en_vocab
            kinds = np.fromiter((_word_kind.__wrapped__(w, lang) for w in vocab), dtype=np.uint8, count=len(vocab))
            kinds[0] = 0
            self._kinds[lang] = kinds
        return kinds

    def ids(self, words: Sequence[str], lang: str) -> np.ndarray:
        """Vocabulary ids of ``words``; an unknown word is 0 (NULL's id), which never matches."""
        index = self._zh_index if lang == "zh" else self._en_index
        return np.fromiter((index.get(w, 0) for w in words), dtype=np.int64, count=len(words))

    def nbytes(self) -> int:
        return sum(d.keys.nbytes + d.probs.nbytes for d in (self.zh_to_en, self.en_to_zh))

    def save(self, path: str | Path) -> None:
        """One .npz file: the tables, both vocabularies and a JSON header with the version."""
        header = {
            "version": FORMAT_VERSION,
            "units": self.units,
            "zh_to_en": [self.zh_to_en.n_target, self.zh_to_en.tension, self.zh_to_en.null_prob],
            "en_to_zh": [self.en_to_zh.n_target, self.en_to_zh.tension, self.en_to_zh.null_prob],
            "meta": self.meta,
        }
        path = Path(path)
        if self.links is not None:
            # The links go to a directory of their own, named in the header, so that a
            # reader memory-maps them (hundreds of MB at a million units) and the model file
            # is still replaced in one rename: a reader sees the old model with its links or
            # the new one with its own, never a mix.
            links_dir = path.with_name(f"{path.name}.links-{os.getpid()}-{time.time_ns()}")
            self.links.save(links_dir)
            header["links"] = links_dir.name
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as out:
            _save_aligned_npz(
                out,
                header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
                # Tokens never hold a newline (whitespace is not a token).
                zh_vocab=np.frombuffer("\n".join(self.zh_vocab).encode(), dtype=np.uint8),
                en_vocab=np.frombuffer("\n".join(self.en_vocab).encode(), dtype=np.uint8),
                zh_to_en_keys=self.zh_to_en.keys,
                zh_to_en_probs=self.zh_to_en.probs,
                en_to_zh_keys=self.en_to_zh.keys,
                en_to_zh_probs=self.en_to_zh.probs,
                # Terms hold no newline or tab (a glossary term is one line of text).
                terms=np.frombuffer("\n".join(f"{z}\t{e}" for z, e in self.terms).encode(), dtype=np.uint8),
            )
        tmp.replace(path)  # a reader never sees half a model
        # Older models' links: a process still using one keeps its mapped files until it
        # lets them go (an unlinked file lives on while mapped).
        for other in path.parent.glob(f"{path.name}.links-*"):
            if other.name != header.get("links"):
                shutil.rmtree(other, ignore_errors=True)

    @classmethod
    def load(cls, path: str | Path) -> AlignmentModel:
        """The model saved at ``path``; ValueError if another format version wrote it."""
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(data["header"].tobytes().decode())
            if header.get("version") != FORMAT_VERSION:
                raise ValueError(
                    f"alignment model {path} has format {header.get('version')}, "
                    f"this code reads {FORMAT_VERSION}: train it again"
                )

            def direction(name: str) -> _Direction:
                n_target, tension, null_prob = header[name]
                keys, probs = (_mapped_member(path, f"{name}_{part}", data) for part in ("keys", "probs"))
                return _Direction(keys, probs, int(n_target), float(tension), float(null_prob))

            links = UnitLinks.load(Path(path).with_name(header["links"])) if header.get("links") else None
            return cls(
                zh_vocab=data["zh_vocab"].tobytes().decode().split("\n"),
                en_vocab=data["en_vocab"].tobytes().decode().split("\n"),
                zh_to_en=direction("zh_to_en"),
                en_to_zh=direction("en_to_zh"),
                units=int(header["units"]),
                meta=header.get("meta", {}),
                terms=_term_list(data["terms"].tobytes().decode()),
                links=links,
            )


#: Where each array of a model file starts, in bytes from the file's start: a mapped array must
#: be aligned for its type, or numpy copies it whole at every operation (``_mapped_member``).
NPZ_ALIGNMENT = 64
#: A zip extra field of no meaning to readers (zipalign's id), holding the padding.
_PADDING_FIELD = 0xD935


def _save_aligned_npz(out: IO[bytes], **arrays: np.ndarray) -> None:
    """np.savez's file (uncompressed, one ``name.npy`` member per array, read by np.load), with
    each array's data starting at a multiple of NPZ_ALIGNMENT in the file, so that it can be
    memory-mapped in place. The padding goes in each member's local header."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            # The local header: 30 bytes, the name, the extra field (ours, then the 20 bytes of
            # the zip64 sizes zipfile adds when forced), then the .npy file, whose own header
            # pads its data to a multiple of 64 from its start.
            before = out.tell() + 30 + len(info.filename.encode()) + 4 + 20
            pad = -before % NPZ_ALIGNMENT
            info.extra = struct.pack("<HH", _PADDING_FIELD, pad) + bytes(pad)
            with archive.open(info, "w", force_zip64=True) as stream:
                np.lib.format.write_array(stream, np.asanyarray(array), allow_pickle=False)


def _mapped_member(path: str | Path, name: str, data: Any) -> np.ndarray:
    """Array ``name`` of the .npz file at ``path``, memory-mapped where the file stores it
    uncompressed (np.savez does), else read (``data``: the file as np.load opened it).

    The tables are most of a model (264 MB at a million units): mapped, every process that
    loads the same file shares their pages through the page cache, where reading them gave each
    gunicorn worker a private copy whenever a newer model appeared. The model file is replaced
    by a rename, never written in place, so a mapping stays valid after a newer one lands."""
    info = data.zip.getinfo(f"{name}.npy")
    if info.compress_type != zipfile.ZIP_STORED or info.file_size == 0:
        return np.asarray(data[name])
    with open(path, "rb") as stream:
        # The member's data follows its local header: 30 bytes, then its name and extra field.
        stream.seek(info.header_offset)
        local = stream.read(30)
        if local[:4] != b"PK\x03\x04":
            return np.asarray(data[name])
        name_length, extra_length = struct.unpack("<HH", local[26:30])
        stream.seek(info.header_offset + 30 + name_length + extra_length)
        version = np.lib.format.read_magic(stream)
        if version not in ((1, 0), (2, 0)):  # numpy writes these; another is read its own way
            return np.asarray(data[name])
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran_order, dtype = read_header(stream)
        offset = stream.tell()
    if dtype.hasobject or int(np.prod(shape)) == 0 or offset % dtype.alignment:
        # A file saved before its arrays were aligned (np.savez) is read, not mapped.
        return np.asarray(data[name])
    # A plain array over the mapping: a np.memmap slice costs a subclass instance each.
    return np.asarray(np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape,
                                order="F" if fortran_order else "C"))


def _term_list(joined: str) -> list[tuple[str, str]]:
    out = []
    for line in joined.split("\n"):
        zh, tab, en = line.partition("\t")
        if tab and zh and en:
            out.append((zh, en))
    return out


def pair_digest(zh: str, en: str) -> int:
    """A stable 64-bit digest of a pair's texts: what a stored alignment is keyed by besides
    the unit's id, so that a unit edited after training is not served its old alignment."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update((zh or "").encode())
    digest.update(b"\x00")
    digest.update((en or "").encode())
    return int.from_bytes(digest.digest(), "little")


@dataclass
class UnitLinks:
    """The alignment of every unit of a training snapshot, as the aligner computed it then:
    each unit's tokens (vocabulary ids and [start, end) spans in the stored text) and the
    two directional Viterbi alignments (the best position on the other side, -1 for NULL,
    and that link's posterior), from which ``alignment`` rebuilds exactly what ``align``
    gives. Flat arrays, memory-mapped when loaded: about 11 bytes a token.

    A unit is found by its id, and used only if the digest of its texts still matches
    (``pair_digest``). Units that taught nothing (an empty side, a side over MAX_TRAIN_TOKENS
    tokens, a text past the spans' 65,535 characters) are stored with no tokens: they align
    nothing, as before at lookup.
    """

    keys: np.ndarray       # int64, sorted unit ids
    rows: np.ndarray       # int64, the row of each key
    digests: np.ndarray    # uint64 per row
    zh_off: np.ndarray     # int64 per row + 1: row r's Chinese tokens are zh_off[r]:zh_off[r+1]
    en_off: np.ndarray
    zh_ids: np.ndarray     # int32 vocabulary ids
    en_ids: np.ndarray
    zh_spans: np.ndarray   # uint16 (tokens, 2)
    en_spans: np.ndarray
    e2z: np.ndarray        # int8 per Chinese token: its best English position under t(zh | en)
    e2z_post: np.ndarray   # float16
    z2e: np.ndarray        # int8 per English token: its best Chinese position under t(en | zh)
    z2e_post: np.ndarray
    #: 1 where that token's directional link (e2z, z2e) is among the grow-diag-final-and links
    #: (``kept_links``; they all are links of one direction or the other), so that reading an
    #: alignment back does not symmetrise it again: that was 35 of the 79 µs a read took, and
    #: a lookup of new text at a million units reads some eighty. None in links stored before them.
    e2z_kept: np.ndarray | None = None   # uint8 per Chinese token
    z2e_kept: np.ndarray | None = None   # uint8 per English token

    ARRAYS = ("keys", "rows", "digests", "zh_off", "en_off", "zh_ids", "en_ids", "zh_spans", "en_spans",
              "e2z", "e2z_post", "z2e", "z2e_post")
    OPTIONAL = ("e2z_kept", "z2e_kept")

    def __len__(self) -> int:
        return len(self.keys)

    def nbytes(self) -> int:
        return sum(values.nbytes for values in self._arrays().values())

    def _arrays(self) -> dict[str, np.ndarray]:
        return {name: values for name in self.ARRAYS + self.OPTIONAL
                if (values := getattr(self, name)) is not None}

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True)
        for name, values in self._arrays().items():
            np.save(directory / f"{name}.npy", np.ascontiguousarray(values), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path) -> UnitLinks:
        # Plain arrays over the mapped files: a np.memmap slice costs a subclass instance each,
        # and a lookup slices a dozen arrays per unit.
        return cls(**{name: np.asarray(np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False))
                      for name in cls.ARRAYS + cls.OPTIONAL
                      if name in cls.ARRAYS or (directory / f"{name}.npy").exists()})

    def row(self, key: object, zh: str, en: str) -> int | None:
        """The row of unit ``key`` if it is stored with these texts, else None."""
        return self.rows_of([(key, zh, en)])[0]

    def rows_of(self, pairs: Sequence[tuple[object, str, str]]) -> list[int | None]:
        """``row`` of each (key, zh, en), the arrays read once for all of them."""
        known = [k for k, (key, _, _) in enumerate(pairs) if isinstance(key, int)]
        out: list[int | None] = [None] * len(pairs)
        if not known or not len(self.keys):
            return out
        wanted = np.array([pairs[k][0] for k in known], dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        found = self.keys[at] == wanted
        rows = np.where(found, self.rows[at], 0)
        digests = self.digests[rows].tolist()
        for k, hit, row, digest in zip(known, found.tolist(), rows.tolist(), digests, strict=True):
            if hit and digest == pair_digest(pairs[k][1], pairs[k][2]):
                out[k] = row
        return out

    def alignments(self, model: AlignmentModel, pairs: Sequence[tuple[object, str, str]]) -> list[Alignment | None]:
        """``alignment`` of each (key, zh, en), with every array read in one gather: a
        fragment's sampled units are read together, and slicing a dozen arrays per unit cost
        more than the rest of reading it. Links stored before the kept flags are symmetrised
        again as they are read."""
        rows = self.rows_of(pairs)
        found = np.array([row for row in rows if row is not None], dtype=np.int64)
        if not len(found):
            return [None] * len(pairs)
        kept = self.e2z_kept is not None and self.z2e_kept is not None
        zh_bounds, zh_at = _gathered(self.zh_off, found)
        en_bounds, en_at = _gathered(self.en_off, found)
        zh_id_array, en_id_array = self.zh_ids[zh_at].astype(np.int64), self.en_ids[en_at].astype(np.int64)
        e2z_array, z2e_array = self.e2z[zh_at], self.z2e[en_at]
        e2z, e2z_post, z2e, z2e_post = (e2z_array.tolist(), self.e2z_post[zh_at].tolist(), z2e_array.tolist(),
                                        self.z2e_post[en_at].tolist())
        # Every row's words and spans made at once, then sliced per row: per-row calls were most
        # of reading a unit back.
        zh_words = list(map(model.zh_vocab.__getitem__, zh_id_array.tolist()))
        en_words = list(map(model.en_vocab.__getitem__, en_id_array.tolist()))
        zh_starts, zh_ends = self.zh_spans[zh_at, 0], self.zh_spans[zh_at, 1]
        en_starts, en_ends = self.en_spans[en_at, 0], self.en_spans[en_at, 1]
        zh_spans = list(zip(zh_starts.tolist(), zh_ends.tolist(), strict=True))
        en_spans = list(zip(en_starts.tolist(), en_ends.tolist(), strict=True))
        found_pairs = [pair for pair, row in zip(pairs, rows, strict=True) if row is not None]
        # Kept as bytes: a byte a token beside the alignment (Alignment.function_flags).
        zh_flags = [flags.astype(np.uint8).tobytes() for flags in _gathered_flags(
            model, "zh", zh_id_array, zh_words, zh_starts, zh_ends, zh_bounds, [zh for _, zh, _ in found_pairs])[1:]]
        en_flags = [flags.astype(np.uint8).tobytes() for flags in _gathered_flags(
            model, "en", en_id_array, en_words, en_starts, en_ends, en_bounds, [en for _, _, en in found_pairs])[1:]]
        if kept:
            zh_links = _kept_positions(cast(np.ndarray, self.e2z_kept)[zh_at], e2z_array, zh_bounds)
            en_links = _kept_positions(cast(np.ndarray, self.z2e_kept)[en_at], z2e_array, en_bounds)
        out: list[Alignment | None] = []
        k = 0
        for (_, zh, en), row in zip(pairs, rows, strict=True):
            if row is None:
                out.append(None)
                continue
            za, zb, ea, eb = zh_bounds[k], zh_bounds[k + 1], en_bounds[k], en_bounds[k + 1]
            if za == zb or ea == eb:
                k += 1
                out.append(Alignment(Tokens((), ()), Tokens((), ()), frozenset(), {}))
                continue
            zt = Tokens(tuple(zh_words[za:zb]), tuple(zh_spans[za:zb]))
            et = Tokens(tuple(en_words[ea:eb]), tuple(en_spans[ea:eb]))
            links = None
            if kept:
                # (zh, en) of the kept links of each direction: the Chinese side's from its own
                # positions, the English side's with the positions the other way round.
                (z_own, z_other), (e_own, e_other) = zh_links[k], en_links[k]
                links = set(zip(z_own, z_other, strict=True))
                links.update(zip(e_other, e_own, strict=True))
            k += 1
            # float16's tolist gives the same Python floats as going through float64.
            # Tuples, not lists: a tuple of numbers leaves the garbage collector's watch, and a
            # worker keeps thousands of these alignments (ALIGNMENT_CACHE), which every full
            # collection walked.
            alignment = _symmetrised(zt, et, tuple(z2e[ea:eb]), tuple(z2e_post[ea:eb]), tuple(e2z[za:zb]),
                                     tuple(e2z_post[za:zb]),
                                     "grow-diag-final-and", ids=(zh_id_array[za:zb], en_id_array[ea:eb]),
                                     vocabulary=model, links=links)
            # Both sides' function flags, as Alignment.function_flags would work them out.
            alignment._flags.update({("zh", zh, True): zh_flags[0][za:zb], ("zh", zh, False): zh_flags[1][za:zb],
                                     ("en", en, True): en_flags[0][ea:eb], ("en", en, False): en_flags[1][ea:eb]})
            out.append(alignment)
        return out

    def alignment(self, model: AlignmentModel, key: object, zh: str, en: str) -> Alignment | None:
        """The alignment ``align(model, zh, en)`` gives, read back; None when unit ``key`` is
        not stored or its texts have changed since."""
        return self.alignments(model, [(key, zh, en)])[0]


def _gathered(offsets: np.ndarray, rows: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Where each of ``rows``' slices offsets[r]:offsets[r + 1] starts and ends once they are
    put one after the other, and the positions to gather them by."""
    starts, ends = offsets[rows], offsets[rows + 1]
    lengths = ends - starts
    bounds = np.concatenate(([0], np.cumsum(lengths)))
    return bounds.tolist(), np.arange(int(bounds[-1]), dtype=np.int64) + np.repeat(starts - bounds[:-1], lengths)


def _gathered_flags(model: AlignmentModel, lang: str, ids: np.ndarray, words: Sequence[str], starts: np.ndarray,
                    ends: np.ndarray, bounds: Sequence[int],
                    texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each of the gathered tokens' ``_word_kind`` and ``Alignment.function_flags`` with and
    without the surface (rows at ``bounds``, each row's text in ``texts``), all at once: every
    projection asks them of both sides of every sampled unit, and one unit at a time they were
    a sixth of projecting it. ``words`` is asked only for tokens outside the vocabulary."""
    kinds = _token_kinds(model, lang, ids, words)
    plain = kinds != 0
    surface = plain.copy()
    # Chinese stop words are Han characters, never written in capitals.
    stop = np.flatnonzero(kinds == 2) if lang == "en" else np.zeros(0, dtype=np.int64)
    if len(stop):
        rows = (np.searchsorted(np.asarray(bounds), stop, side="right") - 1).tolist()
        for k, row, a, b in zip(stop.tolist(), rows, starts[stop].tolist(), ends[stop].tolist(), strict=True):
            if _in_capitals(texts[row][a:b]):
                surface[k] = False
    return kinds, surface, plain


def _token_kinds(model: AlignmentModel, lang: str, ids: np.ndarray, words: Sequence[str]) -> np.ndarray:
    """``_word_kind`` of each token, read by vocabulary id (a word outside the vocabulary, id 0,
    is looked up)."""
    kinds = model.word_kinds(lang)[ids]  # a copy: fancy indexing
    for k in np.flatnonzero(ids == 0).tolist():
        kinds[k] = _word_kind(words[k], lang)
    return np.asarray(kinds)


def _kept_positions(kept: np.ndarray, other: np.ndarray, bounds: list[int]) -> list[tuple[list[int], list[int]]]:
    """Per row of gathered tokens (``bounds``), its kept directional links (UnitLinks.e2z_kept):
    each kept token's position in its row and the position on the other side it links to."""
    at = np.flatnonzero(kept)
    edges = np.searchsorted(at, bounds).tolist()
    row_of = np.searchsorted(np.asarray(bounds), at, side="right") - 1
    own = (at - np.asarray(bounds)[row_of]).tolist()
    linked = other[at].tolist()
    return [(own[a:b], linked[a:b]) for a, b in itertools.pairwise(edges)]


# --- Stored alignments as arrays --------------------------------------------------------------


@dataclass(frozen=True)
class StoredSide:
    """One side's tokens of every unit of a StoredAlignments, one after the other: unit u's are
    bounds[u]:bounds[u + 1]. Positions below are into these arrays ("global")."""

    vocab: list[str]
    bounds: np.ndarray   # int64 per unit + 1
    ids: np.ndarray      # int64 vocabulary ids
    starts: np.ndarray   # int64 character offsets into the unit's text as stored
    ends: np.ndarray
    kinds: np.ndarray    # uint8 _word_kind
    surface: np.ndarray  # bool: is_function_word with the surface (Alignment.function_flags)
    plain: np.ndarray    # bool: ... without it (surface=False)

    def words(self, unit: int, first: int = 0, last: int | None = None) -> tuple[str, ...]:
        """Words first:last (positions in the unit) of unit ``unit``, made when asked: most of a
        unit's words are never looked at."""
        a, b = int(self.bounds[unit]), int(self.bounds[unit + 1])
        ids = self.ids[a + first : b if last is None else min(a + last, b)].tolist()
        if not ids:
            return ()
        return (self.vocab[ids[0]],) if len(ids) == 1 else itemgetter(*ids)(self.vocab)


@dataclass(frozen=True)
class StoredAlignments:
    """The stored alignments (UnitLinks) of the units a fragment is translated on, gathered into
    flat arrays, so that one projection of the fragment in all of them is a few numpy steps
    (``project_stored``) instead of an Alignment object of tuples and sets built for every unit
    (most of whose tokens no projection looks at): reading units back that way was a third of a
    lookup's fragment step at a million units. The same links, posteriors and flags as the
    Alignment ``UnitLinks.alignments`` builds."""

    zh: StoredSide
    en: StoredSide
    #: Every unit's links, sorted by unit then Chinese then English position: the unit, both
    #: global positions, and the posterior (LinkPosteriors' rule).
    link_unit: np.ndarray
    link_zh: np.ndarray
    link_en: np.ndarray
    link_posterior: np.ndarray

    def __len__(self) -> int:
        return len(self.zh.bounds) - 1

    def side(self, lang: str) -> StoredSide:
        return self.zh if lang == "zh" else self.en

    @functools.cached_property
    def _link_bounds(self) -> list[int]:
        bounds: list[int] = np.searchsorted(self.link_unit, np.arange(len(self) + 1)).tolist()
        return bounds

    def links_of(self, unit: int) -> tuple[list[int], list[int]]:
        """Unit ``unit``'s links as (Chinese, English) positions in the unit."""
        a, b = self._link_bounds[unit], self._link_bounds[unit + 1]
        zh_bound, en_bound = self.zh.bounds[unit], self.en.bounds[unit]
        return (self.link_zh[a:b] - zh_bound).tolist(), (self.link_en[a:b] - en_bound).tolist()


class _Words(Sequence[str]):
    """Words by position, looked up only where asked (_token_kinds asks those of id 0)."""

    def __init__(self, vocab: list[str], ids: np.ndarray) -> None:
        self._vocab, self._ids = vocab, ids

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice):
            return [self._vocab[i] for i in self._ids[k].tolist()]
        return self._vocab[int(self._ids[k])]


def _stored_side(model: AlignmentModel, lang: str, links: UnitLinks, rows: np.ndarray,
                 texts: Sequence[str]) -> tuple[StoredSide, np.ndarray]:
    offsets, ids, spans = (links.zh_off, links.zh_ids, links.zh_spans) if lang == "zh" else \
        (links.en_off, links.en_ids, links.en_spans)
    bounds, at = _gathered(offsets, rows)
    token_ids = ids[at].astype(np.int64)
    vocab = model.zh_vocab if lang == "zh" else model.en_vocab
    starts, ends = spans[at, 0].astype(np.int64), spans[at, 1].astype(np.int64)
    kinds, surface, plain = _gathered_flags(model, lang, token_ids, _Words(vocab, token_ids), starts, ends, bounds,
                                            texts)
    side = StoredSide(vocab, np.asarray(bounds, dtype=np.int64), token_ids, starts, ends, kinds, surface, plain)
    return side, at


def gather_stored(model: AlignmentModel, pairs: Sequence[tuple[object, str, str]]
                  ) -> tuple[StoredAlignments, list[int | None]] | None:
    """The stored alignments of the (key, zh, en) ``pairs`` as arrays, and each pair's unit in
    them (None: not stored with these texts, as UnitLinks.alignment gives None for it); None
    when the model stores no alignments, or none with their kept links."""
    links = model.links
    if links is None or links.e2z_kept is None or links.z2e_kept is None:
        return None
    rows = links.rows_of(pairs)
    found = [k for k, row in enumerate(rows) if row is not None]
    found_rows = np.array([rows[k] for k in found], dtype=np.int64)
    zh, zh_at = _stored_side(model, "zh", links, found_rows, [pairs[k][1] for k in found])
    en, en_at = _stored_side(model, "en", links, found_rows, [pairs[k][2] for k in found])
    e2z, z2e = links.e2z[zh_at].astype(np.int64), links.z2e[en_at].astype(np.int64)
    zh_unit = np.repeat(np.arange(len(found), dtype=np.int64), np.diff(zh.bounds))
    en_unit = np.repeat(np.arange(len(found), dtype=np.int64), np.diff(en.bounds))
    # A unit with an empty side aligns nothing (as UnitLinks.alignments gives it no links).
    empty = (np.diff(zh.bounds) == 0) | (np.diff(en.bounds) == 0)
    # The kept links of each direction (see UnitLinks.e2z_kept), as global positions.
    z_kept = np.flatnonzero(links.e2z_kept[zh_at].astype(bool) & ~empty[zh_unit])
    e_kept = np.flatnonzero(links.z2e_kept[en_at].astype(bool) & ~empty[en_unit])
    link_zh = np.concatenate((z_kept, z2e[e_kept] + zh.bounds[en_unit[e_kept]]))
    link_en = np.concatenate((e2z[z_kept] + en.bounds[zh_unit[z_kept]], e_kept))
    width = max(len(en.ids), 1)
    codes = np.unique(link_zh * width + link_en)
    link_zh, link_en = codes // width, codes % width
    link_unit = zh_unit[link_zh]
    z_local, e_local = link_zh - zh.bounds[link_unit], link_en - en.bounds[link_unit]
    forward, backward = z2e[link_en] == z_local, e2z[link_zh] == e_local
    f_post = links.z2e_post[en_at][link_en].astype(np.float64)
    b_post = links.e2z_post[zh_at][link_zh].astype(np.float64)
    posterior = np.where(forward & backward, (f_post + b_post) / 2,
                         np.where(forward, f_post, np.where(backward, b_post, 0.25)))
    index: list[int | None] = [None] * len(pairs)
    for unit, k in enumerate(found):
        index[k] = unit
    return StoredAlignments(zh, en, link_unit, link_zh, link_en, posterior), index


def project_stored(model: AlignmentModel, stored: StoredAlignments, side: str,
                   located: Sequence[tuple[int, int] | None]) -> list[Projection | None]:
    """``project_scored`` of a span in each unit of ``stored`` at once: ``located[u]`` is the
    (first, last) ``side`` tokens of unit u the span runs over (None: no span there); the same
    projections as project_scored of the span (spans[first][0], spans[last][1]) in that unit's
    Alignment."""
    out: list[Projection | None] = [None] * len(located)
    asked = [u for u, at in enumerate(located) if at is not None]
    if not asked:
        return out
    src, tgt = stored.side(side), stored.side("en" if side == "zh" else "zh")
    ls, lt = (stored.link_zh, stored.link_en) if side == "zh" else (stored.link_en, stored.link_zh)
    lu = stored.link_unit
    units = len(stored)
    # The span's characters in each unit asked, and the source tokens it covers (_covered).
    span_start = np.full(units, -1, dtype=np.int64)
    span_end = np.full(units, -1, dtype=np.int64)
    firsts = np.array([cast(tuple[int, int], located[u])[0] for u in asked], dtype=np.int64)
    lasts = np.array([cast(tuple[int, int], located[u])[1] for u in asked], dtype=np.int64)
    asked_array = np.array(asked, dtype=np.int64)
    span_start[asked_array] = src.starts[src.bounds[asked_array] + firsts]
    span_end[asked_array] = src.ends[src.bounds[asked_array] + lasts]
    src_unit = np.repeat(np.arange(units, dtype=np.int64), np.diff(src.bounds))
    inside = (src.starts < span_end[src_unit]) & (src.ends > span_start[src_unit]) & (src.starts < src.ends)
    link_in = inside[ls]
    big = np.iinfo(np.int64).max
    lo = np.full(units, big, dtype=np.int64)
    hi = np.full(units, -1, dtype=np.int64)
    np.minimum.at(lo, lu[link_in], lt[link_in])
    np.maximum.at(hi, lu[link_in], lt[link_in])
    # Consistency (see project_scored): no target word in the box linked to a content word
    # outside the span.
    src_func = src.surface[ls]
    broken = (lt >= lo[lu]) & (lt <= hi[lu]) & ~link_in & ~src_func
    ok = hi >= 0
    ok[lu[broken]] = False
    survivors = np.flatnonzero(ok).tolist()
    if not survivors:
        return out
    aligned = np.zeros(len(tgt.ids), dtype=bool)
    aligned[lt[link_in | ~src_func]] = True
    held = np.zeros(len(tgt.ids), dtype=bool)
    held[lt[link_in]] = True
    forward = model.zh_to_en if side == "zh" else model.en_to_zh
    threshold = float(forward.probs.dtype.type(EXTEND_MIN_T))
    inside_at = np.flatnonzero(inside)
    inside_bounds = np.searchsorted(inside_at, src.bounds).tolist()
    new_lo, new_hi = lo.copy(), hi.copy()
    for u in survivors:
        a, b = int(tgt.bounds[u]), int(tgt.bounds[u + 1])
        src_ids = src.ids[inside_at[inside_bounds[u] : inside_bounds[u + 1]]].tolist()

        def supported(k: int, src_ids: list[int] = src_ids) -> bool:
            t = forward.remembered(src_ids, [int(tgt.ids[k])] * len(src_ids))
            return bool(t) and max(t) >= threshold

        first = _extended(tgt, aligned, int(lo[u]), -1, (a, b), supported)
        last = _extended(tgt, aligned, int(hi[u]), +1, (a, b), supported)
        while first < last and _trimmed(tgt, held, first, NEVER_FIRST):
            first += 1
        while last > first and _trimmed(tgt, held, last, NEVER_AT_EDGE):
            last -= 1
        if tgt.surface[first : last + 1].all() or tgt.ends[last] <= tgt.starts[first]:
            ok[u] = False
            continue
        new_lo[u], new_hi[u] = first, last
    # The score of each projection kept: the share of the span's content words linked into
    # the box, times the mean posterior of the links inside it.
    in_box = link_in & ok[lu] & (lt >= new_lo[lu]) & (lt <= new_hi[lu])
    box_sum = np.bincount(lu[in_box], weights=stored.link_posterior[in_box], minlength=units)
    box_n = np.bincount(lu[in_box], minlength=units)
    linked = np.zeros(len(src.ids), dtype=bool)
    linked[ls[in_box]] = True
    content = inside & ~src.surface
    content_n = np.bincount(src_unit[content], minlength=units)
    # A span of function words only counts all its words as content.
    counted = np.where(content_n[src_unit] > 0, content, inside)
    counted_n = np.bincount(src_unit[counted], minlength=units).tolist()
    linked_n = np.bincount(src_unit[counted & linked], minlength=units).tolist()
    box_sums, box_counts = box_sum.tolist(), box_n.tolist()
    for u in survivors:
        if not ok[u]:
            continue
        coverage = linked_n[u] / counted_n[u]
        score = coverage * (box_sums[u] / box_counts[u] if box_counts[u] else 0.0)
        out[u] = Projection(int(tgt.starts[new_lo[u]]), int(tgt.ends[new_hi[u]]), round(score, 4))
    return out


def _extended(side: StoredSide, aligned: np.ndarray, edge: int, step: int, unit: tuple[int, int],
              supported: Callable[[int], bool]) -> int:
    """``_extend`` over a StoredSide's tokens (global positions within ``unit``'s bounds)."""
    best, k = edge, edge + step
    while unit[0] <= k < unit[1] and not aligned[k] and side.kinds[k] != 1:
        if not side.surface[k]:
            if EXTEND_MIN_T > 0 and not supported(k):
                break
            best = k
        k += step
    return best


def _trimmed(side: StoredSide, held: np.ndarray, k: int, never: frozenset[str]) -> bool:
    """project_scored's ``trimmed`` over a StoredSide's tokens."""
    return bool(side.surface[k]) and (side.kinds[k] == 1 or not held[k] or side.vocab[int(side.ids[k])] in never)


class StoredAlignment(NamedTuple):
    """One unit's alignment among StoredAlignments, as an aligner gives it (tm.fragments)."""

    alignments: StoredAlignments
    unit: int


def empty_model() -> AlignmentModel:
    none = np.zeros(0, dtype=np.int64)
    probs = np.zeros(0, dtype=np.float32)
    return AlignmentModel(["<null>"], ["<null>"], _Direction(none, probs, 1), _Direction(none, probs, 1))


# --- Training ---------------------------------------------------------------------------------


@dataclass
class _Corpus:
    """One side pair as flat id arrays: sentence k's words are ids[offsets[k]:offsets[k+1]]."""

    src: np.ndarray
    src_off: np.ndarray
    tgt: np.ndarray
    tgt_off: np.ndarray

    def __len__(self) -> int:
        return len(self.src_off) - 1


def _batches(corpus: _Corpus) -> Iterable[tuple[int, int]]:
    n = np.diff(corpus.src_off)
    m = np.diff(corpus.tgt_off)
    links = np.cumsum(m * (n + 1))
    start = 0
    done = 0
    while start < len(corpus):
        end = int(np.searchsorted(links, done + BATCH_LINKS, side="right"))
        end = max(end, start + 1)
        yield start, end
        done = int(links[end - 1])
        start = end


@dataclass
class _Links:
    """Every candidate link of a batch of units, grouped by target position (one group per
    target word, each of size n+1: NULL then the source words)."""

    src: np.ndarray       # source word id of each link (0 = NULL)
    tgt: np.ndarray       # target word id
    h: np.ndarray         # -|i/n - j/m|; 0 for NULL links (unused there)
    is_null: np.ndarray
    group: np.ndarray     # target position of each link, numbered across the batch
    group_start: np.ndarray
    n_groups: int
    sentence_of_group: np.ndarray
    i: np.ndarray         # source position (1-based; 0 = NULL)


def _with_null(corpus: _Corpus, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """The source ids of units [start, end) each with NULL (0) in front (int64), and where
    each unit's run of them starts: a target word's links read n + 1 of them in a row."""
    src_off = corpus.src_off[start : end + 1]
    n = np.diff(src_off)
    first = np.zeros(end - start + 1, dtype=np.int64)
    np.cumsum(n + 1, out=first[1:])
    ids = np.zeros(int(first[-1]), dtype=np.int64)
    inside = np.ones(len(ids), dtype=bool)
    inside[first[:-1]] = False
    ids[inside] = corpus.src[src_off[0] : src_off[-1]]
    return ids, first


def _link_layout(corpus: _Corpus, start: int, end: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(unit of each target word, n + 1 links of each, where each one's links start, the index
    into ``_with_null``'s ids of every link). Per-link values are spread with np.repeat rather
    than gathered through a link -> group index: a gather per link array was most of the
    cost of a batch (0.35-0.45 s CPU for 2M links, against 0.1 for sorting their keys)."""
    n = np.diff(corpus.src_off[start : end + 1])
    m = np.diff(corpus.tgt_off[start : end + 1])
    sent_of_group = np.repeat(np.arange(end - start), m)
    size = (n + 1)[sent_of_group]
    group_start = np.zeros(len(size) + 1, dtype=np.int64)
    np.cumsum(size, out=group_start[1:])
    first = np.zeros(end - start + 1, dtype=np.int64)
    np.cumsum(n + 1, out=first[1:])
    at = np.arange(int(group_start[-1]), dtype=np.int64)
    at += np.repeat(first[:-1][sent_of_group] - group_start[:-1], size)
    return sent_of_group, size, group_start, at


def _links(corpus: _Corpus, start: int, end: int) -> _Links:
    src_off = corpus.src_off[start : end + 1]
    tgt_off = corpus.tgt_off[start : end + 1]
    n = np.diff(src_off)
    m = np.diff(tgt_off)
    sent_of_group, size, group_start, at = _link_layout(corpus, start, end)
    g = len(sent_of_group)
    ids, first = _with_null(corpus, start, end)
    i = at - np.repeat(first[:-1][sent_of_group], size)  # source position, 0 for NULL
    group = np.repeat(np.arange(g), size)
    first_group = np.zeros(end - start + 1, dtype=np.int64)
    np.cumsum(m, out=first_group[1:])
    j = np.arange(g, dtype=np.int64) - first_group[:-1][sent_of_group] + 1  # 1-based
    is_null = i == 0
    src = ids[at].astype(corpus.src.dtype)
    tgt = np.repeat(corpus.tgt[tgt_off[0] : tgt_off[-1]], size)
    n_l = np.repeat(n[sent_of_group].astype(np.float64), size)
    m_l = np.repeat(m[sent_of_group].astype(np.float64), size)
    h = np.where(is_null, 0.0, -np.abs(i / np.maximum(n_l, 1) - np.repeat(j, size) / m_l))
    return _Links(src, tgt, h, is_null, group, group_start, g, sent_of_group, i)


def _link_keys(corpus: _Corpus, start: int, end: int, n_target: int) -> np.ndarray:
    """The table key (source id * n_target + target id) of every candidate link of units
    [start, end), NULL's included, in ``_links``' order: all the pair table needs of them,
    without the positions and diagonal distances ``_links`` also computes."""
    tgt_off = corpus.tgt_off[start : end + 1]
    _, size, _, at = _link_layout(corpus, start, end)
    ids, _ = _with_null(corpus, start, end)
    ids *= n_target
    keys: np.ndarray = ids[at]
    keys += np.repeat(corpus.tgt[tgt_off[0] : tgt_off[-1]].astype(np.int64), size)
    return keys


@dataclass
class _Compact:
    """What EM needs of a batch's links: each one's position in the table (-1: not there)."""

    at: np.ndarray          # int32
    h: np.ndarray           # float32
    is_null: np.ndarray
    group: np.ndarray       # int32
    group_start: np.ndarray
    n_groups: int


def _shape(group_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group of each link, is it the NULL link) from the groups' starts: cheaper to recompute
    than to cache (5 of the 11 bytes a link would take)."""
    sizes = np.diff(group_start)
    group = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    is_null = np.zeros(int(group_start[-1]), dtype=bool)
    is_null[group_start[:-1][sizes > 0]] = True
    return group, is_null


def _compact(links: _Links, table: np.ndarray, n_target: int) -> _Compact:
    at = _positions(table, links.src.astype(np.int64) * n_target + links.tgt).astype(np.int32)
    # Distances are cached as float16: round them now, so every iteration sees the same ones.
    h = links.h.astype(np.float16).astype(np.float32)
    return _Compact(at, h, links.is_null, links.group.astype(np.int32), links.group_start, links.n_groups)


class _LinkCache:
    """Each batch's table positions and diagonal distances, kept across EM iterations: in
    memory up to ``budget`` bytes, the rest in a temporary file read back in batch order."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.memory: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.used = 0
        self.file: IO[bytes] | None = None
        self.spilled: dict[int, tuple[np.ndarray, int]] = {}

    def put(self, batch: int, links: _Compact) -> None:
        at, h = links.at, links.h.astype(np.float16)
        size = at.nbytes + h.nbytes
        if self.used + size <= self.budget:
            self.memory[batch] = (at, h, links.group_start)
            self.used += size
            return
        if self.file is None:
            self.file = tempfile.TemporaryFile(prefix="wordalign-links-")
        self.file.seek(0, os.SEEK_END)
        self.file.write(at.tobytes())
        self.file.write(h.tobytes())
        self.spilled[batch] = (links.group_start, len(at))

    def get(self, batch: int) -> _Compact | None:
        if batch in self.memory:
            at, h, group_start = self.memory[batch]
        elif batch in self.spilled and self.file is not None:
            group_start, n = self.spilled[batch]
            at = np.fromfile(self.file, dtype=np.int32, count=n)
            h = np.fromfile(self.file, dtype=np.float16, count=n)
        else:
            return None
        group, is_null = _shape(group_start)
        return _Compact(at, h.astype(np.float32), is_null, group, group_start, len(group_start) - 1)

    def rewind(self) -> None:
        if self.file is not None:
            self.file.seek(0)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


#: Links whose expected counts are gathered before they are added to the table's: one
#: bincount per batch allocated and added an array the size of the table (tens of millions of
#: entries) for 2M links, and cost more than the links themselves.
COUNT_BUFFER_LINKS = 8_000_000


class _CountBuffer:
    """Expected counts of several batches added to ``counts`` in one bincount, gathered in
    two arrays allocated once (12 bytes a link)."""

    def __init__(self, counts: np.ndarray, capacity: int | None = None) -> None:
        self.counts = counts
        capacity = COUNT_BUFFER_LINKS if capacity is None else capacity
        self.at = np.empty(capacity, dtype=np.int32)
        self.weights = np.empty(capacity, dtype=np.float64)
        self.size = 0

    def add(self, at: np.ndarray, weights: np.ndarray) -> None:
        if self.size + len(at) > len(self.at):
            self.flush()
        if len(at) > len(self.at):  # a batch larger than the buffer goes in on its own
            _add_counts(self.counts, at, weights)
            return
        self.at[self.size : self.size + len(at)] = at
        self.weights[self.size : self.size + len(at)] = weights
        self.size += len(at)

    def flush(self) -> None:
        if self.size:
            _add_counts(self.counts, self.at[: self.size], self.weights[: self.size])
        self.size = 0


#: Table entries one bincount of the M-step's counts covers: a bincount over the whole table
#: allocated a float64 array of its size at every flush (137 MB at 17M entries), on top of
#: the batch being counted, in each training process at once.
FLUSH_SLICE = 2_000_000


def _add_counts(counts: np.ndarray, at: np.ndarray, weights: np.ndarray) -> None:
    """``counts += np.bincount(at, weights, minlength=len(counts))`` one slice of the table at
    a time. Bit for bit the same: each entry's weights are still summed in the order given,
    before being added to its count, and an entry out of the slice gets nothing."""
    if len(counts) <= FLUSH_SLICE:
        counts += np.bincount(at, weights=weights, minlength=len(counts))
        return
    for lo in range(0, len(counts), FLUSH_SLICE):
        hi = min(lo + FLUSH_SLICE, len(counts))
        inside = at >= lo
        inside &= at < hi
        counts[lo:hi] += np.bincount(at[inside] - lo, weights=weights[inside], minlength=hi - lo)


def _diagonal(links: _Compact, tension: float, null_prob: float) -> np.ndarray:
    """p(a_j = i) of every link under the diagonal distribution."""
    w = np.where(links.is_null, 0.0, np.exp(tension * links.h))
    z = np.bincount(links.group, weights=w, minlength=links.n_groups)
    return np.where(links.is_null, null_prob, (1 - null_prob) * w / np.maximum(z[links.group], 1e-300))


def _digamma(x: np.ndarray) -> np.ndarray:
    """ψ(x) for x > 0: the recurrence up to 6, then the asymptotic series."""
    x = np.array(x, dtype=np.float64, copy=True)
    out = np.zeros_like(x)
    small = x < 6
    while small.any():
        out[small] -= 1.0 / x[small]
        x[small] += 1.0
        small = x < 6
    inv = 1.0 / x
    inv2 = inv * inv
    psi: np.ndarray = out + np.log(x) - 0.5 * inv - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 / 252))
    return psi


def _source_slices(table: np.ndarray, n_target: int) -> Iterator[tuple[int, int]]:
    """[a, b) slices of the sorted ``table`` of about NORMALISE_SLICE entries, each cut where
    a source word's entries begin (the keys are sorted by source first)."""
    a = 0
    while a < len(table):
        b = a + NORMALISE_SLICE
        if b < len(table):
            b = int(np.searchsorted(table, (int(table[b - 1]) // n_target + 1) * n_target))
        else:
            b = len(table)
        yield a, b
        a = b


def _source_totals(counts: np.ndarray, table: np.ndarray, n_source: int, n_target: int) -> np.ndarray:
    """``np.bincount(table // n_target, weights=counts, minlength=n_source)`` without every
    entry's source id held beside the table (4 bytes an entry): slice by slice, each cut
    where a source begins, so that each source's counts are summed in one bincount in the
    same order as over the whole table, bit for bit."""
    totals = np.zeros(n_source, dtype=np.float64)
    for a, b in _source_slices(table, n_target):
        src = table[a:b] // n_target
        first = int(src[0])
        totals[first : int(src[-1]) + 1] += np.bincount(src - first, weights=counts[a:b])
    return totals


def _normalise(counts: np.ndarray, table: np.ndarray, n_source: int, n_target: int,
               out: np.ndarray | None = None) -> np.ndarray:
    """The M-step: t(f | e) from expected counts, the mean-field (VB) estimate, into ``out``
    when given (the previous iteration's table: no second one beside it). In slices, so
    that the digamma's temporaries stay small beside a table of tens of millions of pairs;
    each slice's source ids are computed from its keys, not kept for the whole table."""
    totals = _source_totals(counts, table, n_source, n_target) + VB_ALPHA * n_target
    if out is None:
        out = np.empty(len(counts), dtype=np.float64)
    for a in range(0, len(counts), NORMALISE_SLICE):
        b = a + NORMALISE_SLICE
        out[a:b] = np.exp(_digamma(counts[a:b] + VB_ALPHA) - _digamma(totals[table[a:b] // n_target]))
    return out


def _flat(links: _Compact) -> np.ndarray:
    size = np.diff(links.group_start).astype(np.float64)
    flat: np.ndarray = 1.0 / size[links.group]
    return flat


def _posteriors(links: _Compact, t: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """The links' posteriors, written over ``t`` (float64): each new array of a batch's size is
    16 MB at 2M links, in each training process at once."""
    p: np.ndarray = np.multiply(t, prior, out=t)
    z = np.bincount(links.group, weights=p, minlength=links.n_groups)
    np.maximum(z, 1e-300, out=z)
    p /= z[links.group]
    return p


def _fit_tension(samples: list[tuple[_Compact, np.ndarray]], tension: float, null_prob: float) -> float:
    """Gradient ascent on the expected log-probability of the alignments (Dyer et al., §3.2):
    d/dλ = Σ post·h − Σ_j (Σ_{i>0} post) · E_λ[h]."""
    for _ in range(8):
        grad = 0.0
        for links, post in samples:
            w = np.where(links.is_null, 0.0, np.exp(tension * links.h))
            z = np.bincount(links.group, weights=w, minlength=links.n_groups)
            eh = np.bincount(links.group, weights=w * links.h, minlength=links.n_groups) / np.maximum(z, 1e-300)
            mass = np.bincount(links.group, weights=np.where(links.is_null, 0.0, post), minlength=links.n_groups)
            grad += float(np.sum(np.where(links.is_null, 0.0, post * links.h)) - np.sum(mass * eh))
        tokens_seen = sum(links.n_groups for links, _ in samples) or 1
        tension = float(np.clip(tension + 20.0 * grad / tokens_seen, 0.5, 40.0))
    return tension


#: Pruning asks only whether a pair was seen twice: the pair table's counts saturate here,
#: so that a count fits in two bits beside its key while the batches' pairs are merged.
_SEEN_TWICE = 2
_COUNT_BITS = 2


def _merge_counts(keys: list[np.ndarray], counts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys of several sorted runs and each one's count (saturated at
    _SEEN_TWICE). Key and count are packed in one int64 and sorted in place: sorting the keys
    with an argsort carried the counts along through an index array and three copies, the
    peak of training at a million units (tens of millions of distinct pairs a direction).
    The lists are emptied as the runs are packed, so that a caller who holds no other
    reference to them frees each run as soon as it is in (the merged run of the previous
    merge is the largest)."""
    if len(keys) != len(counts):
        raise ValueError("as many runs of counts as of keys")
    total = sum(len(k) for k in keys)
    # Keys are source id * target vocabulary + target id: far below 2**61 for any vocabulary.
    packed = np.empty(total, dtype=np.int64)
    at = 0
    while keys:
        k, c = keys.pop(), counts.pop()
        packed[at : at + len(k)] = k
        packed[at : at + len(k)] <<= _COUNT_BITS
        packed[at : at + len(k)] |= np.minimum(c, _SEEN_TWICE)
        at += len(k)
        del k, c
    packed.sort()
    count = (packed & ((1 << _COUNT_BITS) - 1)).astype(np.uint8)
    packed >>= _COUNT_BITS
    if not total:
        return packed, count
    # Masks, not index arrays (a byte an entry, not eight): where a key starts, and a key
    # followed by itself was in two runs, so seen twice (every count is at least one).
    starts = np.empty(total, dtype=bool)
    starts[0] = True
    np.not_equal(packed[1:], packed[:-1], out=starts[1:])
    count[:-1][~starts[1:]] = _SEEN_TWICE
    return packed[starts], count[starts]


def _pair_table(corpus: _Corpus, n_target: int, prior_keys: np.ndarray, prune: bool,
                src_freq: np.ndarray, tgt_freq: np.ndarray) -> np.ndarray:
    """Sorted keys of the pairs the table holds: every co-occurring pair (including NULL), or
    on large memories those seen twice or with a word seen at most twice, plus the priors."""
    # The batches' distinct pairs are merged whenever the unmerged ones outgrow the merged
    # ones, so memory stays near the distinct pairs of the whole memory (not of each batch
    # added up, several times more at a million units) and each pair is merged O(log) times.
    merged_keys = np.zeros(0, dtype=np.int64)
    merged_counts = np.zeros(0, dtype=np.uint8)
    keys_in: list[np.ndarray] = []
    counts_in: list[np.ndarray] = []
    pending = 0
    for start, end in _batches(corpus):
        u, c = np.unique(_link_keys(corpus, start, end, n_target), return_counts=True)
        keys_in.append(u)
        counts_in.append(np.minimum(c, _SEEN_TWICE).astype(np.uint8))
        pending += len(u)
        if pending > max(len(merged_keys), 1_000_000):
            keys_in.append(merged_keys)
            counts_in.append(merged_counts)
            del merged_keys, merged_counts  # the merge frees each run once it is packed
            merged_keys, merged_counts = _merge_counts(keys_in, counts_in)
            pending = 0
    if keys_in:
        keys_in.append(merged_keys)
        counts_in.append(merged_counts)
        del merged_keys, merged_counts
        merged_keys, merged_counts = _merge_counts(keys_in, counts_in)
    if not len(merged_keys) or not prune:
        return merged_keys
    # Pruned in place, a slice at a time: the whole table's source and target ids and their
    # masks beside it took some 30 bytes an entry at the peak.
    kept = 0
    for a in range(0, len(merged_keys), NORMALISE_SLICE):
        keys = merged_keys[a : a + NORMALISE_SLICE]
        src = keys // n_target
        keep = (merged_counts[a : a + NORMALISE_SLICE] >= _SEEN_TWICE) | (src == 0)
        keep |= src_freq[src] <= 2
        keep |= tgt_freq[keys % n_target] <= 2
        # A prior only matters where the pair co-occurs; those pruning would drop are kept.
        keep |= np.isin(keys, prior_keys)
        found = keys[keep]
        merged_keys[kept : kept + len(found)] = found  # kept <= a: never over an unread key
        kept += len(found)
    del merged_counts
    table: np.ndarray = merged_keys[:kept].copy()
    return table


def _prior_entries(table: np.ndarray, prior_keys: np.ndarray,
                   prior_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The table positions the priors fall on (sorted, distinct) and each one's pseudo-count
    (float32, summed as np.add.at sums them): a few hundred thousand entries, where a dense
    array of the table's size took 4 bytes for each of tens of millions of pairs."""
    if not len(prior_keys) or not len(table):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    at = np.minimum(np.searchsorted(table, prior_keys), len(table) - 1)
    hit = table[at] == prior_keys
    positions, inverse = np.unique(at[hit], return_inverse=True)
    weights = np.zeros(len(positions), dtype=np.float32)
    np.add.at(weights, inverse.reshape(-1), prior_weights[hit])
    return positions, weights


#: Held while a direction builds its pair table, when the two directions train in two processes
#: at once: the batches' merges are the most memory either direction needs (its link keys and
#: the runs being merged beside the table), and the two coinciding made the peak of training at
#: a million units (2.90 GiB over all processes). One at a time, each merges beside the other's
#: quieter state. Set in both processes by ``_share_table_lock``.
_table_lock: Any = None


def _share_table_lock(lock: Any) -> None:
    """Pool initializer (and the parent's own call): the lock the pair-table builds take turns on."""
    global _table_lock
    _table_lock = lock


def _train_direction(corpus: _Corpus, n_source: int, n_target: int, prior_keys: np.ndarray,
                     prior_weights: np.ndarray, *, prune: bool, model1: int, diagonal: int, viterbi: bool = False,
                     log: Callable[[str], object] | None = None
                     ) -> tuple[_Direction, tuple[np.ndarray, np.ndarray] | None]:
    src_freq = np.bincount(corpus.src, minlength=n_source)
    tgt_freq = np.bincount(corpus.tgt, minlength=n_target)
    with _table_lock if _table_lock is not None else contextlib.nullcontext():
        table = _pair_table(corpus, n_target, prior_keys, prune, src_freq, tgt_freq)
    del src_freq, tgt_freq
    if log:
        log(f"pair table: {len(table)} entries")
    prior_at, prior = _prior_entries(table, prior_keys, prior_weights)
    # Start from the priors over a flat table, so the first E-step already prefers senses.
    counts = np.ones(len(table), dtype=np.float64)
    counts[prior_at] += prior.astype(np.float64)
    probs = np.empty(len(table), dtype=np.float64)
    # Its float32 probabilities are set after the last iteration (EM works on ``probs``).
    direction = _Direction(table, np.zeros(0, dtype=np.float32), n_target)
    # Caching each batch's table positions saves the binary searches on every iteration.
    cache = _LinkCache(LINK_CACHE_BYTES)
    batches = list(_batches(corpus))
    total_links = int(np.sum(np.diff(corpus.tgt_off) * (np.diff(corpus.src_off) + 1)))
    for it in range(model1 + diagonal):
        probs = _normalise(counts, table, n_source, n_target, out=probs)
        # In place: the counts of a table of tens of millions are 8 bytes each.
        counts.fill(0.0)
        counts[prior_at] = prior
        samples: list[tuple[_Compact, np.ndarray]] = []
        pending = _CountBuffer(counts, min(COUNT_BUFFER_LINKS, total_links))
        cache.rewind()
        for b, (start, end) in enumerate(batches):
            links = cache.get(b)
            if links is None:
                links = _compact(_links(corpus, start, end), table, n_target)
                cache.put(b, links)
            hit = links.at >= 0
            t = probs[links.at]
            t[~hit] = FLOOR
            a = _flat(links) if it < model1 else _diagonal(links, direction.tension, direction.null_prob)
            post = _posteriors(links, t, a)
            del a, t  # ``post`` is ``t``'s array
            pending.add(links.at[hit], post[hit])
            if it >= model1 - 1 and not samples:
                # The tension is one number: a few thousand target words fit it as well as all.
                groups = min(links.n_groups, TENSION_SAMPLE)
                cut = int(links.group_start[groups])
                sample = _Compact(links.at[:cut], links.h[:cut], links.is_null[:cut], links.group[:cut],
                                  links.group_start[: groups + 1], groups)
                samples.append((sample, post[:cut]))
        pending.flush()
        # It holds the counts too: kept, the Viterbi pass carried them and the buffer
        # (8 bytes an entry and 96 MB) for nothing, after they were "dropped" below.
        del pending
        if it >= model1 - 1 and samples:
            direction.tension = _fit_tension(samples, direction.tension, direction.null_prob)
        if log:
            log(f"iteration {it + 1}: tension {direction.tension:.2f}")
    direction.probs = _normalise(counts, table, n_source, n_target, out=probs).astype(np.float32)
    del counts, probs  # 16 bytes an entry, not needed by the Viterbi pass
    try:
        return direction, (_viterbi_all(direction, corpus, cache) if viterbi else None)
    finally:
        cache.close()


def _train_direction_saved(directory: str, *args: Any, **options: Any) -> tuple[int, float, float]:
    """``_train_direction`` in another process, its table and alignments written to
    ``directory`` for the caller to read (``_load_direction``): returned through the pool's
    pipe they were pickled whole, a copy of some 270 MB at a million units in both processes
    at once, the peak of training there (measured: 3.02 GiB over all processes)."""
    direction, best = _train_direction(*args, **options)
    folder = Path(directory)
    np.save(folder / "keys.npy", direction.keys, allow_pickle=False)
    np.save(folder / "probs.npy", direction.probs, allow_pickle=False)
    if best is not None:
        np.save(folder / "best.npy", best[0], allow_pickle=False)
        np.save(folder / "post.npy", best[1], allow_pickle=False)
    return direction.n_target, direction.tension, direction.null_prob


def _load_direction(folder: Path, header: tuple[int, float, float]
                    ) -> tuple[_Direction, tuple[np.ndarray, np.ndarray] | None]:
    n_target, tension, null_prob = header
    direction = _Direction(np.load(folder / "keys.npy", allow_pickle=False),
                           np.load(folder / "probs.npy", allow_pickle=False), n_target, tension, null_prob)
    if not (folder / "best.npy").exists():
        return direction, None
    return direction, (np.load(folder / "best.npy", allow_pickle=False),
                       np.load(folder / "post.npy", allow_pickle=False))


def _viterbi_all(direction: _Direction, corpus: _Corpus,
                 cache: _LinkCache | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``_viterbi`` of every unit of the corpus at once, batch by batch: for each target token,
    its best source position (-1 for NULL) and that link's posterior (float16, as stored).
    The same arithmetic as ``_viterbi`` (exact distances, the saved float32 table), so the
    alignments stored at training are those ``align`` computes for the same pair. The links'
    table positions come from EM's ``cache`` when it holds the batch (the same table, so the
    same probabilities as ``direction.lookup`` finds, without searching for them again)."""
    best = np.full(len(corpus.tgt), -1, dtype=np.int8)
    post = np.zeros(len(corpus.tgt), dtype=np.float16)
    if cache is not None:
        cache.rewind()
    for b, (start, end) in enumerate(_batches(corpus)):
        # Read before anything is skipped: a spilled cache is read back in batch order.
        cached = cache.get(b) if cache is not None else None
        links = _links(corpus, start, end)
        if not links.n_groups:
            continue
        if cached is not None:
            t = np.where(cached.at >= 0, direction.probs[cached.at], FLOOR)
        else:
            t = direction.lookup(links.src, links.tgt)
        w = np.where(links.is_null, 0.0, np.exp(direction.tension * links.h))
        z = np.bincount(links.group, weights=w, minlength=links.n_groups)
        a = np.where(links.is_null, direction.null_prob,
                     (1 - direction.null_prob) * w / np.maximum(z[links.group], 1e-300))
        p = t * a
        total = np.bincount(links.group, weights=p, minlength=links.n_groups)
        firsts = links.group_start[:-1]
        p_null = p[firsts]  # each group starts with its NULL link
        masked = np.where(links.is_null, -1.0, p)
        top = np.maximum.reduceat(masked, firsts)
        # The first source position reaching the maximum, as argmax takes it.
        at_top = np.flatnonzero(masked == top[links.group])
        _, first_of_group = np.unique(links.group[at_top], return_index=True)
        chosen = at_top[first_of_group]
        aligned = top > p_null
        lo, hi = int(corpus.tgt_off[start]), int(corpus.tgt_off[end])
        best[lo:hi] = np.where(aligned, links.i[chosen] - 1, -1)
        post[lo:hi] = top / np.maximum(total, 1e-300)
    return best, post


def _prior_pairs(zh_index: Mapping[str, int], en_index: Mapping[str, int],
                 priors: Iterable[tuple[str, str]] | None, use_cedict: bool) -> tuple[np.ndarray, np.ndarray]:
    """(zh_id, en_id) pairs with pseudo-counts: CEDICT senses, glossary terms, identical tokens."""
    weights: dict[tuple[int, int], float] = {}

    def add(z: int, e: int, w: float) -> None:
        if z and e:
            weights[(z, e)] = weights.get((z, e), 0.0) + w

    # The same token on both sides: a number, an acronym, a Latin name inside Chinese text.
    for word, z in zh_index.items():
        e = en_index.get(word)
        if e and not _PUNCT.match(word):
            add(z, e, PRIOR_WEIGHT)
    if use_cedict:
        from tm.core.lexicon import load_lexicon, stem

        lexicon = load_lexicon()
        by_stem: dict[str, list[int]] = {}
        for word, e in en_index.items():
            if e and word not in EN_STOPWORDS and word[:1].isalnum():
                by_stem.setdefault(stem(word), []).append(e)
        for word, z in zh_index.items():
            senses = lexicon.get(word)
            if not senses:
                continue
            for s in senses:
                for e in by_stem.get(s, ()):
                    add(z, e, PRIOR_WEIGHT)
        # Names: a Chinese word and an English token spelling its pinyin (李永辉 / Yonghui).
        readings = _pinyin()
        for word, z in zh_index.items():
            if not 2 <= len(word) <= 4 or not all(ch in readings for ch in word):
                continue
            for spelled in _spellings(word, readings):
                e = en_index.get(spelled)
                if e:
                    add(z, e, PRIOR_WEIGHT)
    for zh_term, en_term in priors or ():
        zw = [w for w in tokens(zh_term, "zh").words if not is_function_word(w, "zh")]
        ew = [w for w in tokens(en_term, "en").words if not is_function_word(w, "en")]
        if not zw or not ew:
            continue
        share = PRIOR_WEIGHT / max(len(zw), len(ew))
        for a in zw:
            for b in ew:
                add(zh_index.get(a, 0), en_index.get(b, 0), share)
    if not weights:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0)
    pairs = np.array(list(weights), dtype=np.int64)
    return pairs, np.fromiter(weights.values(), dtype=np.float64, count=len(weights))


@lru_cache(maxsize=1)
def _pinyin() -> Mapping[str, tuple[str, ...]]:
    """Each Han character's toneless pinyin readings, from CC-CEDICT's one-character entries."""
    import gzip

    from tm.core.lexicon import cedict_path

    readings: dict[str, list[str]] = {}
    line_re = re.compile(r"^(\S) (\S) \[([A-Za-z:]+)\d?\] ")
    with gzip.open(cedict_path(), mode="rt", encoding="utf-8") as lines:
        for line in lines:
            m = line_re.match(line)
            if m is None:
                continue
            reading = m.group(3).lower().replace("u:", "v")
            for ch in (m.group(1), m.group(2)):
                if reading not in readings.setdefault(ch, []):
                    readings[ch].append(reading)
    return {ch: tuple(r[:3]) for ch, r in readings.items()}


def name_spellings(word: str) -> set[str]:
    """How an English text may romanise a Chinese name word (see ``_spellings``); empty for a
    word that is not two to four Han characters with known readings."""
    readings = _pinyin()
    if not 2 <= len(word) <= 4 or not all(ch in readings for ch in word):
        return set()
    return _spellings(word, readings)


def _spellings(word: str, readings: Mapping[str, tuple[str, ...]]) -> set[str]:
    """Romanisations an English text may use for a (name) word: the surname alone, the given
    name and the whole name, each syllable run written together (Li / Yonghui / Liyonghui)."""
    out: set[str] = set()
    runs = [(0, 1), (1, len(word)), (0, len(word))] if len(word) > 1 else [(0, 1)]
    for a, b in runs:
        options = [""]
        for ch in word[a:b]:
            options = [o + r for o in options for r in readings[ch]][:8]
        out.update(options)
    return out


def _chunks(pairs: Iterable[tuple[str, str]], size: int) -> Iterable[list[tuple[str, str]]]:
    it = iter(pairs)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


@dataclass
class _Tokenised:
    """A chunk's training tokens. Unkeyed: the pairs that teach something, in order. Keyed
    (``keys`` set): every pair, one that teaches nothing with no tokens (so that it is stored
    as aligning nothing), with its unit key, the digest of its texts and the tokens' spans
    (flat start, end, start, end ... as uint16)."""

    pairs: list[tuple[tuple[str, ...], tuple[str, ...]]]
    keys: list[int] | None = None
    digests: list[int] | None = None
    zh_spans: array[int] | None = None
    en_spans: array[int] | None = None


#: Spans are stored as uint16: a text reaching past this teaches nothing (it is far over
#: MAX_TRAIN_TOKENS tokens anyway, or holds a token thousands of characters long).
_MAX_SPAN = 65_535


def _tokenise(chunk: Sequence[tuple[str, str]] | Sequence[tuple[int, str, str]]) -> _Tokenised:
    """The training tokens of some pairs, (zh, en) or keyed (unit key, zh, en); a pair that
    teaches nothing (an empty side, a side of more than MAX_TRAIN_TOKENS) is left out, or kept
    with no tokens when keyed. Runs in the tokenising workers."""
    out = _Tokenised([])
    if chunk and len(chunk[0]) == 3:
        out.keys, out.digests, out.zh_spans, out.en_spans = [], [], array("H"), array("H")
    for item in chunk:
        zh, en = item[-2], item[-1]
        zt = tokens(zh or "", "zh", cached=False)
        et = tokens(en or "", "en", cached=False)
        teaches = bool(zt.words and et.words and len(zt.words) <= MAX_TRAIN_TOKENS
                       and len(et.words) <= MAX_TRAIN_TOKENS)
        if out.keys is None:
            if teaches:
                out.pairs.append((zt.words, et.words))
            continue
        assert out.digests is not None and out.zh_spans is not None and out.en_spans is not None
        out.keys.append(int(item[0]))
        out.digests.append(pair_digest(zh, en))
        if teaches and zt.spans[-1][1] <= _MAX_SPAN and et.spans[-1][1] <= _MAX_SPAN:
            out.pairs.append((zt.words, et.words))
            out.zh_spans.extend(x for span in zt.spans for x in span)
            out.en_spans.extend(x for span in et.spans for x in span)
        else:
            out.pairs.append(((), ()))
    return out


def _bounded_map(pool: Any, function: Callable[[Any], Any], chunks: Iterable[Any], ahead: int) -> Iterable[Any]:
    """``pool.imap(function, chunks)`` with at most ``ahead`` chunks in flight: the results are
    consumed as they come and the input is read only as fast as they are."""
    pending: collections.deque[Any] = collections.deque()
    for chunk in chunks:
        pending.append(pool.apply_async(function, (chunk,)))
        if len(pending) >= ahead:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def train(
    pairs: Iterable[tuple[str, str]] | Iterable[tuple[int, str, str]],
    *,
    priors: Iterable[tuple[str, str]] | None = None,
    cedict: bool = True,
    model1_iterations: int = MODEL1_ITERATIONS,
    diagonal_iterations: int = DIAGONAL_ITERATIONS,
    prune: bool | None = None,
    log: Callable[[str], object] | None = None,
    workers: int | None = None,
) -> AlignmentModel:
    """An AlignmentModel learnt from (Chinese, English) pairs, or from keyed (unit id, Chinese,
    English) triples: then the model also holds each unit's alignment (``model.links``, see
    UnitLinks), so that no lookup has to align a stored pair. Ids must be ints.

    ``priors`` are (Chinese term, English term) pairs, e.g. a glossary's; ``cedict`` adds the
    dictionary's senses. Pairs with an empty side (or one longer than MAX_TRAIN_TOKENS) teach
    nothing and are skipped; an empty memory gives a model that aligns nothing.
    ``prune`` drops once-seen pairs of common words (default: above PRUNE_ABOVE_UNITS units).
    ``workers`` processes tokenise (default: two, or one on a one-core machine); from
    PARALLEL_MIN_UNITS units on, the two directions also train in two processes.
    """
    zh_index: dict[str, int] = {"<null>": 0}
    en_index: dict[str, int] = {"<null>": 0}
    # Compact arrays, not lists: a million units are some thirty million ids.
    zh_ids = array("i")
    en_ids = array("i")
    zh_off = array("q", [0])
    en_off = array("q", [0])
    keys = array("q")
    digests = array("Q")
    # The spans are needed only for the stored alignments, after training: on disk meanwhile
    # (4 bytes a token, some 150 MB at a million units, beside both directions' tables).
    with (tempfile.TemporaryFile(prefix="wordalign-spans-") as zh_spans,
          tempfile.TemporaryFile(prefix="wordalign-spans-") as en_spans):
        keyed = False
        if workers is None:
            workers = min(2, os.cpu_count() or 1)
        items: Iterator[tuple[Any, ...]] = iter(pairs)
        head = list(itertools.islice(items, PARALLEL_MIN_UNITS))
        parallel = workers > 1 and len(head) == PARALLEL_MIN_UNITS
        pool = multiprocessing.get_context("spawn").Pool(workers) if parallel else None
        try:
            chunks = _chunks(itertools.chain(head, items), TOKENISE_CHUNK)
            del head
            tokenised = (_bounded_map(pool, _tokenise, chunks, TOKENISE_AHEAD) if pool is not None
                         else map(_tokenise, chunks))
            for chunk in tokenised:
                if chunk.keys is not None:
                    keyed = True
                    keys.extend(chunk.keys)
                    digests.extend(chunk.digests or ())
                    if chunk.zh_spans:
                        chunk.zh_spans.tofile(zh_spans)
                    if chunk.en_spans:
                        chunk.en_spans.tofile(en_spans)
                for zt, et in chunk.pairs:
                    zh_ids.extend([zh_index.setdefault(w, len(zh_index)) for w in zt])
                    en_ids.extend([en_index.setdefault(w, len(en_index)) for w in et])
                    zh_off.append(len(zh_ids))
                    en_off.append(len(en_ids))
            priors = list(priors or ())
            # In a tokenising worker when there are some (they have jieba loaded already, and
            # end with the pool): CC-CEDICT's lexicon and the pinyin readings are needed for
            # the priors alone, and held by this process they stayed through training, some
            # hundreds of MB beside both directions' tables at a million units.
            prior_pairs, prior_w = (pool.apply(_prior_pairs, (zh_index, en_index, priors, cedict))
                                    if pool is not None else _prior_pairs(zh_index, en_index, priors, cedict))
        finally:
            if pool is not None:
                pool.close()
                pool.join()
        units = len(zh_off) - 1
        zh_arr = np.frombuffer(zh_ids, dtype=np.int32)
        en_arr = np.frombuffer(en_ids, dtype=np.int32)
        zo = np.frombuffer(zh_off, dtype=np.int64)
        eo = np.frombuffer(en_off, dtype=np.int64)
        trained = int(np.count_nonzero(np.diff(zo))) if keyed else units
        if log:
            log(f"tokenised {units} units ({trained} teach something): {len(zh_index)} zh and {len(en_index)} en words")
        if log:
            log(f"priors: {len(prior_w)} pairs")
        terms = [(z, e) for z, e in priors if _one_line(z) and _one_line(e)]
        if prune is None:
            prune = trained > PRUNE_ABOVE_UNITS
        nz, ne = len(zh_index), len(en_index)
        # The vocabularies as lists before training, the indexes dropped: a dict entry and its
        # id object cost some 100 bytes a word beside the word itself.
        vocab_zh = _vocabulary(zh_index)
        vocab_en = _vocabulary(en_index)
        del zh_index, en_index
        options: dict[str, Any] = {"prune": prune, "model1": model1_iterations, "diagonal": diagonal_iterations,
                                   "viterbi": keyed}
        forward = (_Corpus(zh_arr, zo, en_arr, eo), nz, ne, prior_pairs[:, 0] * ne + prior_pairs[:, 1], prior_w)
        backward = (_Corpus(en_arr, eo, zh_arr, zo), ne, nz, prior_pairs[:, 1] * nz + prior_pairs[:, 0], prior_w)
        if parallel:
            # The directions are independent until symmetrisation: one in a second process.
            spawn = multiprocessing.get_context("spawn")
            table_lock = spawn.Lock()
            _share_table_lock(table_lock)
            with spawn.Pool(1, initializer=_share_table_lock, initargs=(table_lock,)) as other, \
                    tempfile.TemporaryDirectory(prefix="wordalign-direction-") as handover:
                try:
                    pending = other.apply_async(_train_direction_saved, (handover, *backward), options)
                    z2e, z2e_best = _train_direction(*forward, log=log, **options)
                    if log:
                        log("zh->en trained, waiting for en->zh")
                    e2z, e2z_best = _load_direction(Path(handover), pending.get())
                finally:
                    _share_table_lock(None)
        else:
            z2e, z2e_best = _train_direction(*forward, log=log, **options)
            e2z, e2z_best = _train_direction(*backward, log=log, **options)
        links = None
        if keyed and z2e_best is not None and e2z_best is not None:
            key_arr = np.frombuffer(keys, dtype=np.int64)
            order = np.argsort(key_arr, kind="stable")
            links = UnitLinks(
                keys=key_arr[order], rows=order.astype(np.int64), digests=np.frombuffer(digests, dtype=np.uint64),
                zh_off=zo, en_off=eo, zh_ids=zh_arr, en_ids=en_arr,
                zh_spans=_read_back(zh_spans, np.uint16).reshape(-1, 2),
                en_spans=_read_back(en_spans, np.uint16).reshape(-1, 2),
                e2z=e2z_best[0], e2z_post=e2z_best[1], z2e=z2e_best[0], z2e_post=z2e_best[1])
            links.e2z_kept, links.z2e_kept = kept_links(zo, eo, e2z_best[0], z2e_best[0])
            if log:
                log(f"stored the alignments of {units} units ({links.nbytes() / 2**20:.0f} MiB)")
        return AlignmentModel(vocab_zh, vocab_en, z2e, e2z, units=trained,
                              meta={"priors": len(prior_w), "pruned": bool(prune)}, links=links,
                              terms=terms)


def _vocabulary(index: dict[str, int]) -> list[str]:
    """The words of ``index`` in the order of their ids (0 .. len - 1), as new strings side by
    side: the index's own were allocated among the tokenised chunks' strings, one here and one
    there, and each kept the whole of its allocator arena from being given back after the
    chunks were freed."""
    words = [""] * len(index)
    for w, i in index.items():
        words[i] = w
    fresh = "\n".join(words).split("\n")  # tokens never hold a newline (whitespace is not one)
    return fresh if len(fresh) == len(words) else words


def _read_back(spilled: IO[bytes], dtype: type) -> np.ndarray:
    spilled.flush()
    spilled.seek(0)
    return np.fromfile(spilled, dtype=dtype)


def _one_line(term: str) -> bool:
    return bool(term.strip()) and "\n" not in term and "\t" not in term and "\r" not in term


# --- Aligning one pair ------------------------------------------------------------------------


def _viterbi(direction: _Direction, src: np.ndarray, tgt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each target word: its best source position (-1 for NULL) and that link's posterior."""
    n, m = len(src), len(tgt)
    i = np.arange(1, n + 1)[None, :]
    j = np.arange(1, m + 1)[:, None]
    w = np.exp(-direction.tension * np.abs(i / n - j / m))
    a = (1 - direction.null_prob) * w / w.sum(axis=1, keepdims=True)
    t = direction.lookup(np.repeat(src[None, :], m, axis=0).ravel(), np.repeat(tgt, n)).reshape(m, n)
    t_null = direction.lookup(np.zeros(m, dtype=np.int64), tgt)
    p = t * a
    p_null = t_null * direction.null_prob
    z = p.sum(axis=1) + p_null
    best = p.argmax(axis=1)
    post = p[np.arange(m), best] / np.maximum(z, 1e-300)
    aligned = p[np.arange(m), best] > p_null
    return np.where(aligned, best, -1), post


_NEIGHBOURS = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def _grow_diag_final_and(zh_to_en: Sequence[int], en_to_zh: Sequence[int], n_zh: int,
                         n_en: int) -> set[tuple[int, int]]:
    """Koehn's symmetrisation from the two Viterbi alignments (link = (zh position, en position)).

    Each pass visits the links in order, as the textbook does, but only those next to a link
    of the union not yet taken: no other can grow, and a lookup reads back thousands of
    alignments of stored units (``UnitLinks.alignment``). A link (z, e) is the integer
    (z + 1)·width + e + 1, which orders as the pair does and has its neighbours at fixed
    offsets (the margin of one keeps the edges' neighbours apart)."""
    width = max(n_en, len(zh_to_en), max(en_to_zh, default=-1) + 1) + 2
    forward = {(int(zi) + 1) * width + e + 1 for e, zi in enumerate(zh_to_en) if zi >= 0}   # from t(en|zh)
    backward = {(z + 1) * width + int(ei) + 1 for z, ei in enumerate(en_to_zh) if ei >= 0}  # from t(zh|en)
    links = forward & backward
    pending = (forward | backward) - links
    zh_done = {code // width for code in links}
    en_done = {code % width for code in links}
    offsets = [dz * width + de for dz, de in _NEIGHBOURS]
    # Pending links only leave the set, so a link with no pending neighbour now has none later.
    near = {code - offset for code in pending for offset in offsets}
    grew = bool(pending)
    while grew:
        grew = False
        for code in sorted(links & near):
            for offset in offsets:
                cand = code + offset
                if cand in pending and (cand // width not in zh_done or cand % width not in en_done):
                    links.add(cand)
                    pending.discard(cand)
                    zh_done.add(cand // width)
                    en_done.add(cand % width)
                    grew = True
    for side in (forward, backward):  # final-and: only links joining two unaligned words
        for code in sorted(side & pending):  # a link taken already has both its words done
            if code // width not in zh_done and code % width not in en_done:
                links.add(code)
                zh_done.add(code // width)
                en_done.add(code % width)
    return {(code // width - 1, code % width - 1) for code in links}


@dataclass(frozen=True)
class Alignment:
    """Links between the tokens of a stored pair, each with the posterior of the directional
    model(s) that proposed it (the mean when both did)."""

    zh: Tokens
    en: Tokens
    links: frozenset[tuple[int, int]]
    posterior: Mapping[tuple[int, int], float]
    #: The tokens' vocabulary ids under the model that aligned them, when known (``ids``).
    zh_ids: np.ndarray | None = field(default=None, compare=False, repr=False)
    en_ids: np.ndarray | None = field(default=None, compare=False, repr=False)
    #: Each side's function flags, once asked (``function_flags``): a fragment's projection
    #: asks them of both sides, and a cached alignment is projected again for other fragments.
    _flags: dict[tuple[str, str, bool], bytes] = field(default_factory=dict, compare=False, repr=False)
    #: The model whose vocabulary the ids index: its words' kinds (``AlignmentModel.word_kinds``).
    vocabulary: AlignmentModel | None = field(default=None, compare=False, repr=False)

    def ids(self, model: AlignmentModel, lang: str) -> np.ndarray:
        """Vocabulary ids of the ``lang`` side's tokens: those the alignment was made with, or
        the model's now. Every projection of every sampled unit needs both sides'."""
        known = self.zh_ids if lang == "zh" else self.en_ids
        return known if known is not None else model.ids((self.zh if lang == "zh" else self.en).words, lang)

    def function_flags(self, lang: str, text: str, *, surface: bool = True) -> bytes:
        """is_function_word of each ``lang`` token (1 or 0), ``text`` being that side's text as
        aligned; ``surface=False`` ignores how a word is written (a stop word is one even in
        capitals). Kept as bytes: a byte a token beside the alignment, not a pointer."""
        key = (lang, text, surface)
        flags = self._flags.get(key)
        if flags is None:
            toks = self.zh if lang == "zh" else self.en
            kinds = self._word_kinds(lang)
            if kinds is None:
                kinds = [_word_kind(word, lang) for word in toks.words]
            flags = bytes(_function_flags(toks, text, lang, kinds) if surface else [kind != 0 for kind in kinds])
            self._flags[key] = flags
        return flags

    def _word_kinds(self, lang: str) -> list[int] | None:
        """Each ``lang`` token's ``_word_kind``, read by vocabulary id when the model is known
        (a word outside its vocabulary, id 0, is looked up), else None."""
        ids = self.zh_ids if lang == "zh" else self.en_ids
        if self.vocabulary is None or ids is None:
            return None
        words = (self.zh if lang == "zh" else self.en).words
        kinds: list[int] = _token_kinds(self.vocabulary, lang, ids, words).tolist()
        return kinds


SYMMETRISATIONS = ("grow-diag-final-and", "intersection", "union")


def align(model: AlignmentModel, zh: str, en: str, *, method: str = "grow-diag-final-and") -> Alignment:
    """The symmetrised word alignment of one pair."""
    zt, et = tokens(zh or "", "zh"), tokens(en or "", "en")
    if not zt.words or not et.words:
        return Alignment(zt, et, frozenset(), {})
    zid, eid = model.ids(zt.words, "zh"), model.ids(et.words, "en")
    z2e, z2e_post = _viterbi(model.zh_to_en, zid, eid)  # best zh position for each en token
    e2z, e2z_post = _viterbi(model.en_to_zh, eid, zid)  # best en position for each zh token
    # Posteriors at the precision they are stored in (UnitLinks), so that an alignment read
    # back and one computed now are the same.
    return _symmetrised(zt, et, z2e.tolist(), _stored_precision(z2e_post), e2z.tolist(),
                        _stored_precision(e2z_post), method, ids=(zid, eid), vocabulary=model)


def _symmetric_links(z2e: Sequence[int], e2z: Sequence[int], n_zh: int, n_en: int,
                     method: str) -> set[tuple[int, int]]:
    if method == "intersection":
        return {(int(z), e) for e, z in enumerate(z2e) if z >= 0 and e2z[z] == e}
    if method == "union":
        return {(int(z), e) for e, z in enumerate(z2e) if z >= 0} | {(z, int(e)) for z, e in enumerate(e2z) if e >= 0}
    return _grow_diag_final_and(z2e, e2z, n_zh, n_en)


#: Units symmetrised at a time by ``kept_links`` (their directional links as Python lists).
KEPT_LINKS_ROWS = 50_000


def kept_links(zh_off: np.ndarray, en_off: np.ndarray, e2z: np.ndarray,
               z2e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each token of every unit, whether its directional link is among the unit's
    grow-diag-final-and links (UnitLinks.e2z_kept, z2e_kept): the symmetrisation done once, at
    training (some 30 s at a million units), rather than at every read."""
    e2z_kept = np.zeros(len(e2z), dtype=np.uint8)
    z2e_kept = np.zeros(len(z2e), dtype=np.uint8)
    units = len(zh_off) - 1
    for first in range(0, units, KEPT_LINKS_ROWS):
        last = min(first + KEPT_LINKS_ROWS, units)
        z0, e0 = int(zh_off[first]), int(en_off[first])
        zo, eo = (zh_off[first : last + 1] - z0).tolist(), (en_off[first : last + 1] - e0).tolist()
        zh_best, en_best = e2z[z0 : int(zh_off[last])].tolist(), z2e[e0 : int(en_off[last])].tolist()
        zh_keep, en_keep = bytearray(len(zh_best)), bytearray(len(en_best))
        for row in range(last - first):
            za, zb, ea, eb = zo[row], zo[row + 1], eo[row], eo[row + 1]
            if za == zb or ea == eb:
                continue
            row_e2z, row_z2e = zh_best[za:zb], en_best[ea:eb]
            for z, e in _grow_diag_final_and(row_z2e, row_e2z, zb - za, eb - ea):
                if row_e2z[z] == e:
                    zh_keep[za + z] = 1
                if row_z2e[e] == z:
                    en_keep[ea + e] = 1
        e2z_kept[z0 : z0 + len(zh_keep)] = np.frombuffer(zh_keep, dtype=np.uint8)
        z2e_kept[e0 : e0 + len(en_keep)] = np.frombuffer(en_keep, dtype=np.uint8)
    return e2z_kept, z2e_kept


def _stored_precision(posteriors: np.ndarray) -> list[float]:
    values: list[float] = posteriors.astype(np.float16).astype(np.float64).tolist()
    return values


def _symmetrised(zt: Tokens, et: Tokens, z2e: Sequence[int], z2e_post: Sequence[float], e2z: Sequence[int],
                 e2z_post: Sequence[float], method: str,
                 ids: tuple[np.ndarray, np.ndarray] | tuple[None, None] = (None, None),
                 vocabulary: AlignmentModel | None = None,
                 links: set[tuple[int, int]] | None = None) -> Alignment:
    """The alignment of a pair from its two directional Viterbi alignments (computed now by
    ``align`` or read back by ``UnitLinks.alignment``); ``vocabulary``: the model whose
    vocabulary ``ids`` index, for the words' kinds (``Alignment.function_flags``); ``links``:
    the symmetrised links when known already (stored, ``UnitLinks.e2z_kept``)."""
    if links is None:
        links = _symmetric_links(z2e, e2z, len(zt.words), len(et.words), method)
    frozen = frozenset(links)
    return Alignment(zt, et, frozen, LinkPosteriors(frozen, z2e, z2e_post, e2z, e2z_post), zh_ids=ids[0],
                     en_ids=ids[1], vocabulary=vocabulary)


class LinkPosteriors(Mapping[tuple[int, int], float]):
    """The posterior of each link of an alignment, worked out when asked: that of the
    directional model(s) that proposed it (the mean when both did). A projection reads a few
    links of each of the hundred-odd units it reads; working out all of them, some thirty a
    unit, was a fifth of reading one back."""

    __slots__ = ("_links", "_z2e", "_z2e_post", "_e2z", "_e2z_post")

    def __init__(self, links: frozenset[tuple[int, int]], z2e: Sequence[int], z2e_post: Sequence[float],
                 e2z: Sequence[int], e2z_post: Sequence[float]) -> None:
        self._links, self._z2e, self._z2e_post, self._e2z, self._e2z_post = links, z2e, z2e_post, e2z, e2z_post

    def __getitem__(self, link: tuple[int, int]) -> float:
        if link not in self._links:
            raise KeyError(link)
        z, e = link
        if self._z2e[e] == z:
            forward = float(self._z2e_post[e])
            return (forward + float(self._e2z_post[z])) / 2 if self._e2z[z] == e else forward
        return float(self._e2z_post[z]) if self._e2z[z] == e else 0.25  # grown from a neighbour

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self._links)

    def __len__(self) -> int:
        return len(self._links)


# --- Projection -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """The span of the other side that translates a span of one side of a stored pair.

    ``start``/``end`` are character offsets into the other side's text as stored; ``score`` in
    [0, 1] is the share of the span's content words aligned into the box times the mean
    posterior of the links that hold it.
    """

    start: int
    end: int
    score: float


def _covered(spans: Sequence[tuple[int, int]], start: int, end: int) -> list[int]:
    return [k for k, (a, b) in enumerate(spans) if a < end and b > start and a < b]


def _extend(words: Sequence[str], function: Sequence[int], aligned: set[int], edge: int, step: int,
            supported: Callable[[int], bool]) -> int:
    best = edge
    k = edge + step
    while 0 <= k < len(words) and k not in aligned and not _PUNCT.match(words[k]):
        if not function[k]:
            if not supported(k):
                break
            best = k
        k += step
    return best


def project_scored(model: AlignmentModel, zh: str, en: str, span: tuple[int, int], side: str,
                   *, alignment: Alignment | None = None) -> Projection | None:
    """Like ``project``, with the projection's score."""
    if side not in ("zh", "en"):
        raise ValueError(f"side must be 'zh' or 'en', not {side!r}")
    al = alignment or align(model, zh, en)
    if not al.links:
        return None
    src_tok, tgt_tok = (al.zh, al.en) if side == "zh" else (al.en, al.zh)
    tgt_lang = "en" if side == "zh" else "zh"
    src_lang = side
    links = list(al.links) if side == "zh" else [(e, z) for z, e in al.links]  # (source, target)
    src_text, tgt_text = (zh, en) if side == "zh" else (en, zh)
    inside = set(_covered(src_tok.spans, span[0], span[1]))
    if not inside:
        return None
    targets = [t for s, t in links if s in inside]
    if not targets:
        return None
    lo, hi = min(targets), max(targets)
    # Consistency (phrase extraction): no target word in the box is linked outside the span.
    # A link from a function word or a mark outside (的, a comma) is tolerated, never from a
    # content word. Half the sampled units fail here, before the target's flags are needed.
    src_func = al.function_flags(src_lang, src_text)
    for s, t in links:
        if lo <= t <= hi and s not in inside and not src_func[s]:
            return None
    tgt_func = al.function_flags(tgt_lang, tgt_text)
    # A target word linked only to a function word outside the span (的 → "of") is as free as
    # an unaligned one.
    aligned_tgt = {t for s, t in links if s in inside or not src_func[s]}
    words = tgt_tok.words
    # Extend over unaligned words at the edges up to the last content word among them ("Chinese
    # Academy" + unaligned "of Social Sciences"), never across a mark or an aligned word, and
    # never ending on a function word.
    forward = model.zh_to_en if side == "zh" else model.en_to_zh
    src_ids = al.ids(model, src_lang)[sorted(inside)].tolist()
    tgt_ids = al.ids(model, tgt_lang)

    def supported(k: int) -> bool:
        """An unaligned word joins the span only if some word of the span may translate it
        (the table holds the pair, CC-CEDICT's senses included): "of Social Sciences" after
        "Chinese Academy" for 中国社会科学院, not "noted by" before "elevated levels"."""
        if EXTEND_MIN_T <= 0:
            return True
        t = forward.remembered(src_ids, [int(tgt_ids[k])] * len(src_ids))
        # Compared at the table's precision, as numpy compares its float32 with a Python float.
        return max(t) >= float(forward.probs.dtype.type(EXTEND_MIN_T)) if t else False

    lo = _extend(words, tgt_func, aligned_tgt, lo, -1, supported)
    hi = _extend(words, tgt_func, aligned_tgt, hi, +1, supported)
    # Trim the edges: marks, articles and conjunctions always (NEVER_AT_EDGE, NEVER_FIRST); other
    # function words unless they translate a word of the span ("I like you" for 我喜欢你 keeps
    # its pronouns, "of" from 的 outside goes).
    held = {t for s, t in links if s in inside}

    def trimmed(k: int, never: frozenset[str]) -> bool:
        return bool(tgt_func[k]) and (_PUNCT.match(words[k]) is not None or words[k] in never or k not in held)

    while lo < hi and trimmed(lo, NEVER_FIRST):
        lo += 1
    while hi > lo and trimmed(hi, NEVER_AT_EDGE):
        hi -= 1
    if all(tgt_func[lo : hi + 1]):
        return None
    start, end = tgt_tok.spans[lo][0], tgt_tok.spans[hi][1]
    if end <= start:
        return None
    content = [s for s in inside if not src_func[s]] or list(inside)
    linked = {s for s, t in links if s in inside and lo <= t <= hi}
    coverage = sum(1 for s in content if s in linked) / len(content)
    posterior = al.posterior
    box = [posterior[(s, t) if side == "zh" else (t, s)] for s, t in links if s in inside and lo <= t <= hi]
    score = coverage * (sum(box) / len(box) if box else 0.0)
    return Projection(start, end, round(score, 4))


def project(model: AlignmentModel, zh: str, en: str, span: tuple[int, int], side: str) -> tuple[int, int] | None:
    """Character offsets of the other side's translation of ``span`` (offsets into the ``side``
    text, 'zh' or 'en'), consistent with the word alignment; None when no consistent span
    exists (the words are unaligned, or their translation is interleaved with other words)."""
    p = project_scored(model, zh, en, span, side)
    return None if p is None else (p.start, p.end)
