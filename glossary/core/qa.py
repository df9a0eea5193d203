"""Terminology QA: does a translation use the glossary's terms?

Three checks, in either direction (zh→en or en→zh), all through the same recogniser, so the
translation is matched the way a source is: Chinese by substring over folded text, English on
word boundaries with plurals and possessives ("People's Daily's" counts as People's Daily):

* ``missing_term`` (error): a concept recognised in the source whose preferred or admitted target
  term appears nowhere in the translation. A term flagged do-not-translate also counts as present
  when it appears in the translation exactly as in the source ("CGTN"). A concept rendered only
  with a forbidden or deprecated term is reported by the next check instead of this one.
* ``forbidden_term`` (error) / ``deprecated_term`` (warning): a forbidden or deprecated term of any
  concept used in the translation ("the Ukraine", "Peking"), unless the same words are also an
  acceptable term of a longer or homographic entry ("Peking University" is a name, not a slip).
* ``inconsistent_variants`` (warning): one concept rendered with two different acceptable terms in
  the translation ("Nicolás Maduro" ... "Nicolas Maduro"). Abbreviations, acronyms and short forms
  are left out of this check: a full form followed by its abbreviation is ordinary news style.

An issue's ``message`` is a ``common.messages.Message``: the English sentence, which the web layer shows
in the reader's language with ``i18n.translate_message``.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from common.messages import N_, Message, Word
from glossary.core.model import DEPRECATED, FORBIDDEN, SHORT_TERM_TYPES, Entry
from glossary.core.recognize import TermHit, TermRecognizer

__all__ = ["QaIssue", "check", "MISSING_TERM", "FORBIDDEN_TERM", "DEPRECATED_TERM", "INCONSISTENT_VARIANTS"]

MISSING_TERM = "missing_term"
FORBIDDEN_TERM = "forbidden_term"
DEPRECATED_TERM = "deprecated_term"
INCONSISTENT_VARIANTS = "inconsistent_variants"

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class QaIssue:
    """One terminology problem in a translation.

    ``source_span``/``target_span`` are (start, end) offsets into the source and the
    translation where the problem shows, or None; ``expected`` holds the acceptable target terms,
    ``found`` what the translation has instead.
    """

    kind: str
    severity: str
    message: Message
    entry: Entry
    source_span: tuple[int, int] | None = None
    target_span: tuple[int, int] | None = None
    expected: tuple[str, ...] = ()
    found: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the API."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "entry_id": self.entry.id,
            "source_span": list(self.source_span) if self.source_span else None,
            "target_span": list(self.target_span) if self.target_span else None,
            "expected": list(self.expected),
            "found": list(self.found),
        }


def _key(entry: Entry) -> Hashable:
    return ("id", entry.id) if entry.id is not None else ("entry", entry)


def _quoted(texts: Iterable[str]) -> str:
    """“a” or “b” or “c”: the joining word is part of a message, so it is translated too."""
    quoted = [f"“{t}”" for t in texts]
    joined: str = quoted[0]
    for text in quoted[1:]:
        joined = Message(N_("{first} or {second}"), first=joined, second=text)
    return joined


#: The forbidden/deprecated term message, by (has advice, has a note).
_UNWANTED = {
    (False, False): N_("{status} term “{term}”"),
    (True, False): N_("{status} term “{term}”; use {expected}"),
    (False, True): N_("{status} term “{term}” ({note})"),
    (True, True): N_("{status} term “{term}”; use {expected} ({note})"),
}


def check(source: str, translation: str, src_lang: str, tgt_lang: str, recognizer: TermRecognizer,
          *, on: dt.date | None = None) -> list[QaIssue]:
    """Terminology issues of ``translation`` against ``source``: missing terms first, in source
    order, then the problems seen in the translation, in translation order.

    ``on`` is the day of the text: terms valid only at other times are not expected, nor
    reported (a title held until 2021 is not expected in a text of 2022).
    """
    if src_lang == tgt_lang:
        raise ValueError(f"source and translation are both {src_lang!r}")
    source_hits = recognizer.find(source, src_lang, on=on, target_lang=tgt_lang)
    every_target_hit = recognizer.find(translation, tgt_lang, on=on, target_lang=src_lang, longest_only=False)
    target_hits = _leftmost_longest(every_target_hit)

    rendered = {_key(h.entry) for h in every_target_hit if h.term.acceptable}
    rendered_badly = {_key(h.entry) for h in target_hits if not h.term.acceptable}

    issues: list[QaIssue] = []
    issues += _missing(source_hits, translation, rendered, rendered_badly)
    issues += _unwanted(target_hits, tgt_lang)
    issues += _inconsistent(target_hits)
    # Problems of the source's terms first, in source order, then those seen in the translation.
    issues.sort(key=lambda i: (i.target_span is not None, i.target_span or i.source_span or (0, 0), i.kind))
    return issues


def _leftmost_longest(hits: list[TermHit]) -> list[TermHit]:
    """What ``find`` returns by default, from its every-match output (sorted by start, longest
    first, homographs adjacent): saves recognising the translation twice."""
    kept: list[TermHit] = []
    last_end = -1
    for hit in hits:
        if kept and (hit.start, hit.end) == (kept[-1].start, kept[-1].end):
            kept.append(hit)  # a homograph of the span just kept
        elif hit.start >= last_end:
            kept.append(hit)
            last_end = hit.end
    return kept


def _missing(source_hits: list[TermHit], translation: str, rendered: set[Hashable],
             rendered_badly: set[Hashable]) -> list[QaIssue]:
    issues = []
    reported = set()
    for hit in source_hits:
        key = _key(hit.entry)
        if key in reported or key in rendered or key in rendered_badly:
            continue
        if hit.term.do_not_translate and hit.surface in translation:
            continue
        expected = tuple(t.text for t in hit.targets if t.acceptable)
        if hit.term.do_not_translate:
            expected = (hit.surface,) + tuple(t for t in expected if t != hit.surface)
        if not expected:
            continue  # the glossary has no rendering to ask for
        reported.add(key)
        issues.append(QaIssue(
            MISSING_TERM, ERROR,
            Message(N_("“{term}” should be translated as {expected}"), term=hit.surface,
                    expected=_quoted(expected)),
            hit.entry, source_span=(hit.start, hit.end), expected=expected,
        ))
    return issues


def _unwanted(target_hits: list[TermHit], tgt_lang: str) -> list[QaIssue]:
    issues = []
    acceptable_spans = {(h.start, h.end) for h in target_hits if h.term.acceptable}
    for hit in target_hits:
        if hit.term.status not in (FORBIDDEN, DEPRECATED) or (hit.start, hit.end) in acceptable_spans:
            continue
        expected = tuple(t.text for t in hit.entry.terms if t.lang == tgt_lang and t.acceptable)
        forbidden = hit.term.status == FORBIDDEN
        params = {"status": Word(hit.term.status), "term": hit.surface}
        if expected:
            params["expected"] = _quoted(expected)
        if hit.term.note:
            params["note"] = hit.term.note
        message = Message(_UNWANTED[bool(expected), bool(hit.term.note)], **params)
        issues.append(QaIssue(
            FORBIDDEN_TERM if forbidden else DEPRECATED_TERM,
            ERROR if forbidden else WARNING,
            message,
            hit.entry, target_span=(hit.start, hit.end), expected=expected, found=(hit.surface,),
        ))
    return issues


def _inconsistent(target_hits: list[TermHit]) -> list[QaIssue]:
    by_entry: dict[Hashable, list[TermHit]] = {}
    for hit in target_hits:
        if hit.term.acceptable and hit.term.term_type not in SHORT_TERM_TYPES:
            by_entry.setdefault(_key(hit.entry), []).append(hit)
    issues = []
    for hits in by_entry.values():
        variants = list(dict.fromkeys(h.term.text for h in hits))
        if len(variants) < 2:
            continue
        second = next(h for h in hits if h.term.text != hits[0].term.text)
        preferred = hits[0].entry.preferred(hits[0].lang)
        if preferred is not None:
            message = Message(N_("one concept written as {variants} in the same text; prefer “{preferred}”"),
                              variants=_quoted(variants), preferred=preferred.text)
        else:
            message = Message(N_("one concept written as {variants} in the same text"), variants=_quoted(variants))
        issues.append(QaIssue(
            INCONSISTENT_VARIANTS, WARNING,
            message,
            hits[0].entry, target_span=(second.start, second.end),
            expected=(preferred.text,) if preferred is not None else (), found=tuple(variants),
        ))
    return issues
