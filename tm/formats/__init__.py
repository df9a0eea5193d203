"""File formats for translation units: TMX 1.4b and TSV/CSV tables.

Pure: no Flask, no SQL.  `tm.formats.records` holds the shared `UnitRecord` and
the errors; `tm.formats.tmx` and `tm.formats.tsv` read and write; `read_units`
picks the reader for an uploaded file.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import PurePath
from typing import IO, Literal

from common.messages import Message, N_
from tm.formats.records import ImportFormatError, UnitRecord
from tm.formats.tmx import read_tmx
from tm.formats.tsv import as_buffered, read_table

__all__ = ["sniff_format", "read_units", "Format"]

Format = Literal["tmx", "tsv", "csv"]

_BY_SUFFIX: dict[str, Format] = {".tmx": "tmx", ".tsv": "tsv", ".tab": "tsv", ".csv": "csv"}


def sniff_format(filename: str | None, first_bytes: bytes) -> Format:
    """Guess a file's format from its name and first bytes (a few KiB are plenty).

    Content that starts like XML is TMX whatever the name says (an XML file named
    ``.txt`` is still XML); otherwise a ``.tmx``/``.tsv``/``.tab``/``.csv`` suffix
    decides; otherwise the header line does: a tab makes it TSV, a comma CSV.
    Raises `ImportFormatError` when none of these tells.
    """
    text = _decode_start(first_bytes).lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        return "tmx"
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
    """Read TMX, TSV or CSV from a binary stream, the format sniffed as `sniff_format` does.

    Errors are `ImportFormatError` (with the line) or `UnsupportedLanguage`.
    """
    buffered = as_buffered(stream)
    kind = sniff_format(filename, buffered.peek(4096)[:4096])
    if kind == "tmx":
        return read_tmx(buffered)
    return read_table(buffered, dialect=kind)


def _decode_start(data: bytes) -> str:
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="ignore")
    # errors="ignore": the sample may end inside a multi-byte character.
    return data.decode("utf-8", errors="ignore")
