"""A translator's documents: start one from an article, confirm its segments, resume, export.

No Flask here: callers pass a ``Session`` and commit. A confirmed segment is stored at once in
two places: as a unit of the document's memory (``tm.service.store_translation``: a draft for a
translator, approved for an editor) and in the document's own record, which carries a version
so that of two people confirming the same segment the second is told instead of overwriting.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from common.errors import Conflict, DuizhaoError, Forbidden, NotFound
from common.fieldlimits import require_fits
from common.languages import LANGUAGES
from common.messages import N_, Message
from common.timeutil import isoformat, utcnow
from tm import repository as tm_repo
from tm import service as tm_service
from tm.core.segment import split_sentences
from tm.formats.records import UnitRecord
from tm.formats.tmx import write_tmx
from workbench.models import Document, DocumentSegment

#: An article is at most what the article page analyses at once (tm.lookup.MAX_BATCH).
MAX_SEGMENTS = 500
EXPORT_FORMATS = ("txt", "tmx", "xliff12", "xliff20")


@dataclass(frozen=True)
class Confirmed:
    segment: DocumentSegment
    outcome: str  # what storing the unit did: created, approved, unchanged


def create_document(session: Session, *, owner: str, title: str, text: str, src: str, tgt: str, memory: str,
                    filename: str | None = None) -> Document:
    """A new document of ``text`` split into segments, to be stored into ``memory`` (which must
    exist: creating memories is an admin's)."""
    if src not in LANGUAGES or tgt not in LANGUAGES or src == tgt:
        raise DuizhaoError(Message(N_("Choose Chinese → English or English → Chinese.")), field="direction")
    title = (title or "").strip()
    if not title:
        raise DuizhaoError(Message(N_("Field {field!r} must be a non-empty string."), field="title"), field="title")
    require_fits(Document.title, title, field="title")
    if tm_repo.memory_by_name(session, memory) is None:
        raise NotFound(Message(N_("No memory is called {name!r}."), name=memory), field="memory")
    segments = split_sentences(text or "", src)
    if not segments:
        raise DuizhaoError(Message(N_("The article is empty: paste a text or choose a file.")), field="text")
    if len(segments) > MAX_SEGMENTS:
        raise DuizhaoError(Message(N_("The article has {count} segments; at most {most} can be analysed at once. "
                                      "Split it into parts."), count=len(segments), most=MAX_SEGMENTS), field="text")
    now = utcnow()
    document = Document(owner=owner, title=title, src=src, tgt=tgt, memory=memory, created_at=now, changed_at=now,
                        filename=(filename or None) and filename[:500])
    session.add(document)
    session.flush()
    session.add_all(DocumentSegment(document_id=document.id, position=n, paragraph=s.paragraph, source=s.text)
                    for n, s in enumerate(segments, 1))
    session.flush()
    return document


def documents_of(session: Session, owner: str) -> list[dict[str, Any]]:
    """The owner's documents, the last changed first, with how many segments are confirmed."""
    confirmed = func.count(DocumentSegment.confirmed_at)
    rows = session.execute(
        select(Document, func.count(DocumentSegment.id), confirmed)
        .join(DocumentSegment, DocumentSegment.document_id == Document.id)
        .where(Document.owner == owner).group_by(Document.id)
        .order_by(Document.changed_at.desc(), Document.id.desc())).all()
    return [summary(document) | {"segments": total, "confirmed": done} for document, total, done in rows]


def summary(document: Document) -> dict[str, Any]:
    return {"id": document.id, "title": document.title, "owner": document.owner, "src": document.src,
            "tgt": document.tgt, "memory": document.memory, "filename": document.filename,
            "created_at": isoformat(document.created_at), "changed_at": isoformat(document.changed_at)}


def segment_dict(segment: DocumentSegment) -> dict[str, Any]:
    return {"position": segment.position, "paragraph": segment.paragraph, "source": segment.source,
            "target": segment.target, "version": segment.version, "confirmed_by": segment.confirmed_by,
            "confirmed_at": isoformat(segment.confirmed_at) if segment.confirmed_at else None,
            "unit_id": segment.unit_id}


def document_dict(document: Document) -> dict[str, Any]:
    return summary(document) | {"segments": [segment_dict(s) for s in document.segments]}


def get_document(session: Session, document_id: int) -> Document:
    """A document by id. Anyone who may store translations may open one by its address (a
    document is shared by passing its link); the list shows each user their own."""
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound(Message(N_("No document has id {document_id}."), document_id=document_id))
    return document


def _segment(session: Session, document: Document, position: int) -> DocumentSegment:
    segment = session.scalar(select(DocumentSegment).where(DocumentSegment.document_id == document.id,
                                                           DocumentSegment.position == position))
    if segment is None:
        raise NotFound(Message(N_("The document has no segment {position}."), position=position))
    return segment


def confirm_segment(session: Session, document: Document, position: int, *, target: object, version: object,
                    user: str, approved: bool) -> Confirmed:
    """Confirm the translation of segment ``position``, started from ``version``: stored in the
    document and as a unit of its memory. A ``version`` that is no longer the segment's (someone
    confirmed it meanwhile) is refused with 409 carrying what they confirmed."""
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise DuizhaoError(Message(N_("Field {field!r} must be a whole number ≥ 0."), field="version"),
                           field="version")
    if not isinstance(target, str) or not target.strip():
        raise DuizhaoError(Message(N_("The translation is empty: type it before storing it.")), field="target")
    segment = _segment(session, document, position)
    now = utcnow()
    # One conditional UPDATE first: of two confirms from the same version exactly one matches
    # a row, and the other stores nothing, in the document or in the memory.
    changed = cast(CursorResult, session.execute(
        update(DocumentSegment)
        .where(DocumentSegment.id == segment.id, DocumentSegment.version == version)
        .values(target=target.strip(), version=version + 1, confirmed_by=user, confirmed_at=now)
        .execution_options(synchronize_session=False))).rowcount
    if changed != 1:
        session.refresh(segment)
        raise Conflict(Message(N_("{user} confirmed this segment meanwhile; their translation is shown. "
                                  "Confirm again to replace it."), user=segment.confirmed_by or "?"),
                       current=segment_dict(segment))
    neighbours = {s.position: s.source for s in document.segments if abs(s.position - position) == 1}
    unit, outcome = tm_service.store_translation(
        session, memory_name=document.memory, source=segment.source, target=target.strip(), src=document.src,
        status="approved" if approved else "draft", user=user, doc_title=document.title,
        context_prev=neighbours.get(position - 1), context_next=neighbours.get(position + 1))
    session.execute(update(DocumentSegment).where(DocumentSegment.id == segment.id).values(unit_id=unit.id)
                    .execution_options(synchronize_session=False))
    session.execute(update(Document).where(Document.id == document.id).values(changed_at=now)
                    .execution_options(synchronize_session=False))
    session.refresh(segment)
    return Confirmed(segment, outcome)


def check_may_write(document: Document, user: str, *, editor: bool) -> None:
    """Only the owner and editors confirm a document's segments."""
    if document.owner != user and not editor:
        raise Forbidden(Message(N_("This document is {owner}'s: only they or an editor may confirm its segments."),
                                owner=document.owner))


# ------------------------------------------------------------------ export

def export_text(document: Document) -> str:
    """The translation as plain text, one paragraph a line as in the source; a segment not yet
    confirmed is given in its source language, so nothing is lost."""
    joiner = "" if document.tgt == "zh" else " "
    paragraphs: dict[int, list[str]] = {}
    for segment in document.segments:
        paragraphs.setdefault(segment.paragraph, []).append(segment.target or segment.source)
    return "\n".join(joiner.join(parts) for _, parts in sorted(paragraphs.items())) + "\n"


def export_tmx(document: Document) -> bytes:
    """The confirmed segments as TMX, with the document's title and the confirmer."""
    records = []
    for segment in document.segments:
        if not segment.target:
            continue
        zh, en = (segment.source, segment.target) if document.src == "zh" else (segment.target, segment.source)
        records.append(UnitRecord(zh=zh, en=en, creationid=segment.confirmed_by, changeid=segment.confirmed_by,
                                  creationdate=_aware(segment.confirmed_at), changedate=_aware(segment.confirmed_at),
                                  doc_title=document.title))
    out = io.BytesIO()
    write_tmx(records, out, srclang=document.src)
    return out.getvalue()


def _aware(moment: Any) -> Any:
    import datetime as dt

    return moment.replace(tzinfo=dt.UTC) if moment is not None and moment.tzinfo is None else moment


def confirmed_targets(document: Document) -> Sequence[str | None]:
    return [segment.target for segment in document.segments]
