"""Use cases of the glossary: editing with history and conflict detection, proposals, merging,
import and export, and the live term recognizer. No Flask here; callers commit."""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import threading
import time
from collections.abc import Iterable, Iterator
from typing import IO

from sqlalchemy.orm import Session

from common import params
from common.errors import Conflict, DuizhaoError, NotFound
from common.eventlog import EventCursor
from common.messages import N_, Message
from common.timeutil import isoformat
from glossary import repository as repo
from glossary.core.model import Entry, GlossaryFormatError, Term, validate_entry
from glossary.core.qa import check as qa_check
from glossary.core.recognize import TermRecognizer
from glossary.formats.table import iter_table, write_table
from glossary.formats.tbx import iter_tbx, write_tbx
from glossary.limits import check_entry, entry_problem
from glossary.models import ORIGIN_LENGTH, EntryRow, Proposal

IMPORT_FORMATS = ("tbx", "csv", "tsv")
EXPORT_FORMATS = {"tbx": "basic2008", "tbx3": "v3", "csv": ",", "tsv": "\t"}
EXPORT_MIMETYPES = {"tbx": "application/x-tbx+xml", "tbx3": "application/x-tbx+xml",
                    "csv": "text/csv; charset=utf-8", "tsv": "text/tab-separated-values; charset=utf-8"}
MAX_PER_PAGE = 200


# ------------------------------------------------------------------ JSON shape

def entry_from_json(data: object, *, entry_id: str | None = None) -> Entry:
    """An Entry from the API's JSON (or a form); raises with the field named."""
    if not isinstance(data, dict):
        raise DuizhaoError(Message(N_("An entry must be a JSON object.")))
    terms_data = data.get("terms")
    if not isinstance(terms_data, list) or not terms_data:
        raise DuizhaoError(Message(N_("Field {field!r} must be a non-empty list."), field="terms"), field="terms")
    terms = []
    for number, t in enumerate(terms_data, 1):
        if not isinstance(t, dict):
            raise DuizhaoError(Message(N_("Term {number} must be an object."), number=number), field="terms")
        terms.append(Term(
            lang=t.get("lang") or "", text=(t.get("text") or "").strip(),
            status=t.get("status") or "preferred",
            case_sensitive=bool(t.get("case_sensitive")), do_not_translate=bool(t.get("do_not_translate")),
            valid_from=params.date(t.get("valid_from"), f"terms[{number}].valid_from", field=True),
            valid_to=params.date(t.get("valid_to"), f"terms[{number}].valid_to", field=True),
            note=t.get("note") or "", term_type=t.get("term_type") or None,
        ))
    entry = Entry(
        id=entry_id, concept_type=data.get("concept_type") or "other", terms=tuple(terms),
        definition=data.get("definition") or "", note=data.get("note") or "",
        source=data.get("source") or "",
        valid_from=params.date(data.get("valid_from"), "valid_from", field=True),
        valid_to=params.date(data.get("valid_to"), "valid_to", field=True),
    )
    try:
        validate_entry(entry)
    except GlossaryFormatError as err:
        raise DuizhaoError(err.reason, field="terms") from None
    too_long = entry_problem(entry)
    if too_long is not None:
        raise DuizhaoError(too_long[1], field=too_long[0])
    return entry


def entry_json(row: EntryRow) -> dict:
    entry = repo.to_domain(row)
    return {
        "id": row.id, "ext_id": row.ext_id, "origin": row.origin, "version": row.version,
        "concept_type": entry.concept_type, "definition": entry.definition, "note": entry.note,
        "source": entry.source, "valid_from": _iso(entry.valid_from), "valid_to": _iso(entry.valid_to),
        "deleted": row.deleted_at is not None,
        "changed_at": isoformat(row.changed_at), "changed_by": row.changed_by,
        "terms": [term_json(t) for t in entry.terms],
    }


def term_json(term: Term) -> dict:
    return {"lang": term.lang, "text": term.text, "status": term.status, "term_type": term.term_type,
            "case_sensitive": term.case_sensitive, "do_not_translate": term.do_not_translate,
            "valid_from": _iso(term.valid_from), "valid_to": _iso(term.valid_to), "note": term.note}


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _snapshot(row: EntryRow) -> dict:
    data = entry_json(row)
    data.pop("changed_at", None)
    return data


# ------------------------------------------------------------------ editing

def get_entry(session: Session, entry_id: int, *, include_deleted: bool = False) -> EntryRow:
    row = repo.get_entry(session, entry_id)
    if row is None or (row.deleted_at is not None and not include_deleted):
        raise NotFound(Message(N_("No glossary entry has id {entry_id}."), entry_id=entry_id))
    return row


def create_entry(session: Session, entry: Entry, *, user: str | None, action: str = "create",
                 origin: str | None = None) -> EntryRow:
    """Add an entry; an imported one (``origin``: the file's name) keeps the id it has there."""
    validate_entry(entry)
    check_entry(entry)
    now = repo.now()
    row = EntryRow(created_by=user, changed_by=user, created_at=now, changed_at=now)
    repo.apply_domain(row, entry)
    session.add(row)
    session.flush()
    if entry.id and origin is not None:
        row.origin, row.ext_id = origin, entry.id
    else:
        row.ext_id = f"dz{row.id}"
    repo.log(session, row.id, action, user, before=None, after=_snapshot(row))
    return row


def _locked(session: Session, row: EntryRow, expected_version: int | None, conflict) -> EntryRow:
    """Hold ``row`` for this transaction at the version the editor started from (any version when
    None) and read it again as it now is; ``conflict(row)`` makes the error when someone saved
    in between (the row then shows what they saved)."""
    held = repo.lock_entry(session, row.id, version=expected_version)
    session.refresh(row)
    if not held:
        raise conflict(row)
    return row


def _edit_conflict(entry_id: int, expected_version: int | None):
    def conflict(row: EntryRow) -> Conflict:
        changed_by = row.changed_by or Message(N_("someone"))
        return Conflict(Message(N_("Entry {entry_id} was changed by {user} at {at} UTC while you edited it "
                                   "(your version {yours}, now {current}). Reload it and apply your change "
                                   "again."), entry_id=entry_id, user=changed_by,
                                at=f"{row.changed_at:%Y-%m-%d %H:%M}", yours=expected_version,
                                current=row.version),
                        current_version=row.version)
    return conflict


def update_entry(session: Session, entry_id: int, entry: Entry, *, expected_version: int | None,
                 user: str | None, action: str = "update", revive: bool = False) -> EntryRow:
    """Replace an entry's content. ``expected_version`` is the version the editor started from:
    when someone saved in between, the second editor gets 409 instead of overwriting (checked
    and written atomically). ``revive`` brings a deleted entry back (a re-import)."""
    # A deleted entry is found too: an editor whose version predates the deletion is told of it
    # as of any other change (409), not that the entry never existed.
    row = get_entry(session, entry_id, include_deleted=True)
    validate_entry(entry)
    _locked(session, row, expected_version, _edit_conflict(entry_id, expected_version))
    if row.deleted_at is not None and not revive:
        raise NotFound(Message(N_("No glossary entry has id {entry_id}."), entry_id=entry_id))
    before = _snapshot(row)
    row.deleted_at = None
    repo.apply_domain(row, entry)
    row.version += 1
    row.changed_at, row.changed_by = repo.now(), user
    session.flush()
    repo.log(session, row.id, action, user, before=before, after=_snapshot(row))
    return row


def delete_entry(session: Session, entry_id: int, *, expected_version: int | None, user: str | None) -> EntryRow:
    """Soft delete: the entry leaves lookups and lists, its history stays."""
    row = get_entry(session, entry_id, include_deleted=True)

    def conflict(current: EntryRow) -> Conflict:
        return Conflict(Message(N_("Entry {entry_id} changed since you loaded it; reload before deleting."),
                                entry_id=entry_id),
                        current_version=current.version)

    _locked(session, row, expected_version, conflict)
    if row.deleted_at is not None:
        raise NotFound(Message(N_("No glossary entry has id {entry_id}."), entry_id=entry_id))
    before = _snapshot(row)
    row.deleted_at = repo.now()
    row.version += 1
    row.changed_at, row.changed_by = row.deleted_at, user
    repo.log(session, row.id, "delete", user, before=before, after=None)
    return row


def merge_entries(session: Session, keep_id: int, merge_id: int, *, user: str | None) -> EntryRow:
    """Merge a duplicate into ``keep_id``: its terms and notes join the kept entry (terms it
    already has are not doubled) and the duplicate is deleted; both histories record it."""
    if keep_id == merge_id:
        raise DuizhaoError(Message(N_("An entry cannot be merged with itself.")))
    keep, other = get_entry(session, keep_id), get_entry(session, merge_id)
    # Both rows are held before either is read for the merge, always the lower id first, so
    # two merges of the same pair (either way round) wait for each other instead of deadlocking.
    for row in sorted((keep, other), key=lambda r: r.id):
        _locked(session, row, None, _edit_conflict(row.id, None))
    for row in (keep, other):
        if row.deleted_at is not None:
            raise NotFound(Message(N_("No glossary entry has id {entry_id}."), entry_id=row.id))
    kept, merged = repo.to_domain(keep), repo.to_domain(other)
    have = {(t.lang, t.text) for t in kept.terms}
    terms = kept.terms + tuple(t for t in merged.terms if (t.lang, t.text) not in have)
    join = lambda a, b: "\n".join(x for x in (a, b) if x)  # noqa: E731
    combined = Entry(id=None, concept_type=kept.concept_type, terms=terms,
                     definition=kept.definition or merged.definition, note=join(kept.note, merged.note),
                     source=join(kept.source, merged.source), valid_from=kept.valid_from, valid_to=kept.valid_to)
    row = update_entry(session, keep_id, combined, expected_version=None, user=user, action="merge")
    before = _snapshot(other)
    other.deleted_at = repo.now()
    other.version += 1
    repo.log(session, other.id, "merge", user, before=before, after={"merged_into": keep_id})
    return row


# ------------------------------------------------------------------ proposals

def propose(session: Session, data: object, *, user: str, entry_id: int | None = None) -> Proposal:
    """A translator proposes a new entry, or (with ``entry_id``) terms for an existing one."""
    if entry_id is not None:
        get_entry(session, entry_id)
        terms = data.get("terms") if isinstance(data, dict) else None
        if not isinstance(terms, list) or not terms:
            raise DuizhaoError(Message(N_("Field {field!r} must list the terms proposed."), field="terms"),
                               field="terms")
        current = entry_json(get_entry(session, entry_id))
        entry_from_json({**current, "terms": current["terms"] + terms})  # validates the result
    else:
        entry_from_json(data)
    proposal = Proposal(entry_id=entry_id, payload=data, proposed_by=user)
    session.add(proposal)
    session.flush()
    return proposal


_DECISIONS = {"accepted": N_("accepted"), "rejected": N_("rejected")}


def decide(session: Session, proposal_id: int, *, accept: bool, user: str) -> Proposal:
    """Accept or reject an open proposal; of two editors deciding at once, the second gets 409."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(Message(N_("No open proposal has id {proposal_id}."), proposal_id=proposal_id))
    if not repo.close_proposal(session, proposal_id, state="accepted" if accept else "rejected", user=user):
        session.refresh(proposal)
        raise Conflict(Message(N_("Proposal {proposal_id} was {state} by {user} already."),
                               proposal_id=proposal_id, state=Message(_DECISIONS[proposal.state]),
                               user=proposal.decided_by or Message(N_("someone"))),
                       state=proposal.state)
    session.refresh(proposal)
    if accept:
        if proposal.entry_id is None:
            row = create_entry(session, entry_from_json(proposal.payload), user=user)
            proposal.entry_id = row.id
        else:
            # Held before it is read, so an edit saved meanwhile is not overwritten by the merge.
            row = get_entry(session, proposal.entry_id)
            current = entry_json(_locked(session, row, None, _edit_conflict(row.id, None)))
            merged = entry_from_json({**current, "terms": current["terms"] + proposal.payload["terms"]})
            update_entry(session, proposal.entry_id, merged, expected_version=None, user=user)
    return proposal


# ------------------------------------------------------------------ exchange

def guess_format(filename: str) -> str:
    lowered = filename.lower()
    for ext in IMPORT_FORMATS:
        if lowered.endswith("." + ext):
            return ext
    raise DuizhaoError(Message(N_("Cannot tell the format of {filename!r}: name it .tbx, .csv or .tsv "
                                  "or pass the format."), filename=filename))


def import_entries(session: Session, stream: IO[bytes], *, filename: str, file_format: str | None,
                   user: str | None) -> dict:
    """Import a TBX (either dialect), CSV or TSV glossary: all or nothing. An entry an earlier
    import of the same file brought (the same file name and id in it) is replaced, and so is a
    live entry with exactly the same terms; the rest are added. Ids are unique only within a
    file, so an entry is never matched by its id alone."""
    file_format = file_format or guess_format(filename)
    if file_format not in IMPORT_FORMATS:
        raise DuizhaoError(Message(N_("Unknown glossary format {format!r}; use one of {formats}."),
                                   format=file_format, formats=", ".join(IMPORT_FORMATS)))
    if file_format == "tbx":
        entries = iter_tbx(stream, check=check_entry)
    else:
        entries = iter_table(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""),
                             delimiter="," if file_format == "csv" else "\t", check=check_entry)
    repo.lock_glossary_for_import(session)
    outcomes = {"added": 0, "updated": 0}
    seen: set[str] = set()
    written: set[int] = set()
    origin = filename[:ORIGIN_LENGTH]
    try:
        for entry in entries:
            outcomes[_import_one(session, entry, origin, seen, written, user)] += 1
    except UnicodeDecodeError as err:
        raise GlossaryFormatError(Message(N_("the file is not UTF-8 text (byte {byte} of a line cannot be "
                                             "decoded); save it as UTF-8 and try again"), byte=err.start)) from None
    return {"file": filename, "format": file_format, **outcomes}


def _import_one(session: Session, entry: Entry, origin: str, seen: set[str], written: set[int],
                user: str | None) -> str:
    """Add an imported entry, or update the one it matches (see ``import_entries``); says which.
    ``written`` holds the entries this import wrote, which its later entries do not match."""
    existing = None
    if entry.id is not None:
        if entry.id in seen:
            raise GlossaryFormatError(Message(N_("the id appears twice in the file")), entry=entry.id)
        seen.add(entry.id)
        existing = repo.entry_from_file(session, origin, entry.id)
    adopt = False
    if existing is None:
        same_terms = [row for row in repo.live_entries_with_terms(session, entry.terms) if row.id not in written]
        if same_terms:
            existing = same_terms[0]
            # Imported before origins were kept: from now on it is this file's entry.
            adopt = existing.origin is None and entry.id is not None and not (existing.ext_id or "dz").startswith("dz")
    if existing is not None:
        # A re-import brings a deleted entry back.
        row = update_entry(session, existing.id, entry, expected_version=None, user=user, action="import",
                           revive=True)
        if adopt:
            row.origin, row.ext_id = origin, entry.id
        written.add(row.id)
        return "updated"
    written.add(create_entry(session, entry, user=user, action="import", origin=origin).id)
    return "added"


def export_entries(session: Session, stream: IO[bytes], *, file_format: str) -> None:
    if file_format not in EXPORT_FORMATS:
        raise DuizhaoError(Message(N_("Unknown glossary format {format!r}; use one of {formats}."),
                                   format=file_format, formats=", ".join(EXPORT_FORMATS)),
                           parameter="format")
    entries = _with_unique_ids(repo.iter_live_entries(session))
    if file_format.startswith("tbx"):
        write_tbx(entries, stream, dialect=EXPORT_FORMATS[file_format])
        return
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True)
    try:
        write_table(entries, text, delimiter=EXPORT_FORMATS[file_format])
    finally:
        text.detach()


def _with_unique_ids(rows: Iterable[EntryRow]) -> Iterator[Entry]:
    """Entries as exported: each with the id its file knew it by, unless another file's entry
    took that id already (ids are unique only within a file); then with its own "dz<id>"."""
    used: set[str | None] = set()
    for row in rows:
        entry = repo.to_domain(row, id_from="ext")
        if entry.id in used:
            entry = dataclasses.replace(entry, id=f"dz{row.id}")
        used.add(entry.id)
        yield entry


# ------------------------------------------------------------------ recognition

class LiveRecognizer:
    """This process's term recognizer, built from the database once and updated from the
    glossary event log, so an edit made through any worker shows in every worker's lookups."""

    POLL_INTERVAL = 0.5

    def __init__(self) -> None:
        self.recognizer = TermRecognizer()
        self.cursor = EventCursor()
        self.last_poll = 0.0
        self.built = False
        self._lock = threading.Lock()

    def changed(self) -> None:
        self.last_poll = 0.0

    def current(self, session: Session) -> TermRecognizer:
        now = time.monotonic()
        if self.built and now - self.last_poll < self.POLL_INTERVAL:
            return self.recognizer
        with self._lock:
            self.last_poll = now
            if not self.built:
                self.cursor = EventCursor(repo.last_event_id(session))
                self.recognizer = TermRecognizer(repo.to_domain(r) for r in repo.live_entries(session))
                self.built = True
                return self.recognizer
            events = repo.events_after(session, *self.cursor.wanted())
            if events:
                ids = sorted({entry_id for _, entry_id in events if entry_id is not None})
                rows = repo.entries_by_ids(session, ids)
                live = [repo.to_domain(r) for r in rows if r.deleted_at is None]
                self.recognizer.update(remove=[str(i) for i in ids], add=live)
            self.cursor.advance((event_id for event_id, _ in events), now=now)
        return self.recognizer


def recognize(session: Session, live: LiveRecognizer, text: str, lang: str, *,
              on: dt.date | None = None) -> list[dict]:
    return [hit.to_dict() for hit in live.current(session).find(text, lang, on=on)]


def qa(session: Session, live: LiveRecognizer, *, source: str, translation: str, src: str, tgt: str,
       on: dt.date | None = None) -> list[dict]:
    issues = qa_check(source, translation, src, tgt, live.current(session), on=on)
    return [issue.to_dict() for issue in issues]
