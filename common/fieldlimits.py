"""The lengths of bounded text columns, checked before every write, on every engine.

SQLite stores 600 characters in a ``String(500)`` column without a word; PostgreSQL refuses
them (StringDataRightTruncation), which surfaced as a 500. So a value bound for a ``String(n)``
column is checked here, against the length its model declares (one source of truth: a
migration that widens a column widens the check), before it is written. Per field, the caller
either refuses it, naming the field (``require_fits``, ``too_long``), or, for metadata that the
user cannot shorten (a URL or a user id in another tool's TMX), cuts it to fit (``fit``,
``fit_language_tag``). Which field gets which is listed in the README ("Over-long values").

Pure: SQLAlchemy's column objects, ``common.messages`` and ``common.errors`` only, so services and importers can use it.
"""
from __future__ import annotations

from typing import Any

from common.errors import DuizhaoError
from common.messages import N_, Message

__all__ = ["max_length", "too_long", "length_problem", "nul_problem", "require_fits", "fit", "fit_language_tag"]

#: PostgreSQL text cannot hold U+0000 (SQLite stores it): no stored value may, on any engine.
NUL = "\x00"


def max_length(column: Any) -> int | None:
    """The declared length of a mapped attribute (``Unit.doc_url``) or a ``Column``; None when
    the column is unbounded (``Text``) or not a string."""
    prop = getattr(column, "property", None)
    if prop is not None and getattr(prop, "columns", None):
        column = prop.columns[0]
    return getattr(getattr(column, "type", None), "length", None)


def too_long(column: Any, value: object) -> int | None:
    """The column's length when ``value`` is a string longer than it, else None."""
    most = max_length(column)
    if most is not None and isinstance(value, str) and len(value) > most:
        return most
    return None


def length_problem(field: str, value: str, most: int) -> Message:
    """The sentence that refuses ``value`` for ``field`` (as the API or the file names it)."""
    return Message(N_("Field {field!r} has {length:,} characters; at most {most:,} are allowed."),
                   field=field, length=len(value), most=most)


def nul_problem(field: str, value: object) -> Message | None:
    """The sentence that refuses a string holding a NUL character, or None."""
    if isinstance(value, str) and NUL in value:
        return Message(N_("Field {field!r} holds a NUL character (U+0000) at offset {offset}, which "
                          "cannot be stored."), field=field, offset=value.index(NUL))
    return None


def require_fits(column: Any, value: object, *, field: str) -> None:
    """Raise a 400 ``DuizhaoError`` naming ``field`` when ``value`` cannot be stored in
    ``column``: too long for it, or holding a NUL character."""
    most = too_long(column, value)
    problem = length_problem(field, value, most) if most is not None else nul_problem(field, value)  # type: ignore[arg-type]
    if problem is not None:
        raise DuizhaoError(problem, field=field)


def fit(column: Any, value: str | None) -> str | None:
    """``value`` cut to the column's length, NUL characters dropped (None stays None): for
    metadata from a foreign file that a user cannot shorten and that no lookup depends on."""
    if value is not None and NUL in value:
        value = value.replace(NUL, "")
    most = too_long(column, value)
    return value[:most] if most is not None and value is not None else value


def fit_language_tag(column: Any, tag: str | None) -> str | None:
    """A BCP 47 tag cut to the column's length at a subtag boundary: ``zh-Hans-CN-x-abcdefgh``
    becomes ``zh-Hans-CN``, still a valid tag naming the same language (a cut in the middle
    of a subtag, or a dangling ``-x``, would not be)."""
    if tag is not None and NUL in tag:
        tag = tag.replace(NUL, "")
    most = too_long(column, tag)
    if most is None or tag is None:
        return tag
    subtags = tag.replace("_", "-").split("-")
    while subtags and (len("-".join(subtags)) > most or len(subtags[-1]) == 1):
        subtags.pop()
    return "-".join(subtags) or tag[:most]
