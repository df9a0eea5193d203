"""What the workbench's pages and its JSON API share (the web layer: it may use Flask)."""
from __future__ import annotations

import re

from flask import Response

from common.errors import DuizhaoError
from common.messages import N_, Message
from workbench import documents, export
from workbench.models import Document

MIMETYPES = {"txt": "text/plain; charset=utf-8", "tmx": "application/x-tmx+xml",
             "xliff12": "application/x-xliff+xml", "xliff20": "application/xliff+xml"}
EXTENSIONS = {"txt": "txt", "tmx": "tmx", "xliff12": "xlf", "xliff20": "xlf"}


def document_download(document: Document, file_format: str) -> Response:
    """A document's translation as a file to download, named after the document."""
    if file_format not in documents.EXPORT_FORMATS:
        raise DuizhaoError(Message(N_("Unknown export format {format!r}; use one of {formats}."),
                                   format=file_format, formats=", ".join(documents.EXPORT_FORMATS)),
                           parameter="format")
    if file_format == "txt":
        body: bytes = documents.export_text(document).encode("utf-8")
    elif file_format == "tmx":
        body = documents.export_tmx(document)
    else:
        body = export.translated_xliff([s.source for s in document.segments], documents.confirmed_targets(document),
                                       document.src, document.tgt, version=1 if file_format == "xliff12" else 2,
                                       original=document.filename or f"{document.title}.txt")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", document.title).strip("-")[:60] or f"document-{document.id}"
    filename = f"{stem}.{document.tgt}.{EXTENSIONS[file_format]}"
    return Response(body, mimetype=MIMETYPES[file_format],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
