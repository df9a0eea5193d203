"""Read and write translation units as TSV or CSV tables with a header row.

Columns (header names are case-insensitive; order is free):

``zh``, ``en``  (required)
    Also accepted: any Chinese or English language code (``zh-CN``, ``ZH_TW``,
    ``en-US``, ``eng``...) or ``chinese``/``english``.  A specific code in the
    header becomes the records' ``zh_lang``/``en_lang`` unless those columns exist.
``note``, ``creationid``, ``changeid``, ``creationdate``, ``changedate``,
``usagecount``, ``status`` (``approved``/``draft``), ``origin_file``,
``doc_title``, ``doc_url``, ``context_prev``, ``context_next``, ``zh_lang``,
``en_lang``  (optional)
    Dates are ISO 8601 (``2019-05-14T08:00:00Z``, as written) or TMX form
    (``20190514T080000Z``); a date without a zone is taken as UTC.
``prop:NAME``  (optional, may repeat)
    One TMX ``<prop type="NAME">`` per non-empty cell, in column order.

An empty cell means "absent".  Any other column is an error (name it
``prop:NAME`` to keep it), so a typo such as ``notes`` is not dropped silently.

Dialects
    ``tsv`` is *linear TSV*: no quoting; one record per line; a tab, newline,
    carriage return or backslash inside a value is written ``\\t``, ``\\n``,
    ``\\r``, ``\\\\``, and only those four escapes are read back (any other
    backslash is literal).  ``csv`` is RFC 4180 (Python's ``excel`` dialect):
    quoted fields may hold commas, quotes and newlines.

Encoding
    UTF-8, with or without a BOM (Excel writes one); UTF-16 with a BOM (Excel's
    "Unicode text" export) is also read.  Invalid UTF-8 is an error naming the line.

Round trip
    ``write_table`` then ``read_table`` gives equal records, except that props are
    regrouped by type (``prop:`` columns keep one order for every row) and a prop
    whose value is empty is not written.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from typing import IO, Literal, cast

from common.bounded import RecordTooLarge, bounded_lines, line_too_long
from common.languages import UnsupportedLanguage, normalize_lang
from common.messages import N_, Message
from tm.formats.records import STATUSES, ImportFormatError, UnitRecord, segment_problem
from tm.formats.tmx import date_problem, parse_tmx_date

__all__ = ["read_table", "write_table", "METADATA_COLUMNS", "Dialect"]

Dialect = Literal["tsv", "csv"]

#: Optional columns, in the order a writer emits them (after zh and en).
METADATA_COLUMNS: tuple[str, ...] = (
    "note", "creationid", "creationdate", "changeid", "changedate", "usagecount",
    "status", "origin_file", "doc_title", "doc_url", "context_prev", "context_next",
    "zh_lang", "en_lang",
)
PROP_PREFIX = "prop:"
_DATE_COLUMNS = frozenset({"creationdate", "changedate"})
_DEFAULTS = {f.name: f.default for f in dataclass_fields(UnitRecord)}
_LANG_NAMES = {"chinese": "zh", "english": "en", "中文": "zh", "英文": "en"}
_TSV_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_TSV_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


# --------------------------------------------------------------------------- reading


def _decoded_lines(stream: IO) -> Iterator[str]:
    """Text lines of ``stream`` (text or binary), decoding UTF-8 strictly line by line.

    Decoding per line (rather than through one TextIOWrapper) is what lets an
    encoding error name its line.
    """
    first = stream.read(0)
    if isinstance(first, str):
        yield from _counted(stream, Message(N_("the text stream's encoding")))
        return
    buffered = as_buffered(stream)
    if buffered.peek(2)[:2] in (b"\xff\xfe", b"\xfe\xff"):
        yield from _counted(io.TextIOWrapper(buffered, encoding="utf-16", newline=""), "UTF-16")
        return
    number = 0
    try:
        for number, raw in enumerate(bounded_lines(buffered), start=1):
            yield _decoded(raw, number)
    except RecordTooLarge as err:
        raise ImportFormatError(line_too_long(err.limit), number + 1) from None


def _decoded(raw: bytes, number: int) -> str:
    try:
        return raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as err:
        raise ImportFormatError(
            Message(N_("not valid UTF-8 (byte 0x{byte:02x} at column {column}); save the file as UTF-8"),
                    byte=raw[err.start], column=err.start + 1),
            number,
        ) from err


def _counted(lines: IO[str], encoding: str) -> Iterator[str]:
    """Lines decoded by someone else; a decoding error names the line it stopped at."""
    number = 0  # read by the handlers below: the line the error is on
    try:
        for line in bounded_lines(lines):
            number += 1
            yield line
    except RecordTooLarge as err:
        raise ImportFormatError(line_too_long(err.limit), number + 1) from None
    except UnicodeDecodeError as err:
        # The decoder works in blocks, so the bad byte is on this line or a later one.
        raise ImportFormatError(Message(N_("not valid {encoding} at or after this line ({problem})"),
                                        encoding=encoding, problem=err.reason), number + 1) from err


def as_buffered(stream: IO[bytes]) -> io.BufferedReader:
    """``stream`` itself if it can ``peek``, else wrapped in a BufferedReader that can."""
    if hasattr(stream, "peek"):
        # Used only for read, readline and peek, which any stream with peek has.
        return cast(io.BufferedReader, stream)
    return io.BufferedReader(_Raw(stream), buffer_size=64 * 1024)


class _Raw(io.RawIOBase):
    """Adapt any object with ``read`` (BytesIO, an upload) to io.BufferedReader."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _unescape_tsv(value: str) -> str:
    if "\\" not in value:
        return value
    out: list[str] = []
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value) and value[i + 1] in _TSV_UNESCAPES:
            out.append(_TSV_UNESCAPES[value[i + 1]])
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _rows(lines: Iterator[str], dialect: Dialect) -> Iterator[tuple[int, list[str]]]:
    """(first physical line number, cells) for each row, blank lines skipped."""
    if dialect == "tsv":
        for number, line in enumerate(lines, start=1):
            line = line.rstrip("\r\n")
            if line.strip():
                yield number, [_unescape_tsv(cell) for cell in line.split("\t")]
        return
    reader = csv.reader(lines, dialect="excel", strict=True)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise ImportFormatError(Message(N_("malformed CSV ({problem})"), problem=str(err)),
                                    reader.line_num) from err
        if any(cell.strip() for cell in row):
            yield start, row
        start = reader.line_num + 1


def _column_role(name: str) -> tuple[str, str | None]:
    """Header cell -> (column key, language code it names or None)."""
    key = name.strip().lstrip("\ufeff")  # a BOM left by a text stream opened as plain utf-8
    lowered = key.lower()
    if lowered.startswith(PROP_PREFIX):
        prop = key[len(PROP_PREFIX):].strip()
        return (PROP_PREFIX + prop, None) if prop else ("", None)
    if lowered in METADATA_COLUMNS:
        return lowered, None
    if lowered in _LANG_NAMES:
        return _LANG_NAMES[lowered], None
    try:
        lang = normalize_lang(key)
    except UnsupportedLanguage:
        return "", None
    return lang, (key if lowered not in ("zh", "en") else None)


def read_table(stream: IO, *, dialect: Dialect = "tsv") -> Iterator[UnitRecord]:
    """Yield a `UnitRecord` for every data row of a TSV or CSV table.

    ``stream`` may be text or binary.  Raises `ImportFormatError` naming the line
    for: a missing ``zh``/``en`` column, an unknown or duplicated column, a row
    with the wrong number of cells, an empty Chinese or English side, a bad date,
    usagecount or status, invalid UTF-8.
    """
    if dialect not in ("tsv", "csv"):
        raise ValueError(f"dialect must be 'tsv' or 'csv', not {dialect!r}")
    rows = _rows(_decoded_lines(stream), dialect)
    try:
        header_line, header = next(rows)
    except StopIteration:
        raise ImportFormatError(Message(N_("the file is empty (a header row with zh and en is needed)")),
                                1) from None
    columns: list[str] = []
    codes: dict[str, str] = {}
    for cell in header:
        key, code = _column_role(cell)
        if not key:
            raise ImportFormatError(
                Message(N_("unknown column {column!r} (known: zh, en, {known}, or prop:NAME for anything else)"),
                        column=cell, known=", ".join(METADATA_COLUMNS)),
                header_line,
            )
        if key in columns and not key.startswith(PROP_PREFIX):
            raise ImportFormatError(Message(N_("column {column!r} appears twice"), column=cell), header_line)
        if code:
            codes[key] = code
        columns.append(key)
    for lang in ("zh", "en"):
        if lang not in columns:
            raise ImportFormatError(
                Message(N_("missing column {column!r} (the header has: {header})"), column=lang,
                        header=", ".join(header)),
                header_line,
            )

    for line, cells in rows:
        if len(cells) != len(columns):
            raise ImportFormatError(
                Message(N_("expected {expected} cells as in the header, found {found}"), expected=len(columns),
                        found=len(cells)),
                line,
            )
        yield _record(columns, cells, codes, line)


def _record(columns: list[str], cells: list[str], codes: dict[str, str], line: int) -> UnitRecord:
    values: dict[str, object] = {}
    props: list[tuple[str, str]] = []
    for key, cell in zip(columns, cells, strict=True):
        if key.startswith(PROP_PREFIX):
            if cell:
                props.append((key[len(PROP_PREFIX):], cell))
        elif key in ("zh", "en"):
            if not cell.strip():
                side = Message(N_("Chinese") if key == "zh" else N_("English"))
                raise ImportFormatError(Message(N_("the {side} side ({column}) is empty"), side=side, column=key),
                                        line)
            values[key] = cell
        elif cell:
            values[key] = _convert(key, cell, line)
    for lang in ("zh", "en"):
        if lang in codes:
            values.setdefault(f"{lang}_lang", codes[lang])
    too_long = segment_problem(str(values.get("zh", "")), str(values.get("en", "")))
    if too_long is not None:
        raise ImportFormatError(too_long, line)
    try:
        return UnitRecord(props=tuple(props), **values)  # type: ignore[arg-type]
    except ValueError as err:  # what UnitRecord itself refuses
        raise ImportFormatError(str(err), line) from err


def _convert(key: str, cell: str, line: int) -> object:
    if key in _DATE_COLUMNS:
        try:
            return parse_tmx_date(cell)
        except ValueError as err:
            raise ImportFormatError(
                date_problem(err, key, cell, Message(N_("{column} {value!r} is not a date (use ISO 8601 such as "
                                                        "2019-05-14T08:00:00Z)"), column=key, value=cell)), line,
            ) from err
    if key == "usagecount":
        if not cell.strip().isdigit():
            raise ImportFormatError(Message(N_("usagecount {value!r} is not a whole number"), value=cell), line)
        return int(cell)
    if key == "status":
        status = cell.strip().lower()
        if status not in STATUSES:
            raise ImportFormatError(Message(N_("status must be 'approved' or 'draft', not {value!r}"), value=cell),
                                    line)
        return status
    if key in ("zh_lang", "en_lang"):
        try:
            lang = normalize_lang(cell)
        except UnsupportedLanguage as err:
            raise ImportFormatError(err.message, line) from err
        if lang != key[:2]:
            problem = (N_("{column} {value!r} is not a Chinese code") if key == "zh_lang"
                       else N_("{column} {value!r} is not an English code"))
            raise ImportFormatError(Message(problem, column=key, value=cell), line)
    return cell


# --------------------------------------------------------------------------- writing


def _columns_for(records: Sequence[UnitRecord]) -> list[str]:
    """The columns a list of records needs: zh, en, used metadata, prop columns."""
    used = {
        name
        for record in records
        for name in METADATA_COLUMNS
        if getattr(record, name) != _DEFAULTS[name]
    }
    repeats: Counter[str] = Counter()
    for record in records:
        for name, count in Counter(name for name, _ in record.props).items():
            repeats[name] = max(repeats[name], count)
    props = [PROP_PREFIX + name for name in repeats for _ in range(repeats[name])]
    return ["zh", "en", *(name for name in METADATA_COLUMNS if name in used), *props]


def _cell(key: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def write_table(
    records: Iterable[UnitRecord],
    stream: IO[str],
    *,
    dialect: Dialect = "tsv",
    columns: Sequence[str] | None = None,
) -> int:
    """Write ``records`` to the text ``stream`` as TSV or CSV; return the row count.

    With ``columns=None`` the records are first gathered in a list to find the
    columns they use (zh, en, the metadata any record sets, one ``prop:NAME``
    column per prop type and repeat).  To stream a large export instead, pass
    ``columns`` (e.g. ``["zh", "en", *METADATA_COLUMNS, "prop:x-source"]``).
    Raises ValueError if a record holds something the columns cannot carry, so
    nothing is dropped silently.  Open ``stream`` with ``newline=""``.
    """
    if dialect not in ("tsv", "csv"):
        raise ValueError(f"dialect must be 'tsv' or 'csv', not {dialect!r}")
    if columns is None:
        records = list(records)
        columns = _columns_for(records)
    columns = list(columns)
    if "zh" not in columns or "en" not in columns:
        raise ValueError("columns must include 'zh' and 'en'")
    slots = Counter(c[len(PROP_PREFIX):] for c in columns if c.startswith(PROP_PREFIX))
    missing = [name for name in METADATA_COLUMNS if name not in columns]

    emit: Callable[[list[str]], object]
    if dialect == "csv":
        emit = csv.writer(stream, dialect="excel", lineterminator="\r\n").writerow
    else:
        def emit_tsv(cells: list[str]) -> None:
            stream.write("\t".join(_escape_tsv(cell) for cell in cells) + "\n")
        emit = emit_tsv

    emit(columns)
    count = 0
    for count, record in enumerate(records, start=1):
        for name in missing:
            if getattr(record, name) != _DEFAULTS[name]:
                raise ValueError(f"record {count} sets {name!r} but the columns do not include it")
        by_type: dict[str, list[str]] = {}
        for name, value in record.props:
            by_type.setdefault(name, []).append(value)
        for name, values in by_type.items():
            if len(values) > slots.get(name, 0):
                raise ValueError(
                    f"record {count} has {len(values)} {name!r} props; "
                    f"the columns hold {slots.get(name, 0)}"
                )
        row = []
        for key in columns:
            if key.startswith(PROP_PREFIX):
                queue = by_type.get(key[len(PROP_PREFIX):])
                row.append(queue.pop(0) if queue else "")
            else:
                row.append(_cell(key, getattr(record, key)))
        emit(row)
    return count


def _escape_tsv(value: str) -> str:
    if not any(char in value for char in _TSV_ESCAPES):
        return value
    return "".join(_TSV_ESCAPES.get(char, char) for char in value)
