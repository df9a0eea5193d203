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

from common.errors import DuizhaoError
from common.messages import N_, Message
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


# ------------------------------------------------------------------ the translator's own file

#: What `pretranslate_file` writes: targets, candidates, or both.
MODES = ("fill", "candidates", "both")
#: The largest file pre-translated within one request, and its most segments (the defaults of
#: the app's PRETRANSLATE_INLINE_BYTES / _SEGMENTS); a larger file becomes a job. Both keep a
#: request within a worker's timeout: 5,000 segments are five lookup batches of
#: `tm.lookup.MAX_BATCH`, a few seconds each on a large memory; the bytes are the article
#: upload's bound (`workbench.upload.MAX_UPLOAD_BYTES`).
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_FILE_SEGMENTS = 5_000
#: The largest file a job pre-translates, and its most segments. The whole document is parsed
#: in memory (the answer keeps every byte of it): lxml's tree and the text take about ten
#: times the file, so 200 MB is about the most a worker on a small machine should hold; 200,000
#: segments are an hour or so of lookups on a large memory.
JOB_MAX_BYTES = 200 * 1024 * 1024
JOB_MAX_SEGMENTS = 200_000
#: The content type of the file given back, by XLIFF version.
XLIFF_MIMETYPES = {1: "application/x-xliff+xml", 2: "application/xliff+xml"}


class FileTooLarge(DuizhaoError):
    """A file over the bound `pretranslate_file` was given: 413 where it is final (a job's
    bound), the sign to queue a job where it is not (a request's)."""

    status = 413


@dataclass(frozen=True)
class FileReport:
    """What `pretranslate_file` did, segment by segment: each segment is counted once among
    ``filled_exact``, ``filled_fuzzy``, ``skipped_translated`` and ``left_empty``;
    ``codes_not_placed`` (of ``left_empty``) had a match whose target could not take the
    segment's inline codes, offered as a candidate instead."""

    version: int
    direction: str
    segments: int
    filled_exact: int
    filled_fuzzy: int
    skipped_translated: int
    left_empty: int
    codes_not_placed: int
    with_candidates: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def pretranslate_file(data: bytes, lookup: Lookup, *, min_score: float = DEFAULT_THRESHOLD, mode: str = "both",
                      candidates: int = DEFAULT_CANDIDATES, bounded: bool = False,
                      max_bytes: int = MAX_FILE_BYTES, max_segments: int = MAX_FILE_SEGMENTS,
                      fragments: Lookup | None = None,
                      progress: Callable[[int, int], None] | None = None) -> tuple[bytes, FileReport]:
    """A translator's XLIFF 1.2 or 2.x file with its empty targets filled from ``lookup`` (at
    ``min_score`` or better), the same file byte for byte everywhere else
    (`tm.formats.xliff_roundtrip`). ``mode``: ``fill`` writes targets, ``candidates`` only
    offers the matches beside the segments, ``both`` does both.

    ``lookup`` is called once per language pair with the texts of the segments that have no
    target, codes left out; each segment's neighbours go in the same call so a lookup may use
    them as context. Inline codes are carried into a target by `tm.core.inline.place`; a match
    whose target cannot take them is offered as a candidate, never written with codes lost.
    ``fragments`` (the shape `tm.lookup.segment_fragments` returns: per segment, the runs the
    memory holds with their ``translations``) is asked, in XLIFF 2 and unless ``mode`` is
    ``fill``, for the segments no match reached ``min_score``: each fragment's best rendering
    is offered as a low-similarity ``mtc:match`` (its share of the segment's length) of
    ``subType="duizhao:fragment"``, never written as a target.

    Raises `ImportFormatError` as `RoundTripDocument` does. With ``bounded`` (a request or a
    job, not a library call), a file over ``max_bytes`` or ``max_segments`` is refused
    (`FileTooLarge`, 413) before any lookup, and so is a file with no empty target (422: nothing
    to pre-translate). ``progress(done, total)`` hears how many of the segments to look up
    (``total``) have been, before the first lookup and after each language pair's.
    """
    from xml.sax.saxutils import escape

    from tm.core.inline import place
    from tm.formats.xliff_roundtrip import Candidate, Fill, RoundTripDocument

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    if bounded and len(data) > max_bytes:
        raise FileTooLarge(Message(N_("The file is larger than {most} MB; at most that can be pre-translated at "
                                      "once."), most=max_bytes // (1024 * 1024)), size=len(data))
    document = RoundTripDocument(data)
    work = [s for s in document.segments if s.empty]
    if bounded and len(document.segments) > max_segments:
        raise FileTooLarge(Message(N_("The file has {count:,} segments; at most {most:,} can be pre-translated at "
                                      "once. Split it into parts."), count=len(document.segments), most=max_segments),
                           segments=len(document.segments))
    if bounded and not work:
        raise DuizhaoError(Message(N_("Every segment of the file has a target already ({count} segments): "
                                      "nothing to pre-translate."), count=len(document.segments)), status=422)
    found: dict[int, Sequence[dict]] = {}
    by_pair: dict[tuple[str, str], list[int]] = {}
    for position, segment in enumerate(work):
        by_pair.setdefault((segment.src, segment.tgt), []).append(position)
    if progress is not None:
        progress(0, len(work))
    for (src, tgt), positions in by_pair.items():
        for position, matches in zip(positions, lookup([work[p].text for p in positions], src, tgt), strict=True):
            found[position] = matches
        if progress is not None:
            progress(len(found), len(work))

    def with_codes(segment, target: str) -> str | None:
        """``target`` as markup with the segment's codes placed, or None when they cannot be."""
        positions = place(segment.text, target, segment.codes)
        if positions is None:
            return None
        out, at = [], 0
        for code, offset in zip(segment.codes, positions, strict=True):
            out.append(escape(target[at:offset]))
            out.append(code.raw)
            at = offset
        out.append(escape(target[at:]))
        return "".join(out)

    pieces: dict[int, Sequence[dict]] = {}
    if fragments is not None and document.version == 2 and mode != "fill":
        bare = [p for p, _ in enumerate(work)
                if not any(float(m["score"]) >= min_score for m in found.get(p, []))]
        for (src, tgt), positions in by_pair.items():
            asked = [p for p in positions if p in set(bare)]
            if asked:
                for position, runs in zip(asked, fragments([work[p].text for p in asked], src, tgt), strict=True):
                    pieces[position] = runs

    exact = fuzzy = unplaced = offered = 0
    for position, segment in enumerate(work):
        matches = [m for m in found.get(position, []) if float(m["score"]) >= min_score][:candidates]
        shown = []
        for match in matches:
            markup = with_codes(segment, _suggestion(match))
            shown.append((match, markup))
        best, best_markup = shown[0] if shown else (None, None)
        if best is not None and mode != "candidates" and best_markup is not None:
            document.fill(segment, Fill(best_markup, _is_exact(best)))
            exact += _is_exact(best)
            fuzzy += not _is_exact(best)
        elif best is not None and best_markup is None:
            unplaced += 1
        # Candidates: all of them in "candidates"/"both"; in "fill", the one whose codes a
        # person must place (it is not written as the target).
        offer = shown if mode != "fill" else ([shown[0]] if best is not None and best_markup is None else [])
        offers = [Candidate(m["source"], markup if markup is not None else escape(_suggestion(m)), float(m["score"]))
                  for m, markup in offer]
        offers += [Candidate(run["source"], escape(run["translations"][0]["text"]),
                             round(100 * len(run["source"]) / max(len(segment.text.strip()), 1), 1), fragment=True)
                   for run in pieces.get(position, [])[:candidates] if run.get("translations")]
        if mode != "fill" or offers:
            document.offer(segment, offers)
        offered += bool(offers)
    direction = f"{work[0].src}-{work[0].tgt}" if work else (
        f"{document.segments[0].src}-{document.segments[0].tgt}" if document.segments else "")
    report = FileReport(document.version, direction, len(document.segments), exact, fuzzy,
                        len(document.segments) - len(work), len(work) - exact - fuzzy, unplaced, offered)
    return document.result(), report

