"""An article upload (.txt, .docx, XLIFF) read as text, within bounds checked before the work.

An article is at most ``MAX_SEGMENTS`` segments, so nothing legitimate comes near these bounds;
what does is a zip bomb (1 MB of .docx that python-docx inflates to gigabytes, and a worker
keeps much of it afterwards), a .docx of 200,000 empty paragraphs (20 s in python-docx), or one
XLIFF segment of megabytes. Each is refused before python-docx or the segmenter sees it: 413
when it is too large, 400 when it is malformed, with a message in the reader's language.

A .docx is a zip: its directory (declared sizes, which ``zipfile`` enforces when it inflates) is
checked first, then the main document part is streamed once through lxml to count paragraphs,
which also finds a malformed ``document.xml``; only then does python-docx open it.
"""
from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from pathlib import PurePath

from lxml import etree

from common import safexml
from common.errors import DuizhaoError
from common.messages import N_, Message
from tm.formats.records import ImportFormatError
from workbench import export

#: The largest article file. An article of the largest size the page analyses is well under a
#: megabyte as text or XLIFF; a .docx with its photographs may be a few megabytes.
MAX_UPLOAD_BYTES = 16 * 1024 * 1024
#: Characters of article text, the same bound werkzeug puts on a pasted text (500,000 bytes
#: of form field): a file cannot carry more than the text box.
MAX_ARTICLE_CHARS = 500_000
#: Parts in a .docx: a Word document has a dozen or two, plus one per picture.
MAX_DOCX_MEMBERS = 1_000
#: All parts inflated together: python-docx holds every part in memory while it reads.
MAX_DOCX_INFLATED = 64 * 1024 * 1024
#: The main document part inflated: python-docx builds its whole tree in memory.
MAX_DOCX_DOCUMENT_XML = 16 * 1024 * 1024
#: Inflated/deflated size of one part above which it is a bomb. Word's XML deflates about
#: 5–20 times and pictures not at all; bombs deflate by a thousand and more.
MAX_DOCX_RATIO = 200
#: Parts smaller than this are never called bombs, whatever their ratio (a run of blank styles).
_RATIO_FLOOR = 1024 * 1024
#: What a damaged zip raises while it is read (besides BadZipFile): a bad deflate stream, an
#: unknown compression method, an encrypted part.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError)
#: Paragraphs (table cells' included) in a .docx. An article of MAX_SEGMENTS sentences has
#: fewer than that many paragraphs; blank ones and tables add some; python-docx reads about
#: 10,000 a second.
MAX_DOCX_PARAGRAPHS = 10_000

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
UPLOAD_EXTENSIONS = (".txt", ".docx", ".xlf", ".xliff", ".xlf2")


def too_large(reason: Message) -> DuizhaoError:
    return DuizhaoError(reason, status=413)


def read_upload(stream, name: str, *, max_segments: int) -> str:
    """The article text of an uploaded file, by its extension; raises 413 or 400 as the module
    says. ``max_segments`` bounds an XLIFF's units before their text is joined."""
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise too_large(Message(N_("The file is larger than {megabytes} MB; an article upload may be at most "
                                   "that."), megabytes=MAX_UPLOAD_BYTES // (1024 * 1024)))
    suffix = PurePath(name).suffix.lower()
    if suffix == ".docx":
        text = docx_text(data)
    elif suffix in (".xlf", ".xliff", ".xlf2"):
        text = _xliff_text(data, max_segments)
    elif suffix == ".txt":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DuizhaoError(Message(N_("The text file is not in UTF-8. Save it as UTF-8 and upload it "
                                          "again."))) from None
    else:
        raise DuizhaoError(Message(N_("Upload a plain text (.txt), Word (.docx) or XLIFF (.xlf) file.")))
    check_length(text)
    return text


def check_length(text: str) -> None:
    """413 for an article text longer than MAX_ARTICLE_CHARS (before it is segmented)."""
    if len(text) > MAX_ARTICLE_CHARS:
        raise too_large(Message(N_("The article has {count:,} characters; at most {most:,} can be analysed at "
                                   "once. Split it into parts."), count=len(text), most=MAX_ARTICLE_CHARS))


def _xliff_text(data: bytes, max_segments: int) -> str:
    try:
        sources = export.xliff_sources(data)
    except ImportFormatError as err:
        raise DuizhaoError(Message(N_("The XLIFF file could not be read: {reason}"), reason=err.message)) from None
    if len(sources) > max_segments:
        raise too_large(Message(N_("The article has {count} segments; at most {most} can be analysed at once. "
                                   "Split it into parts."), count=len(sources), most=max_segments))
    return "\n".join(sources)


def _unreadable() -> DuizhaoError:
    return DuizhaoError(Message(N_("The Word file could not be read; is it a .docx file?")))


def docx_text(data: bytes) -> str:
    """The paragraphs (and table cells) of a .docx, one per line, blank ones left out."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    check_docx(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except (*_ZIP_ERRORS, KeyError, ValueError, PackageNotFoundError, etree.XMLSyntaxError) as err:
        raise _unreadable() from err
    paragraphs = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            paragraphs.extend(cell.text for cell in row.cells)
    return "\n".join(p for p in paragraphs if p.strip())


def check_docx(data: bytes) -> None:
    """Refuse a .docx that is not a zip, is a zip bomb, has too many parts or paragraphs, or
    whose main document is not well-formed XML; without inflating more than one part once."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as err:
        raise _unreadable() from err
    with archive:
        members = archive.infolist()
        if len(members) > MAX_DOCX_MEMBERS:
            raise too_large(Message(N_("The Word file has {count:,} parts; at most {most:,} are read."),
                                    count=len(members), most=MAX_DOCX_MEMBERS))
        inflated = sum(m.file_size for m in members)
        bomb = any(m.file_size > _RATIO_FLOOR and m.file_size > MAX_DOCX_RATIO * max(m.compress_size, 1)
                   for m in members)
        if inflated > MAX_DOCX_INFLATED or bomb:
            raise too_large(Message(N_("The Word file would inflate to {megabytes:,} MB (a zip bomb?); at most "
                                       "{most} MB are read, and no part may inflate more than {ratio} times."),
                                    megabytes=inflated // (1024 * 1024), most=MAX_DOCX_INFLATED // (1024 * 1024),
                                    ratio=MAX_DOCX_RATIO))
        main = _main_part(archive)
        if archive.getinfo(main).file_size > MAX_DOCX_DOCUMENT_XML:
            raise too_large(Message(N_("The Word file's text part is larger than {megabytes} MB."),
                                    megabytes=MAX_DOCX_DOCUMENT_XML // (1024 * 1024)))
        _count_paragraphs(archive, main)


def _main_part(archive: zipfile.ZipFile) -> str:
    """The main document part's name, from the package relationships (word/document.xml in
    files Word writes; other tools may name it otherwise)."""
    try:
        with archive.open("_rels/.rels") as rels:
            root = etree.parse(rels, safexml.parser()).getroot()
    except (*_ZIP_ERRORS, KeyError, etree.XMLSyntaxError) as err:
        raise _unreadable() from err
    for rel in root.iter(f"{{{_RELS}}}Relationship"):
        if rel.get("Type") == _OFFICE_DOCUMENT and rel.get("Target"):
            name = posixpath.normpath(rel.get("Target").lstrip("/"))
            if name in archive.NameToInfo:
                return name
    raise _unreadable()


def _count_paragraphs(archive: zipfile.ZipFile, main: str) -> None:
    count = 0
    try:
        with archive.open(main) as part:
            for _event, elem in safexml.iterparse(part, tag=f"{{{_W}}}p"):
                count += 1
                if count > MAX_DOCX_PARAGRAPHS:
                    raise too_large(Message(N_("The Word file has more than {most:,} paragraphs; at most that many "
                                               "are read. Split it into parts."), most=MAX_DOCX_PARAGRAPHS))
                elem.clear(keep_tail=False)
    except (*_ZIP_ERRORS, etree.XMLSyntaxError) as err:
        raise DuizhaoError(Message(N_("The Word file is damaged: its text part is not well-formed XML "
                                      "({problem})."), problem=str(err))) from None


# ------------------------------------------------------------------ an uploaded XLIFF, carried back

#: The carried file is a form field, and Flask keeps form fields to MAX_FORM_MEMORY_SIZE
#: (500,000 bytes by default); compressed, that holds an XLIFF of a few megabytes (XLIFF
#: deflates 5-10 times). A larger one is pre-translated through the API or the command.
MAX_CARRIED_CHARS = 450_000


def is_xliff(name: str | None) -> bool:
    return bool(name) and PurePath(name or "").suffix.lower() in (".xlf", ".xliff", ".xlf2")


def carry(data: bytes) -> str | None:
    """An uploaded XLIFF as a form field the result page posts back for the pre-translated
    file (the page keeps nothing on the server); None when it would be too long for a form."""
    import base64

    packed = base64.b64encode(zlib.compress(data, 9)).decode("ascii")
    return packed if len(packed) <= MAX_CARRIED_CHARS else None


def carried(value: str | None) -> bytes:
    """The file `carry` packed: 400 when the field is not one, 413 past the pre-translation bound."""
    import base64
    import binascii

    from tm.pretranslate import MAX_FILE_BYTES

    try:
        packed = base64.b64decode((value or "").encode("ascii"), validate=True)
        inflater = zlib.decompressobj()
        data = inflater.decompress(packed, MAX_FILE_BYTES + 1)
    except (ValueError, binascii.Error, zlib.error):
        raise DuizhaoError(Message(N_("The file to pre-translate did not come with the form: upload it again.")),
                           parameter="xliff") from None
    if len(data) > MAX_FILE_BYTES or inflater.unconsumed_tail:
        raise too_large(Message(N_("The file is larger than {most} MB; at most that can be pre-translated at "
                                   "once."), most=MAX_FILE_BYTES // (1024 * 1024)))
    if not data:
        raise DuizhaoError(Message(N_("The file to pre-translate did not come with the form: upload it again.")),
                           parameter="xliff")
    return data
