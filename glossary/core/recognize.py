"""Term recognition: find the glossary's terms in a Chinese or English text.

One Aho-Corasick automaton per language (pyahocorasick) is built once from the entries; a change
to the glossary builds a small delta automaton of the changed keys beside it (see
:class:`TermRecognizer`), swapped in whole, so a lookup never sees a half-built automaton and
needs no lock. Every hit carries offsets into the text exactly as it was given.

Chinese is matched as substrings (Chinese has no spaces to mark words) over a *fold* of the text
that keeps every character in place: traditional characters folded to simplified (OpenCC
``t2s``), full-width ASCII to half-width, the interpuncts of transliterated names (· • ‧ ・) to
one dot, Latin letters to lower case. Because the fold maps one character to one character, an
offset in the folded text is the offset in the original.

English is matched on word boundaries: the text is cut into words, each word reduced to a key
(case and accents folded, possessive ``'s``/``’s`` and plural endings removed), and the
automaton runs over the keys joined by single spaces, each pattern padded with a space on both
sides so that it can only match whole words. Hyphens separate words like spaces do, so
"Asia-Pacific" and "Asia Pacific" are the same key. A case-sensitive term ("CASS", "US") must
also match the case of the words it covers.

Overlapping matches are resolved leftmost-longest: of the matches starting first, the longest
wins, and matches overlapping a winner are dropped. Entries and terms outside their validity
period on the lookup day are dropped *before* that choice, so a shorter term can win where a
longer one has expired.
"""
from __future__ import annotations

import datetime as dt
import re
import threading
import unicodedata
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any, NamedTuple

import ahocorasick

from common.languages import LANGUAGES, other_language
from common.text import to_simplified_in_place
from glossary.core.model import STATUS_RANK, Entry, Term, validate_entry

__all__ = ["TermHit", "TermRecognizer", "fold_zh", "en_words"]


# --------------------------------------------------------------------------------------------
# Folding. Private on purpose: tm.core.text.normalize() changes the length of a text (NFKC,
# collapsed spaces, "……" to "..."), and tm.core.text.match_key(), which maps back to the
# original, also builds the scoring tokens the TM needs: about 2.7 ms per 1,000 Chinese
# characters against 0.2 ms for this fold, which maps each character to exactly one character.

def _fold_table() -> dict[int, int]:
    table = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}  # full-width ASCII
    table[0x3000] = ord(" ")  # ideographic space
    for dot in "•‧・･∙⋅":  # name separators in 弗拉基米尔·普京, as typeset in the wild
        table[ord(dot)] = ord("·")
    for quote in "’‘`´":
        table[ord(quote)] = ord("'")
    return table


_FOLD = _fold_table()


def _lower_in_place(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # 'İ'.lower() is two characters: lower each character only where that keeps the length.
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def fold_zh(text: str, *, keep_case: bool = False) -> str:
    """The Chinese match form of ``text``, exactly as long as ``text`` (offsets carry over)."""
    folded = to_simplified_in_place(text).translate(_FOLD)
    return folded if keep_case else _lower_in_place(folded)


_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*(?:(?<=[sS])['’](?![^\W_]))?")


def en_words(text: str) -> list[tuple[int, int, str]]:
    """The words of an English text as (start, end, word); apostrophes inside a word and a
    possessive apostrophe after s (States') belong to it, hyphens and other punctuation do not."""
    return [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def _en_stem(word: str) -> str:
    """Strip the possessive and a plural ending, keeping case ("Institutes" -> "Institute").

    Deliberately light: glossary terms are names, and both the term and the text go through
    the same function, so over-stemming ("News" -> "New") is harmless while a real stemmer would
    merge unrelated names.
    """
    word = word.replace("’", "'")
    if word[-2:] in ("'s", "'S"):
        word = word[:-2]
    elif word.endswith("'"):
        word = word[:-1]
    low = word.lower()
    if len(low) > 4 and low.endswith("ies"):
        return word[:-3] + ("Y" if word[-3:].isupper() else "y")
    if len(low) > 3:
        if low.endswith(("sses", "ches", "shes", "xes")):
            return word[:-2]
        # Three-letter words (gas, bus, US) and -ss/-us/-is endings are not plurals.
        if low.endswith("s") and not low.endswith(("ss", "us", "is")):
            return word[:-1]
    return word


def _strip_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _en_key(word: str) -> str:
    # A space would break the one-space word separation the automaton relies on; NFKD of a
    # few letters-like characters contains one.
    return _strip_accents(_en_stem(word)).casefold().replace(" ", "")


# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TermHit:
    """A glossary term found in a text.

    ``start``/``end`` are offsets into the text as given (``text[start:end] == surface``);
    ``term`` is the entry's term that matched and ``targets`` the entry's terms in the target
    language that apply on the lookup day, preferred first.
    """

    start: int
    end: int
    surface: str
    lang: str
    entry: Entry
    term: Term
    targets: tuple[Term, ...]

    @property
    def preferred_target(self) -> Term | None:
        """The best target term a translator may use, or None."""
        for term in self.targets:
            if term.acceptable:
                return term
        return None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the API."""
        return {
            "start": self.start,
            "end": self.end,
            "surface": self.surface,
            "lang": self.lang,
            "entry_id": self.entry.id,
            "concept_type": self.entry.concept_type,
            "term": {"text": self.term.text, "status": self.term.status},
            "targets": [
                {"lang": t.lang, "text": t.text, "status": t.status,
                 "do_not_translate": t.do_not_translate, "note": t.note}
                for t in self.targets
            ],
            "definition": self.entry.definition,
            "note": self.entry.note,
        }


#: Keys changed since the base automaton was built, beyond which the next change rebuilds the
#: base instead of the delta: a delta of 2,000 keys builds in a few milliseconds, the base of
#: 20,000 entries in about half a second.
COMPACT_AFTER_KEYS = 2000


class _Candidate(NamedTuple):  # a tuple, not a frozen dataclass: built 60,000 times per glossary
    handle: Hashable
    rank: int  # insertion order of the entry, for a stable order of homographs
    entry: Entry
    term: Term
    exact: object  # the case-preserving form a case-sensitive term must match, else None


#: A match in a text: start, end, the candidates of the matched key, the exact surface form.
_Match = tuple[int, int, tuple[_Candidate, ...], object]
#: A recognised span: start, end, the chosen candidates (one per entry).
_Span = tuple[int, int, list[_Candidate]]


@dataclass(frozen=True)
class _Layer:
    """One language's automata, as a lookup reads them; replaced whole, never mutated.

    ``base`` was built from all keys at some point; ``stale`` are its keys changed since, whose
    current candidates (if any are left) are in the small ``delta`` automaton. A lookup ignores
    base matches of stale keys and adds the delta's. So a change rebuilds only the delta.
    """

    base: ahocorasick.Automaton | None = None
    stale: frozenset[str] = frozenset()
    delta: ahocorasick.Automaton | None = None

    def iter(self, text: str) -> Iterator[tuple[int, Any]]:
        if self.base is not None:
            stale = self.stale
            for end_index, value in self.base.iter(text):
                if value[0] not in stale:
                    yield end_index, value
        if self.delta is not None:
            yield from self.delta.iter(text)


def _handle(entry: Entry) -> Hashable:
    # Entries without an id are their own key (frozen dataclasses hash by value).
    return ("id", entry.id) if entry.id is not None else ("entry", entry)


def _automaton(keys: dict[str, dict[Hashable, list[_Candidate]]],
               only: Iterable[str] | None = None) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for key in keys if only is None else only:
        by_handle = keys.get(key)
        if not by_handle:
            continue  # a stale key whose every candidate was removed
        candidates = tuple(chain.from_iterable(by_handle.values()))
        # The value carries the key (to tell stale base matches), its length (to find where the
        # match starts) and, for English, its number of words.
        automaton.add_word(key, (key, len(key), key.count(" ") - 1, candidates))
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton


class TermRecognizer:
    """Finds glossary terms in text; build once, update when the glossary changes.

    ``add``/``remove``/``update`` change only what they touch: the changed keys go into a small
    delta automaton next to the big base one (rebuilt after ``COMPACT_AFTER_KEYS`` changed keys,
    or on ``compact()``). The automata a lookup reads are swapped in atomically, so concurrent
    ``find`` calls need no lock and never see a half-built automaton.
    """

    def __init__(self, entries: Iterable[Entry] = ()):
        self._lock = threading.Lock()  # serialises writers; readers need none
        self._entries: dict[Hashable, Entry] = {}
        self._counter = 0
        # lang -> key -> handle -> candidates: the truth the automata are built from.
        self._keys: dict[str, dict[str, dict[Hashable, list[_Candidate]]]] = {lang: {} for lang in LANGUAGES}
        self._stale: dict[str, set[str]] = {lang: set() for lang in LANGUAGES}
        self._layers: dict[str, _Layer] = {lang: _Layer() for lang in LANGUAGES}
        self.update(add=entries)  # builds the base automata: there are none yet

    # -- changes --------------------------------------------------------------------------------

    def add(self, entry: Entry) -> None:
        """Add ``entry``, replacing an entry with the same id."""
        self.update(add=[entry])

    def remove(self, entry: Entry | str) -> None:
        """Remove an entry, given itself or its id; unknown entries are ignored."""
        self.update(remove=[entry])

    def update(self, *, add: Iterable[Entry] = (), remove: Iterable[Entry | str] = ()) -> None:
        """Remove, then add, entries; one automaton rebuild for the lot. Entries are validated first."""
        add = list(add)
        for entry in add:
            validate_entry(entry)
        with self._lock:
            for item in remove:
                self._drop(_handle(item) if isinstance(item, Entry) else ("id", item))
            for entry in add:
                handle = _handle(entry)
                self._drop(handle)
                self._entries[handle] = entry
                self._counter += 1
                for lang, key, candidate in self._candidates(handle, self._counter, entry):
                    self._keys[lang].setdefault(key, {}).setdefault(handle, []).append(candidate)
                    self._stale[lang].add(key)
            layers = dict(self._layers)
            for lang, stale in self._stale.items():
                if not stale:
                    continue
                if layers[lang].base is None or len(stale) > COMPACT_AFTER_KEYS:
                    layers[lang] = _Layer(_automaton(self._keys[lang]))
                    stale.clear()
                else:
                    layers[lang] = _Layer(layers[lang].base, frozenset(stale), _automaton(self._keys[lang], stale))
            self._layers = layers

    def compact(self) -> None:
        """Rebuild the base automata from every key, emptying the deltas."""
        with self._lock:
            self._layers = {lang: _Layer(_automaton(keys)) for lang, keys in self._keys.items()}
            for stale in self._stale.values():
                stale.clear()

    def _drop(self, handle: Hashable) -> None:
        entry = self._entries.pop(handle, None)
        if entry is None:
            return
        for lang, key, _ in self._candidates(handle, 0, entry):
            self._stale[lang].add(key)
            by_handle = self._keys[lang].get(key)
            if by_handle is not None:
                by_handle.pop(handle, None)
                if not by_handle:
                    del self._keys[lang][key]

    @staticmethod
    def _candidates(handle: Hashable, rank: int, entry: Entry) -> Iterator[tuple[str, str, _Candidate]]:
        for term in entry.terms:
            if term.lang == "zh":
                key = fold_zh(term.text)
                exact: str | tuple[str, ...] | None = (fold_zh(term.text, keep_case=True) if term.case_sensitive
                                                       else None)
                if key.strip():
                    yield "zh", key, _Candidate(handle, rank, entry, term, exact)
            elif term.lang == "en":
                words = [w for _, _, w in en_words(term.text)]
                if words:  # a term of punctuation only cannot be recognised
                    exact = tuple(_en_stem(w) for w in words) if term.case_sensitive else None
                    key = " " + " ".join(_en_key(w) for w in words) + " "
                    yield "en", key, _Candidate(handle, rank, entry, term, exact)

    # -- queries --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[Entry]:
        """The entries, in the order they were added."""
        return list(self._entries.values())

    def find(self, text: str, lang: str, *, on: dt.date | None = None,
             target_lang: str | None = None, longest_only: bool = True) -> list[TermHit]:
        """Glossary terms in ``text`` (language ``lang``), in text order.

        ``on`` is the day of the text: entries and terms not valid then are ignored (None: all
        apply). ``target_lang`` defaults to the other language. With ``longest_only=False`` every
        match is returned, nested and overlapping ones too (QA uses that to see whether a term is
        present at all). Homographs (one surface, several entries) give one hit per entry, with
        the same offsets.
        """
        if lang not in LANGUAGES:
            raise ValueError(f"unsupported language {lang!r} (expected one of {', '.join(LANGUAGES)})")
        if target_lang is None:
            target_lang = other_language(lang)
        layer = self._layers[lang]  # read once: a concurrent update swaps in new layers
        if not text or (layer.base is None and layer.delta is None):
            return []
        matches = self._zh_matches(layer, text) if lang == "zh" else self._en_matches(layer, text)

        spans: list[_Span] = []
        for start, end, candidates, exact in matches:
            surface = text[start:end]
            chosen = self._choose(candidates, surface, exact, on)
            if chosen and lang == "en" and text[end:end + 1] == "." and all(
                    c.term.text.endswith(".") for c in chosen):
                end += 1  # words exclude punctuation, but the final dot of "U.S." is the term's
            if chosen:
                spans.append((start, end, chosen))
        if longest_only:
            spans = _leftmost_longest(spans)
        else:
            spans.sort(key=lambda s: (s[0], -s[1]))

        hits = []
        for start, end, chosen in spans:
            chosen.sort(key=lambda c: (STATUS_RANK[c.term.status], c.rank))
            for candidate in chosen:
                hits.append(TermHit(start, end, text[start:end], lang, candidate.entry, candidate.term,
                                    candidate.entry.terms_in(target_lang, on=on)))
        return hits

    @staticmethod
    def _zh_matches(layer: _Layer, text: str) -> Iterator[_Match]:
        folded = fold_zh(text)
        exact_text: str | None = None
        for end_index, (_, length, _, candidates) in layer.iter(folded):
            start = end_index - length + 1
            if any(c.exact is not None for c in candidates):
                exact_text = exact_text or fold_zh(text, keep_case=True)
                exact = exact_text[start:end_index + 1]
            else:
                exact = None
            yield start, end_index + 1, candidates, exact

    @staticmethod
    def _en_matches(layer: _Layer, text: str) -> Iterator[_Match]:
        words = en_words(text)
        if not words:
            return
        keys = [_en_key(w) for _, _, w in words]
        first_word_at: dict[int, int] = {}  # position of a key in the joined string -> word index
        position = 1
        for index, key in enumerate(keys):
            first_word_at[position] = index
            position += len(key) + 1
        joined = " " + " ".join(keys) + " "
        for end_index, (_, length, count, candidates) in layer.iter(joined):
            first = first_word_at[end_index - length + 2]
            last = first + count - 1
            exact = None
            if any(c.exact is not None for c in candidates):
                exact = tuple(_en_stem(w) for _, _, w in words[first:last + 1])
            yield words[first][0], words[last][1], candidates, exact

    @staticmethod
    def _choose(candidates: Iterable[_Candidate], surface: str, exact: object, on: dt.date | None) -> list[_Candidate]:
        """The candidates valid on ``on``, one per entry: the term written exactly as the
        surface if there is one ("Nicolas Maduro" vs "Nicolás Maduro"), else the best status."""
        best: dict[Hashable, _Candidate] = {}
        for c in candidates:
            if not (c.entry.applies_on(on) and c.term.applies_on(on)):
                continue
            if c.exact is not None and c.exact != exact:
                continue  # case-sensitive term written in another case
            current = best.get(c.handle)
            if current is None or _better(c, current, surface):
                best[c.handle] = c
        return list(best.values())


def _better(a: _Candidate, b: _Candidate, surface: str) -> bool:
    a_exact, b_exact = a.term.text == surface, b.term.text == surface
    if a_exact != b_exact:
        return a_exact
    return STATUS_RANK[a.term.status] < STATUS_RANK[b.term.status]


def _leftmost_longest(spans: list[_Span]) -> list[_Span]:
    spans.sort(key=lambda s: (s[0], -s[1]))
    kept: list[_Span] = []
    last_end = -1
    for span in spans:
        if span[0] >= last_end:
            kept.append(span)
            last_end = span[1]
    return kept
