"""Bounds on what one record of a streamed file may cost, for every importer.

The readers stream: a million-unit TMX imports in flat memory. What streaming alone does not
bound is one record: a ``<tu>`` with a million ``<prop>`` s is built whole by lxml before the
reader sees it, and a TSV or CSV "line" without a line break is read whole by ``readline``.
These helpers count bytes (or characters) as they are read and stop at the bound, raising
`RecordTooLarge`, which each reader turns into its own error with the line.

Pure: standard library and ``messages`` only (the glossary readers use them too).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import IO, AnyStr, Protocol

from common.messages import N_, Message

#: Bytes of XML one unit (a TMX ``<tu>``, an XLIFF unit, a TBX entry) may span, counted from
#: the end of the one before. Two segments at MAX_SEGMENT_CHARS with markup and props take a few
#: hundred KB; this leaves room for a large header before the first unit, while one unit can
#: no longer grow a tree of gigabytes.
MAX_RECORD_BYTES = 16 * 1024 * 1024
#: Characters of one line of a TSV/CSV table (a quoted CSV field spanning lines counts per line).
MAX_LINE_CHARS = 1024 * 1024


class RecordTooLarge(ValueError):
    """A unit, entry or line past its bound; ``limit`` is the bound, in bytes or characters."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"a record is larger than {limit:,}")
        self.limit = limit


class ByteSource(Protocol):
    """What `RecordBoundedStream` needs of the stream it wraps: a file, or a reader's own
    stream such as safexml.PeekedStream, which is no IO subclass."""

    def read(self, size: int = -1, /) -> bytes: ...


class RecordBoundedStream:
    """A binary stream that refuses to deliver more than ``limit`` bytes between two calls of
    ``record_done()`` (a reader calls it after each unit)."""

    def __init__(self, stream: ByteSource, limit: int | None = None) -> None:
        self._stream = stream
        self._limit = MAX_RECORD_BYTES if limit is None else limit
        self._since = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._since += len(data)
        if self._since > self._limit:
            raise RecordTooLarge(self._limit)
        return data

    def record_done(self) -> None:
        self._since = 0


def bounded_lines(stream: IO[AnyStr], limit: int | None = None) -> Iterator[AnyStr]:
    """The lines of ``stream`` (bytes or text), each at most ``limit`` (MAX_LINE_CHARS) long,
    else RecordTooLarge."""
    limit = MAX_LINE_CHARS if limit is None else limit
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n" if isinstance(line, bytes) else "\n"):
            raise RecordTooLarge(limit)
        yield line


def unit_too_large(limit: int) -> Message:
    """Why the unit (or entry) after the line an error names is refused."""
    return Message(N_("the next unit is larger than {megabytes} MB, the most one unit may take"),
                   megabytes=limit // (1024 * 1024))


def line_too_long(limit: int) -> Message:
    """Why a table's line is refused."""
    return Message(N_("the line is longer than {count:,} characters, the most one line may have"), count=limit)
