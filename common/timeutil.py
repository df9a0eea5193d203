"""Times as the database stores them (naive UTC, whole seconds) and as the API writes them, and
the one reader of the calendar dates people and files write (``2024-05-31``)."""
from datetime import UTC, date, datetime


def utcnow() -> datetime:
    """Now, in UTC without a time zone and without microseconds: what every timestamp column holds."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def isoformat(moment: datetime | None) -> str | None:
    """A stored (naive UTC) time as the API shows it, ``2024-05-01T08:30:00Z``; None stays None.

    Microseconds, when a time has them, are written (``08:30:00.250000Z``), as the API always
    wrote them. A time with a zone (none is stored: the repositories convert) is written in
    UTC too, never as ``...+00:00Z``.
    """
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat() + "Z"


def parse_date(value: str) -> date:
    """A calendar date in ISO 8601 (``2024-05-31``, also the basic ``20240531``) as a `date`.

    Raises ValueError for anything else, a value that is not a string included, so each caller
    words the error for its reader (a parameter, a JSON field, a line of a file).
    """
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    return date.fromisoformat(value)
