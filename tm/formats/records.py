"""Plain data shared by every translation-unit file format.

A `UnitRecord` is what a reader yields and a writer consumes: one Chinese–English
pair with the metadata that TMX carries.  It knows nothing of Flask or SQL, so the
format layer can be tested (and benchmarked) on its own.

Fields that TMX has no element for travel as TMX ``<prop>`` elements with the
``x-`` prefix the TMX 1.4b spec reserves for user-defined types, so any TMX tool
keeps them and OmegaT/translate-toolkit simply ignore them:

========================  ============================================
field                     TMX carrier (tu level)
========================  ============================================
``status``                ``<prop type="x-status">approved|draft</prop>``
``context_prev``          ``<prop type="x-context-prev">…</prop>``
``context_next``          ``<prop type="x-context-next">…</prop>``
``origin_file``           ``<prop type="x-origin-file">…</prop>``
``doc_title``             ``<prop type="x-doc-title">…</prop>``
``doc_url``               ``<prop type="x-doc-url">…</prop>``
``zh_lang`` / ``en_lang`` the ``xml:lang`` of each ``<tuv>`` (original spelling)
========================  ============================================

``context_prev``/``context_next`` hold the neighbouring *source* segments of the
document the pair came from (for in-context exact matches, as OmegaT does with
its "alternative translations").  All other ``<prop>`` types stay in ``props`` in
document order, repeats allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from common.messages import N_, Message

Status = Literal["draft", "approved"]
STATUSES: tuple[str, ...] = ("draft", "approved")

#: prop types that map to dedicated `UnitRecord` fields (and so never appear in ``props``).
PROP_STATUS = "x-status"
PROP_CONTEXT_PREV = "x-context-prev"
PROP_CONTEXT_NEXT = "x-context-next"
PROP_ORIGIN_FILE = "x-origin-file"
PROP_DOC_TITLE = "x-doc-title"
PROP_DOC_URL = "x-doc-url"

#: UnitRecord attribute -> TMX prop type, in the order a writer emits them.
FIELD_PROPS: tuple[tuple[str, str], ...] = (
    ("status", PROP_STATUS),
    ("context_prev", PROP_CONTEXT_PREV),
    ("context_next", PROP_CONTEXT_NEXT),
    ("origin_file", PROP_ORIGIN_FILE),
    ("doc_title", PROP_DOC_TITLE),
    ("doc_url", PROP_DOC_URL),
)


#: The longest segment (one side of a unit) an import or a client may store. A segment is a
#: sentence or at most a paragraph; 20,000 characters is ten pages of Chinese. Without a bound
#: one 10 MB "segment" (libxml2's own ceiling) costs seconds to key and index, and every later
#: lookup that meets it as a candidate pays again.
MAX_SEGMENT_CHARS = 20_000


def segment_problem(zh: str, en: str) -> Message | None:
    """Why a pair is too long to store (naming the side), or None when both sides fit."""
    for text, side in ((zh, N_("Chinese")), (en, N_("English"))):
        if len(text) > MAX_SEGMENT_CHARS:
            return Message(N_("the {side} segment has {length:,} characters; at most {most:,} are allowed"),
                           side=Message(side), length=len(text), most=MAX_SEGMENT_CHARS)
    return None


_OPTIONAL_TEXT = (
    "creationid", "changeid", "note", "origin_file", "doc_title", "doc_url",
    "context_prev", "context_next",
)


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """One translation unit: a Chinese segment, its English counterpart, metadata.

    Dates are timezone-aware datetimes, converted to UTC (TMX stores only UTC).  ``zh_lang`` and
    ``en_lang`` keep the language code the file used (``zh-TW``, ``en-GB``...) so an
    export can give it back; matching treats every Chinese variant as ``zh``.
    """

    zh: str
    en: str
    creationdate: datetime | None = None
    changedate: datetime | None = None
    creationid: str | None = None
    changeid: str | None = None
    usagecount: int = 0
    note: str | None = None
    props: tuple[tuple[str, str], ...] = ()
    origin_file: str | None = None
    doc_title: str | None = None
    doc_url: str | None = None
    context_prev: str | None = None
    context_next: str | None = None
    status: Status = "approved"
    zh_lang: str = "zh-CN"
    en_lang: str = "en-US"

    def __post_init__(self) -> None:
        # An empty optional text means "absent": every format reads it back as None.
        for name in _OPTIONAL_TEXT:
            if getattr(self, name) == "":
                object.__setattr__(self, name, None)
        # Checked here so every reader rejects the same things the same way.
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")
        if self.usagecount < 0:
            raise ValueError(f"usagecount must not be negative ({self.usagecount})")
        for name in ("creationdate", "changedate"):
            when = getattr(self, name)
            if when is None or when.tzinfo is UTC:
                continue
            if when.tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware")
            object.__setattr__(self, name, when.astimezone(UTC))
        if not isinstance(self.props, tuple):
            # A list would make the frozen record unhashable; normalise quietly.
            object.__setattr__(self, "props", tuple((str(k), str(v)) for k, v in self.props))


class ImportFormatError(Exception):
    """A translation-memory file cannot be read.

    ``line`` is the 1-based line of the input where the problem was found (None
    when unknown, e.g. an empty file); ``reason`` is the human sentence without it (a
    `common.messages.Message`, so that the web can show it in the reader's language); ``message``
    is the two together.
    """

    def __init__(self, reason: str, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        self.message = (Message(N_("line {line}: {reason}"), line=line, reason=reason)
                        if line is not None else reason)
        super().__init__(self.message)
