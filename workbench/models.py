"""A translator's documents: an article split into segments, each with its confirmed translation."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.db import Base
from common.timeutil import utcnow


class Document(Base):
    """An article being translated segment by segment ("My documents"). Confirmed segments are
    also stored as units of ``memory``; the document keeps its own record of them, so it can be
    left, resumed and exported."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_owner_changed", "owner", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(500))
    src: Mapped[str] = mapped_column(String(5))
    tgt: Mapped[str] = mapped_column(String(5))
    memory: Mapped[str] = mapped_column(String(120))
    #: The uploaded file's name, when there was one (an export names itself after it).
    filename: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    segments: Mapped[list[DocumentSegment]] = relationship(
        back_populates="document", order_by="DocumentSegment.position", passive_deletes=True)


class DocumentSegment(Base):
    """One source segment and its confirmed translation. ``version`` grows at each confirm: a
    confirm names the version it started from, so two people never overwrite each other silently."""

    __tablename__ = "document_segments"
    __table_args__ = (UniqueConstraint("document_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    position: Mapped[int]
    #: Where the segment's paragraph starts: an export as text keeps the paragraphs.
    paragraph: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(Text)
    target: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=0)
    confirmed_by: Mapped[str | None] = mapped_column(String(80))
    confirmed_at: Mapped[datetime | None]
    #: The unit the confirm stored (no foreign key: the document outlives a deleted unit).
    unit_id: Mapped[int | None]

    document: Mapped[Document] = relationship(back_populates="segments")
