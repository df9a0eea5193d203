"""How the memories and the glossary grew: counts per month, as small functions taking a Session.

``home_charts(session)`` gives what the home page's partial ``workbench/_growth.html`` draws::

    from workbench.stats import home_charts
    render_template("tm/index.html", ..., growth=home_charts(session))
    {% include "workbench/_growth.html" %}
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from glossary import repository as glossary_repo
from tm import repository as tm_repo

#: The chart shows at most this many months (the latest ones); older growth is the first bar.
MAX_MONTHS = 24
CHART_WIDTH = 160
CHART_HEIGHT = 36


@dataclass(frozen=True)
class Growth:
    """One series: its name, its size now, and the cumulative size at the end of each month."""

    name: str
    kind: str  # "memory" or "glossary"
    size: int
    months: tuple[str, ...]
    totals: tuple[int, ...]

    @property
    def points(self) -> str:
        """SVG polyline points for the cumulative sizes, scaled into the chart box."""
        if not self.totals:
            return ""
        top = max(self.totals) or 1
        if len(self.totals) == 1:
            y = CHART_HEIGHT - 2 - (CHART_HEIGHT - 4) * self.totals[0] / top
            return f"0,{y:.1f} {CHART_WIDTH},{y:.1f}"
        step = CHART_WIDTH / (len(self.totals) - 1)
        return " ".join(f"{i * step:.1f},{CHART_HEIGHT - 2 - (CHART_HEIGHT - 4) * t / top:.1f}"
                        for i, t in enumerate(self.totals))


def _all_months(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    out = []
    while (year, month) <= end:
        out.append(f"{year:04d}-{month:02d}")
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return out


def cumulative(per_month: dict[str, int], months: list[str]) -> tuple[int, ...]:
    """Running totals at the end of each of ``months``; growth before the first counts in it."""
    totals, running = [], sum(c for m, c in per_month.items() if months and m < months[0])
    for month in months:
        running += per_month.get(month, 0)
        totals.append(running)
    return tuple(totals)


def home_charts(session: Session) -> list[Growth]:
    """Every memory and the glossary, with their growth over the same months."""
    units = tm_repo.units_created_per_month(session)
    glossary = glossary_repo.entries_created_per_month(session)
    keys = [m for counts in units.values() for m in counts if m] + [m for m in glossary if m]
    months = _all_months(min(keys), max(keys))[-MAX_MONTHS:] if keys else []
    series = []
    for memory in tm_repo.memories(session):
        counts = units.get(memory.id, {})
        series.append(Growth(memory.name, "memory", sum(counts.values()), tuple(months),
                             cumulative(counts, months)))
    series.append(Growth("glossary", "glossary", sum(glossary.values()), tuple(months),
                         cumulative(glossary, months)))
    return series
