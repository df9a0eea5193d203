"""Text facts shared by the pure core: which language a text is in, and match keys.

``normalize`` folds a text for matching only (stored text is never changed by it);
``match_key`` adds the scoring tokens and the offset map back to the original;
``tokenize_en`` is the English tokenizer (sacremoses' Moses, unescaped).
"""
from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

# detect_language and han_ratio live with the languages (the glossary and the web layer need
# them without the TM); they stay importable from here, where the core's callers look.
from common.languages import LANGUAGES
from common.languages import detect_language as detect_language
from common.languages import han_ratio as han_ratio
from common.text import to_simplified
from tm.core.numbers import NUMERAL_RE

# --- Match keys -----------------------------------------------------------------------------
#
# A match key is what fuzzy matching compares: the text folded so that differences a translator
# does not care about (full-width vs half-width, Chinese vs ASCII punctuation, case, traditional
# vs simplified characters, runs of spaces) vanish. The stored text is never changed; every key
# keeps a map from its characters back to the original so a diff can be shown on what was written.

#: Kinds of difference that normalisation folds away. Each may be left out (``skip``) to tell
#: which of them two texts with the same key actually differ in, for the named penalties.
FOLDS = ("width", "punctuation", "case", "script", "whitespace")

#: Stands for any number in the scoring units, so a changed number costs a named penalty
#: rather than edits (see tm.core.match). A private-use character: never produced by the
#: normalisation of real text other than itself.
NUMBER_UNIT = "\ue000"

# Chinese punctuation folded to the ASCII mark an English writer would use. Full-width forms
# (U+FF01..U+FF5E, like ，and ？) are not listed: NFKC folds them, and they count as "width".
_PUNCTUATION = {
    "。": ".", "｡": ".", "、": ",", "､": ",",
    "“": '"', "”": '"', "„": '"', "‟": '"', "「": '"', "」": '"', "『": '"', "』": '"',
    "《": '"', "》": '"', "〈": '"', "〉": '"', "«": '"', "»": '"', "〝": '"', "〞": '"',
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
    "【": "[", "】": "]", "〔": "(", "〕": ")", "〖": "[", "〗": "]",
    "—": "-", "–": "-", "―": "-", "‐": "-", "‑": "-", "−": "-", "﹣": "-",
    "・": "·", "•": "·", "‧": "·",
    # NFKC would expand these too, but they are punctuation, not width.
    "…": "...", "‥": "..",
}
# Runs that mean one mark: "……" (NFKC: six dots) and "..." are one ellipsis, "——" one dash.
_PUNCTUATION_RUNS = (
    (re.compile(r"\.{3,}"), "..."),
    (re.compile(r"-{2,}"), "-"),
)
_HAN_CLASS = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f"
_SPACE_NEAR_HAN = re.compile(rf"(?<=[{_HAN_CLASS}])\s+|\s+(?=[{_HAN_CLASS}])")
_SPACE_ENDS = re.compile(r"^\s+|\s+$")
_SPACE_RUN = re.compile(r"\s{2,}|[^\S ]")

# Code points that may change under the per-character folds: the BMP plus the planes holding
# mathematical alphanumerics and CJK compatibility ideographs.
_TABLE_RANGE = 0x30000


@cache
def _char_table(width: bool, punctuation: bool, case: bool) -> tuple[dict[int, str], re.Pattern[str]]:
    """A str.translate table folding single characters, and a pattern of the characters that
    do not fold to exactly one character (they need the slow path that tracks offsets)."""
    table: dict[int, str] = {}
    irregular = []
    for cp in range(_TABLE_RANGE):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        out = ch
        if width and ch not in _PUNCTUATION:
            out = unicodedata.normalize("NFKC", out)
        if punctuation:
            out = "".join(_PUNCTUATION.get(c, c) for c in out)
        if case:
            out = out.casefold()
        if out != ch:
            table[cp] = out
            if len(out) != 1:
                irregular.append(ch)
    klass = "".join(re.escape(c) for c in irregular)
    return table, re.compile(f"[{klass}]" if klass else r"(?!)")


# A map is (starts, ends): for each output character the span [start, end) of input characters
# it came from. None stands for the identity, the common case, so most keys cost no list.
_Map = tuple[list[int], list[int]] | None


def _compose(inner: _Map, outer: _Map) -> _Map:
    """The map of applying ``inner`` then ``outer``."""
    if outer is None:
        return inner
    if inner is None:
        return outer
    starts_i, ends_i = inner
    starts_o, ends_o = outer
    return [starts_i[s] for s in starts_o], [ends_i[e - 1] for e in ends_o]


def _per_char(text: str, fold: Callable[[str], str], with_map: bool) -> tuple[str, _Map]:
    pieces = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(text):
        out = fold(ch)
        pieces.append(out)
        if with_map:
            starts.extend([i] * len(out))
            ends.extend([i + 1] * len(out))
    return "".join(pieces), ((starts, ends) if with_map else None)


def _compose_clusters(text: str, with_map: bool) -> tuple[str, _Map]:
    """NFC, one base character and its combining marks at a time, so offsets survive."""
    if unicodedata.is_normalized("NFC", text):
        return text, None
    pieces = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and unicodedata.combining(text[j]):
            j += 1
        out = unicodedata.normalize("NFC", text[i:j])
        pieces.append(out)
        starts.extend([i] * len(out))
        ends.extend([j] * len(out))
        i = j
    return "".join(pieces), ((starts, ends) if with_map else None)


def _substitute(pattern: re.Pattern[str], repl: str, text: str, with_map: bool) -> tuple[str, _Map]:
    """``pattern.sub(repl, text)`` that also maps each output character to its input span."""
    if not with_map:
        # The same text (a match equal to ``repl`` is replaced by itself), without the loop:
        # normalize() runs this four or five times a segment, 2 million times an import.
        return pattern.sub(repl, text), None
    pieces = []
    starts: list[int] = []
    ends: list[int] = []
    last = 0
    changed = False
    for m in pattern.finditer(text):
        if m.group() == repl:
            continue
        changed = True
        pieces.append(text[last : m.start()])
        pieces.append(repl)
        if with_map:
            starts.extend(range(last, m.start()))
            ends.extend(range(last + 1, m.start() + 1))
            starts.extend([m.start()] * len(repl))
            ends.extend([m.end()] * len(repl))
        last = m.end()
    if not changed:
        return text, None
    pieces.append(text[last:])
    if with_map:
        starts.extend(range(last, len(text)))
        ends.extend(range(last + 1, len(text) + 1))
    return "".join(pieces), ((starts, ends) if with_map else None)


def _fold(text: str, lang: str, *, skip: str | None = None, with_map: bool = False) -> tuple[str, _Map]:
    """The normalisation pipeline; ``skip`` names one fold of FOLDS to leave out."""
    text, mapping = _compose_clusters(text, with_map)

    table, irregular = _char_table(skip != "width", skip != "punctuation", skip != "case")
    if with_map and irregular.search(text):
        text, step = _per_char(text, lambda c: c.translate(table), True)
        mapping = _compose(mapping, step)
    else:
        text = text.translate(table)

    if lang == "zh" and skip != "script":
        simplified = to_simplified(text)
        if len(simplified) != len(text):
            # A phrase rule changed the length: convert character by character to keep offsets.
            simplified, step = _per_char(text, to_simplified, with_map)
            mapping = _compose(mapping, step)
        text = simplified

    if skip != "punctuation":
        for pattern, repl in _PUNCTUATION_RUNS:
            text, step = _substitute(pattern, repl, text, with_map)
            mapping = _compose(mapping, step)
    if skip != "whitespace":
        steps = [(_SPACE_ENDS, ""), (_SPACE_RUN, " ")]
        if lang == "zh":
            # Chinese puts no spaces between words: "使用 Python" and "使用Python" are one text.
            steps.insert(0, (_SPACE_NEAR_HAN, ""))
        for pattern, repl in steps:
            text, step = _substitute(pattern, repl, text, with_map)
            mapping = _compose(mapping, step)
    # Folding can leave a mark next to a new base ("ß́" → "sś"): compose again, rarely needed.
    text, step = _compose_clusters(text, with_map)
    return text, _compose(mapping, step)


def warm_up() -> None:
    """Build the expensive objects now rather than on the first lookups that need them: the
    fold tables (one per kind of difference, ~0.1 s each), OpenCC and the Moses tokenizer."""
    for skip in (None, *FOLDS):
        _char_table(skip != "width", skip != "punctuation", skip != "case")
    to_simplified("臺灣")
    tokenize_en("Warm up.")


def normalize(text: str, lang: str, *, skip: str | None = None) -> str:
    """The match key string of ``text``: NFKC, full-width folded, punctuation unified,
    whitespace collapsed, case folded, and for Chinese traditional folded to simplified.

    ``skip`` leaves out one of FOLDS (used to name the kind of a difference). The per-character
    folds apply to NFC text one character at a time, which equals NFKC of the whole string for
    all but exotic sequences and keeps every key character traceable to the original.
    """
    _check_lang(lang)
    return _fold(text, lang, skip=skip)[0]


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGUAGES}")


class _Guarded:
    """A compiled pattern whose every match contains ``mark``: ``sub`` on a text without the
    mark returns the text as it is, without scanning it."""

    __slots__ = ("pattern", "mark")

    def __init__(self, pattern: re.Pattern[str], mark: str) -> None:
        self.pattern, self.mark = pattern, mark

    def sub(self, repl: str, text: str) -> str:
        return self.pattern.sub(repl, text) if self.mark in text else text


#: A token that may carry a non-breaking prefix (sacremoses' own pattern, compiled once).
_ENDS_WITH_PERIOD = re.compile(r"^(\S+)\.$")
_LEADING_DIGITS = re.compile(r"^[0-9]+")


@lru_cache(maxsize=1)
def _moses() -> Any:
    """sacremoses' English tokenizer, with the work it repeats on every call done once.

    Its ``islower`` and ``isanyalpha`` build a set of the whole Unicode letter class (thousands of
    characters) each time they are asked about one character, and its non-breaking-prefix pass
    looks prefixes up in lists and compiles its patterns per token: together about a third of a
    segment's tokenising time (cProfile on 20,000 news sentences). The answers are the same
    (tests/core/test_text.py compares the two on every kind of prefix; bench/import_bench.py on
    the whole shared corpus); only the sets are made once."""
    from sacremoses import MosesTokenizer

    class Tokenizer(MosesTokenizer):  # type: ignore[misc]  # sacremoses has no type hints
        def __init__(self) -> None:
            super().__init__(lang="en")
            # Rules that can only change a text holding their mark skip the texts without it:
            # most sentences have no apostrophe, and each of those five patterns scans the whole
            # text against the Unicode letter class.
            self.ENGLISH_SPECIFIC_APOSTROPHE = [(_Guarded(pattern, "'"), repl)
                                                for pattern, repl in MosesTokenizer.ENGLISH_SPECIFIC_APOSTROPHE]
            for name in ("COMMA_SEPARATE_1", "COMMA_SEPARATE_2", "COMMA_SEPARATE_3"):
                pattern, repl = getattr(self, name)
                setattr(self, name, (_Guarded(pattern, ","), repl))
            self._lower = frozenset(self.IsLower)
            self._alpha = frozenset(self.IsAlpha)
            self._nonbreaking = frozenset(self.NONBREAKING_PREFIXES)
            self._numeric_only = frozenset(self.NUMERIC_ONLY_PREFIXES)

        def islower(self, text: str) -> bool:
            return self._lower.issuperset(text)

        def isanyalpha(self, text: str) -> bool:
            return not self._alpha.isdisjoint(text)

        def handles_nonbreaking_prefixes(self, text: str) -> str:
            # MosesTokenizer.handles_nonbreaking_prefixes, step for step, over sets.
            tokens = text.split()
            last = len(tokens) - 1
            for i, token in enumerate(tokens):
                ends_with_period = _ENDS_WITH_PERIOD.search(token) if token.endswith(".") else None
                if not ends_with_period:
                    continue
                prefix = ends_with_period.group(1)
                if (("." in prefix and self.isanyalpha(prefix))
                        or (prefix in self._nonbreaking and prefix not in self._numeric_only)
                        or (i != last and tokens[i + 1] and self.islower(tokens[i + 1][0]))):
                    continue
                if prefix in self._numeric_only and i < last and _LEADING_DIGITS.search(tokens[i + 1]):
                    continue
                tokens[i] = prefix + " ."
            return " ".join(tokens)

    return Tokenizer()


def tokenize_en(text: str) -> list[str]:
    """English word tokens as sacremoses' Moses tokenizer makes them, unescaped (& stays &)."""
    tokens: list[str] = _moses().tokenize(text, escape=False)
    return tokens


# Token code points for the scoring units of English: each distinct token is one character, so
# rapidfuzz compares token sequences at string speed. Codes are handed out once per process and
# never reused; they skip the surrogates and NUMBER_UNIT.
_token_codes: dict[str, str] = {}
#: Each token's scoring unit (its code, or NUMBER_UNIT for a number) as encode_tokens gives it:
#: filled as tokens are met, emptied whenever the codes are adopted from a snapshot. Building an
#: index encodes every stored token twice (scoring and fragment units); one dictionary lookup
#: per token, done by ``map`` in C, took that from about 40 % of a build to a few.
_token_units: dict[str, str] = {}
_next_code = itertools.count(0x100)
_code_lock = threading.Lock()
#: The table adopted last, as (how many entries, their digest), and the tokens this process coded
#: since (own codes). A worker inherits its master's table of every token of the TM: a few
#: hundred thousand strings in pages shared with the master and every other worker. Comparing the
#: next snapshot's table with it entry by entry touches each string's reference count, which
#: copies those pages into every worker (56 MB each for 300,000 tokens, tests/core/test_text.py).
#: A snapshot built after this one extends its table, so the digest of its first entries says
#: they agree without reading ours, and only the own codes and the new entries are compared.
_adopted: tuple[int, bytes] | None = None
_own_codes: dict[str, str] = {}


def _token_code(token: str) -> str:
    code = _token_codes.get(token)
    if code is None:
        with _code_lock:
            code = _token_codes.get(token)
            if code is None:
                cp = next(_next_code)
                while 0xD800 <= cp <= 0xDFFF or cp == ord(NUMBER_UNIT):
                    cp = next(_next_code)
                if cp > 0x10FFFF:
                    # Over a million distinct tokens: share codes by hash. Two different tokens
                    # may then compare equal; the identity check on keys keeps 100 exact.
                    cp = 0x100 + hash(token) % (0x10FFFF - 0x100)
                    if 0xD800 <= cp <= 0xDFFF or cp == ord(NUMBER_UNIT):
                        cp = 0x10FFFF
                code = chr(cp)
                _token_codes[token] = code
                if _adopted is not None:
                    _own_codes[token] = code
    return code


def token_table() -> tuple[list[str], list[int]]:
    """This process's English token codes: (tokens, their code points), for a snapshot of an
    index whose units were encoded with them (tm.index_snapshot)."""
    with _code_lock:
        items = list(_token_codes.items())
    return [token for token, _ in items], [ord(code) for _, code in items]


def adopt_token_table(tokens: Sequence[str], codes: Sequence[int], *, replace: bool = True) -> bool:
    """Make ``tokens`` encode as ``codes`` in this process, as in the process that saved them.

    True when this process's own codes agree with them (none yet, or the same lineage): they
    are merged, and whatever this process encoded stays valid. False when some token had
    another code here, or a code another token: this process's codes are then replaced by the
    given ones, and units it encoded before (an index, a cached match key) must be dropped;
    the match key cache is cleared here. With ``replace`` False a disagreement changes nothing."""
    global _adopted, _next_code
    with _code_lock:
        count = _adopted[0] if _adopted is not None else 0
        if _adopted is not None and len(tokens) >= count and _digest(tokens, codes, count) == _adopted[1]:
            agree = _extend(tokens[count:], codes[count:], replace=replace)
        else:
            agree = _merge(tokens, codes, replace=replace)
        if agree is None:
            return False
        _adopted = (len(tokens), _digest(tokens, codes, len(tokens)))
        _token_units.clear()
        top = max(max(codes, default=0x100 - 1), max(map(ord, _own_codes.values()), default=0x100 - 1))
        _next_code = itertools.count(max(top + 1, next(_next_code)))
    if not agree:
        match_key.cache_clear()
    return agree


def _merge(tokens: Sequence[str], codes: Sequence[int], *, replace: bool) -> bool | None:
    """adopt_token_table against every code of this process (the first table, or one of
    another lineage): whether they agreed, None when they did not and nothing changed."""
    wanted = dict(zip(tokens, map(chr, codes), strict=True))
    agree = _agrees(_token_codes, wanted)
    if not agree:
        if not replace:
            return None
        _token_codes.clear()
    _token_codes.update(wanted)
    own = {token: code for token, code in _token_codes.items() if token not in wanted}
    _own_codes.clear()
    _own_codes.update(own)
    return agree


def _extend(tokens: Sequence[str], codes: Sequence[int], *, replace: bool) -> bool | None:
    """adopt_token_table of a table whose first entries are the one adopted last: only the
    own codes and the entries after those are looked at (see ``_adopted``)."""
    wanted = dict(zip(tokens, map(chr, codes), strict=True))
    agree = _agrees(_own_codes, wanted)
    if not agree:
        if not replace:
            return None
        for token in _own_codes:
            del _token_codes[token]
        _own_codes.clear()
    for token, code in wanted.items():
        if _token_codes.get(token) != code:  # an unchanged entry is not written: its page stays shared
            _token_codes[token] = code
        _own_codes.pop(token, None)
    return agree


def _agrees(held: dict[str, str], wanted: dict[str, str]) -> bool:
    """Whether every code ``held`` is the one ``wanted`` gives its token, or, for a token
    ``wanted`` lacks, a code it gives no other token."""
    taken = set(wanted.values())
    return all(wanted.get(token, code) == code and (token in wanted or code not in taken)
               for token, code in held.items())


def _digest(tokens: Sequence[str], codes: Sequence[int], count: int, chunk: int = 4096) -> bytes:
    """The digest of a table's first ``count`` entries, read a chunk at a time: what is
    allocated for it stays small, and in a worker what is allocated stays its own."""
    digest = hashlib.blake2b(str(count).encode(), digest_size=16)
    for start in range(0, count, chunk):
        end = min(start + chunk, count)
        digest.update(json.dumps([tokens[start:end], codes[start:end]], ensure_ascii=False).encode())
    return digest.digest()


@dataclass(frozen=True, slots=True)
class MatchKey:
    """What matching compares, derived from one segment.

    ``text`` is the normalised string; ``tokens`` the scoring units (characters for Chinese,
    with each number one unit; Moses tokens for English); ``units`` the same as one character
    per token (numbers as NUMBER_UNIT) for rapidfuzz; ``spans`` each token's [start, end) in
    ``original``; ``numbers`` the numerals that NUMBER_UNIT stands for, in order;
    ``offsets``/``offset_ends`` map each character of ``text`` to its span in ``original``.
    """

    original: str
    lang: str
    text: str
    tokens: tuple[str, ...]
    units: str
    spans: tuple[tuple[int, int], ...]
    numbers: tuple[str, ...]
    offsets: tuple[int, ...]
    offset_ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The span of ``original`` that key characters [start, end) came from."""
        if start >= end:
            pos = self.offsets[start] if start < len(self.offsets) else len(self.original)
            return pos, pos
        return self.offsets[start], self.offset_ends[end - 1]


def _zh_tokens(text: str) -> tuple[list[str], list[tuple[int, int]], list[str]]:
    tokens: list[str] = []
    spans: list[tuple[int, int]] = []
    numbers: list[str] = []
    last = 0
    for m in NUMERAL_RE.finditer(text):
        for i in range(last, m.start()):
            tokens.append(text[i])
            spans.append((i, i + 1))
        tokens.append(m.group())
        spans.append(m.span())
        numbers.append(m.group())
        last = m.end()
    for i in range(last, len(text)):
        tokens.append(text[i])
        spans.append((i, i + 1))
    return tokens, spans, numbers


def _en_tokens(text: str) -> tuple[list[str], list[tuple[int, int]], list[str]]:
    tokens = tokenize_en(text) if text else []
    spans = []
    cursor = 0
    for token in tokens:
        at = text.find(token, cursor)
        if at < 0:
            # Moses rewrote the token; anchor it where the text stands, without a width.
            spans.append((cursor, cursor))
            continue
        spans.append((at, at + len(token)))
        cursor = at + len(token)
    numbers = [t for t in tokens if NUMERAL_RE.fullmatch(t)]
    return tokens, spans, numbers


@lru_cache(maxsize=65536)
def match_key(text: str, lang: str) -> MatchKey:
    """The MatchKey of ``text`` in ``lang`` ('zh' or 'en'). Cached: keys are immutable."""
    _check_lang(lang)
    key, mapping = _fold(text, lang, with_map=True)
    starts: Sequence[int]
    ends: Sequence[int]
    if mapping is None:
        starts, ends = range(len(key)), range(1, len(key) + 1)
    else:
        starts, ends = mapping
    tokens, key_spans, numbers = (_zh_tokens if lang == "zh" else _en_tokens)(key)
    if lang == "zh":
        units = NUMERAL_RE.sub(NUMBER_UNIT, key)
    else:
        units = encode_tokens(tokens)
    starts_t, ends_t = tuple(starts), tuple(ends)

    def original_span(a: int, b: int) -> tuple[int, int]:
        if a < b:
            return starts_t[a], ends_t[b - 1]
        pos = starts_t[a] if a < len(starts_t) else len(text)  # a token Moses rewrote
        return pos, pos

    spans = tuple(original_span(a, b) for a, b in key_spans)
    return MatchKey(
        original=text,
        lang=lang,
        text=key,
        tokens=tuple(tokens),
        units=units,
        spans=spans,
        numbers=tuple(numbers),
        offsets=starts_t,
        offset_ends=ends_t,
    )


def encode_tokens(tokens: Iterable[str], *, literal_numbers: bool = False) -> str:
    """English scoring units from normalised tokens: one code point per distinct token, a
    number as NUMBER_UNIT (or, with ``literal_numbers``, by its own code, as fragments need:
    a stored "September 17" does not contain "September 29"). Codes belong to this process:
    encode where you compare."""
    tokens = tokens if isinstance(tokens, (list, tuple)) else list(tokens)
    known = _token_codes if literal_numbers else _token_units
    try:
        return "".join(map(known.__getitem__, tokens))
    except KeyError:  # a token met for the first time: the slow way, remembered
        pass
    if literal_numbers:
        return "".join(_token_code(t) for t in tokens)
    return "".join(_token_unit(t) for t in tokens)


def _token_unit(token: str) -> str:
    if NUMERAL_RE.fullmatch(token):
        _token_units[token] = NUMBER_UNIT
        return NUMBER_UNIT
    code = _token_code(token)
    with _code_lock:
        if _token_codes.get(token) == code:  # not replaced meanwhile by a snapshot's codes
            _token_units[token] = code
    return code


def scoring_units(text: str, lang: str) -> str:
    """Just the ``units`` of match_key(text, lang), without offsets or caching: for indexing."""
    key = normalize(text, lang)
    if lang == "zh":
        return NUMERAL_RE.sub(NUMBER_UNIT, key)
    return encode_tokens(tokenize_en(key) if key else ())
