"""Reading XML that strangers send: one set of parser options for every format.

TMX, XLIFF and TBX files, the parts of a .docx, and the XLIFF documents that are pre-translated
all come from outside. Every parser here gets the same options (`OPTIONS`):

* ``resolve_entities=False``: an entity reference stays one inert node, so a "billion laughs"
  bomb never expands and an external entity (XXE) never reads a file;
* ``load_dtd=False`` and ``no_network=True``: a DOCTYPE's DTD is never fetched, from disk or
  the network (``<!DOCTYPE martif SYSTEM "TBXcoreStructV02.dtd">`` is accepted and ignored);
* ``huge_tree=False``: libxml2 keeps its limits on depth and on the size of one text node.

The formats also refuse outright a document whose DOCTYPE declares any entity (`first_entity`):
none of them has a use for one, and a refusal names the problem where silence would not.

Why not defusedxml: its ``defusedxml.lxml`` wrapper is deprecated and adds nothing these options
and the refusal do not already give (it forbids entity declarations and DTD loading, as here);
its other modules guard the standard library's parsers, which nothing in Duizhao uses.

Pure: lxml and ``common.messages`` only. Each format turns what these helpers report into its
own error (with the line), so the words of each error stay those of its format.
"""
from __future__ import annotations

from typing import IO, Any

from lxml import etree

from common.messages import N_, Message

__all__ = ["OPTIONS", "PROLOG_PEEK", "PeekedStream", "entity_line", "entity_refused", "first_entity", "iterparse",
           "parser", "peek_prolog", "syntax_problem"]

#: The options every parser of outside XML gets (see the module's docstring for each one's why).
OPTIONS: dict[str, Any] = {"resolve_entities": False, "no_network": True, "load_dtd": False,
                           "huge_tree": False}
#: How far into a file the readers look for the DOCTYPE, to report an entity's exact line.
PROLOG_PEEK = 64 * 1024


def iterparse(source: Any, **options: Any) -> etree.iterparse:
    """``lxml.etree.iterparse`` with `OPTIONS`; ``options`` adds the caller's own (events, tag,
    remove_comments ...), never a weaker one."""
    return etree.iterparse(source, **_with_safe(options))


def parser(**options: Any) -> etree.XMLParser:
    """An ``lxml.etree.XMLParser`` with `OPTIONS`, for whole-document work."""
    return etree.XMLParser(**_with_safe(options))


def _with_safe(options: dict[str, Any]) -> dict[str, Any]:
    clash = [name for name in OPTIONS if name in options and options[name] != OPTIONS[name]]
    if clash:
        raise ValueError(f"safe XML parsing does not allow changing {', '.join(clash)}")
    return {**options, **OPTIONS}


class PeekedStream:
    """A binary stream whose first bytes were already read (to inspect the prolog)."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                data, self._head = self._head + self._rest.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._rest.read(size)


def peek_prolog(stream: IO[bytes], reader: str) -> tuple[bytes, PeekedStream]:
    """The first `PROLOG_PEEK` bytes of ``stream`` and a stream that reads it all from the start.

    ``reader`` names the caller in the TypeError a text stream gets.
    """
    head = stream.read(PROLOG_PEEK)
    if isinstance(head, str):
        raise TypeError(f"{reader} needs a binary stream (open the file with 'rb')")
    return head, PeekedStream(head, stream)


def entity_line(head: bytes) -> int | None:
    """Line of the first ``<!ENTITY`` in the file's first bytes (ASCII-compatible encodings)."""
    at = head.find(b"<!ENTITY")
    return head.count(b"\n", 0, at) + 1 if at >= 0 else None


def first_entity(tree: etree._ElementTree) -> etree._DTDEntity | None:
    """The first entity the document's internal DTD subset declares, or None.

    Entities are never expanded (`OPTIONS`), so asking once the root element is parsed is early
    enough.
    """
    dtd = tree.docinfo.internalDTD
    return next(iter(dtd.iterentities()), None) if dtd is not None else None


def entity_refused(entity: etree._DTDEntity, file_format: str) -> Message:
    """Why a DOCTYPE's entity declaration is refused (TMX and XLIFF alike; TBX has its own words)."""
    if entity.system_url:
        problem = N_("the DOCTYPE declares external entity (XXE) {name!r}; {format} files must not declare "
                     "entities")
    else:
        problem = N_("the DOCTYPE declares entity (possible entity-expansion bomb) {name!r}; {format} files "
                     "must not declare entities")
    return Message(problem, name=entity.name, format=file_format)


def syntax_problem(err: etree.XMLSyntaxError) -> tuple[Message, int]:
    """libxml2's complaint as a reason and the line it names (1 when it names none).

    The parser's error log is preferred to the exception's own message: with
    ``resolve_entities=False`` lxml reports some fatal errors (an undeclared entity) as "no
    element found" at line 0, while the log keeps the real cause.
    """
    msg, line = err.msg or str(err), err.lineno
    if not line or line < 1:
        # The log is per thread and may hold older entries: the newest fatal one is ours.
        fatal = [e for e in err.error_log if e.level_name == "FATAL" and e.line > 0]
        if fatal:
            msg, line = fatal[-1].message, fatal[-1].line
    msg = msg.strip()
    if "UTF-8" in msg or "encoding" in msg.lower() or "Char 0x" in msg:
        reason = Message(N_("invalid or wrongly declared character encoding ({problem})"), problem=msg)
    else:
        reason = Message(N_("malformed XML ({problem})"), problem=msg)
    return reason, line if line and line > 0 else 1
