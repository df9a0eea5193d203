"""The translator's own XLIFF 1.2 or 2.x file, pre-translated and given back whole.

`tm.formats.xliff_pretranslate` rebuilds a document with lxml, which is right for the skeletons
Duizhao writes itself, but a CAT tool's file must come back as it went out: lxml rewrites the XML
declaration, quotes, character references, CDATA sections and empty elements. Here lxml only
*reads* the file (`tm.formats.xliff.parse_xliff`: malformed XML, entities, a non-XLIFF
root and other languages are refused with the line), and the answer is the original bytes with
a few spans inserted or replaced: the filled ``<target>`` s, the attributes that mark them, and
the candidates. Every other byte is the file's own.

Where things go (as `tm.formats.xliff_pretranslate` documents for each version): 1.2 targets
``state="translated" state-qualifier="exact-match"`` or ``state="needs-review-translation"
state-qualifier="fuzzy-match"``, candidates in ``<alt-trans origin="duizhao">`` after the
unit's other XLIFF children; 2.x ``state``/``subState="duizhao:exact|fuzzy"`` on the segment,
candidates in the unit's ``<mtc:matches>`` (made first in the unit when missing).

A segment is worked on only when its target is missing or empty; a segment with a target (a
person's, or one an earlier run filled) is left exactly as it is, its candidates included, and
the candidates an earlier run attached to a still-empty segment are replaced in place: running
it twice gives the same bytes.

Inline codes: each segment's text is read with its codes as `tm.core.inline.Code` s whose
``raw`` markup is the file's own bytes, so a target gets the source's codes exactly as written.
"""
from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from common.messages import N_, Message
from tm.core.inline import Code
from tm.formats.records import ImportFormatError
from tm.formats.xliff import first_child, language_pair, local_name, parse_xliff
from tm.formats.xliff_pretranslate import NS_MTC, ORIGIN

__all__ = ["RoundTripDocument", "Segment", "Fill", "Candidate"]

#: Inline elements whose content is native code (kept whole as one code), by version.
_NATIVE = {1: frozenset({"ph", "bpt", "ept", "it", "x", "bx", "ex"}),
           2: frozenset({"ph", "sc", "ec", "sm", "em", "cp"})}

#: One piece of markup: a comment, a PI, CDATA, a DOCTYPE (with its internal subset), an end
#: tag or a start tag (attribute values may hold ``>``).
_MARKUP = re.compile(
    r"<!--.*?-->|<\?.*?\?>|<!\[CDATA\[.*?\]\]>|<!DOCTYPE(?:[^\[>]*\[.*?\])?[^>]*>"
    r"|</[^>]*>|<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.S)
_NAME = re.compile(r"<([^\s/>]+)")
_UNICODE_WIDE = ("utf-16", "utf-32")


@dataclass
class _Span:
    start: int  # '<' of the start tag
    start_end: int  # after the start tag's '>'
    end: int  # after the end tag's '>' (== start_end for an empty element)
    empty: bool


@dataclass(frozen=True)
class Candidate:
    """A translation offered beside a segment: the stored source, the target as markup-ready
    text (``target_xml``: escaped, codes placed) and its score."""

    source: str
    target_xml: str
    score: float
    #: A fragment of the segment, not a match of the whole (2.x ``subType="duizhao:fragment"``).
    fragment: bool = False


@dataclass(frozen=True)
class Fill:
    """A target to write: its markup-ready content and whether it came from an exact match."""

    target_xml: str
    exact: bool


@dataclass
class Segment:
    """One translatable segment of the file."""

    text: str  # the plain text (codes left out), as matched
    codes: list[Code]
    src: str
    tgt: str
    empty: bool  # no target, or one without text or markup
    _container: etree._Element = field(repr=False)  # 1.2 <trans-unit>, 2.x <segment>
    _unit: etree._Element = field(repr=False)  # 1.2 <trans-unit>, 2.x <unit>
    _source: etree._Element = field(repr=False)


class RoundTripDocument:
    """An XLIFF file read for pre-translation; `segments` in document order, `result` the
    file with what `fill` and `offer` asked for."""

    def __init__(self, data: bytes) -> None:
        self._tree, self.version = parse_xliff(data)
        root = self._tree.getroot()
        self._encoding = self._tree.docinfo.encoding or "UTF-8"
        self._wide, self._text = _decode(data, self._encoding)
        self._elements = list(root.iter(etree.Element))  # kept alive: the span map keys on them
        self._spans = _spans(self._text, self._elements)
        self._edits: list[tuple[int, int, int, str]] = []  # start, end, order, replacement
        self._attributes: dict[int, tuple[etree._Element, dict[str, str]]] = {}
        self._offered: list[tuple[Segment, list[Candidate]]] = []
        self.segments = self._find_segments(root)

    # ------------------------------------------------------------ reading

    def _find_segments(self, root: etree._Element) -> list[Segment]:
        found = []
        if self.version == 1:
            for file_elem in root:
                if local_name(file_elem.tag) != "file":
                    continue
                src, tgt = language_pair(file_elem.get("source-language"), file_elem.get("target-language"),
                                  file_elem.sourceline)
                for tu in file_elem.iter("{*}trans-unit", "trans-unit"):
                    source = first_child(tu, "source")
                    if tu.get("translate") != "no" and source is not None:
                        found.append(self._segment(tu, tu, source, src, tgt))
        else:
            src, tgt = language_pair(root.get("srcLang"), root.get("trgLang"), root.sourceline)
            for unit in root.iter("{*}unit", "unit"):
                if unit.get("translate") == "no":
                    continue
                for segment in unit:
                    source = first_child(segment, "source") if local_name(segment.tag) == "segment" else None
                    if source is not None:
                        found.append(self._segment(segment, unit, source, src, tgt))
        return [s for s in found if s.text.strip()]

    def _segment(self, container, unit, source, src: str, tgt: str) -> Segment:
        codes: list[Code] = []
        text = self._read_inline(source, codes, [0])
        target = first_child(container, "target")
        empty = target is None or (not (target.text or "").strip() and len(target) == 0)
        return Segment(text, codes, src, tgt, empty, container, unit, source)

    def _read_inline(self, elem: etree._Element, codes: list[Code], pairs: list[int], base: int = 0) -> str:
        """The plain text of ``elem`` (as the XLIFF importer reads it), appending its codes with
        their offsets into the segment's text to ``codes``."""
        parts = [elem.text or ""]
        length = base + len(parts[0])
        for child in elem:
            if child.tag is etree.Entity:
                raise ImportFormatError(Message(N_("undefined entity {entity}"), entity=child.text),
                                        child.sourceline)
            if isinstance(child.tag, str):
                span = self._spans[child]
                if local_name(child.tag) in _NATIVE[self.version] or span.empty:
                    codes.append(Code(length, "standalone", self._text[span.start:span.end]))
                else:  # <g>, <pc>, <mrk>: their text is the segment's, their tags two codes
                    pair = pairs[0] = pairs[0] + 1
                    codes.append(Code(length, "open", self._text[span.start:span.start_end], pair))
                    inner = self._read_inline(child, codes, pairs, length)
                    parts.append(inner)
                    length += len(inner)
                    close_start = self._text.rfind("</", span.start_end, span.end)
                    codes.append(Code(length, "close", self._text[close_start:span.end], pair))
            tail = child.tail or ""
            parts.append(tail)
            length += len(tail)
        return "".join(parts)

    # ------------------------------------------------------------ writing

    def fill(self, segment: Segment, fill: Fill) -> None:
        """Write ``fill`` as the (empty) segment's target and mark where it came from."""
        container = segment._container
        target = first_child(container, "target")
        if self.version == 1:
            marks = {"state": "translated" if fill.exact else "needs-review-translation",
                     "state-qualifier": "exact-match" if fill.exact else "fuzzy-match"}
        else:
            marks = {}
            self._set(container, {"state": "translated" if fill.exact else "initial",
                                  "subState": f"{ORIGIN}:{'exact' if fill.exact else 'fuzzy'}"})
        content = self._encode(fill.target_xml)
        if target is not None:
            span = self._spans[target]
            start_tag = self._text[span.start:span.start_end]
            if span.empty:  # <target/>: written out with its content
                name = _NAME.match(start_tag).group(1)  # type: ignore[union-attr]
                opened = _set_attributes(re.sub(r"\s*/>$", ">", start_tag), marks)
                self._edit(span.start, span.end, opened + content + f"</{name}>")
            else:
                self._set(target, marks)
                self._edit(span.start_end, self._text.rfind("</", span.start_end, span.end), content)
            return
        anchor = first_child(container, "seg-source") if self.version == 1 else None
        anchor = anchor if anchor is not None else segment._source
        name = self._qualified(anchor, "target")
        attributes = "".join(f" {k}={quoteattr(v)}" for k, v in marks.items())
        self._insert_after(anchor, f"<{name}{attributes}>" + fill.target_xml + f"</{name}>")

    def offer(self, segment: Segment, candidates: Sequence[Candidate]) -> None:
        """Attach ``candidates`` to the (empty) segment, replacing those an earlier run attached
        (in their place, so a second run writes the same bytes). Call after `fill`."""
        if self.version == 1:
            self._offer_12(segment, candidates)
        else:
            self._offered.append((segment, list(candidates)))

    def _offer_12(self, segment: Segment, candidates: Sequence[Candidate]) -> None:
        tu = segment._container
        ours = [c for c in tu if local_name(c.tag) == "alt-trans" and c.get("origin") == ORIGIN]
        text = "".join(self._alt_trans(tu, c) for c in candidates)
        namespace = etree.QName(tu.tag).namespace
        core = [c for c in tu if isinstance(c.tag, str) and etree.QName(c.tag).namespace == namespace
                and not any(c is o for o in ours)]
        if text:
            if ours and self._spans[ours[0]].start > self._spans[core[-1]].start:
                self._insert_before(ours[0], text)
            else:
                # After the unit's last XLIFF child: extension elements come last in 1.2.
                self._insert_after(core[-1], text)
        for old in ours:
            self._remove(old)

    def _alt_trans(self, tu: etree._Element, candidate: Candidate) -> str:
        alt, source, target = (self._qualified(tu, n) for n in ("alt-trans", "source", "target"))
        file_elem = tu.getparent()
        while file_elem is not None and local_name(file_elem.tag) != "file":
            file_elem = file_elem.getparent()
        code = file_elem.get("target-language") if file_elem is not None else None
        lang = f" xml:lang={quoteattr(code)}" if code else ""
        return (f"<{alt} match-quality={quoteattr(_fmt(candidate.score))} origin={quoteattr(ORIGIN)}>"
                f"<{source}>{escape(candidate.source)}</{source}>"
                f"<{target}{lang}>{candidate.target_xml}</{target}></{alt}>")

    def _write_matches(self) -> None:
        """2.x: the candidates of each unit's segments into its ``<mtc:matches>``."""
        units: dict[int, tuple[etree._Element, list[tuple[Segment, list[Candidate]]]]] = {}
        for segment, candidates in self._offered:
            units.setdefault(id(segment._unit), (segment._unit, []))[1].append((segment, candidates))
        for unit, offered in units.values():
            container = unit.find(f"{{{NS_MTC}}}matches")
            existing = [m for m in container if isinstance(m.tag, str)] if container is not None else []
            plan = []  # (elements an earlier run wrote for the segment, the new markup)
            for segment, candidates in offered:
                if not candidates and not segment._container.get("id"):
                    continue  # nothing to offer, and nothing an earlier run offered (it gave an id)
                ref = f"#{self._segment_id(unit, segment._container)}"
                ours = [m for m in existing if m.get("origin") == ORIGIN and m.get("ref") == ref]
                plan.append((ours, "".join(self._mtc_match(unit, container, ref, c) for c in candidates)))
            replaced = sum(len(ours) for ours, _ in plan)
            if container is not None and replaced == len(existing) and not any(text for _, text in plan):
                self._remove(container)  # only what earlier runs wrote, and nothing now
                continue
            appended = []
            for ours, text in plan:
                if ours and text:
                    self._insert_before(ours[0], text)
                elif text:
                    appended.append(text)
                for old in ours:
                    self._remove(old)
            if not appended:
                continue
            if container is not None:
                span = self._spans[container]
                close = self._text.rfind("</", span.start_end, span.end)
                self._edit(close, close, self._encode("".join(appended)))
            else:
                prefix = _prefix_for(unit, NS_MTC)
                declare = "" if prefix else f' xmlns:mtc="{NS_MTC}"'
                name = f"{prefix or 'mtc'}:matches"
                whitespace = unit.text if unit.text and not unit.text.strip() else ""
                at = self._spans[unit].start_end
                # First in the unit: modules come before <notes> and the segments in 2.x.
                self._edit(at, at, self._encode(f"{whitespace}<{name}{declare}>{''.join(appended)}</{name}>"))

    def _mtc_match(self, unit: etree._Element, container: etree._Element | None, ref: str,
                   candidate: Candidate) -> str:
        prefix = _prefix_for(container if container is not None else unit, NS_MTC) or "mtc"
        source, target = (self._qualified(unit, n) for n in ("source", "target"))
        sub_type = f' subType="{ORIGIN}:fragment"' if candidate.fragment else ""
        return (f"<{prefix}:match ref={quoteattr(ref)} similarity={quoteattr(_fmt(min(candidate.score, 100.0)))}"
                f' origin="{ORIGIN}" type="tm"{sub_type}>'
                f"<{source}>{escape(candidate.source)}</{source}><{target}>{candidate.target_xml}</{target}>"
                f"</{prefix}:match>")

    def _segment_id(self, unit: etree._Element, segment: etree._Element) -> str:
        """The segment's id; one unique in the unit is given when it has none (mtc:match refers
        to its segment by id)."""
        if segment.get("id"):
            return str(segment.get("id"))
        taken = {e.get("id") for e in unit.iter(etree.Element)}
        number = [e for e in unit if local_name(e.tag) in ("segment", "ignorable")].index(segment) + 1
        new = f"{ORIGIN}-{number}"
        while new in taken:
            new += "-"
        segment.set("id", new)
        self._set(segment, {"id": new})
        return new

    def result(self) -> bytes:
        """The file with every fill and candidate written; every other byte is the original's."""
        self._write_matches()
        self._offered.clear()
        for elem, values in self._attributes.values():
            span = self._spans[elem]
            self._edit(span.start, span.start_end, _set_attributes(self._text[span.start:span.start_end], values))
        self._attributes.clear()
        out, position = [], 0
        # Insertions at a point go before a replacement starting there, each kind in call order.
        for start, end, _order, text in sorted(self._edits, key=lambda e: (e[0], e[1] > e[0], e[2])):
            if start < position:
                raise AssertionError(f"overlapping edits at {start}")  # a bug here, not the file's
            out.append(self._text[position:start])
            out.append(text)
            position = end
        out.append(self._text[position:])
        self._edits.clear()
        joined = "".join(out)
        if self._wide is None:
            return joined.encode("latin-1")
        bom, codec = self._wide
        return bom + joined.encode(codec)

    # ------------------------------------------------------------ helpers

    def _edit(self, start: int, end: int, text: str) -> None:
        self._edits.append((start, end, len(self._edits), text))

    def _set(self, elem: etree._Element, values: dict[str, str]) -> None:
        """Set attributes of ``elem``'s start tag (all of one element's in one edit)."""
        self._attributes.setdefault(id(elem), (elem, {}))[1].update(values)

    def _encode(self, text: str) -> str:
        """``text`` in the file's encoding, as the working string holds it."""
        if self._wide is not None:
            return text
        return text.encode(self._encoding, errors="xmlcharrefreplace").decode("latin-1")

    def _whitespace_before(self, elem: etree._Element) -> str:
        """The indentation before ``elem`` (whitespace after the previous tag), or ""."""
        start = begin = self._spans[elem].start
        while begin > 0 and self._text[begin - 1] in " \t\r\n":
            begin -= 1
        return self._text[begin:start] if begin > 0 and self._text[begin - 1] == ">" else ""

    def _insert_after(self, elem: etree._Element, markup: str) -> None:
        at = self._spans[elem].end
        self._edit(at, at, self._encode(self._whitespace_before(elem) + markup))

    def _insert_before(self, elem: etree._Element, markup: str) -> None:
        whitespace = self._whitespace_before(elem)
        at = self._spans[elem].start - len(whitespace)
        self._edit(at, at, self._encode(whitespace + markup))

    def _remove(self, elem: etree._Element) -> None:
        span = self._spans[elem]
        self._edit(span.start - len(self._whitespace_before(elem)), span.end, "")

    @staticmethod
    def _qualified(elem: etree._Element, name: str) -> str:
        """``name`` in the XLIFF namespace as ``elem``'s scope spells it (unprefixed when the
        XLIFF namespace is the default there, or the file has none)."""
        namespace = etree.QName(elem.tag).namespace
        prefix = _prefix_for(elem, namespace) if namespace else None
        return f"{prefix}:{name}" if prefix else name


def _decode(data: bytes, encoding: str) -> tuple[tuple[bytes, str] | None, str]:
    """The file as a string whose slices are its bytes: latin-1 for any encoding that keeps
    ASCII's bytes for markup (UTF-8, GB18030, Big5 ...: their multi-byte characters never use
    ``<>"'/=``), else (UTF-16/32) the decoded text with the byte-order mark and codec to write
    it back with."""
    lowered = encoding.lower().replace("_", "-")
    if not lowered.startswith(_UNICODE_WIDE):
        return None, data.decode("latin-1")
    width = 4 if lowered.startswith("utf-32") else 2
    boms = ((codecs.BOM_UTF32_LE, "le"), (codecs.BOM_UTF32_BE, "be")) if width == 4 else \
        ((codecs.BOM_UTF16_LE, "le"), (codecs.BOM_UTF16_BE, "be"))
    bom, order = next(((b, o) for b, o in boms if data.startswith(b)),
                      (b"", "le" if data[:1] == b"<" else "be"))
    codec = f"utf-{width * 8}-{order}"
    return (bom, codec), data[len(bom):].decode(codec)


def _spans(text: str, elements: Sequence[etree._Element]) -> dict[etree._Element, _Span]:
    """Each element's span in ``text``: the file's start and end tags in document order, which
    is lxml's order of ``elements``."""
    spans: dict[etree._Element, _Span] = {}
    stack: list[_Span] = []
    order: list[_Span] = []
    for found in _MARKUP.finditer(text):
        tag = found.group()
        if tag.startswith(("<!", "<?")):
            continue
        if tag.startswith("</"):
            span = stack.pop()
            span.end = found.end()
            continue
        empty = tag.endswith("/>")
        span = _Span(found.start(), found.end(), found.end(), empty)
        order.append(span)
        if not empty:
            stack.append(span)
    if len(order) != len(elements) or stack:
        raise ImportFormatError(Message(N_("the XLIFF file could not be read as written (its markup and its "
                                           "elements disagree)")), 1)
    for elem, span in zip(elements, order, strict=True):
        spans[elem] = span
    return spans


def _set_attributes(start_tag: str, values: dict[str, str]) -> str:
    """``start_tag`` with each attribute of ``values`` set: replaced where it is, else added
    before the closing ``>``; every other byte as written."""
    for name, value in values.items():
        pattern = re.compile(r"(\s" + re.escape(name) + r"\s*=\s*)(\"[^\"]*\"|'[^']*')")
        found = pattern.search(start_tag)
        if found is not None:
            start_tag = start_tag[:found.start(2)] + quoteattr(value) + start_tag[found.end(2):]
        else:
            at = len(start_tag) - (2 if start_tag.endswith("/>") else 1)
            while start_tag[at - 1] in " \t\r\n":
                at -= 1
            start_tag = f"{start_tag[:at]} {name}={quoteattr(value)}{start_tag[at:]}"
    return start_tag


def _prefix_for(elem: etree._Element, namespace: str) -> str | None:
    """The prefix bound to ``namespace`` in ``elem``'s scope (None: the default, or unbound)."""
    for prefix, uri in elem.nsmap.items():
        if uri == namespace and prefix:
            return prefix
    return None


def _fmt(score: float) -> str:
    return f"{float(score):g}"
