"""The glossary's data model: concept-oriented entries as TBX models them.

An :class:`Entry` is one concept (an institution, a person, a title ...); its :class:`Term` s are
the names of that concept in Chinese and English, each with a usage status. Both are plain frozen
dataclasses: the pure core, the exchange formats and the service layer pass them around, and
nothing here touches a database or the web.

Validity periods are inclusive on both ends and open where a date is missing. An entry or term
outside its period does not apply to a lookup dated on a given day (``applies_on``): "US
Secretary of State Mike Pompeo" names somebody else after 2021-01-20.

Term types follow TBX-Basic's ``termType`` picklist. They are optional; QA uses them so that a
full form followed by its abbreviation ("Chinese Academy of Social Sciences ... CASS"), which is
ordinary news style, is not reported as an inconsistent rendering.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from common.languages import LANGUAGES
from common.messages import N_, Message

PREFERRED = "preferred"
ADMITTED = "admitted"
DEPRECATED = "deprecated"
FORBIDDEN = "forbidden"
#: Statuses from best to worst; the order is the sort order of target terms in a hit.
STATUSES = (PREFERRED, ADMITTED, DEPRECATED, FORBIDDEN)
#: Statuses a translator may use.
ACCEPTABLE_STATUSES = frozenset({PREFERRED, ADMITTED})
STATUS_RANK = {status: rank for rank, status in enumerate(STATUSES)}

CONCEPT_TYPES = ("institution", "media_outlet", "person", "place", "title", "event", "other")

#: TBX-Basic's termType picklist (ISO 12620 names).
TERM_TYPES = ("fullForm", "acronym", "abbreviation", "shortForm", "variant", "phrase")
#: Term types that stand in for a full form already used in the same text.
SHORT_TERM_TYPES = frozenset({"acronym", "abbreviation", "shortForm"})


# Characters XML 1.0 cannot carry (and no glossary needs): writers would fail on them later.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A term is one line: no tabs or line breaks either.
_NOT_IN_TERM = re.compile("[\t\n\r\x85\u2028\u2029]")


class GlossaryError(Exception):
    """Base class of the glossary's domain errors."""


class GlossaryFormatError(GlossaryError, ValueError):
    """An entry or a file that breaks the glossary's rules.

    ``entry`` names the entry (its id, or ``#n`` for the n-th entry of a file) and ``line`` is
    the line of the file where it starts, when known; both are part of ``message``. ``reason``
    is the sentence without them, a `common.messages.Message` the web shows in the reader's language.
    """

    def __init__(self, message: str, *, entry: str | None = None, line: int | None = None):
        self.reason = message
        self.entry = entry
        self.line = line
        if entry is not None and line is not None:
            message = Message(N_("entry {entry}, line {line}: {reason}"), entry=entry, line=line, reason=message)
        elif entry is not None:
            message = Message(N_("entry {entry}: {reason}"), entry=entry, reason=message)
        elif line is not None:
            message = Message(N_("line {line}: {reason}"), line=line, reason=message)
        self.message = message
        super().__init__(message)


def _applies(valid_from: dt.date | None, valid_to: dt.date | None, on: dt.date | None) -> bool:
    if on is None:
        return True
    if isinstance(on, dt.datetime):  # a datetime is a date subclass but does not compare to one
        on = on.date()
    return (valid_from is None or valid_from <= on) and (valid_to is None or on <= valid_to)


@dataclass(frozen=True)
class Term:
    """One name of a concept in one language."""

    lang: str
    text: str
    status: str = PREFERRED
    case_sensitive: bool = False
    do_not_translate: bool = False
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    note: str = ""
    term_type: str | None = None

    def applies_on(self, on: dt.date | None) -> bool:
        """Whether the term may be used on day ``on`` (always, when ``on`` is None)."""
        return _applies(self.valid_from, self.valid_to, on)

    @property
    def acceptable(self) -> bool:
        """Preferred or admitted: a translator may use it."""
        return self.status in ACCEPTABLE_STATUSES


@dataclass(frozen=True)
class Entry:
    """One concept with its terms in both languages."""

    id: str | None
    concept_type: str
    terms: tuple[Term, ...] = field(default_factory=tuple)
    definition: str = ""
    note: str = ""
    source: str = ""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def __post_init__(self) -> None:
        # Terms are kept grouped by language, in the order each language first appears (a
        # stable regrouping), as every exchange format stores them: an entry then equals itself
        # after any round trip. A tuple keeps the entry immutable and hashable.
        terms = tuple(self.terms)
        langs = list(dict.fromkeys(getattr(t, "lang", None) for t in terms))
        if len(langs) > 1:
            terms = tuple(t for lang in langs for t in terms if getattr(t, "lang", None) == lang)
        object.__setattr__(self, "terms", terms)

    def applies_on(self, on: dt.date | None) -> bool:
        """Whether the concept exists on day ``on`` (always, when ``on`` is None)."""
        return _applies(self.valid_from, self.valid_to, on)

    def terms_in(self, lang: str, *, on: dt.date | None = None) -> tuple[Term, ...]:
        """The terms in ``lang`` that apply on day ``on``, best status first (stable)."""
        terms = [t for t in self.terms if t.lang == lang and t.applies_on(on)]
        return tuple(sorted(terms, key=lambda t: STATUS_RANK.get(t.status, len(STATUSES))))

    def preferred(self, lang: str, *, on: dt.date | None = None) -> Term | None:
        """The best term in ``lang`` a translator may use on ``on``, or None."""
        for term in self.terms_in(lang, on=on):
            if term.acceptable:
                return term
        return None

    @property
    def label(self) -> str:
        """A short human name for messages: the id, or the first term."""
        if self.id is not None:
            return str(self.id)
        return repr(self.terms[0].text) if self.terms else Message(N_("(empty entry)"))


def _check_period(valid_from: object, valid_to: object, what: Message) -> None:
    for value in (valid_from, valid_to):
        if value is not None and not isinstance(value, dt.date):
            raise GlossaryFormatError(Message(N_("{what} validity date {value!r} is not a date"),
                                              what=what, value=value))
    if isinstance(valid_from, dt.date) and isinstance(valid_to, dt.date) and valid_from > valid_to:
        raise GlossaryFormatError(Message(N_("{what} is valid from {start} after it ends on {end}"),
                                          what=what, start=valid_from, end=valid_to))


def validate_term(term: Term, *, number: int | None = None) -> None:
    """Raise :class:`GlossaryFormatError` unless ``term`` is well formed on its own.

    Checks: a supported language, a non-empty one-line text without surrounding spaces, a
    known status and term type, a validity period that does not end before it starts, and no
    control characters that XML cannot carry. ``number`` (its place in the entry) names a term
    that has no usable text.
    """
    which = Message(N_("term {number}"), number=number) if number is not None else Message(N_("term"))
    if not isinstance(term, Term):
        raise GlossaryFormatError(Message(N_("{which} is not a Term"), which=which))
    if not term.lang:
        raise GlossaryFormatError(Message(N_("{which} ({text!r}) is missing its language"),
                                          which=which, text=term.text))
    if term.lang not in LANGUAGES:
        raise GlossaryFormatError(Message(N_("{which} ({text!r}) has unsupported language {lang!r}"),
                                          which=which, text=term.text, lang=term.lang))
    if not term.text or not term.text.strip():
        raise GlossaryFormatError(Message(N_("{which} ({lang}) is empty"), which=which, lang=term.lang))
    if term.text != term.text.strip():
        raise GlossaryFormatError(Message(N_("term {text!r} has leading or trailing whitespace"),
                                          text=term.text))
    if _NOT_XML.search(term.text) or _NOT_IN_TERM.search(term.text):
        raise GlossaryFormatError(Message(N_("term {text!r} contains a control character or line break"),
                                          text=term.text))
    if _NOT_XML.search(term.note):
        raise GlossaryFormatError(Message(N_("the note of term {text!r} contains a control character"),
                                          text=term.text))
    if term.status not in STATUSES:
        raise GlossaryFormatError(Message(
            N_("term {text!r} has unknown status {status!r} (expected one of {expected})"),
            text=term.text, status=term.status, expected=", ".join(STATUSES)))
    if term.term_type is not None and term.term_type not in TERM_TYPES:
        raise GlossaryFormatError(Message(N_("term {text!r} has unknown term type {term_type!r}"),
                                          text=term.text, term_type=term.term_type))
    _check_period(term.valid_from, term.valid_to, Message(N_("term {text!r}"), text=term.text))


def validate_entry(entry: Entry) -> None:
    """Raise :class:`GlossaryFormatError` unless ``entry`` is a well-formed glossary entry.

    Checks: a known concept type, at least one term, each term as :func:`validate_term` does,
    no term twice (same language and text), an entry validity period that does not end before
    it starts, and no control characters in the entry's texts. The error names the entry;
    readers add the line number.
    """
    label = entry.label
    try:
        if entry.concept_type not in CONCEPT_TYPES:
            raise GlossaryFormatError(Message(
                N_("unknown concept type {concept_type!r} (expected one of {expected})"),
                concept_type=entry.concept_type, expected=", ".join(CONCEPT_TYPES)))
        if not entry.terms:
            raise GlossaryFormatError(Message(N_("entry has no terms")))
        for name in ("definition", "note", "source"):
            if _NOT_XML.search(getattr(entry, name)):
                raise GlossaryFormatError(Message(N_("the entry's {field} contains a control character"),
                                                  field=name))
        _check_period(entry.valid_from, entry.valid_to, Message(N_("entry")))
        seen: set[tuple[str, str]] = set()
        for number, term in enumerate(entry.terms, 1):
            validate_term(term, number=number)
            key = (term.lang, term.text)
            if key in seen:
                raise GlossaryFormatError(Message(N_("duplicate term {text!r} ({lang})"),
                                                  text=term.text, lang=term.lang))
            seen.add(key)
    except GlossaryFormatError as err:
        raise GlossaryFormatError(err.reason, entry=label) from None


def term_pairs(entries: Iterable[Entry]) -> list[tuple[str, str]]:
    """(zh, en) pairs of each entry's terms, every Chinese term with every English one: what the
    aligners take as known translations."""
    pairs: list[tuple[str, str]] = []
    for entry in entries:
        zh = [t.text for t in entry.terms if t.lang == "zh"]
        en = [t.text for t in entry.terms if t.lang == "en"]
        pairs.extend((z, e) for z in zh for e in en)
    return pairs
