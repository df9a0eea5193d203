"""An XLIFF 1.2 or 2.x document opened for pre-translation: its segments found, its targets
filled and its candidates and glossary terms attached, everything else left as it was.

What to fill and with what is the caller's choice (`tm.pretranslate`, which asks the memory);
this module knows where each thing goes in each version of the format:

XLIFF 1.2
    A filled ``<target>`` gets ``state="translated"`` with ``state-qualifier="exact-match"``
    for an exact match, else ``state="needs-review-translation"`` with
    ``state-qualifier="fuzzy-match"``: a person must confirm it, and the XLIFF reader will not
    learn it back before they do. Candidates go in ``<alt-trans match-quality="87.5"
    origin="duizhao">`` (source, target); glossary terms in ``<note from="duizhao-glossary">term
    = translation</note>`` (1.2 has no glossary element).
XLIFF 2.x
    A filled ``<target>`` gets ``state="translated"`` for an exact match, otherwise it stays
    ``state="initial"`` (2.x has no "needs review" state); ``subState="duizhao:exact"`` or
    ``"duizhao:fuzzy"`` marks where it came from. Candidates go in the Translation Candidates
    module (``<mtc:matches><mtc:match ref="#seg" similarity=... origin="duizhao" type="tm">``),
    glossary terms in the Glossary module (``<gls:glossary><gls:glossEntry><gls:term>
    <gls:translation>``), both first in the ``<unit>`` as the 2.x schema orders them.

Opening a document drops the candidates and glossary terms a previous run attached, so running
twice gives the same file; targets already written are never overwritten. Parsed whole by
`tm.formats.xliff.parse_xliff`; errors are `ImportFormatError` with the line.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from tm.formats.xliff import first_child, language_pair, local_name, parse_xliff, plain_text

__all__ = ["NS_MTC", "NS_GLS", "ORIGIN", "GLOSSARY_NOTE", "Suggestion", "Slot", "PretranslationDocument"]

NS_MTC = "urn:oasis:names:tc:xliff:matches:2.0"
NS_GLS = "urn:oasis:names:tc:xliff:glossary:2.0"
ORIGIN = "duizhao"
GLOSSARY_NOTE = "duizhao-glossary"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class Suggestion:
    """A candidate translation of a segment: the source it came from, the target to offer (the
    adapted one where numbers were adapted) and its score."""

    source: str
    target: str
    score: float


@dataclass
class Slot:
    """One source segment of the document and where its target goes."""

    container: etree._Element  # 1.2 <trans-unit> or 2.x <segment>
    unit: etree._Element  # the element that receives candidates (<trans-unit> / <unit>)
    source: etree._Element
    text: str
    src: str
    tgt: str
    tgt_code: str

    def target_is_empty(self) -> bool:
        """True when the segment has no target yet, or one with neither text nor markup."""
        target = first_child(self.container, "target")
        return target is None or (not (target.text or "").strip() and len(target) == 0)


class PretranslationDocument:
    """An XLIFF document (bytes) with its segments found: `slots`, in document order.

    Raises `ImportFormatError` (with the line) for malformed or unsafe XML, a non-XLIFF root or
    languages other than Chinese and English.
    """

    def __init__(self, data: bytes) -> None:
        self._tree, self.version = parse_xliff(data)
        root = self._tree.getroot()
        self.slots = _slots_12(root) if self.version == 1 else _slots_20(root)
        if self.version == 2:
            _purge_previous_run(root)

    def write(self, slot: Slot, suggestions: Sequence[Suggestion], terms: Sequence[tuple[str, str]], *,
              fill: str | None = None, exact: bool = False) -> None:
        """Attach ``suggestions`` and glossary ``terms`` (source term, translation) to ``slot``;
        with ``fill``, also write it as the target, marked exact or fuzzy."""
        if self.version == 1:
            _write_12(slot, suggestions, terms, fill, exact)
        else:
            _write_20(slot, suggestions, terms, fill, exact)

    def to_bytes(self) -> bytes:
        """The document, in the encoding it came in (UTF-8 when it declared none)."""
        return etree.tostring(self._tree, xml_declaration=True, encoding=self._tree.docinfo.encoding or "UTF-8")


# ------------------------------------------------------------------ finding the segments

def _slots_12(root: etree._Element) -> list[Slot]:
    slots = []
    for file_elem in root:
        if local_name(file_elem.tag) != "file":
            continue
        src, tgt = language_pair(file_elem.get("source-language"), file_elem.get("target-language"),
                          file_elem.sourceline)
        for tu in file_elem.iter("{*}trans-unit", "trans-unit"):
            source = first_child(tu, "source")
            if tu.get("translate") == "no" or source is None:
                continue
            text = plain_text(source, version=1)
            if text.strip():
                slots.append(Slot(tu, tu, source, text, src, tgt, file_elem.get("target-language")))
    return slots


def _slots_20(root: etree._Element) -> list[Slot]:
    src, tgt = language_pair(root.get("srcLang"), root.get("trgLang"), root.sourceline)
    slots = []
    for unit in root.iter("{*}unit", "unit"):
        if unit.get("translate") == "no":
            continue
        for segment in unit:
            if local_name(segment.tag) != "segment":
                continue
            source = first_child(segment, "source")
            text = plain_text(source, version=2) if source is not None else ""
            if text.strip():
                slots.append(Slot(segment, unit, source, text, src, tgt, root.get("trgLang")))
    return slots


# ------------------------------------------------------------------ writing

def _fmt(score: float) -> str:
    """A score as an attribute value: ``87.5``, ``100`` (no trailing ``.0``)."""
    return f"{float(score):g}"


def _write_12(slot: Slot, suggestions: Sequence[Suggestion], terms: Sequence[tuple[str, str]],
              fill: str | None, exact: bool) -> None:
    tu, ns = slot.container, etree.QName(slot.container.tag).namespace
    q = (lambda name: f"{{{ns}}}{name}") if ns else (lambda name: name)
    for old in [c for c in tu if (local_name(c.tag) == "alt-trans" and c.get("origin") == ORIGIN)
                or (local_name(c.tag) == "note" and c.get("from") == GLOSSARY_NOTE)]:
        _remove(old)
    if fill is not None:
        target = first_child(tu, "target")
        if target is None:
            target = etree.Element(q("target"))
            anchor = first_child(tu, "seg-source") if first_child(tu, "seg-source") is not None else slot.source
            _insert(tu, tu.index(anchor) + 1, target)
        target.text = fill
        target.set("state", "translated" if exact else "needs-review-translation")
        target.set("state-qualifier", "exact-match" if exact else "fuzzy-match")
    # Module order: alt-trans and notes after the core children, before extension elements.
    insert_at = _after_core(tu, ns)
    for source_text, translation in terms:
        note = etree.Element(q("note"), {"from": GLOSSARY_NOTE})
        note.text = f"{source_text} = {translation}"
        _insert(tu, insert_at, note)
        insert_at += 1
    for suggestion in suggestions:
        alt = etree.Element(q("alt-trans"), {"match-quality": _fmt(suggestion.score), "origin": ORIGIN})
        etree.SubElement(alt, q("source")).text = suggestion.source
        alt_target = etree.SubElement(alt, q("target"))
        if slot.tgt_code:
            alt_target.set(_XML_LANG, slot.tgt_code)
        alt_target.text = suggestion.target
        _insert(tu, insert_at, alt)
        insert_at += 1


def _write_20(slot: Slot, suggestions: Sequence[Suggestion], terms: Sequence[tuple[str, str]],
              fill: str | None, exact: bool) -> None:
    segment, unit = slot.container, slot.unit
    ns = etree.QName(segment.tag).namespace
    q = (lambda name: f"{{{ns}}}{name}") if ns else (lambda name: name)
    if fill is not None:
        target = first_child(segment, "target")
        if target is None:
            target = etree.Element(q("target"))
            _insert(segment, segment.index(slot.source) + 1, target)
        target.text = fill
        segment.set("state", "translated" if exact else "initial")
        segment.set("subState", f"{ORIGIN}:{'exact' if exact else 'fuzzy'}")
    if suggestions:
        if not segment.get("id"):
            # mtc:match needs a reference to its segment; ids must be unique within the unit.
            segment.set("id", f"{ORIGIN}-{list(unit).index(segment) + 1}")
        container = _module_container(unit, NS_MTC, "matches")
        for suggestion in suggestions:
            entry = etree.SubElement(container, f"{{{NS_MTC}}}match", {
                "ref": f"#{segment.get('id')}", "similarity": _fmt(min(suggestion.score, 100.0)),
                "origin": ORIGIN, "type": "tm"})
            etree.SubElement(entry, q("source")).text = suggestion.source
            etree.SubElement(entry, q("target")).text = suggestion.target
    if terms:
        glossary = _module_container(unit, NS_GLS, "glossary")
        for source_text, translation in terms:
            entry = etree.SubElement(glossary, f"{{{NS_GLS}}}glossEntry")
            etree.SubElement(entry, f"{{{NS_GLS}}}term", source=ORIGIN).text = source_text
            etree.SubElement(entry, f"{{{NS_GLS}}}translation", source=ORIGIN).text = translation


def _module_container(unit: etree._Element, namespace: str, name: str) -> etree._Element:
    """The unit's ``<mtc:matches>``/``<gls:glossary>``, created first in the unit if missing."""
    tag = f"{{{namespace}}}{name}"
    container = unit.find(tag)
    if container is None:
        container = etree.Element(tag, nsmap={"mtc" if namespace == NS_MTC else "gls": namespace})
        container.tail = unit.text
        unit.insert(0, container)
    return container


def _purge_previous_run(root: etree._Element) -> None:
    """Drop what an earlier run attached (2.x), so a second run gives the same document."""
    for match in list(root.iter(f"{{{NS_MTC}}}match")):
        if match.get("origin") == ORIGIN:
            _remove(match)
    for entry in list(root.iter(f"{{{NS_GLS}}}glossEntry")):
        term = entry.find(f"{{{NS_GLS}}}term")
        if term is not None and term.get("source") == ORIGIN:
            _remove(entry)
    for tag in (f"{{{NS_MTC}}}matches", f"{{{NS_GLS}}}glossary"):
        for container in list(root.iter(tag)):
            if len(container) == 0:
                _remove(container)


def _after_core(tu: etree._Element, ns: str | None) -> int:
    """Index after the last child in the XLIFF namespace (extensions come last in 1.2)."""
    last = 0
    for index, child in enumerate(tu):
        if isinstance(child.tag, str) and etree.QName(child.tag).namespace == ns:
            last = index + 1
    return last


def _insert(parent: etree._Element, index: int, elem: etree._Element) -> None:
    """Insert ``elem`` at ``index`` keeping the file's indentation: the new element takes the
    whitespace that followed its predecessor, which now gets the children's indentation."""
    indent = parent.text if parent.text and not parent.text.strip() else None
    if index > 0:
        previous = parent[index - 1]
        elem.tail, previous.tail = previous.tail, indent
    else:
        elem.tail, parent.text = parent.text, indent
    parent.insert(index, elem)


def _remove(elem: etree._Element) -> None:
    parent = elem.getparent()
    previous = elem.getprevious()
    if elem.tail and previous is not None and not (previous.tail or "").strip():
        previous.tail = elem.tail
    parent.remove(elem)
