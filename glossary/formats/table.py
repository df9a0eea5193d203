"""Glossary as a table: CSV or TSV, one row per term, rows grouped by entry.

Named ``table`` so that it cannot shadow the standard library's ``csv``.

Columns (a header row is required; order is free; only ``entry_id``, ``lang`` and ``term`` must
be present, the others default as shown; unknown columns are refused, since a misspelt column
would otherwise be dropped without a word)::

    entry_id          the concept's id; all rows of an entry are consecutive
    concept_type      institution | media_outlet | person | place | title | event | other  [other]
    lang              zh | en
    term              the term as it is written
    status            preferred | admitted | deprecated | forbidden                      [preferred]
    term_type         TBX termType: fullForm | acronym | abbreviation | shortForm | variant | phrase
    case_sensitive    yes | no (also true/false, 1/0; blank is no)
    do_not_translate  yes | no: the term stays as it is in the other language (CGTN)
    valid_from        ISO date (YYYY-MM-DD) from which the term applies, inclusive; blank: always
    valid_to          ISO date until which the term applies, inclusive; blank: still valid
    term_note         a note on the term
    definition        the concept's definition
    entry_note        a note on the concept (research notes, house-style reasons)
    source            where the entry's facts come from
    entry_valid_from  ISO date from which the concept exists (an office, a renamed body)
    entry_valid_to    ISO date until which it exists

Entry-level columns (``concept_type``, ``definition``, ``entry_note``, ``source``,
``entry_valid_from``, ``entry_valid_to``) are read from the entry's first row; later rows of the
entry leave them blank or repeat the same value. The writer fills them on the first row only.
Cells are kept as written, except that codes and dates are trimmed of surrounding spaces.

The delimiter is a tab for ``.tsv`` files and a comma for ``.csv``; for a file object it is
guessed from the header row. Files are UTF-8 (a byte-order mark is accepted). Errors are
:class:`GlossaryFormatError` naming the entry id and the line.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from common import timeutil
from common.bounded import RecordTooLarge, bounded_lines, line_too_long
from common.messages import N_, Message
from glossary.core.model import Entry, GlossaryFormatError, Term, validate_entry, validate_term

__all__ = ["COLUMNS", "dumps_table", "iter_table", "read_table", "write_table"]

#: Columns that belong to the entry, not the term: read from the entry's first row.
ENTRY_COLUMNS = ("concept_type", "definition", "entry_note", "source", "entry_valid_from", "entry_valid_to")
COLUMNS = ("entry_id", "concept_type", "lang", "term", "status", "term_type", "case_sensitive",
           "do_not_translate", "valid_from", "valid_to", "term_note", "definition", "entry_note",
           "source", "entry_valid_from", "entry_valid_to")
REQUIRED = ("entry_id", "lang", "term")
_FREE_TEXT = frozenset({"term", "term_note", "definition", "entry_note", "source"})

_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"", "no", "n", "false", "0"}


def _delimiter_for(path) -> str:
    return "," if os.fspath(path).lower().endswith(".csv") else "\t"


@contextmanager
def _open_text(source, mode: str):
    if isinstance(source, (str, os.PathLike)):
        with open(source, mode, encoding="utf-8-sig" if "r" in mode else "utf-8", newline="") as f:
            yield f
    else:
        yield source


def iter_table(source, *, delimiter: str | None = None,
               check: Callable[[Entry], None] | None = None) -> Iterator[Entry]:
    """Entries of a CSV/TSV glossary, one at a time (path or text file object).

    Raises :class:`GlossaryFormatError` with the entry id and line on the first bad row.
    ``check`` (the storage's own rules, such as column lengths) is called on each entry; the
    error it raises gets the line of the entry's first row.
    """
    if delimiter is None and isinstance(source, (str, os.PathLike)):
        delimiter = _delimiter_for(source)
    with _open_text(source, "r") as f:
        lines = _bounded(f)
        header_line = next(lines, "")
        if not header_line.strip():
            raise GlossaryFormatError(Message(N_("the table is empty: a header row is required")), line=1)
        if delimiter is None:
            delimiter = "\t" if "\t" in header_line else ","
        lines = itertools.chain([header_line], lines)
        reader = csv.reader(lines, delimiter=delimiter)
        header = [name.strip() for name in next(reader)]
        unknown = [name for name in header if name not in COLUMNS]
        if unknown:
            raise GlossaryFormatError(Message(N_("unknown column(s) {unknown}; expected some of {expected}"),
                                              unknown=", ".join(map(repr, unknown)),
                                              expected=", ".join(COLUMNS)), line=1)
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            raise GlossaryFormatError(Message(N_("missing column(s) {missing}"), missing=", ".join(missing)),
                                      line=1)
        if len(set(header)) != len(header):
            raise GlossaryFormatError(Message(N_("a column appears twice in the header")), line=1)

        group: list[tuple[int, dict]] = []
        seen: set[str] = set()
        previous_line = reader.line_num
        for row in reader:
            line = previous_line + 1  # a quoted field may span lines: the row starts here
            previous_line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                raise GlossaryFormatError(Message(N_("{found} fields where the header has {expected}"),
                                                  found=len(row), expected=len(header)), line=line)
            # Free text is kept as written (round trips are lossless); codes and dates are trimmed.
            # A short row is allowed: the columns it lacks are read as empty.
            record = {name: cell if name in _FREE_TEXT else cell.strip()
                      for name, cell in zip(header, row, strict=False)}
            entry_id = record.get("entry_id", "")
            if not entry_id:
                raise GlossaryFormatError(Message(N_("row without an entry_id")), line=line)
            if group and entry_id != group[0][1]["entry_id"]:
                yield _checked(group, check)
                group = []
            if not group:
                if entry_id in seen:
                    raise GlossaryFormatError(
                        Message(N_("duplicate entry id: rows of an entry must be consecutive")),
                        entry=entry_id, line=line)
                seen.add(entry_id)
            group.append((line, record))
        if group:
            yield _checked(group, check)


def read_table(source, *, delimiter: str | None = None) -> list[Entry]:
    """All entries of a CSV/TSV glossary; see :func:`iter_table`."""
    return list(iter_table(source, delimiter=delimiter))


def _bounded(f) -> Iterator[str]:
    """The file's lines, none longer than MAX_LINE_CHARS (one line read whole is the cost)."""
    number = 0  # read by the handlers below: the line the error is on
    try:
        for line in bounded_lines(f):
            number += 1
            yield line
    except RecordTooLarge as err:
        raise GlossaryFormatError(line_too_long(err.limit), line=number + 1) from None


def _checked(group: list[tuple[int, dict]], check: Callable[[Entry], None] | None) -> Entry:
    entry = _entry(group)
    if check is not None:
        try:
            check(entry)
        except GlossaryFormatError as err:
            raise GlossaryFormatError(err.reason, entry=err.entry, line=group[0][0]) from None
    return entry


def _entry(group: list[tuple[int, dict]]) -> Entry:
    first_line, first = group[0]
    entry_id = first["entry_id"]

    def fail(message: Message, line: int = first_line) -> NoReturn:
        raise GlossaryFormatError(message, entry=entry_id, line=line)

    def parse_date(value: str, column: str, line: int) -> dt.date | None:
        if not value:
            return None
        try:
            return timeutil.parse_date(value)
        except ValueError:
            fail(Message(N_("{what} {value!r} is not an ISO date (YYYY-MM-DD)"), what=column, value=value), line)

    def parse_bool(value: str, column: str, line: int) -> bool:
        low = value.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        fail(Message(N_("{column} {value!r} is not yes or no"), column=column, value=value), line)

    entry_fields = {name: first.get(name, "") for name in ENTRY_COLUMNS}
    terms = []
    for line, record in group:
        for name in ENTRY_COLUMNS:
            value = record.get(name, "")
            if value and value != entry_fields[name]:
                fail(Message(N_("{column} {value!r} conflicts with {first!r} on the entry's first row"),
                             column=name, value=value, first=entry_fields[name]), line)
        term = Term(
            lang=record.get("lang", ""),
            text=record.get("term", ""),
            status=record.get("status", "") or "preferred",
            term_type=record.get("term_type", "") or None,
            case_sensitive=parse_bool(record.get("case_sensitive", ""), "case_sensitive", line),
            do_not_translate=parse_bool(record.get("do_not_translate", ""), "do_not_translate", line),
            valid_from=parse_date(record.get("valid_from", ""), "valid_from", line),
            valid_to=parse_date(record.get("valid_to", ""), "valid_to", line),
            note=record.get("term_note", ""),
        )
        try:  # the term on its own first, so that the error points at its row
            validate_term(term)
        except GlossaryFormatError as err:
            raise GlossaryFormatError(err.reason, entry=entry_id, line=line) from err
        terms.append(term)
    entry = Entry(
        id=entry_id,
        concept_type=entry_fields["concept_type"] or "other",
        terms=tuple(terms),
        definition=entry_fields["definition"],
        note=entry_fields["entry_note"],
        source=entry_fields["source"],
        valid_from=parse_date(entry_fields["entry_valid_from"], "entry_valid_from", first_line),
        valid_to=parse_date(entry_fields["entry_valid_to"], "entry_valid_to", first_line),
    )
    try:
        validate_entry(entry)
    except GlossaryFormatError as err:
        line = first_line
        seen = set()
        for row_line, term in zip((row_line for row_line, _ in group), terms, strict=True):
            if (term.lang, term.text) in seen:  # a duplicate: point at its second row
                line = row_line
                break
            seen.add((term.lang, term.text))
        raise GlossaryFormatError(err.reason, entry=entry_id, line=line) from err
    return entry


def _iso(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def write_table(entries: Iterable[Entry], dest, *, delimiter: str | None = None) -> None:
    """Write entries as CSV/TSV with every column (path or text file object).

    Entries need an id: it is what groups their rows.
    """
    if delimiter is None:
        delimiter = _delimiter_for(dest) if isinstance(dest, (str, os.PathLike)) else "\t"
    with _open_text(dest, "w") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator="\n")
        writer.writerow(COLUMNS)
        for ordinal, entry in enumerate(entries, 1):
            if entry.id is None or str(entry.id) == "":
                raise GlossaryFormatError(Message(N_("a table needs an entry id to group the entry's rows")),
                                          entry=f"#{ordinal}")
            validate_entry(entry)  # the entry has an id here, so the error names it
            for index, term in enumerate(entry.terms):
                entry_cells = (
                    [entry.concept_type, entry.definition, entry.note, entry.source,
                     _iso(entry.valid_from), _iso(entry.valid_to)]
                    if index == 0 else [""] * 6
                )
                writer.writerow([
                    entry.id, entry_cells[0], term.lang, term.text, term.status, term.term_type or "",
                    "yes" if term.case_sensitive else "", "yes" if term.do_not_translate else "",
                    _iso(term.valid_from), _iso(term.valid_to), term.note,
                    *entry_cells[1:],
                ])


def dumps_table(entries: Iterable[Entry], *, delimiter: str = "\t") -> str:
    """The table as a string (for downloads and tests)."""
    buffer = io.StringIO()
    write_table(entries, buffer, delimiter=delimiter)
    return buffer.getvalue()
