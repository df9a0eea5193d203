"""File formats for translation units: TMX 1.4b, XLIFF 1.2 and 2.x, TSV/CSV tables.

Pure: no Flask, no SQL.  `tm.formats.records` holds the shared `UnitRecord` and
the errors; `tm.formats.tmx`, `tm.formats.xliff` and `tm.formats.tsv` read (and
TMX and TSV write); `tm.formats.xliff_pretranslate` fills an XLIFF document;
`sniff_format` tells an uploaded file's format and `read_units` picks its reader.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import IO, Literal

from common.messages import N_, Message
from tm.formats.records import ImportFormatError, UnitRecord
from tm.formats.tmx import read_tmx
from tm.formats.tsv import as_buffered, read_table
from tm.formats.xliff import read_xliff

__all__ = ["sniff_format", "read_units", "Format"]

Format = Literal["tmx", "xliff", "tsv", "csv"]

_BY_SUFFIX: dict[str, Format] = {".tmx": "tmx", ".tsv": "tsv", ".tab": "tsv", ".csv": "csv"}
_XLIFF_SUFFIXES = (".xlf", ".xliff")
#: What may stand before the root element: the XML declaration, processing instructions,
#: comments, a DOCTYPE (with an internal subset), whitespace.
_PROLOG = re.compile(r"(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)*", re.DOTALL)
_ROOT = re.compile(r"<(?:[\w.-]+:)?([\w.-]+)")


def sniff_format(filename: str | None, first_bytes: bytes) -> Format:
    """Guess a file's format from its name and first bytes (a few KiB are plenty).

    A ``.xlf``/``.xliff`` suffix makes it XLIFF. Otherwise content that starts like XML
    (after a BOM, in UTF-8 or UTF-16) is XLIFF when its root element is ``<xliff>`` and
    TMX otherwise, whatever the name says (an XML file named ``.txt`` is still XML);
    otherwise a ``.tmx``/``.tsv``/``.tab``/``.csv`` suffix decides; otherwise the header
    line does: a tab makes it TSV, a comma CSV. Raises `ImportFormatError` when none of
    these tells.
    """
    if (filename or "").lower().endswith(_XLIFF_SUFFIXES):
        return "xliff"
    text = _decode_start(first_bytes).lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "xliff" if _xml_root(text) == "xliff" else "tmx"
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    header = text.split("\n", 1)[0]
    if "\t" in header:
        return "tsv"
    if "," in header:
        return "csv"
    raise ImportFormatError(
        Message(N_("cannot tell the file's format: expected TMX (XML), or a TSV/CSV table whose "
                   "header row names the zh and en columns")),
        1,
    )


def read_units(stream: IO[bytes], filename: str | None = None) -> Iterator[UnitRecord]:
    """Read TMX, XLIFF, TSV or CSV from a binary stream, the format sniffed as `sniff_format` does.

    Errors are `ImportFormatError` (with the line) or `UnsupportedLanguage`.
    """
    buffered = as_buffered(stream)
    kind = sniff_format(filename, buffered.peek(4096)[:4096])
    if kind == "tmx":
        return read_tmx(buffered)
    if kind == "xliff":
        return read_xliff(buffered)
    return read_table(buffered, dialect=kind)


def _xml_root(text: str) -> str | None:
    """The local name of the root element, or None when the sample ends before it.

    Without the root in the sample (a prolog of kilobytes), an ``<xliff`` anywhere in it
    still tells: a TMX file has no use for the word in markup.
    """
    prolog = _PROLOG.match(text)  # always matches (perhaps nothing): every part is optional
    root = _ROOT.match(text, prolog.end() if prolog else 0)
    if root is not None:
        return root.group(1)
    return "xliff" if re.search(r"<(?:[\w.-]+:)?xliff\b", text) else None


def _decode_start(data: bytes) -> str:
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="ignore")
    # errors="ignore": the sample may end inside a multi-byte character.
    return data.decode("utf-8", errors="ignore")
