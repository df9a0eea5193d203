"""The glossary's bounded columns, checked for every entry before it is written.

A termbase value longer than its column is refused, on every path (the API, the edit page, a
TBX/CSV/TSV import, an accepted proposal), naming the field and, in a file, the line: a term of
600 characters is no term, a ``source`` can be shortened, and an entry id cut to fit could
collide with another (see ``fieldlimits`` and README "Over-long values").
"""
from __future__ import annotations

from common.fieldlimits import length_problem, nul_problem, too_long
from common.messages import Message
from glossary.core.model import Entry, GlossaryFormatError
from glossary.models import EntryRow, TermRow

#: How many characters of an over-long id an error message shows.
_LABEL_CHARS = 40


def entry_problem(entry: Entry) -> tuple[str, Message] | None:
    """(field, why) for the first value of ``entry`` too long for its column or holding a NUL
    character (see ``fieldlimits.NUL``), or None."""
    checks = [("id", EntryRow.ext_id, entry.id), ("source", EntryRow.source_ref, entry.source)]
    for number, term in enumerate(entry.terms, 1):
        checks.append((f"terms[{number}].text", TermRow.text, term.text))
        checks.append((f"terms[{number}].term_type", TermRow.term_type, term.term_type))
    for field, column, value in checks:
        most = too_long(column, value)
        if most is not None:
            return field, length_problem(field, value, most)  # type: ignore[arg-type]
    texts = [("definition", entry.definition), ("note", entry.note)]
    texts += [(f"terms[{number}].note", term.note) for number, term in enumerate(entry.terms, 1)]
    for field, value in [(field, value) for field, _, value in checks] + texts:
        problem = nul_problem(field, value)
        if problem is not None:
            return field, problem
    return None


def check_entry(entry: Entry) -> None:
    """Raise :class:`GlossaryFormatError` naming the entry when a value is too long to store."""
    found = entry_problem(entry)
    if found is not None:
        label = str(entry.label)
        if len(label) > _LABEL_CHARS:
            label = label[:_LABEL_CHARS] + "…"
        raise GlossaryFormatError(found[1], entry=label)
