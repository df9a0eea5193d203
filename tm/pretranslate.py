"""Pre-translate an XLIFF file from the translation memory (and the glossary), no Flask here.

    XLIFF bytes -> every source segment -> lookup(segments, src, tgt) in one batch
      -> empty targets whose best match reaches the threshold are filled
      -> the best candidates are attached to each unit, glossary terms too
      -> the same document back, everything else untouched

The caller passes the lookups as callables, so this module knows neither the database nor the
glossary package (``tm`` never imports ``glossary``):

* ``lookup(segments: list[str], src, tgt) -> list[list[dict]]``: the shape
  ``tm.lookup.lookup_many`` returns, best first: ``source``, ``target``, ``score``,
  optional ``adapted_target``, ``memory``, ``unit_id``;
* ``terms(segment, src, tgt) -> list[dict]``, optional: glossary hits as the glossary API gives
  them (``{"term": {"text"}, "targets": [{"text"}...]}``) or plain ``{"term", "translation"}``.

What is written:

XLIFF 1.2
    A filled ``<target>`` gets ``state="translated"`` with ``state-qualifier="exact-match"``
    for a 100 (or in-context 101) match whose numbers were not adapted, else
    ``state="needs-review-translation"`` with ``state-qualifier="fuzzy-match"``: a person must
    confirm it, and the XLIFF reader will not learn it back before they do. Candidates go in
    ``<alt-trans match-quality="87.5" origin="duizhao">`` (source, target); glossary hits in
    ``<note from="duizhao-glossary">term = translation</note>`` (1.2 has no glossary element).
XLIFF 2.x
    A filled ``<target>`` gets ``state="translated"`` for an exact match, otherwise it stays
    ``state="initial"`` (2.x has no "needs review" state); ``subState="duizhao:exact"`` or
    ``"duizhao:fuzzy"`` marks where it came from. Candidates go in the Translation Candidates
    module (``<mtc:matches><mtc:match ref="#seg" similarity=... origin="duizhao" type="tm">``),
    glossary hits in the Glossary module (``<gls:glossary><gls:glossEntry><gls:term>
    <gls:translation>``), both first in the ``<unit>`` as the 2.x schema orders them.

Running it twice gives the same file: Duizhao's own candidates and notes from a previous run
are replaced, targets a person (or a previous run) wrote are never overwritten.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lxml import etree

from common import safexml
from common.languages import UnsupportedLanguage, normalize_lang
from common.messages import Message, N_
from tm.formats.records import ImportFormatError
from tm.formats.xliff import check_entities, first_child, local_name, plain_text, xliff_version

NS_MTC = "urn:oasis:names:tc:xliff:matches:2.0"
NS_GLS = "urn:oasis:names:tc:xliff:glossary:2.0"
ORIGIN = "duizhao"
GLOSSARY_NOTE = "duizhao-glossary"
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


@dataclass
class _Slot:
    """One source segment of the document and where its target goes."""

    container: etree._Element  # 1.2 <trans-unit> or 2.x <segment>
    unit: etree._Element  # the element that receives candidates (<trans-unit> / <unit>)
    source: etree._Element
    text: str
    src: str
    tgt: str
    tgt_code: str


def pretranslate(data: bytes, lookup: Lookup, terms: Terms | None = None, *,
                 threshold: float = DEFAULT_THRESHOLD, candidates: int = DEFAULT_CANDIDATES
                 ) -> tuple[bytes, PretranslateReport]:
    """Fill and annotate an XLIFF 1.2 or 2.x document; returns the new bytes and a report.

    Raises `ImportFormatError` (with the line) for malformed or unsafe XML, a non-XLIFF root or
    languages other than Chinese and English.
    """
    try:
        tree = etree.parse(io.BytesIO(data), safexml.parser(remove_blank_text=False))
    except etree.XMLSyntaxError as err:
        raise ImportFormatError(*safexml.syntax_problem(err)) from err
    check_entities(tree, data[:safexml.PROLOG_PEEK])
    root = tree.getroot()
    version = xliff_version(root)
    slots = _slots_12(root) if version == 1 else _slots_20(root)
    if version == 2:
        _purge_previous_run(root)

    results: list[Sequence[dict]] = [[] for _ in slots]
    by_pair: dict[tuple[str, str], list[int]] = {}
    for position, slot in enumerate(slots):
        by_pair.setdefault((slot.src, slot.tgt), []).append(position)
    for (src, tgt), positions in by_pair.items():
        found = lookup([slots[p].text for p in positions], src, tgt)
        for position, matches in zip(positions, found):
            results[position] = matches

    filled = exact = with_candidates = term_count = 0
    for slot, matches in zip(slots, results):
        matches = list(matches)[:candidates]
        hits = list(terms(slot.text, slot.src, slot.tgt)) if terms else []
        term_count += len(hits)
        write = _write_12 if version == 1 else _write_20
        was_filled, was_exact = write(slot, matches, hits, threshold)
        filled += was_filled
        exact += was_exact
        with_candidates += bool(matches)
    body = etree.tostring(tree, xml_declaration=True, encoding=tree.docinfo.encoding or "UTF-8")
    return body, PretranslateReport(version, len(slots), filled, exact, with_candidates, term_count)


# ------------------------------------------------------------------ finding the segments

def _langs(source: str | None, target: str | None, line: int | None) -> tuple[str, str]:
    try:
        pair = normalize_lang(source or ""), normalize_lang(target or "")
    except UnsupportedLanguage:
        raise ImportFormatError(Message(N_("the file's languages {source}→{target} are not Chinese and English"),
                                        source=source, target=target), line) from None
    if pair[0] == pair[1]:
        raise ImportFormatError(Message(N_("source and target language are both {lang!r}"), lang=pair[0]), line)
    return pair


def _slots_12(root: etree._Element) -> list[_Slot]:
    slots = []
    for file_elem in root:
        if local_name(file_elem.tag) != "file":
            continue
        src, tgt = _langs(file_elem.get("source-language"), file_elem.get("target-language"),
                          file_elem.sourceline)
        for tu in file_elem.iter("{*}trans-unit", "trans-unit"):
            source = first_child(tu, "source")
            if tu.get("translate") == "no" or source is None:
                continue
            text = plain_text(source, version=1)
            if text.strip():
                slots.append(_Slot(tu, tu, source, text, src, tgt, file_elem.get("target-language")))
    return slots


def _slots_20(root: etree._Element) -> list[_Slot]:
    src, tgt = _langs(root.get("srcLang"), root.get("trgLang"), root.sourceline)
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
                slots.append(_Slot(segment, unit, source, text, src, tgt, root.get("trgLang")))
    return slots


# ------------------------------------------------------------------ writing

def _suggestion(match: dict) -> str:
    return match.get("adapted_target") or match["target"]


def _is_exact(match: dict) -> bool:
    return float(match["score"]) >= EXACT and not match.get("adapted_target")


def _empty(target: etree._Element | None) -> bool:
    return target is None or (not (target.text or "").strip() and len(target) == 0)


def _term_pairs(hits: Sequence[dict]) -> list[tuple[str, str]]:
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


def _fmt(score: float) -> str:
    """A score as an attribute value: ``87.5``, ``100`` (no trailing ``.0``)."""
    return f"{float(score):g}"


def _write_12(slot: _Slot, matches: list[dict], hits: Sequence[dict], threshold: float) -> tuple[bool, bool]:
    tu, ns = slot.container, etree.QName(slot.container.tag).namespace
    q = (lambda name: f"{{{ns}}}{name}") if ns else (lambda name: name)
    for old in [c for c in tu if (local_name(c.tag) == "alt-trans" and c.get("origin") == ORIGIN)
                or (local_name(c.tag) == "note" and c.get("from") == GLOSSARY_NOTE)]:
        _remove(old)
    filled = exact = False
    target = first_child(tu, "target")
    if matches and _empty(target) and float(matches[0]["score"]) >= threshold:
        best = matches[0]
        if target is None:
            target = etree.Element(q("target"))
            anchor = first_child(tu, "seg-source") if first_child(tu, "seg-source") is not None else slot.source
            _insert(tu, tu.index(anchor) + 1, target)
        target.text = _suggestion(best)
        exact = _is_exact(best)
        target.set("state", "translated" if exact else "needs-review-translation")
        target.set("state-qualifier", "exact-match" if exact else "fuzzy-match")
        filled = True
    # Module order: alt-trans and notes after the core children, before extension elements.
    insert_at = _after_core(tu, ns)
    for source_text, translation in _term_pairs(hits):
        note = etree.Element(q("note"), {"from": GLOSSARY_NOTE})
        note.text = f"{source_text} = {translation}"
        _insert(tu, insert_at, note)
        insert_at += 1
    for match in matches:
        alt = etree.Element(q("alt-trans"), {"match-quality": _fmt(match["score"]), "origin": ORIGIN})
        etree.SubElement(alt, q("source")).text = match["source"]
        alt_target = etree.SubElement(alt, q("target"))
        if slot.tgt_code:
            alt_target.set("{http://www.w3.org/XML/1998/namespace}lang", slot.tgt_code)
        alt_target.text = _suggestion(match)
        _insert(tu, insert_at, alt)
        insert_at += 1
    return filled, filled and exact


def _write_20(slot: _Slot, matches: list[dict], hits: Sequence[dict], threshold: float) -> tuple[bool, bool]:
    segment, unit = slot.container, slot.unit
    ns = etree.QName(segment.tag).namespace
    q = (lambda name: f"{{{ns}}}{name}") if ns else (lambda name: name)
    filled = exact = False
    target = first_child(segment, "target")
    if matches and _empty(target) and float(matches[0]["score"]) >= threshold:
        best = matches[0]
        if target is None:
            target = etree.Element(q("target"))
            _insert(segment, segment.index(slot.source) + 1, target)
        target.text = _suggestion(best)
        exact = _is_exact(best)
        segment.set("state", "translated" if exact else "initial")
        segment.set("subState", f"{ORIGIN}:{'exact' if exact else 'fuzzy'}")
        filled = True
    if matches:
        if not segment.get("id"):
            # mtc:match needs a reference to its segment; ids must be unique within the unit.
            segment.set("id", f"{ORIGIN}-{list(unit).index(segment) + 1}")
        container = _module_container(unit, NS_MTC, "matches")
        for match in matches:
            entry = etree.SubElement(container, f"{{{NS_MTC}}}match", {
                "ref": f"#{segment.get('id')}", "similarity": _fmt(min(float(match["score"]), 100.0)),
                "origin": ORIGIN, "type": "tm"})
            etree.SubElement(entry, q("source")).text = match["source"]
            etree.SubElement(entry, q("target")).text = _suggestion(match)
    pairs = _term_pairs(hits)
    if pairs:
        glossary = _module_container(unit, NS_GLS, "glossary")
        for source_text, translation in pairs:
            entry = etree.SubElement(glossary, f"{{{NS_GLS}}}glossEntry")
            etree.SubElement(entry, f"{{{NS_GLS}}}term", source=ORIGIN).text = source_text
            etree.SubElement(entry, f"{{{NS_GLS}}}translation", source=ORIGIN).text = translation
    return filled, filled and exact


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
