"""Use cases of the translation memory: import, export, units by hand, concordance.

No Flask here: callers pass a ``Session`` and commit (or roll back) themselves.
"""
from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, cast

from sqlalchemy.orm import Session

from common.errors import DuizhaoError, NotFound
from common.fieldlimits import NUL, length_problem, nul_problem, require_fits
from common.languages import LANGUAGES, language_of
from common.messages import N_, Message
from tm import repository as repo
from tm.core.text import NUMBER_UNIT, match_key
from tm.formats import sniff_format
from tm.formats.records import MAX_SEGMENT_CHARS, STATUSES, ImportFormatError, UnitRecord
from tm.formats.tmx import iter_tmx, read_tmx, write_tmx
from tm.formats.tsv import METADATA_COLUMNS, Dialect, read_table, write_table
from tm.formats.xliff import read_xliff
from tm.live_index import LiveIndex
from tm.models import Memory, Unit

IMPORT_FORMATS = ("tmx", "xliff", "tsv", "csv")
EXPORT_FORMATS = ("tmx", "tsv", "csv")
EXPORT_MIMETYPES = {
    "tmx": "application/x-tmx+xml",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
CONCORDANCE_MAX_PER_PAGE = 100
#: The last concordance page served (the API refuses a page past it; the browser page shows it).
MAX_PAGE = 10**6
#: Characters of context either side of a concordance hit (keyword in context).
KWIC_WINDOW = 40


# ------------------------------------------------------------------ import / export

@dataclass(frozen=True)
class ImportReport:
    memory: str
    filename: str
    file_format: str
    read: int
    added: int
    duplicates: int
    import_id: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _storable(records: Iterable[UnitRecord]) -> Iterator[UnitRecord]:
    """``records``, refusing one whose text no database can store: a format may carry any
    text (a TSV cell can hold U+0000), the storage cannot (fieldlimits.NUL)."""
    names = [f.name for f in dataclasses.fields(UnitRecord)]
    for number, record in enumerate(records, 1):
        values = [getattr(record, name) for name in names]
        # One look for the character in all of a record's text; the field is named only when found.
        if NUL not in "".join(v for v in values if isinstance(v, str)) and not any(
                NUL in kind or NUL in value for kind, value in record.props):
            yield record
            continue
        texts = list(zip(names, values, strict=True))
        texts += [(f"prop:{kind}", value) for kind, value in record.props]
        for field, value in texts:
            problem = nul_problem(field, value)
            if problem is not None:
                raise ImportFormatError(Message(N_("Record {number} of the file: {problem}"), number=number,
                                                problem=problem))
        yield record


def check_import_request(*, memory_name: str, file_format: str | None) -> None:
    """What an import can refuse before it reads the file (so a request is answered at once)."""
    if not memory_name or not memory_name.strip():
        raise DuizhaoError(Message(N_("A memory name is needed to import into.")))
    require_fits(Memory.name, memory_name.strip(), field="memory")
    if file_format is not None and file_format not in IMPORT_FORMATS:
        raise DuizhaoError(Message(N_("Unknown import format {format!r}; use one of {formats}."),
                                   format=file_format, formats=", ".join(IMPORT_FORMATS)))


def import_file(session: Session, *, memory_name: str, stream: IO[bytes], filename: str,
                file_format: str | None = None, user: str | None,
                progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import a TMX/XLIFF/TSV/CSV file into a memory (made if new); all or nothing, as the
    caller commits only when this returns."""
    if not memory_name or not memory_name.strip():
        raise DuizhaoError(Message(N_("A memory name is needed to import into.")))
    require_fits(Memory.name, memory_name.strip(), field="memory")
    if file_format is None:
        head = b""
        if stream.seekable():
            head = stream.read(4096)
            stream.seek(0)
        file_format = sniff_format(filename, head)
    if file_format not in IMPORT_FORMATS:
        raise DuizhaoError(Message(N_("Unknown import format {format!r}; use one of {formats}."),
                                   format=file_format, formats=", ".join(IMPORT_FORMATS)))
    memory = repo.get_or_create_memory(session, memory_name.strip())
    run = repo.start_import(session, memory, filename=filename, file_format=file_format, user=user)
    if file_format == "tmx":
        records = read_tmx(stream)
    elif file_format == "xliff":
        records = read_xliff(stream)  # translated and approved units only (see tm.formats.xliff)
    else:
        records = read_table(stream, dialect=cast(Dialect, file_format))  # tsv or csv by now
    counts = repo.import_records(session, memory, run, _storable(records), progress=progress)
    return ImportReport(memory.name, filename, file_format, counts.read, counts.added,
                        counts.duplicates, run.id)


def resolve_memories(session: Session, names: Sequence[str] | None) -> list[Memory] | None:
    """Memories by name (404 naming the unknown one); None means all."""
    if not names:
        return None
    found = []
    for name in names:
        memory = repo.memory_by_name(session, name)
        if memory is None:
            raise NotFound(Message(N_("No memory is called {name!r}."), name=name), parameter="memory")
        found.append(memory)
    return found


#: Units between two calls of an export's ``progress``.
EXPORT_PROGRESS_EVERY = 500


def check_export_format(file_format: str) -> None:
    if file_format not in EXPORT_FORMATS:
        raise DuizhaoError(Message(N_("Unknown export format {format!r}; use one of {formats}."),
                                   format=file_format, formats=", ".join(EXPORT_FORMATS)), parameter="format")


def export_size(session: Session, memory_names: Sequence[str] | None) -> int:
    """How many units an export of the named memories (all when None) writes: one count per
    memory, no unit read (404 naming an unknown memory)."""
    memories = resolve_memories(session, memory_names)
    sizes = repo.memory_sizes(session)
    return sum(sizes.values()) if memories is None else sum(sizes.get(m.id, 0) for m in memories)


def export_units(session: Session, *, memory_names: Sequence[str] | None, file_format: str,
                 stream: IO[bytes], srclang: str = "zh", progress: Callable[[int], None] | None = None) -> int:
    """Write the units of the named memories (all when None) to ``stream``; returns the count.
    The units are read in chunks (`repository.iter_units`) and written as they come, so
    memory stays flat whatever the size when ``stream`` is a file. ``progress(units written)``
    every EXPORT_PROGRESS_EVERY units (a job's progress and its moment to hear a cancel)."""
    check_export_format(file_format)
    ids, records = _export_records(session, memory_names)
    if progress is not None:
        records = _reporting(records, progress)
    if file_format == "tmx":
        return write_tmx(records, stream, srclang=srclang)
    # Columns are known before the first row, so a large export streams row by row.
    columns = ["zh", "en", *METADATA_COLUMNS, *repo.prop_columns(session, ids)]
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True)
    try:
        return write_table(records, text, dialect=cast(Dialect, file_format), columns=columns)  # tsv or csv
    finally:
        text.detach()


def export_tmx_chunks(session: Session, *, memory_names: Sequence[str] | None,
                      srclang: str = "zh") -> Iterator[bytes]:
    """The TMX export of the named memories as chunks of bytes, read from the database while
    they are sent. The memories are looked up now, so a wrong name fails before the first
    chunk; the units are read as the chunks are taken."""
    _ids, records = _export_records(session, memory_names)
    return iter_tmx(records, srclang=srclang)


def _reporting(records: Iterable[UnitRecord], progress: Callable[[int], None]) -> Iterator[UnitRecord]:
    count = 0
    for count, record in enumerate(records, start=1):
        yield record
        if count % EXPORT_PROGRESS_EVERY == 0:
            progress(count)
    progress(count)


def _export_records(session: Session, memory_names: Sequence[str] | None):
    memories = resolve_memories(session, memory_names)
    ids = [m.id for m in memories] if memories is not None else None
    return ids, (repo.record_from_unit(u) for u in repo.iter_units(session, ids))


# ------------------------------------------------------------------ units by hand

def validate_unit_fields(fields: dict, *, partial: bool) -> dict:
    """Check a unit's fields from a client; raise with the field named."""
    unknown = set(fields) - set(repo.EDITABLE_FIELDS) - {"memory"}
    if unknown:
        raise DuizhaoError(Message(N_("Unknown field(s): {fields}."), fields=", ".join(sorted(unknown))),
                           allowed=list(repo.EDITABLE_FIELDS))
    for side in ("zh", "en"):
        if side in fields or not partial:
            value = fields.get(side)
            if not isinstance(value, str) or not value.strip():
                raise DuizhaoError(Message(N_("Field {field!r} must be a non-empty string."), field=side),
                                   field=side)
    if "status" in fields and fields["status"] not in STATUSES:
        raise DuizhaoError(Message(N_("Field {field!r} must be one of {values}."), field="status",
                                   values=", ".join(STATUSES)), field="status")
    if "usage_count" in fields and (not isinstance(fields["usage_count"], int) or fields["usage_count"] < 0):
        raise DuizhaoError(Message(N_("Field {field!r} must be a whole number ≥ 0."), field="usage_count"),
                           field="usage_count")
    if "props" in fields and fields["props"] is not None:
        props = fields["props"]
        if not isinstance(props, list) or not all(
            isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in props
        ):
            raise DuizhaoError(Message(N_("Field {field!r} must be a list of [type, value] string pairs."),
                                       field="props"), field="props")
    for name in ("note", "origin_file", "doc_title", "doc_url", "context_prev", "context_next"):
        if name in fields and fields[name] is not None and not isinstance(fields[name], str):
            raise DuizhaoError(Message(N_("Field {field!r} must be a string or null."), field=name), field=name)
    # A client can shorten what it sends, so here an over-long value is refused, not cut
    # (and, on every column, a NUL character: see fieldlimits.NUL).
    for name in ("zh", "en", "note", "origin_file", "doc_title", "doc_url", "context_prev", "context_next"):
        require_fits(getattr(Unit, name), fields.get(name), field=name)
    for kind, value in fields.get("props") or ():
        require_fits(None, kind, field="props")
        require_fits(None, value, field="props")
    for side in ("zh", "en"):
        if isinstance(fields.get(side), str) and len(fields[side]) > MAX_SEGMENT_CHARS:
            raise DuizhaoError(length_problem(side, fields[side], MAX_SEGMENT_CHARS), field=side)
    return {k: v for k, v in fields.items() if k != "memory"}


def create_unit(session: Session, *, memory_name: str, fields: dict, user: str | None) -> tuple[Unit, bool]:
    """Add a unit by hand; an identical pair already in the memory is returned, not doubled."""
    fields = validate_unit_fields(fields, partial=False)
    memory = repo.memory_by_name(session, memory_name)
    if memory is None:
        raise NotFound(Message(N_("No memory is called {name!r}."), name=memory_name), field="memory")
    existing = repo.find_pair(session, memory, fields["zh"], fields["en"])
    if existing is not None:
        return existing, False
    return repo.create_unit(session, memory, fields, user=user)


#: What storing a translation did (``store_translation``).
STORED_CREATED, STORED_APPROVED, STORED_UNCHANGED = "created", "approved", "unchanged"


def store_translation(session: Session, *, memory_name: str, source: str, target: str, src: str,
                      status: str, user: str | None, doc_title: str | None = None,
                      context_prev: str | None = None, context_next: str | None = None) -> tuple[Unit, str]:
    """A translator's or editor's translation of one segment stored as a unit of an existing
    memory, with the document's title and the neighbouring source segments as context.

    The same pair twice is one unit: storing it again changes nothing, except that an editor's
    ``approved`` store approves a translator's draft of it. Returns the unit and what happened
    (``created``, ``approved`` or ``unchanged``).
    """
    if src not in LANGUAGES:
        raise DuizhaoError(Message(N_("Unsupported language {lang!r}; use one of {supported}."), lang=src,
                                   supported=", ".join(LANGUAGES)), field="src")
    if not isinstance(target, str) or not target.strip():
        raise DuizhaoError(Message(N_("The translation is empty: type it before storing it.")), field="target")
    zh, en = (source, target) if src == "zh" else (target, source)
    fields = {"zh": zh, "en": en, "status": status}
    for name, value in (("doc_title", doc_title), ("context_prev", context_prev), ("context_next", context_next)):
        if value:
            fields[name] = value
    try:
        fields = validate_unit_fields(fields, partial=False)
    except DuizhaoError as err:  # name the page's fields, not the unit's columns
        side = err.details.get("field")
        if side in ("zh", "en"):
            err.details["field"] = "source" if side == src else "target"
        raise
    memory = repo.memory_by_name(session, memory_name)
    if memory is None:
        raise NotFound(Message(N_("No memory is called {name!r}."), name=memory_name), field="memory")
    existing = repo.find_pair(session, memory, fields["zh"], fields["en"])
    if existing is None:
        unit, created = repo.create_unit(session, memory, fields, user=user)
        if created:
            return unit, STORED_CREATED
        existing = unit  # another request stored the same pair meanwhile
    if status == "approved" and existing.status != "approved":
        return repo.update_unit(session, existing, {"status": "approved"}, user=user), STORED_APPROVED
    return existing, STORED_UNCHANGED


MAX_BATCH_UNITS = 5_000


def upsert_units(session: Session, *, memory_name: str, items: object, user: str | None) -> dict:
    """Add or update many units at once, idempotently: sending the same batch again creates
    nothing and changes nothing. An item with an ``id`` updates that unit; one without is
    matched to a unit of the memory with the same pair (whose other fields it updates), or
    created. All or nothing: one bad item rejects the batch, naming its position."""
    if not isinstance(items, list) or not items:
        raise DuizhaoError(Message(N_("Field {field!r} must be a non-empty list."), field="units"), field="units")
    if len(items) > MAX_BATCH_UNITS:
        raise DuizhaoError(Message(N_("At most {count} units per batch."), count=MAX_BATCH_UNITS), field="units")
    memory = repo.memory_by_name(session, memory_name)
    if memory is None:
        raise NotFound(Message(N_("No memory is called {name!r}."), name=memory_name), field="memory")
    repo.lock_memory_for_bulk_write(session, memory)
    outcome: dict[str, list[int]] = {"created": [], "updated": [], "unchanged": []}
    for position, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise DuizhaoError(Message(N_("A unit must be a JSON object.")))
            item = dict(item)
            unit_id = item.pop("id", None)
            if unit_id is not None:
                unit = get_unit(session, unit_id) if isinstance(unit_id, int) else None
                if unit is None or unit.memory_id != memory.id:
                    raise NotFound(Message(N_("No unit {unit_id!r} in memory {memory!r}."), unit_id=unit_id,
                                           memory=memory.name))
                fields = validate_unit_fields(item, partial=True)
            else:
                fields = validate_unit_fields(item, partial=False)
                unit = repo.find_pair(session, memory, fields["zh"], fields["en"])
                if unit is None:
                    unit, created = repo.create_unit(session, memory, fields, user=user)
                    if created:
                        outcome["created"].append(unit.id)
                        continue
            changes = {k: v for k, v in fields.items() if getattr(unit, k) != v}
            if changes:
                update_unit(session, unit.id, changes, user=user)
                outcome["updated"].append(unit.id)
            else:
                outcome["unchanged"].append(unit.id)
        except DuizhaoError as err:
            raise DuizhaoError(Message(N_("Unit {position}: {problem}"), position=position, problem=err.message),
                               status=err.status, position=position, **err.details) from None
    return outcome


def update_unit(session: Session, unit_id: int, fields: dict, *, user: str | None) -> Unit:
    unit = get_unit(session, unit_id)
    fields = validate_unit_fields(fields, partial=True)
    zh, en = fields.get("zh", unit.zh), fields.get("en", unit.en)
    clash = repo.find_pair(session, unit.memory, zh, en)
    if clash is not None and clash.id != unit.id:
        raise DuizhaoError(Message(N_("Unit {unit_id} already holds this pair in memory {memory!r}."),
                                   unit_id=clash.id, memory=unit.memory.name),
                           status=409, unit_id=clash.id)
    return repo.update_unit(session, unit, fields, user=user)


def delete_unit(session: Session, unit_id: int, *, user: str | None) -> None:
    repo.delete_unit(session, get_unit(session, unit_id), user=user)


def get_unit(session: Session, unit_id: int) -> Unit:
    unit = repo.get_unit(session, unit_id)
    if unit is None:
        raise NotFound(Message(N_("No unit has id {unit_id}."), unit_id=unit_id))
    return unit


# ------------------------------------------------------------------ concordance

@dataclass(frozen=True)
class ConcordanceHit:
    unit: Unit
    lang: str
    spans: tuple[tuple[int, int], ...]  # offsets into the unit's text in ``lang``

    def to_dict(self) -> dict:
        data = repo.unit_snapshot(self.unit)
        data["hits"] = {self.lang: [list(s) for s in self.spans]}
        return data


@dataclass(frozen=True)
class ConcordanceResult:
    query: str
    lang: str
    page: int
    per_page: int
    total: int
    hits: list[ConcordanceHit]

    def to_dict(self) -> dict:
        return {
            "query": self.query, "lang": self.lang, "page": self.page, "per_page": self.per_page,
            "total": self.total, "results": [h.to_dict() for h in self.hits],
        }


def concordance(session: Session, *, q: str, lang: str | None = None,
                memory_names: Sequence[str] | None = None, page: int = 1,
                per_page: int = 20, index: LiveIndex | None = None) -> ConcordanceResult:
    """Units whose Chinese or English contains ``q``, with hit offsets, a page at a time.

    Chinese matches as a substring, traditional or simplified; English matches whole words
    and phrases, case-insensitive (as CAT tools' concordance does: "trade" does not find
    "trademark"). The live index answers without scanning; a needle with a number is looked
    up in the database instead, since the index keeps numbers only as "some number" (and
    so is everything when no ``index`` is given, where English matches any substring).
    """
    if not q or not q.strip():
        raise DuizhaoError(Message(N_("The search text is empty.")), parameter="q")
    lang = lang or language_of(q)
    if lang not in LANGUAGES:
        raise DuizhaoError(Message(N_("Unsupported language {lang!r}; use one of {supported}."), lang=lang,
                                   supported=", ".join(LANGUAGES)),
                           parameter="lang", supported=list(LANGUAGES))
    per_page = max(1, min(per_page, CONCORDANCE_MAX_PER_PAGE))
    page = max(1, page)
    memories = resolve_memories(session, memory_names)
    ids = [m.id for m in memories] if memories is not None else None
    needle = match_key(q, lang)
    offset = (page - 1) * per_page
    if index is None or NUMBER_UNIT in needle.units or not needle.units:
        units, total = repo.concordance_rows(session, needle.text, lang, ids, offset=offset, limit=per_page)
    else:
        index.refresh(session)
        found = index.containing(needle.units, lang, memory_ids=set(ids) if ids is not None else None)
        total = len(found)
        by_id = {u.id: u for u in repo.units_by_ids(session, found[offset:offset + per_page])}
        units = [by_id[i] for i in found[offset:offset + per_page] if i in by_id]
    hits = [ConcordanceHit(u, lang, tuple(find_spans(getattr(u, lang), needle.text, lang))) for u in units]
    return ConcordanceResult(q, lang, page, per_page, total, hits)


def find_spans(text: str, needle: str, lang: str) -> list[tuple[int, int]]:
    """Where ``needle`` (a normalised search string) occurs in ``text``, as offsets into
    ``text`` as written: found in the text's match key, mapped back through its offsets.
    In English only whole words count, as in the search itself."""
    if not needle:
        return []
    key = match_key(text, lang)
    pattern = re.escape(needle)
    if lang == "en":
        pattern = rf"(?<!\w){pattern}(?!\w)"
    return [key.to_original(m.start(), m.end()) for m in re.finditer(pattern, key.text)]
