"""The translation memory's tables: memories, units, and the event log of every change."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.db import Base
from common.timeutil import utcnow


class Memory(Base):
    """A named collection of units; lookups search one, several or all of them."""

    __tablename__ = "memories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Lower-priority memories rank below equal matches from higher ones (a named penalty).
    priority: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    units: Mapped[list[Unit]] = relationship(back_populates="memory", passive_deletes=True)


class Unit(Base):
    """One Chinese–English pair; it serves zh→en and en→zh lookups alike."""

    __tablename__ = "units"
    __table_args__ = (
        # Importing the same pair twice into a memory must not make two units.
        UniqueConstraint("memory_id", "pair_hash"),
        Index("ix_units_memory_changed", "memory_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    memory_id: Mapped[int] = mapped_column(ForeignKey("memories.id", ondelete="CASCADE"))
    zh: Mapped[str] = mapped_column(Text)
    en: Mapped[str] = mapped_column(Text)
    # The language codes the unit's file used (zh-TW, en-GB ...), given back on export.
    zh_lang: Mapped[str | None] = mapped_column(String(20))
    en_lang: Mapped[str | None] = mapped_column(String(20))
    # Match keys (tm.core.text.normalize): what lookups and concordance compare; the stored
    # text stays as written. en_tokens holds the key's Moses tokens, space-joined, so the
    # candidate index builds at start-up without running the tokenizer over every unit.
    zh_key: Mapped[str] = mapped_column(Text, default="")
    en_key: Mapped[str] = mapped_column(Text, default="")
    en_tokens: Mapped[str] = mapped_column(Text, default="")
    pair_hash: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="approved")
    note: Mapped[str | None] = mapped_column(Text)
    props: Mapped[list | None] = mapped_column(JSON)
    origin_file: Mapped[str | None] = mapped_column(String(500))
    doc_title: Mapped[str | None] = mapped_column(String(500))
    doc_url: Mapped[str | None] = mapped_column(String(1000))
    context_prev: Mapped[str | None] = mapped_column(Text)
    context_next: Mapped[str | None] = mapped_column(Text)
    usage_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str | None] = mapped_column(String(120))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"), index=True)

    memory: Mapped[Memory] = relationship(back_populates="units")


class ImportRun(Base):
    """One file imported into a memory: who, when, and what happened to its units."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    memory_id: Mapped[int] = mapped_column(ForeignKey("memories.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(500))
    file_format: Mapped[str] = mapped_column(String(10))
    user: Mapped[str | None] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    added: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)


class UnitEvent(Base):
    """Every change to the TM, with who and when.

    It is also the change feed other worker processes poll to keep their in-memory
    index current: ids only grow, so "events after N" is all a process needs to ask.
    """

    __tablename__ = "unit_events"
    # Feeds ask "the last event of this memory" for their ETag without scanning the log.
    __table_args__ = (Index("ix_unit_events_memory_id_id", "memory_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: the history of a deleted unit must outlive it.
    unit_id: Mapped[int | None] = mapped_column(index=True)
    import_id: Mapped[int | None]
    memory_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(10))  # create, update, delete, import
    user: Mapped[str | None] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

