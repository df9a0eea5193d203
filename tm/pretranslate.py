"""Pre-translate an XLIFF file from the translation memory (and the glossary), no Flask here.

    XLIFF bytes -> every source segment -> lookup(segments, src, tgt) in one batch
      -> empty targets whose best match reaches the threshold are filled
      -> the best candidates are attached to each unit, glossary terms too
      -> the same document back, everything else untouched

This module chooses (which segments to fill, with which match, how many candidates);
`tm.formats.xliff_pretranslate` finds the segments and writes the choices where each XLIFF
version keeps them. The caller passes the lookups as callables, so this module knows neither
the database nor the glossary package (``tm`` never imports ``glossary``):

* ``lookup(segments: list[str], src, tgt) -> list[list[dict]]``: the shape
  ``tm.lookup.lookup_many`` returns, best first: ``source``, ``target``, ``score``,
  optional ``adapted_target``, ``memory``, ``unit_id``;
* ``terms(segment, src, tgt) -> list[dict]``, optional: glossary hits as the glossary API gives
  them (``{"term": {"text"}, "targets": [{"text"}...]}``) or plain ``{"term", "translation"}``.

A target is filled from the best match when it reaches the threshold; it is marked exact for a
100 (or in-context 101) match whose numbers were not adapted, else fuzzy, so a person confirms
it before the XLIFF reader learns it back. Running it twice gives the same file: Duizhao's own
candidates and notes from a previous run are replaced, targets a person (or a previous run)
wrote are never overwritten.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tm.formats.xliff_pretranslate import PretranslationDocument, Suggestion

#: Below 75 a fuzzy match is not worth pre-filling (CAT tools' usual pre-translate floor);
#: weaker candidates are still attached, down to the ``min_score`` the lookup callback used.
DEFAULT_THRESHOLD = 75.0
DEFAULT_CANDIDATES = 3
EXACT = 100.0

Lookup = Callable[[list[str], str, str], Sequence[Sequence[dict]]]
Terms = Callable[[str, str, str], Sequence[dict]]


@dataclass(frozen=True)
class PretranslateReport:
    version: int
    segments: int
    filled: int
    exact: int
    with_candidates: int
    terms: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def pretranslate(data: bytes, lookup: Lookup, terms: Terms | None = None, *,
                 threshold: float = DEFAULT_THRESHOLD, candidates: int = DEFAULT_CANDIDATES
                 ) -> tuple[bytes, PretranslateReport]:
    """Fill and annotate an XLIFF 1.2 or 2.x document; returns the new bytes and a report.

    Raises `ImportFormatError` (with the line) for malformed or unsafe XML, a non-XLIFF root or
    languages other than Chinese and English.
    """
    document = PretranslationDocument(data)
    slots = document.slots

    # One batch per language pair: a lookup costs least when it gets every segment at once.
    results: list[Sequence[dict]] = [[] for _ in slots]
    by_pair: dict[tuple[str, str], list[int]] = {}
    for position, slot in enumerate(slots):
        by_pair.setdefault((slot.src, slot.tgt), []).append(position)
    for (src, tgt), positions in by_pair.items():
        found = lookup([slots[p].text for p in positions], src, tgt)
        for position, matches in zip(positions, found, strict=True):
            results[position] = matches

    filled = exact = with_candidates = term_count = 0
    for slot, matches in zip(slots, results, strict=True):
        matches = list(matches)[:candidates]
        hits = list(terms(slot.text, slot.src, slot.tgt)) if terms else []
        term_count += len(hits)
        best = matches[0] if matches else None
        fill = best if best is not None and slot.target_is_empty() and float(best["score"]) >= threshold else None
        was_exact = fill is not None and _is_exact(fill)
        document.write(slot, [Suggestion(m["source"], _suggestion(m), float(m["score"])) for m in matches],
                       _term_pairs(hits), fill=_suggestion(fill) if fill is not None else None, exact=was_exact)
        filled += fill is not None
        exact += was_exact
        with_candidates += bool(matches)
    return document.to_bytes(), PretranslateReport(document.version, len(slots), filled, exact, with_candidates,
                                                   term_count)


def _suggestion(match: dict) -> str:
    return match.get("adapted_target") or match["target"]


def _is_exact(match: dict) -> bool:
    return float(match["score"]) >= EXACT and not match.get("adapted_target")


def _term_pairs(hits: Sequence[dict]) -> list[tuple[str, str]]:
    """(term, its first translation) of each glossary hit, in either shape the module names,
    each pair once."""
    pairs = []
    for hit in hits:
        term = hit.get("term")
        term_text = term.get("text") if isinstance(term, dict) else term
        if "targets" in hit:
            translations = [t.get("text") for t in hit["targets"] if t.get("text")]
        else:
            translations = [hit.get("translation")] if hit.get("translation") else []
        if term_text and translations:
            pairs.append((term_text, translations[0]))
    return list(dict.fromkeys(pairs))
