"""TBX, the ISO 30042 TermBase eXchange format: streaming, safe read and write.

Two dialects are read (told apart by the root element) and written:

* ``"basic2008"``: TBX-Basic on TBX 2008 (``martif`` / ``termEntry`` / ``langSet`` / ``tig``),
  no namespace.
* ``"v3"``: TBX-Basic on TBX v3 (``tbx`` / ``conceptEntry`` / ``langSec`` / ``termSec``) in the
  ``urn:iso:std:iso:30042:ed-2`` namespace, ``type="TBX-Basic" style="dca"``.

Mapping of the model (the same elements in both dialects)::

    Entry.id             termEntry/@id, conceptEntry/@id (left out when the entry has none)
    Entry.definition     <descrip type="definition">
    Entry.concept_type   <descrip type="x-conceptType">            (private data category)
    Entry.source         <admin type="source">
    Entry.valid_from/to  <admin type="x-validFrom">, <admin type="x-validTo">   ISO dates (private)
    Entry.note           <note>
    Term.lang            langSet/@xml:lang, langSec/@xml:lang ("zh-CN", "zh-Hant" read as zh)
    Term.text            <term>
    Term.status          <termNote type="administrativeStatus">, see below
    Term.term_type       <termNote type="termType">
    Term.case_sensitive  <termNote type="x-caseSensitive">yes</termNote>      (private, only if set)
    Term.do_not_translate <termNote type="x-doNotTranslate">yes</termNote>   (private, only if set)
    Term.valid_from/to   <admin type="x-validFrom">, <admin type="x-validTo"> inside tig/termSec
    Term.note            <note> inside tig/termSec

A ``<termNote type="partOfSpeech">`` is also written (``properNoun`` for names of people, places,
bodies, media and events, ``noun`` for titles and other terms) for tools that expect it; it is
derived from the concept type and ignored on reading.

**Status.** TBX-Basic's administrativeStatus has preferred, admitted, deprecated and superseded
terms, but no forbidden one. A forbidden term is written as ``deprecatedTerm-admn-sts`` -- so any
other tool reads it, safely, as "do not use" -- plus ``<termNote type="x-usageStatus">forbidden
</termNote>``, which brings it back as forbidden here. ``supersededTerm-admn-sts`` (a term
replaced by a newer one) is read as deprecated: the model has no separate status for it, and for a
translator both mean "no longer use this". A term without a status is read as preferred, as in
the CSV format. The v3 spelling without the ``-admn-sts`` suffix is accepted too.

Unknown data categories (subjectField, transacGrp, refs ...) are skipped, as are languages other
than Chinese and English, and entries that have terms in other languages only.

**Safety.** Files are parsed with lxml's ``iterparse`` (entries are cleared as they are read, so
memory stays flat) with the options of `common.safexml`: ``resolve_entities=False``,
``no_network=True``, ``load_dtd=False`` and ``huge_tree=False``. A document whose internal DTD
subset declares entities (the "billion laughs" expansion bomb, external entities pointing at
files or URLs) is refused outright, and so is any entity reference left unresolved; a plain
``<!DOCTYPE martif SYSTEM "TBXcoreStructV02.dtd">`` is accepted and never fetched. Errors are
:class:`GlossaryFormatError` naming the entry (its id, or ``#n`` for the n-th entry) and the line.

XML is written with lxml's incremental ``xmlfile`` writer, one entry element at a time.
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Literal, NoReturn, TypedDict

from lxml import etree

from common import safexml
from common.bounded import RecordBoundedStream, RecordTooLarge, unit_too_large
from common.languages import LANGUAGES
from common.messages import N_, Message
from common.timeutil import parse_date
from glossary.core.model import (
    DEPRECATED,
    FORBIDDEN,
    PREFERRED,
    Entry,
    GlossaryFormatError,
    Term,
    validate_entry,
)

__all__ = ["DIALECTS", "TBX_V3_NS", "dumps_tbx", "iter_tbx", "read_tbx", "write_tbx"]

TBX_V3_NS = "urn:iso:std:iso:30042:ed-2"
XML_NS = "http://www.w3.org/XML/1998/namespace"
XML_LANG = f"{{{XML_NS}}}lang"
DIALECTS = ("basic2008", "v3")

_STATUS_IN = {
    "preferredTerm": PREFERRED,
    "admittedTerm": "admitted",
    "deprecatedTerm": DEPRECATED,
    "supersededTerm": DEPRECATED,
}
_STATUS_OUT = {
    PREFERRED: "preferredTerm-admn-sts",
    "admitted": "admittedTerm-admn-sts",
    DEPRECATED: "deprecatedTerm-admn-sts",
    FORBIDDEN: "deprecatedTerm-admn-sts",
}
_PROPER_NOUN_TYPES = frozenset({"institution", "media_outlet", "person", "place", "event"})
_YES = {"yes", "true", "1"}

# Element names per dialect: (entry, language section, term section).
_NAMES = {
    "basic2008": ("termEntry", "langSet", "tig"),
    "v3": ("conceptEntry", "langSec", "termSec"),
}
_ENTRY_TAGS = {"termEntry", "conceptEntry"}
_LANG_TAGS = {"langSet", "langSec"}
_TERM_TAGS = {"tig", "ntig", "termSec"}


def _local(el) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _text(el) -> str:
    return "".join(el.itertext())


# -- reading --------------------------------------------------------------------------------------

@contextmanager
def _open_binary(source, mode: str):
    if isinstance(source, (str, os.PathLike)):
        with open(source, mode) as f:
            yield f
    else:
        yield source


def iter_tbx(source, *, check: Callable[[Entry], None] | None = None) -> Iterator[Entry]:
    """Entries of a TBX file (path or binary file object), one at a time, in either dialect.

    ``check`` (the storage's own rules, such as column lengths) is called on each entry; the
    ``GlossaryFormatError`` it raises gets the entry's line.
    """
    with _open_binary(source, "rb") as f:
        # Only entry elements raise events (in any namespace): the rest is read by _read_entry.
        bounded = RecordBoundedStream(f)
        events = safexml.iterparse(bounded, events=("end",), tag=[f"{{*}}{name}" for name in _ENTRY_TAGS],
                                   remove_comments=True, remove_pis=True)
        ordinal = 0
        last_line = 1
        seen_ids: set[str] = set()
        root_checked = False
        try:
            for _, el in events:
                if not root_checked:
                    # Entities are never expanded, so checking at the first entry is early enough.
                    _check_root(el.getroottree().getroot())
                    root_checked = True
                ordinal += 1
                entry = _read_entry(el, ordinal)
                if entry is not None and check is not None:
                    try:
                        check(entry)
                    except GlossaryFormatError as err:
                        raise GlossaryFormatError(err.reason, entry=err.entry, line=el.sourceline) from None
                if entry is not None and entry.id is not None:
                    if entry.id in seen_ids:
                        raise GlossaryFormatError(Message(N_("duplicate entry id")), entry=entry.id,
                                                  line=el.sourceline)
                    seen_ids.add(entry.id)
                # Free what has been read: a TBX file can be gigabytes.
                el.clear(keep_tail=False)
                parent = el.getparent()
                while el.getprevious() is not None:
                    del parent[0]
                last_line = el.sourceline or last_line
                bounded.record_done()
                if entry is not None:
                    yield entry
        except RecordTooLarge as err:
            raise GlossaryFormatError(unit_too_large(err.limit), entry=f"#{ordinal + 1}", line=last_line) from None
        except etree.XMLSyntaxError as err:
            raise GlossaryFormatError(Message(N_("broken XML: {problem}"), problem=err.msg),
                                      entry=f"#{ordinal + 1}", line=err.lineno) from err
        if not root_checked:  # a document without entries: still say what is wrong with it
            _check_root(events.root)


def read_tbx(source) -> list[Entry]:
    """All entries of a TBX file; see :func:`iter_tbx`."""
    return list(iter_tbx(source))


def _check_root(root) -> None:
    if safexml.first_entity(root.getroottree()) is not None:
        raise GlossaryFormatError(Message(N_("the document declares entities in its DTD; entity declarations "
                                             "are refused (expansion bombs, external entities)")),
                                  line=root.sourceline)
    if _local(root) not in ("martif", "tbx"):
        raise GlossaryFormatError(Message(N_("not a TBX file: the root element is <{root}>, "
                                             "expected <martif> (TBX 2008) or <tbx> (TBX v3)"), root=_local(root)),
                                  line=root.sourceline)


def _parse_date(value: str, what: Message, fail: Callable[[Message], NoReturn]) -> dt.date:
    try:
        return parse_date(value.strip())
    except ValueError:
        fail(Message(N_("{what} {value!r} is not an ISO date (YYYY-MM-DD)"), what=what, value=value.strip()))


_Validity = Literal["valid_from", "valid_to"]


class _EntryFields(TypedDict):
    definition: str
    concept_type: str
    source: str
    note: str
    valid_from: dt.date | None
    valid_to: dt.date | None


class _TermFields(TypedDict):
    term_type: str | None
    case_sensitive: bool
    do_not_translate: bool
    valid_from: dt.date | None
    valid_to: dt.date | None
    note: str


def _read_entry(el, ordinal: int) -> Entry | None:
    entry_id = el.get("id")
    label = entry_id if entry_id is not None else f"#{ordinal}"

    def fail(message: Message, line: int | None = None) -> NoReturn:
        raise GlossaryFormatError(message, entry=label, line=line or el.sourceline)

    for _ in el.iter(etree.Entity):
        fail(Message(N_("unresolved entity reference; entities are refused")))

    fields: _EntryFields = {"definition": "", "concept_type": "other", "source": "", "note": "",
                            "valid_from": None, "valid_to": None}
    terms: list[Term] = []
    other_languages = False

    def read_meta(child) -> None:
        name, kind = _local(child), child.get("type")
        if name == "descrip" and kind == "definition":
            fields["definition"] = _text(child)
        elif name == "descrip" and kind == "x-conceptType":
            fields["concept_type"] = _text(child).strip()
        elif name == "admin" and kind == "source":
            fields["source"] = _text(child)
        elif name == "admin" and kind in ("x-validFrom", "x-validTo"):
            key: _Validity = "valid_from" if kind == "x-validFrom" else "valid_to"
            fields[key] = _parse_date(_text(child), Message(N_("entry {category}"), category=kind),
                                      lambda m: fail(m, child.sourceline))
        elif name == "note":
            fields["note"] = _text(child)
        elif name in ("descripGrp", "adminGrp"):
            for grandchild in child:
                read_meta(grandchild)

    for child in el:
        name = _local(child)
        if name in _LANG_TAGS:
            lang = child.get(XML_LANG) or child.get("lang")
            if not lang or not lang.strip():
                fail(Message(N_("a language section is missing its xml:lang")), child.sourceline)
            lang = lang.strip().lower().replace("_", "-").split("-")[0]
            if lang not in LANGUAGES:
                other_languages = True  # a language this glossary does not hold
                continue
            for section in child:
                if _local(section) in _TERM_TAGS:
                    terms.append(_read_term(section, lang, fail))
                # A language-level definition belongs to the concept in this model.
                elif _local(section) in ("descrip", "descripGrp") and not fields["definition"]:
                    read_meta(section)
        else:
            read_meta(child)

    if not terms and other_languages:
        return None  # a concept named only in other languages: nothing for this glossary
    entry = Entry(id=entry_id, concept_type=fields["concept_type"], terms=tuple(terms),
                  definition=fields["definition"], note=fields["note"], source=fields["source"],
                  valid_from=fields["valid_from"], valid_to=fields["valid_to"])
    try:
        validate_entry(entry)
    except GlossaryFormatError as err:
        raise GlossaryFormatError(err.reason, entry=label, line=el.sourceline) from err
    return entry


def _read_term(section, lang: str, fail: Callable[..., NoReturn]) -> Term:
    line = section.sourceline
    text: str | None = None
    marked_status: str | None = None
    forbidden = False
    values: _TermFields = {"term_type": None, "case_sensitive": False, "do_not_translate": False,
                           "valid_from": None, "valid_to": None, "note": ""}
    # ntig nests term and termNotes in a termGrp: walk the subtree, not just the children.
    for node in section.iter():
        name, kind = _local(node), node.get("type")
        if name == "term":
            text = _text(node).strip()
        elif name == "termNote" and kind in ("administrativeStatus", "normativeAuthorization"):
            value = _text(node).strip()
            status = _STATUS_IN.get(value.removesuffix("-admn-sts"))
            if status is None:
                fail(Message(N_("unknown status {value!r} for term {text!r}"), value=value, text=text),
                     node.sourceline)
            marked_status = status
        elif name == "termNote" and kind == "x-usageStatus":
            value = _text(node).strip()
            if value != FORBIDDEN:
                fail(Message(N_("unknown x-usageStatus {value!r} for term {text!r}"), value=value, text=text),
                     node.sourceline)
            forbidden = True
        elif name == "termNote" and kind == "termType":
            values["term_type"] = _text(node).strip() or None
        elif name == "termNote" and kind in ("x-caseSensitive", "x-doNotTranslate"):
            flag = _text(node).strip().lower() in _YES
            which: Literal["case_sensitive", "do_not_translate"] = (
                "case_sensitive" if kind == "x-caseSensitive" else "do_not_translate")
            values[which] = flag
        elif name == "admin" and kind in ("x-validFrom", "x-validTo"):
            validity: _Validity = "valid_from" if kind == "x-validFrom" else "valid_to"
            values[validity] = _parse_date(_text(node), Message(N_("term {category}"), category=kind),
                                      functools.partial(fail, line=node.sourceline))
        elif name == "note":
            values["note"] = _text(node)
    if text is None:
        fail(Message(N_("a term section has no <term>")), line)
    if not text:
        fail(Message(N_("empty term ({lang})"), lang=lang), line)
    status = marked_status or PREFERRED
    if forbidden:
        if status != DEPRECATED:
            fail(Message(N_("term {text!r} is marked forbidden but its administrativeStatus is {status}"),
                         text=text, status=status), line)
        status = FORBIDDEN
    return Term(lang=lang, text=text, status=status, **values)


# -- writing --------------------------------------------------------------------------------------

def write_tbx(entries: Iterable[Entry], dest, *, dialect: str = "basic2008",
              title: str = "Duizhao glossary") -> None:
    """Write entries as TBX-Basic, ``dialect`` "basic2008" (martif) or "v3" (tbx).

    ``dest`` is a path or a binary file object. Entries are validated as they are written.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown TBX dialect {dialect!r} (expected one of {', '.join(DIALECTS)})")
    ns = TBX_V3_NS if dialect == "v3" else None

    def q(name: str) -> str:
        return f"{{{ns}}}{name}" if ns else name

    with _open_binary(dest, "wb") as f, etree.xmlfile(f, encoding="utf-8") as xf:
        xf.write_declaration()
        if dialect == "v3":
            root, attrib, nsmap = "tbx", {"type": "TBX-Basic", "style": "dca"}, {None: TBX_V3_NS, "xml": XML_NS}
            header_name = "tbxHeader"
        else:
            root, attrib, nsmap = "martif", {"type": "TBX-Basic"}, {"xml": XML_NS}
            header_name = "martifHeader"
        attrib[XML_LANG] = "en"
        with xf.element(q(root), attrib, nsmap=nsmap):
            xf.write("\n")
            header = etree.Element(q(header_name), nsmap=nsmap)
            file_desc = etree.SubElement(header, q("fileDesc"))
            etree.SubElement(etree.SubElement(file_desc, q("sourceDesc")), q("p")).text = title
            if dialect == "basic2008":
                encoding = etree.SubElement(header, q("encodingDesc"))
                etree.SubElement(encoding, q("p"), type="XCSURI").text = "TBXBasicXCSV02.xcs"
            xf.write(header, pretty_print=True)
            with xf.element(q("text")), xf.element(q("body")):
                xf.write("\n")
                for ordinal, entry in enumerate(entries, 1):
                    _validate_for_writing(entry, ordinal)
                    xf.write(_entry_element(entry, dialect, q, nsmap), pretty_print=True)
            xf.write("\n")


def _validate_for_writing(entry: Entry, ordinal: int) -> None:
    try:
        validate_entry(entry)
    except GlossaryFormatError as err:
        label = str(entry.id) if entry.id is not None else f"#{ordinal}"
        raise GlossaryFormatError(err.reason, entry=label) from err


def dumps_tbx(entries: Iterable[Entry], *, dialect: str = "basic2008") -> bytes:
    """The TBX document as bytes (for downloads and tests)."""
    buffer = io.BytesIO()
    write_tbx(entries, buffer, dialect=dialect)
    return buffer.getvalue()


def _entry_element(entry: Entry, dialect: str, q, nsmap):
    entry_tag, lang_tag, term_tag = _NAMES[dialect]
    el = etree.Element(q(entry_tag), nsmap=nsmap)
    if entry.id is not None:
        el.set("id", str(entry.id))

    def add(parent, name: str, text: str, kind: str | None = None):
        child = etree.SubElement(parent, q(name))
        if kind:
            child.set("type", kind)
        child.text = text
        return child

    if entry.definition:
        add(el, "descrip", entry.definition, "definition")
    add(el, "descrip", entry.concept_type, "x-conceptType")
    if entry.source:
        add(el, "admin", entry.source, "source")
    if entry.valid_from:
        add(el, "admin", entry.valid_from.isoformat(), "x-validFrom")
    if entry.valid_to:
        add(el, "admin", entry.valid_to.isoformat(), "x-validTo")
    if entry.note:
        add(el, "note", entry.note)

    part_of_speech = "properNoun" if entry.concept_type in _PROPER_NOUN_TYPES else "noun"
    # One language section per language, in the order the languages first appear.
    for lang in dict.fromkeys(t.lang for t in entry.terms):
        lang_el = etree.SubElement(el, q(lang_tag), {XML_LANG: lang})
        for term in entry.terms:
            if term.lang != lang:
                continue
            term_el = etree.SubElement(lang_el, q(term_tag))
            add(term_el, "term", term.text)
            add(term_el, "termNote", _STATUS_OUT[term.status], "administrativeStatus")
            if term.status == FORBIDDEN:
                add(term_el, "termNote", FORBIDDEN, "x-usageStatus")
            add(term_el, "termNote", part_of_speech, "partOfSpeech")
            if term.term_type:
                add(term_el, "termNote", term.term_type, "termType")
            if term.case_sensitive:
                add(term_el, "termNote", "yes", "x-caseSensitive")
            if term.do_not_translate:
                add(term_el, "termNote", "yes", "x-doNotTranslate")
            if term.valid_from:
                add(term_el, "admin", term.valid_from.isoformat(), "x-validFrom")
            if term.valid_to:
                add(term_el, "admin", term.valid_to.isoformat(), "x-validTo")
            if term.note:
                add(term_el, "note", term.note)
    return el
