"""An article's segments as a pre-translated file: XLIFF 1.2, XLIFF 2.0 or bilingual TSV.

The XLIFF skeleton (one unit per segment, empty targets) is written here with lxml; filling it
from the memory (targets above the threshold, ``alt-trans`` / ``mtc`` candidates, glossary
notes / ``gls`` entries) is ``tm.pretranslate.pretranslate``'s job, so both routes write the
same thing. The lookups are passed in as callables; this module knows no database.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence

from lxml import etree

from tm.pretranslate import pretranslate

NS_12 = "urn:oasis:names:tc:xliff:document:1.2"
NS_20 = "urn:oasis:names:tc:xliff:document:2.0"
LANG_CODES = {"zh": "zh-CN", "en": "en"}
FORMATS = ("xliff12", "xliff20", "tsv")
MIMETYPES = {"xliff12": "application/x-xliff+xml", "xliff20": "application/xliff+xml",
             "tsv": "text/tab-separated-values; charset=utf-8"}
EXTENSIONS = {"xliff12": "xlf", "xliff20": "xlf", "tsv": "tsv"}

Lookup = Callable[[list[str], str, str], Sequence[Sequence[dict]]]
Terms = Callable[[str, str, str], Sequence[dict]]


def skeleton(segments: Sequence[str], src: str, tgt: str, *, version: int, original: str = "article.txt") -> bytes:
    """An XLIFF document (1 for 1.2, 2 for 2.0) with one untranslated unit per segment."""
    if version == 1:
        root = etree.Element(f"{{{NS_12}}}xliff", nsmap={None: NS_12}, version="1.2")
        file_elem = etree.SubElement(root, f"{{{NS_12}}}file", {
            "original": original, "source-language": LANG_CODES[src], "target-language": LANG_CODES[tgt],
            "datatype": "plaintext"})
        body = etree.SubElement(file_elem, f"{{{NS_12}}}body")
        for number, text in enumerate(segments, 1):
            unit = etree.SubElement(body, f"{{{NS_12}}}trans-unit", id=str(number))
            unit.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            etree.SubElement(unit, f"{{{NS_12}}}source").text = text
    else:
        root = etree.Element(f"{{{NS_20}}}xliff", nsmap={None: NS_20}, version="2.0",
                             srcLang=LANG_CODES[src], trgLang=LANG_CODES[tgt])
        file_elem = etree.SubElement(root, f"{{{NS_20}}}file", id="f1", original=original)
        for number, text in enumerate(segments, 1):
            unit = etree.SubElement(file_elem, f"{{{NS_20}}}unit", id=f"u{number}")
            segment = etree.SubElement(unit, f"{{{NS_20}}}segment", id=f"s{number}")
            etree.SubElement(segment, f"{{{NS_20}}}source").text = text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def translated_xliff(segments: Sequence[str], targets: Sequence[str | None], src: str, tgt: str, *, version: int,
                     original: str = "article.txt") -> bytes:
    """The skeleton of ``segments`` with the translator's own targets written in (state
    ``translated``); a segment without one keeps no target, as a CAT tool expects."""
    root = etree.fromstring(skeleton(segments, src, tgt, version=version, original=original))
    if version == 1:
        units = root.iter(f"{{{NS_12}}}trans-unit")
        for unit, target in zip(units, targets, strict=True):
            if target:
                etree.SubElement(unit, f"{{{NS_12}}}target", state="translated").text = target
    else:
        for segment, target in zip(root.iter(f"{{{NS_20}}}segment"), targets, strict=True):
            if target:
                segment.set("state", "translated")
                etree.SubElement(segment, f"{{{NS_20}}}target").text = target
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def export_xliff(segments: Sequence[str], src: str, tgt: str, *, version: int, lookup: Lookup,
                 terms: Terms | None, threshold: float, original: str = "article.txt") -> bytes:
    """The pre-translated XLIFF 1.2 (``version=1``) or 2.0 (``version=2``) of ``segments``."""
    data, _report = pretranslate(skeleton(segments, src, tgt, version=version, original=original),
                                 lookup, terms, threshold=threshold)
    return data


def export_tsv(segments: Sequence[str], best: Sequence[dict | None], src: str, tgt: str, *,
               threshold: float) -> bytes:
    """Bilingual TSV: source, target (the best match at or above ``threshold``, else empty),
    score and memory. Tabs and line breaks inside a text are quoted by the csv writer."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow([src, tgt, "score", "memory"])
    for text, match in zip(segments, best, strict=True):
        if match is not None and float(match["score"]) >= threshold:
            target = match.get("adapted_target") or match["target"]
            writer.writerow([text, target, f"{float(match['score']):g}", match.get("memory") or ""])
        else:
            writer.writerow([text, "", "", ""])
    return out.getvalue().encode("utf-8")


def xliff_sources(data: bytes) -> list[str]:
    """The source text of every translatable segment of an XLIFF 1.2 or 2.x upload, in order.

    Parsed with the same hardened parser as the XLIFF importer (no entities, no network);
    raises ``ImportFormatError`` with the line for malformed or unsafe files.
    """
    segments: list[str] = []

    def collect(found: list[str], _src: str, _tgt: str) -> list[list[dict]]:
        segments.extend(found)
        return [[] for _ in found]

    # pretranslate finds the segments (1.2 trans-units, 2.x unit segments) exactly as the
    # export will; asking it with a lookup that records them keeps one reader of XLIFF.
    pretranslate(data, collect, None)
    return segments
