"""Read and write TMX 1.4b, streaming and safely.

Reading
    `read_tmx` parses with lxml's ``iterparse`` and yields one `UnitRecord` per
    ``<tu>``; each ``<tu>`` is cleared and dropped from the tree once read, so a
    file of a million units reads in flat memory.  The parser never loads a DTD,
    never touches the network, never expands entities (``resolve_entities=False``)
    and refuses any document whose DOCTYPE declares entities at all: internal
    ones are how "billion laughs" bombs work, external ones how XXE reads files.
    A TMX file has no use for either.  `common.safexml` holds these options and
    the refusal for every format.

    Only the Chinese and English ``<tuv>`` of each unit are kept (the first of
    each, when a file has, say, both zh-CN and zh-TW); other languages of a
    multilingual memory are skipped (a ``<tu>`` left without Chinese or English
    is an error that lists the codes it had and the supported ones).  Every
    spelling in `common.languages` is understood; the original code is kept
    in ``zh_lang``/``en_lang``.  Header ``srclang`` may be ``*all*``.
    Whitespace inside ``<seg>`` is kept exactly.

    Metadata: ``creationdate``, ``changedate``, ``creationid``, ``changeid`` and
    ``usagecount`` are read from the ``<tu>``; where the ``<tu>`` lacks one, it is
    taken from the translation's ``<tuv>`` (the one not in the header srclang),
    then from the source's, because several tools (Trados, memoQ) date the
    variants rather than the unit.  ``<note>`` and ``<prop>`` elements of the
    ``<tu>`` and of both kept ``<tuv>`` are all kept in document order; several
    notes are joined with a blank line.  ``tuid``, ``lastusagedate`` and
    ``creationtool`` are not kept.

Inline markup
    A ``<seg>`` may mix text with codes.  ``<bpt>``, ``<ept>``, ``<ph>``, ``<it>``
    and ``<ut>`` hold *native code* (``<b>``, ``{\\b``, ``%s``) — their content,
    including any ``<sub>`` sub-flow, is dropped; ``<hi>`` marks up *text*, so its
    text is kept.  The text after every element (its tail) is kept.  Example::

        <seg>Click <bpt i="1">&lt;b&gt;</bpt>here<ept i="1">&lt;/b&gt;</ept></seg>
        -> "Click here"

    The TM matches on plain text; a writer emits plain text, so codes do not
    survive a round trip (documented, and tested).

Writing
    `write_tmx` uses lxml's incremental ``etree.xmlfile`` writer: one ``<tu>`` at
    a time, constant memory, correct escaping; `iter_tmx` yields the same bytes in
    chunks, for an HTTP response that streams.  Output is TMX 1.4b as OmegaT and
    translate-toolkit read it: a header with ``creationtool="Duizhao"``,
    ``segtype="sentence"``, ``o-tmf``, ``adminlang``, ``datatype="plaintext"``,
    ``srclang``; each ``<tu>`` with its dates (``YYYYMMDDThhmmssZ``), ids,
    ``usagecount``, ``<note>``, ``<prop>`` s, then one ``<tuv xml:lang=...>``
    per language, source language first, each with a single ``<seg>``.
    Fields without a TMX element travel as ``x-`` props (see `tm.formats.records`).
    Characters XML 1.0 cannot hold are dropped (or refused, on request).
    Mixed variants (zh-CN and zh-TW units in one file) are written as they are;
    tools that find the source ``<tuv>`` by the header's exact srclang
    (translate-toolkit does) then miss the units of the other variant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Literal

from lxml import etree

from common import safexml
from common.bounded import RecordBoundedStream, RecordTooLarge, unit_too_large
from common.languages import SUPPORTED_CODES, UnsupportedLanguage, canonical_tag, normalize_lang
from common.messages import N_, Message
from tm.formats.records import (
    FIELD_PROPS,
    STATUSES,
    ImportFormatError,
    UnitRecord,
    segment_problem,
)

__all__ = ["iter_tmx", "read_tmx", "write_tmx", "format_tmx_date", "parse_tmx_date"]

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
TMX_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

# Elements whose content is native code (dropped) versus marked-up text (kept).
_CODE_TAGS = frozenset({"bpt", "ept", "ph", "it", "ut"})
_PROP_FIELDS = {prop: name for name, prop in FIELD_PROPS}
_META_ATTRS = ("creationdate", "changedate", "creationid", "changeid", "usagecount")
# XML 1.0 cannot carry most C0 controls, lone surrogates or U+FFFE/FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# --------------------------------------------------------------------------- dates


def format_tmx_date(when: datetime) -> str:
    """``datetime`` -> TMX ``YYYYMMDDThhmmssZ`` (converted to UTC)."""
    return when.astimezone(UTC).strftime(TMX_DATE_FORMAT)


def parse_tmx_date(text: str) -> datetime:
    """TMX date -> aware UTC ``datetime``.

    TMX prescribes ``YYYYMMDDThhmmssZ``; ISO 8601 (``2019-05-14T08:00:00Z``) is also
    accepted because some exporters write it.  Raises ValueError otherwise.
    """
    text = text.strip()
    if len(text) == 16 and text[8] == "T" and text[15] == "Z" and text[:8].isdigit():
        # The common case, parsed by hand: strptime is ten times slower.
        return datetime(
            int(text[0:4]), int(text[4:6]), int(text[6:8]),
            int(text[9:11]), int(text[11:13]), int(text[13:15]), tzinfo=UTC,
        )
    parsed = datetime.fromisoformat(text)  # raises ValueError for junk
    if parsed.tzinfo is None:
        # TMX dates are UTC by definition; a zone-less ISO date means the same.
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError as err:  # 0001-01-01T00:00+05:00 is in year 0 in UTC
        raise DateOutOfRange(text) from err


class DateOutOfRange(ValueError):
    """A date with an offset that lands before year 1 or after year 9999 in UTC."""


def date_problem(err: ValueError, what: str, value: str, not_a_date: Message) -> Message:
    """Why a date field is refused: out of range, else ``not_a_date`` (the reader's own words)."""
    if isinstance(err, DateOutOfRange):
        return Message(N_("{what} {value!r} falls outside the years 1 to 9999 once converted to UTC"),
                       what=what, value=value)
    return not_a_date


# --------------------------------------------------------------------------- reading


def _seg_text(seg: etree._Element) -> str:
    """Plain text of a ``<seg>``: text and ``<hi>`` text kept, code content dropped."""
    parts = [seg.text or ""]
    for child in seg:
        tag = child.tag
        if tag is etree.Entity:
            # Only possible with an external DTD (never loaded): refuse, do not guess.
            raise ImportFormatError(Message(N_("undefined entity {entity}"), entity=child.text), child.sourceline)
        if isinstance(tag, str) and tag not in _CODE_TAGS:
            # <hi> (or anything unknown that is not code): keep its text, recursively.
            parts.append(_seg_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def read_tmx(stream: IO[bytes]) -> Iterator[UnitRecord]:
    """Yield a `UnitRecord` for every ``<tu>`` of a TMX file, streaming.

    ``stream`` is a binary file object (the XML declaration and BOM decide the
    encoding, as XML requires).  Raises `ImportFormatError` with the line and the
    reason for malformed XML, a wrong or undeclared encoding, invalid UTF-8, a
    DOCTYPE that declares entities (bombs, XXE), a ``<tu>`` lacking Chinese or
    English or with an empty segment, a bad date or usagecount; records read
    before the error have already been yielded, so callers that must be
    all-or-nothing import inside one transaction.
    """
    head, peeked = safexml.peek_prolog(stream, "read_tmx")
    if not head.strip():
        raise ImportFormatError(Message(N_("the file is empty")), 1)
    bounded = RecordBoundedStream(peeked)
    events = safexml.iterparse(bounded, events=("end",), tag=("header", "tu"), remove_comments=True,
                               remove_pis=True)
    source, target = "zh", "en"
    checked = False
    last_line = 1
    try:
        for _, elem in events:
            if not checked:
                # The prolog is fully parsed (and nothing expanded) by the first event.
                _check_document(elem, head)
                checked = True
            if elem.tag == "tu":
                yield _read_tu(elem, source, target)
                # Free the unit and everything before it: flat memory however long the file.
                elem.clear(keep_tail=True)
                parent = elem.getparent()
                while elem.getprevious() is not None:
                    del parent[0]
            else:
                if _lang_or_none(elem.get("srclang", "")) == "en":
                    source, target = "en", "zh"
                elem.clear(keep_tail=True)
            last_line = elem.sourceline or last_line
            bounded.record_done()
    except etree.XMLSyntaxError as err:
        raise ImportFormatError(*safexml.syntax_problem(err)) from err
    except RecordTooLarge as err:
        raise ImportFormatError(unit_too_large(err.limit), last_line) from None
    if not checked:
        _check_document(events.root, head)  # a well-formed file without units


def _check_document(elem: etree._Element, head: bytes) -> None:
    """Refuse a non-TMX root or a DOCTYPE that declares any entity."""
    tree = elem.getroottree()
    root = tree.getroot()
    if root.tag != "tmx":
        raise ImportFormatError(Message(N_("not a TMX file (root element <{root}>)"), root=root.tag),
                                root.sourceline)
    entity = safexml.first_entity(tree)
    if entity is not None:
        raise ImportFormatError(safexml.entity_refused(entity, "TMX"),
                                safexml.entity_line(head) or root.sourceline)


def _read_tu(tu: etree._Element, source: str, target: str) -> UnitRecord:
    notes: list[str] = []
    props: list[tuple[str, str]] = []
    fields: dict[str, object] = {}
    # 'zh'/'en' -> (original code, tuv attributes, seg); the first variant of each wins.
    variants: dict[str, tuple[str, dict[str, str], etree._Element | None]] = {}
    others: list[str] = []

    def note_or_prop(child: etree._Element, tag: str) -> None:
        if tag == "note":
            if child.text:
                notes.append(child.text)
        elif tag == "prop":
            ptype = child.get("type")
            if not ptype:
                raise ImportFormatError(Message(N_("<prop> has no type attribute")), child.sourceline)
            name = _PROP_FIELDS.get(ptype)
            if name is None or name in fields:
                props.append((ptype, child.text or ""))
            else:
                fields[name] = child.text or ""

    # One pass over the unit and its two kept variants: lxml element access is
    # the reader's main cost, so nothing is looked at twice.
    for child in tu:
        tag = child.tag
        if tag != "tuv":
            note_or_prop(child, tag)
            continue
        attrs = dict(child.items())
        code = attrs.get(XML_LANG) or attrs.get("lang")  # 'lang' is TMX 1.1's spelling
        if not code:
            raise ImportFormatError(Message(N_("<tuv> has no xml:lang")), child.sourceline)
        lang = _lang_or_none(code)
        if lang is None:
            others.append(code)  # another language of a multilingual memory: skipped
            continue
        if lang in variants:
            continue  # a second Chinese or English variant: the first one wins
        seg = None
        for grandchild in child:
            if grandchild.tag == "seg":
                seg = grandchild
            else:
                note_or_prop(grandchild, grandchild.tag)
        variants[lang] = (code, attrs, seg)

    texts: dict[str, str] = {}
    for lang, name in (("zh", N_("Chinese")), ("en", N_("English"))):
        if lang not in variants:
            if others:
                problem = Message(N_("<tu> has no {lang} variant (it has {codes}; supported codes: {supported})"),
                                  lang=Message(name), codes=", ".join(others),
                                  supported=", ".join(SUPPORTED_CODES))
            else:
                problem = Message(N_("<tu> has no {lang} variant"), lang=Message(name))
            raise ImportFormatError(problem, tu.sourceline)
        code, _, seg = variants[lang]
        if seg is None:
            raise ImportFormatError(Message(N_('<tuv xml:lang="{code}"> has no <seg>'), code=code), tu.sourceline)
        text = _seg_text(seg)
        if not text.strip():
            raise ImportFormatError(Message(N_('<tuv xml:lang="{code}"> has an empty <seg>'), code=code),
                                    seg.sourceline)
        texts[lang] = text
    too_long = segment_problem(texts["zh"], texts["en"])
    if too_long is not None:
        raise ImportFormatError(too_long, tu.sourceline)

    # Metadata: the unit's own, else the translation variant's, else the source's.
    owners = (dict(tu.items()), variants[target][1], variants[source][1])
    meta: dict[str, object] = {}
    for attr in _META_ATTRS:
        for owner in owners:
            raw = owner.get(attr)
            if raw:
                meta[attr] = _parse_meta(attr, raw, tu.sourceline)
                break

    status = fields.pop("status", "approved")
    if status not in STATUSES:
        raise ImportFormatError(
            Message(N_("x-status must be 'draft' or 'approved', not {status!r}"), status=status), tu.sourceline
        )
    return UnitRecord(
        zh=texts["zh"],
        en=texts["en"],
        note="\n\n".join(notes) or None,
        props=tuple(props),
        status=status,  # type: ignore[arg-type]
        zh_lang=variants["zh"][0],
        en_lang=variants["en"][0],
        **fields,  # type: ignore[arg-type]
        **meta,  # type: ignore[arg-type]
    )


def _lang_or_none(code: str) -> str | None:
    try:
        return normalize_lang(code)
    except UnsupportedLanguage:
        return None  # '*all*', or a third language of a multilingual memory


def _parse_meta(attr: str, raw: str, line: int | None) -> object:
    if attr.endswith("date"):
        try:
            return parse_tmx_date(raw)
        except ValueError as err:
            raise ImportFormatError(
                date_problem(err, attr, raw, Message(N_("{attribute} {value!r} is not a TMX date (YYYYMMDDThhmmssZ)"),
                                                     attribute=attr, value=raw)), line,
            ) from err
    if attr == "usagecount":
        if not raw.strip().isdigit():
            raise ImportFormatError(Message(N_("usagecount {value!r} is not a whole number"), value=raw), line)
        return int(raw)
    return raw


# --------------------------------------------------------------------------- writing


def _xml_safe(text: str, what: str, index: int, invalid_xml: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold, or ValueError naming one."""
    bad = _NOT_XML.search(text)
    if bad is None:
        return text
    if invalid_xml == "drop":
        return _NOT_XML.sub("", text)
    raise ValueError(
        f"unit {index}: {what} contains U+{ord(bad.group()):04X}, which XML 1.0 cannot hold"
    )


def _source_tag(srclang: str) -> str:
    if srclang == "*all*":
        return srclang
    if srclang in ("zh", "en"):
        return {"zh": "zh-CN", "en": "en-US"}[srclang]
    return canonical_tag(srclang)


def write_tmx(
    records: Iterable[UnitRecord],
    stream: IO[bytes],
    *,
    srclang: str = "zh",
    invalid_xml: Literal["drop", "error"] = "drop",
) -> int:
    """Write ``records`` to ``stream`` (binary) as TMX 1.4b; return the number written.

    ``srclang`` names the source language: ``'zh'`` (header ``zh-CN``), ``'en'``
    (``en-US``), a full tag such as ``'zh-TW'``, or ``'*all*'``.  Each ``<tuv>``
    carries its record's own ``zh_lang``/``en_lang`` in BCP 47 spelling.

    XML 1.0 cannot hold most C0 control characters (a stray U+0008 occurs in real
    news data), lone surrogates, U+FFFE or U+FFFF.  By default they are dropped,
    as OmegaT and translate-toolkit do, so one bad unit cannot block an export;
    ``invalid_xml="error"`` raises ValueError naming the unit instead.
    """
    counted = _Counted(records)
    for chunk in iter_tmx(counted, srclang=srclang, invalid_xml=invalid_xml):
        stream.write(chunk)
    return counted.count


def iter_tmx(
    records: Iterable[UnitRecord],
    *,
    srclang: str = "zh",
    invalid_xml: Literal["drop", "error"] = "drop",
    units_per_chunk: int = 500,
) -> Iterator[bytes]:
    """The TMX document of ``records`` (as ``write_tmx`` writes it, byte for byte) in
    chunks of about ``units_per_chunk`` units, for a response sent while the memory is
    still being read: a million-unit feed never sits in memory whole."""
    if invalid_xml not in ("drop", "error"):
        raise ValueError(f"invalid_xml must be 'drop' or 'error', not {invalid_xml!r}")
    header_lang = _source_tag(srclang)
    zh_first = header_lang == "*all*" or normalize_lang(header_lang) == "zh"
    sink = _ChunkSink()
    with etree.xmlfile(sink, encoding="UTF-8") as xf:
        xf.write_declaration()
        # OmegaT writes this DOCTYPE; readers do not fetch it (it names no URL).
        xf.write_doctype('<!DOCTYPE tmx SYSTEM "tmx14.dtd">')
        with xf.element("tmx", version="1.4"):
            xf.write("\n  ")
            xf.write(
                etree.Element(
                    "header",
                    creationtool="Duizhao",
                    creationtoolversion="1",
                    segtype="sentence",
                    **{"o-tmf": "Duizhao", "adminlang": "en-US", "srclang": header_lang},
                    datatype="plaintext",
                )
            )
            xf.write("\n  ")
            with xf.element("body"):
                for count, record in enumerate(records, start=1):
                    xf.write("\n    ")
                    xf.write(_tu_element(record, count, zh_first, invalid_xml))
                    if count % units_per_chunk == 0:
                        xf.flush()
                        yield sink.take()
                xf.write("\n  ")
            xf.write("\n")
    yield sink.take()


class _ChunkSink:
    """A binary stream that keeps what is written until it is taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


class _Counted:
    """Iterates ``records`` and counts them."""

    def __init__(self, records: Iterable[UnitRecord]) -> None:
        self._records, self.count = records, 0

    def __iter__(self) -> Iterator[UnitRecord]:
        for record in self._records:
            self.count += 1
            yield record


def _tu_element(
    record: UnitRecord, index: int, zh_first: bool, invalid_xml: str
) -> etree._Element:
    def clean(text: str, what: str) -> str:
        return _xml_safe(text, what, index, invalid_xml)

    attrs: dict[str, str] = {}
    if record.creationdate is not None:
        attrs["creationdate"] = format_tmx_date(record.creationdate)
    if record.creationid:
        attrs["creationid"] = clean(record.creationid, "creationid")
    if record.changedate is not None:
        attrs["changedate"] = format_tmx_date(record.changedate)
    if record.changeid:
        attrs["changeid"] = clean(record.changeid, "changeid")
    if record.usagecount:
        attrs["usagecount"] = str(record.usagecount)
    tu = etree.Element("tu", attrs)
    if record.note:
        etree.SubElement(tu, "note").text = clean(record.note, "note")
    for name, ptype in FIELD_PROPS:
        value = getattr(record, name)
        if value is not None:
            etree.SubElement(tu, "prop", type=ptype).text = clean(value, ptype)
    for ptype, value in record.props:
        etree.SubElement(tu, "prop", type=clean(ptype, "prop type")).text = clean(value, ptype)
    variants = [(record.zh_lang, record.zh, "zh"), (record.en_lang, record.en, "en")]
    if not zh_first:
        variants.reverse()
    for code, text, lang in variants:
        tuv = etree.SubElement(tu, "tuv", {XML_LANG: canonical_tag(code)})
        etree.SubElement(tuv, "seg").text = clean(text, lang)
    return tu
