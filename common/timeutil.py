"""Times as the database stores them (naive UTC, whole seconds) and as the API writes them."""
from datetime import datetime, timezone


def utcnow() -> datetime:
    """Now, in UTC without a time zone and without microseconds: what every timestamp column holds."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def isoformat(moment: datetime | None) -> str | None:
    """A stored (naive UTC) time as the API shows it, ``2024-05-01T08:30:00Z``; None stays None."""
    return moment.isoformat() + "Z" if moment else None
