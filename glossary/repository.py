"""Storage of the termbase: small functions over a ``Session``; the caller commits."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from common.db import year_month
from common.timeutil import utcnow
from glossary.core.model import Entry, Term
from glossary.models import EntryRow, GlossaryEvent, Proposal, TermRow

TERM_FIELDS = ("lang", "text", "status", "case_sensitive", "do_not_translate", "valid_from",
               "valid_to", "note", "term_type")


def to_domain(row: EntryRow, *, id_from: str = "db") -> Entry:
    """The pure ``Entry`` of a row; its id is the database id, or with ``id_from="ext"`` the
    id exchange files know it by."""
    return Entry(
        id=row.ext_id if id_from == "ext" and row.ext_id else str(row.id),
        concept_type=row.concept_type,
        terms=tuple(Term(**{f: getattr(t, f) for f in TERM_FIELDS if f != "note"}, note=t.note or "")
                    for t in row.terms),
        definition=row.definition or "",
        note=row.note or "",
        source=row.source_ref or "",
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


def apply_domain(row: EntryRow, entry: Entry) -> None:
    """Copy an ``Entry``'s content (not its id) onto a row, replacing its terms."""
    row.concept_type = entry.concept_type
    row.definition = entry.definition or None
    row.note = entry.note or None
    row.source_ref = entry.source or None
    row.valid_from, row.valid_to = entry.valid_from, entry.valid_to
    row.terms = [
        TermRow(position=i, **{f: getattr(t, f) for f in TERM_FIELDS if f != "note"}, note=t.note or None)
        for i, t in enumerate(entry.terms)
    ]


def live_entries(session: Session) -> Sequence[EntryRow]:
    return session.scalars(
        select(EntryRow).where(EntryRow.deleted_at.is_(None)).options(selectinload(EntryRow.terms))
        .order_by(EntryRow.id)
    ).all()


def iter_live_entries(session: Session, *, chunk: int = 1000) -> Iterator[EntryRow]:
    """Live entries in id order, a chunk at a time (exports of large termbases)."""
    last = 0
    while True:
        rows = session.scalars(
            select(EntryRow).where(EntryRow.deleted_at.is_(None), EntryRow.id > last)
            .options(selectinload(EntryRow.terms)).order_by(EntryRow.id).limit(chunk)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def get_entry(session: Session, entry_id: int) -> EntryRow | None:
    return session.get(EntryRow, entry_id)


def entry_from_file(session: Session, origin: str, ext_id: str) -> EntryRow | None:
    """The entry an earlier import of the file ``origin`` brought with the id ``ext_id``."""
    return session.scalar(select(EntryRow).where(EntryRow.origin == origin, EntryRow.ext_id == ext_id))


def live_entries_with_terms(session: Session, terms: Sequence[Term]) -> list[EntryRow]:
    """Live entries whose terms are exactly ``terms`` (the same languages and texts, in any
    order), lowest id first."""
    wanted = {(t.lang, t.text) for t in terms}
    if not wanted:
        return []
    lang, text = min(wanted)
    candidates = session.scalars(
        select(EntryRow).where(EntryRow.deleted_at.is_(None),
                               EntryRow.id.in_(select(TermRow.entry_id).where(TermRow.lang == lang,
                                                                              TermRow.text == text)))
        .options(selectinload(EntryRow.terms)).order_by(EntryRow.id)
    ).all()
    return [row for row in candidates if {(t.lang, t.text) for t in row.terms} == wanted]


def lock_entry(session: Session, entry_id: int, *, version: int | None) -> bool:
    """Take the entry's row for the rest of this transaction if it is still at ``version`` (at
    any version when None); False when it is not.

    A compare-and-set: a no-op UPDATE guarded by the version. Another transaction holding the row
    makes it wait (PostgreSQL re-checks the version once that one commits; SQLite has a single
    writer), so the version check and the write that follows are atomic on both engines.
    """
    condition = [EntryRow.id == entry_id]
    if version is not None:
        condition.append(EntryRow.version == version)
    # An UPDATE gives a CursorResult, which has the rowcount; Session.execute is typed for any statement.
    result = cast(CursorResult[Any], session.execute(
        update(EntryRow).where(*condition).values(version=EntryRow.version)
        .execution_options(synchronize_session=False)))
    return result.rowcount == 1


#: Key of the PostgreSQL advisory lock that makes glossary imports take turns; any constant
#: other code does not use.
GLOSSARY_IMPORT_LOCK = 0x64_7A_67  # "dzg"


def lock_glossary_for_import(session: Session) -> None:
    """Hold the glossary against other imports until this transaction ends. Two imports that
    update the same entries in different orders would each wait for a row the other holds (a
    deadlock on PostgreSQL); imports are rare, so they simply take turns. SQLite has a single
    writer and needs nothing."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(GLOSSARY_IMPORT_LOCK)))


def close_proposal(session: Session, proposal_id: int, *, state: str, user: str) -> bool:
    """Move an open proposal to ``state`` (accepted, rejected); False when it was not open any
    more: of two editors deciding at once, exactly one gets True."""
    result = cast(CursorResult[Any], session.execute(  # an UPDATE's result, as above
        update(Proposal).where(Proposal.id == proposal_id, Proposal.state == "open")
        .values(state=state, decided_by=user, decided_at=now()).execution_options(synchronize_session=False)
    ))
    return result.rowcount == 1


def entries_by_ids(session: Session, ids: Sequence[int]) -> Sequence[EntryRow]:
    return session.scalars(
        select(EntryRow).where(EntryRow.id.in_(ids)).options(selectinload(EntryRow.terms))
    ).all()


def search(session: Session, *, text: str | None, concept_type: str | None, offset: int,
           limit: int, include_deleted: bool = False) -> tuple[Sequence[EntryRow], int]:
    """Entries with a term containing ``text`` (case-insensitive), of a type, a page of them."""
    if text and "\x00" in text:
        return [], 0  # no stored text holds one (fieldlimits.NUL), and PostgreSQL refuses the query
    query = select(EntryRow)
    if not include_deleted:
        query = query.where(EntryRow.deleted_at.is_(None))
    if concept_type:
        query = query.where(EntryRow.concept_type == concept_type)
    if text:
        pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(
            EntryRow.id.in_(select(TermRow.entry_id).where(func.lower(TermRow.text).like(pattern, escape="\\"))),
            func.lower(func.coalesce(EntryRow.definition, "")).like(pattern, escape="\\"),
        ))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.options(selectinload(EntryRow.terms)).order_by(EntryRow.id)
                           .offset(offset).limit(limit)).all()
    return rows, total


def counts_by_type(session: Session) -> dict[str, int]:
    rows = session.execute(select(EntryRow.concept_type, func.count())
                           .where(EntryRow.deleted_at.is_(None)).group_by(EntryRow.concept_type))
    return dict(rows.all())


def log(session: Session, entry_id: int | None, action: str, user: str | None, *,
        before: dict | None, after: dict | None) -> None:
    session.add(GlossaryEvent(entry_id=entry_id, action=action, user=user, before=before, after=after))


def history(session: Session, entry_id: int) -> Sequence[GlossaryEvent]:
    return session.scalars(select(GlossaryEvent).where(GlossaryEvent.entry_id == entry_id)
                           .order_by(GlossaryEvent.id)).all()


def events_after(session: Session, last_id: int, also: Sequence[int] = ()) -> Sequence[tuple[int, int | None]]:
    """(event id, entry id) of events after ``last_id``, and of the ids in ``also``."""
    condition = GlossaryEvent.id > last_id
    if also:
        condition = or_(condition, GlossaryEvent.id.in_(also))
    return session.execute(select(GlossaryEvent.id, GlossaryEvent.entry_id)
                           .where(condition).order_by(GlossaryEvent.id)).all()


def has_entries(session: Session) -> bool:
    """Whether the glossary ever held an entry (deleted ones count: they were someone's work)."""
    return session.scalar(select(EntryRow.id).limit(1)) is not None


def last_event_id(session: Session) -> int:
    return session.scalar(select(func.max(GlossaryEvent.id))) or 0


def last_event(session: Session) -> tuple[int, dt.datetime | None]:
    """The id and time of the termbase's latest event; (0, None) when it has none."""
    row = session.execute(select(GlossaryEvent.id, GlossaryEvent.at).order_by(GlossaryEvent.id.desc())
                          .limit(1)).first()
    return (row[0], row[1]) if row else (0, None)


def live_entry_count(session: Session) -> int:
    """How many entries are not deleted."""
    return session.scalar(select(func.count()).select_from(EntryRow).where(EntryRow.deleted_at.is_(None))) or 0


def entries_created_per_month(session: Session) -> dict[str, int]:
    """{"YYYY-MM": glossary entries created that month}, deleted entries left out."""
    month = year_month(session, EntryRow.created_at).label("month")
    rows = session.execute(select(month, func.count()).where(EntryRow.deleted_at.is_(None)).group_by(month)).all()
    return {key: count for key, count in rows}


def proposals(session: Session, *, state: str | None = "open") -> Sequence[Proposal]:
    query = select(Proposal).order_by(Proposal.id)
    if state:
        query = query.where(Proposal.state == state)
    return session.scalars(query).all()


def now() -> dt.datetime:
    return utcnow()
