"""The termbase's tables: concept entries, their terms, proposals and the change history."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.db import Base
from common.timeutil import utcnow

#: Characters of an import's file name kept as its entries' origin.
ORIGIN_LENGTH = 500


class EntryRow(Base):
    """One concept (an institution, a person, a place ...) with its terms in both languages."""

    __tablename__ = "glossary_entries"
    # A file's ids are unique only within that file: two vendors' files both have a "c1".
    __table_args__ = (UniqueConstraint("origin", "ext_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The entry's id in the file it came from (TBX ``id``, the CSV's entry column), and that
    # file's name: a later import of the same file updates the entry instead of adding a twin.
    # Entries made here have no origin and the id "dz<id>", which exports carry.
    ext_id: Mapped[str | None] = mapped_column(String(200))
    origin: Mapped[str | None] = mapped_column(String(ORIGIN_LENGTH))
    concept_type: Mapped[str] = mapped_column(String(20), default="other")
    definition: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    source_ref: Mapped[str | None] = mapped_column(String(1000))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    # Optimistic locking: an edit names the version it started from, so of two editors
    # saving at once the second is told of the conflict instead of overwriting.
    version: Mapped[int] = mapped_column(default=1)
    deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str | None] = mapped_column(String(120))

    terms: Mapped[list[TermRow]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="TermRow.position"
    )


class TermRow(Base):
    __tablename__ = "glossary_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("glossary_entries.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    lang: Mapped[str] = mapped_column(String(5))
    text: Mapped[str] = mapped_column(String(500), index=True)
    status: Mapped[str] = mapped_column(String(12), default="preferred")
    case_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_translate: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)
    term_type: Mapped[str | None] = mapped_column(String(20))

    entry: Mapped[EntryRow] = relationship(back_populates="terms")


class GlossaryEvent(Base):
    """Every change to an entry, with who and when; deleted entries keep theirs."""

    __tablename__ = "glossary_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(10))  # create, update, delete, merge, import
    user: Mapped[str | None] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


class Proposal(Base):
    """A translator's proposed entry or term, waiting for an editor to accept or reject it."""

    __tablename__ = "glossary_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("glossary_entries.id", ondelete="SET NULL")
    )
    payload: Mapped[dict] = mapped_column(JSON)
    proposed_by: Mapped[str] = mapped_column(String(120))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(10), default="open")  # open, accepted, rejected
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None]
