"""Alignment's own table: the jobs under review. Stored pairs become the TM's units."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base
from common.timeutil import utcnow


class AlignmentJob(Base):
    """A Chinese article and its English version being aligned and reviewed.

    Saved as the reviewer works (beads as JSON), so a reload or a closed tab loses nothing;
    nothing reaches the TM until the reviewer stores the approved pairs.
    """

    __tablename__ = "alignment_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    url: Mapped[str | None] = mapped_column(String(1000))
    doc_date: Mapped[str | None] = mapped_column(String(20))
    zh_text: Mapped[str] = mapped_column(Text)
    en_text: Mapped[str] = mapped_column(Text)
    # {"zh": [sentences], "en": [sentences], "beads": [{"zh": [i...], "en": [j...], "score", "approved"}]}
    state: Mapped[dict] = mapped_column(JSON)
    warnings: Mapped[list | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="review")  # review, stored
    memory_id: Mapped[int | None] = mapped_column(ForeignKey("memories.id", ondelete="SET NULL"))
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
