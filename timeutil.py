"""Times are stored as naive UTC datetimes: SQLite keeps no zone, and TMX dates are UTC."""
from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def isoformat(moment: datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment else None
