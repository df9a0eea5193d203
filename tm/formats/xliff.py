"""Read XLIFF 1.2 and 2.x into translation units, streaming and safely.

`read_xliff` yields a `UnitRecord` for every translated unit of a bilingual Chinese–English
XLIFF file, with the same contract as `tm.formats.tmx.read_tmx`: lxml ``iterparse`` (each
unit cleared once read, flat memory), no DTD, no network, no entity expansion, and any
DOCTYPE that declares entities refused (`common.safexml`); errors are `ImportFormatError` with
line and reason.

Which units a translation memory should learn from (a TM learns what a person stood behind):

XLIFF 1.2 (``<trans-unit>``, languages from ``<file source-language target-language>``)
    ========================================================  ========================
    ``approved="yes"``, or target ``state`` final/signed-off     imported, ``approved``
    target ``state="translated"``, or a target with no state     imported, ``draft``
    ``state`` new, needs-translation, needs-adaptation,          skipped
    needs-l10n, needs-review-* (the last: a pre-translation
    nobody has confirmed yet, Duizhao's own among them)
    ``translate="no"``, no or empty ``<target>``                 skipped
    ========================================================  ========================
    ``<note>`` s become the note; ``<file original>`` the origin file. ``<seg-source>``
    segmentation is not followed: the whole source and target make one unit.

XLIFF 2.x (``<unit>/<segment>``, languages from ``<xliff srcLang trgLang>``)
    Each ``<segment>`` is a unit of its own. ``state`` translated -> ``draft``; reviewed and
    final -> ``approved``; initial (the default when absent, as the spec says) is skipped.
    ``<ignorable>`` is skipped. ``<notes>`` of the unit become the note.

Inline codes become plain text as in TMX: the content of native-code elements (1.2 ``ph``,
``bpt``, ``ept``, ``it``, ``sub``; 2.x ``ph``, ``sc``, ``ec``, ``sm``, ``em``, ``cp``) is
dropped, text-bearing markup (1.2 ``g``, ``mrk``; 2.x ``pc``, ``mrk``) keeps its text, and
empty placeholders (1.2 ``x``, ``bx``, ``ex``) vanish. A unit is stored as the words a translator
typed, so plain queries find it at 100; pre-translating a tagged file matches its segments the
same way and puts the codes back into the target (`tm.core.inline`).

A file whose languages are not Chinese and English (in either direction) is refused with the
line of its ``<file>`` (1.2) or root (2.x).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from lxml import etree

from common import safexml
from common.bounded import RecordBoundedStream, RecordTooLarge, unit_too_large
from common.languages import UnsupportedLanguage, normalize_lang
from common.messages import N_, Message
from tm.formats.records import ImportFormatError, UnitRecord, segment_problem

__all__ = ["read_xliff", "plain_text", "xliff_version", "NS_12", "NS_20", "NS_21", "first_child", "local_name",
           "check_entities", "parse_xliff", "language_pair"]

NS_12 = "urn:oasis:names:tc:xliff:document:1.2"
NS_20 = "urn:oasis:names:tc:xliff:document:2.0"
NS_21 = "urn:oasis:names:tc:xliff:document:2.1"
#: 1.0/1.1 files look like 1.2 for what we read.
_NS_1X = ("urn:oasis:names:tc:xliff:document:1.1", "urn:oasis:names:tc:xliff:document:1.0", NS_12)
_NS_2X = (NS_20, NS_21, "urn:oasis:names:tc:xliff:document:2.2")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

#: Elements (local names) whose content is native code, not text.
_CODE_12 = frozenset({"ph", "bpt", "ept", "it", "sub"})
_CODE_20 = frozenset({"ph", "sc", "ec", "sm", "em", "cp", "originalData"})

STATES_12_APPROVED = frozenset({"final", "signed-off"})
STATES_12_DRAFT = frozenset({"translated"})
STATES_20 = {"translated": "draft", "reviewed": "approved", "final": "approved"}


def local_name(tag) -> str:
    """The tag without its namespace ("" for comments and entities): 1.2 and 2.x share names."""
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def plain_text(elem: etree._Element, *, version: int) -> str:
    """The text of a ``<source>``/``<target>`` with inline codes handled as the module says."""
    codes = _CODE_12 if version == 1 else _CODE_20
    parts = [elem.text or ""]
    for child in elem:
        if child.tag is etree.Entity:
            raise ImportFormatError(Message(N_("undefined entity {entity}"), entity=child.text), child.sourceline)
        if isinstance(child.tag, str) and local_name(child.tag) not in codes:
            parts.append(plain_text(child, version=version))
        parts.append(child.tail or "")
    return "".join(parts)


def xliff_version(root: etree._Element) -> int:
    """1 for XLIFF 1.x, 2 for 2.x; ImportFormatError for anything else."""
    if local_name(root.tag) != "xliff":
        raise ImportFormatError(Message(N_("not an XLIFF file (root element <{root}>)"),
                                        root=local_name(root.tag) or root.tag), root.sourceline)
    namespace = etree.QName(root.tag).namespace
    if namespace in _NS_2X or (namespace is None and (root.get("version") or "").startswith("2")):
        return 2
    if namespace in _NS_1X or namespace is None:
        return 1
    raise ImportFormatError(Message(N_("unknown XLIFF namespace {namespace!r}"), namespace=namespace),
                            root.sourceline)


def check_entities(tree: etree._ElementTree, head: bytes | None = None) -> None:
    """Refuse a DOCTYPE that declares any entity (bombs, XXE); XLIFF needs none."""
    entity = safexml.first_entity(tree)
    if entity is not None:
        line = (safexml.entity_line(head) if head else None) or tree.getroot().sourceline
        raise ImportFormatError(safexml.entity_refused(entity, "XLIFF"), line)


def parse_xliff(data: bytes) -> tuple[etree._ElementTree, int]:
    """A whole XLIFF document parsed for pre-translation, and its version (1 or 2): the parser of
    `common.safexml`, entities refused, a root other than ``<xliff>`` refused; every problem an
    `ImportFormatError` with its line. The one reader both pre-translation writers open files with
    (`tm.formats.xliff_roundtrip`, `tm.formats.xliff_pretranslate`); the importer streams instead."""
    import io

    try:
        tree = etree.parse(io.BytesIO(data), safexml.parser(remove_blank_text=False))
    except etree.XMLSyntaxError as err:
        raise ImportFormatError(*safexml.syntax_problem(err)) from err
    check_entities(tree, data[:safexml.PROLOG_PEEK])
    return tree, xliff_version(tree.getroot())


def language_pair(source: str | None, target: str | None, line: int | None) -> tuple[str, str]:
    """The (source, target) languages of a file to pre-translate, as ``zh``/``en``, from any
    spelling (``zh-Hans``, ``en-GB``...); `ImportFormatError` with ``line`` for other languages
    or twice the same one."""
    try:
        pair = normalize_lang(source or ""), normalize_lang(target or "")
    except UnsupportedLanguage:
        raise ImportFormatError(Message(N_("the file's languages {source}→{target} are not Chinese and English"),
                                        source=source, target=target), line) from None
    if pair[0] == pair[1]:
        raise ImportFormatError(Message(N_("source and target language are both {lang!r}"), lang=pair[0]), line)
    return pair


def _pair(source: str | None, target: str | None, line: int | None) -> tuple[str, str, str, str]:
    """(source lang, target lang, original source code, original target code)."""
    if not source or not target:
        raise ImportFormatError(Message(N_("the file does not name both its source and target language")), line)
    try:
        pair = normalize_lang(source), normalize_lang(target)
    except UnsupportedLanguage:
        raise ImportFormatError(Message(N_("the file's languages {source}→{target} are not Chinese and English"),
                                        source=source, target=target), line) from None
    if pair[0] == pair[1]:
        raise ImportFormatError(Message(N_("source and target language are both {lang!r}"), lang=pair[0]), line)
    return pair[0], pair[1], source, target


def read_xliff(stream: IO[bytes]) -> Iterator[UnitRecord]:
    """Yield a `UnitRecord` for every translated Chinese–English unit of an XLIFF file.

    ``stream`` is binary. Raises `ImportFormatError` (line and reason) for malformed XML, a
    wrong encoding, entity declarations, a file that is not XLIFF, or languages other than
    Chinese and English. Records read before an error have been yielded already: callers that
    must be all-or-nothing import inside one transaction, as for TMX.
    """
    etree.clear_error_log()
    head, peeked = safexml.peek_prolog(stream, "read_xliff")
    if not head.strip():
        raise ImportFormatError(Message(N_("the file is empty")), 1)
    bounded = RecordBoundedStream(peeked)
    events = safexml.iterparse(bounded, events=("start", "end"), remove_comments=True, remove_pis=True)
    version = 0
    last_line = 1
    langs: tuple[str, str, str, str] | None = None
    origin: str | None = None
    try:
        for event, elem in events:
            if event == "start":
                _check_prefix(elem)
            if not version:
                check_entities(elem.getroottree(), head)
                version = xliff_version(elem)
                if version == 2:
                    langs = _pair(elem.get("srcLang"), elem.get("trgLang"), elem.sourceline)
                continue
            name = local_name(elem.tag)
            if event == "start":
                if name == "file":
                    origin = elem.get("original")
                    if version == 1:
                        langs = _pair(elem.get("source-language"), elem.get("target-language"),
                                      elem.sourceline)
                continue
            if version == 1 and name == "trans-unit":
                record = _read_trans_unit(elem, langs, origin)
                if record is not None:
                    yield record
                last_line = elem.sourceline or last_line
                _forget(elem)
                bounded.record_done()
            elif version == 2 and name == "unit":
                yield from _read_unit(elem, langs, origin)
                last_line = elem.sourceline or last_line
                _forget(elem)
                bounded.record_done()
    except etree.XMLSyntaxError as err:
        raise ImportFormatError(*safexml.syntax_problem(err)) from err
    except RecordTooLarge as err:
        raise ImportFormatError(unit_too_large(err.limit), last_line) from None
    if not version:
        raise ImportFormatError(Message(N_("not an XLIFF file (no root element)")), 1)


def _check_prefix(elem: etree._Element) -> None:
    """Refuse an element whose namespace prefix is never declared (``<foo:bar>``): libxml2 only
    warns about it while streaming, and the tag it leaves is no name a reader can take apart."""
    tag = elem.tag
    if isinstance(tag, str) and not tag.startswith("{") and ":" in tag:
        prefix, _, name = tag.partition(":")
        raise ImportFormatError(Message(N_("malformed XML ({problem})"),
                                        problem=f"Namespace prefix {prefix} on {name} is not defined"),
                                elem.sourceline)


def _forget(elem: etree._Element) -> None:
    """Free a read unit and its earlier siblings: flat memory however long the file."""
    elem.clear(keep_tail=True)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def _record(source_text: str, target_text: str, langs, *, status: str, note: str | None,
            origin: str | None, line: int | None) -> UnitRecord:
    src, _tgt, src_code, tgt_code = langs
    zh, en = (source_text, target_text) if src == "zh" else (target_text, source_text)
    too_long = segment_problem(zh, en)
    if too_long is not None:
        raise ImportFormatError(too_long, line)
    zh_code, en_code = (src_code, tgt_code) if src == "zh" else (tgt_code, src_code)
    return UnitRecord(zh=zh, en=en, status=status, note=note, origin_file=origin,  # type: ignore[arg-type]
                      zh_lang=zh_code, en_lang=en_code)


def first_child(elem: etree._Element, name: str) -> etree._Element | None:
    """The first child called ``name`` (any namespace), or None."""
    for child in elem:
        if local_name(child.tag) == name:
            return child
    return None


def _read_trans_unit(tu: etree._Element, langs, origin: str | None) -> UnitRecord | None:
    if langs is None:
        raise ImportFormatError(Message(N_("<trans-unit> outside a <file> with languages")), tu.sourceline)
    if tu.get("translate") == "no":
        return None
    source, target = first_child(tu, "source"), first_child(tu, "target")
    if source is None:
        raise ImportFormatError(Message(N_("<trans-unit> has no <source>")), tu.sourceline)
    if target is None:
        return None
    state = target.get("state")
    if tu.get("approved") == "yes" or state in STATES_12_APPROVED:
        status = "approved"
    elif state is None or state in STATES_12_DRAFT:
        status = "draft"
    else:
        return None  # new, needs-*: nobody stands behind this target yet
    source_text, target_text = plain_text(source, version=1), plain_text(target, version=1)
    if not source_text.strip() or not target_text.strip():
        return None
    notes = [n.text.strip() for n in tu if local_name(n.tag) == "note" and n.text and n.text.strip()]
    return _record(source_text, target_text, langs, status=status, note="\n\n".join(notes) or None,
                   origin=origin, line=tu.sourceline)


def _read_unit(unit: etree._Element, langs, origin: str | None) -> Iterator[UnitRecord]:
    notes_elem = first_child(unit, "notes")
    notes = [n.text.strip() for n in (notes_elem if notes_elem is not None else ())
             if local_name(n.tag) == "note" and n.text and n.text.strip()]
    for segment in unit:
        if local_name(segment.tag) != "segment":
            continue
        status = STATES_20.get(segment.get("state", "initial"))
        source, target = first_child(segment, "source"), first_child(segment, "target")
        if source is None:
            raise ImportFormatError(Message(N_("<segment> has no <source>")), segment.sourceline)
        if status is None or target is None:
            continue
        source_text, target_text = plain_text(source, version=2), plain_text(target, version=2)
        if source_text.strip() and target_text.strip():
            yield _record(source_text, target_text, langs, status=status,
                          note="\n\n".join(notes) or None, origin=origin, line=segment.sourceline)
