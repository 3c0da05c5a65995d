"""The duty view's filters and their URL form (``?street=500151002&category=city&period=7d``).

A view is bookmarkable: :meth:`DutyView.from_query` reads a URL query (anything unknown or malformed is
dropped, never trusted), :meth:`DutyView.search` writes one back. The street is checked against the
viewer's scope by the page, not here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from data.queries import CaseFilters, Period, period_named
from data.states import OPEN_STATES
from layers.cases import CaseFilters as MapFilters

PERIODS = ("all", "today", "7d", "30d", "year")
_STREET = re.compile(r"^\d{9}$")
_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
# URL parameters the page does not own but keeps (language)
KEEP = ("lang",)


def _code(value: str | None, pattern: re.Pattern[str]) -> str | None:
    value = (value or "").strip()
    return value if pattern.match(value) else None


@dataclass(frozen=True)
class DutyView:
    """What the duty officer chose. None means "any"; ``period`` is one of :data:`PERIODS`."""

    street: str | None = None
    category: str | None = None
    department: str | None = None
    status: str | None = None
    period: str = "all"

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> DutyView:
        status = (query.get("status") or "").strip()
        period = (query.get("period") or "").strip()
        return cls(
            street=_code(query.get("street"), _STREET),
            category=_code(query.get("category"), _CODE),
            department=_code(query.get("department"), _CODE),
            status=status if status in OPEN_STATES else None,
            period=period if period in PERIODS else "all",
        )

    @classmethod
    def from_values(
        cls,
        street: str | None,
        category: str | None,
        department: str | None,
        status: str | None,
        period: str | None,
    ) -> DutyView:
        """From the selectors' values (validated like a URL)."""
        return cls.from_query(
            {
                "street": street or "",
                "category": category or "",
                "department": department or "",
                "status": status or "",
                "period": period or "",
            }
        )

    def without_street(self) -> DutyView:
        return replace(self, street=None)

    def search(self, keep: Mapping[str, str] | None = None) -> str:
        """The URL query of this view (``""`` for no filter), keeping ``lang`` from ``keep``."""
        params: list[tuple[str, str]] = []
        for name in ("street", "category", "department", "status"):
            value = getattr(self, name)
            if value:
                params.append((name, value))
        if self.period != "all":
            params.append(("period", self.period))
        for name in KEEP:
            if keep and keep.get(name):
                params.append((name, keep[name]))
        return "?" + urlencode(params) if params else ""

    def period_bounds(self, now: datetime, tz: str) -> Period | None:
        """``[start, end)`` of the cases' received time, or None for "all"."""
        return None if self.period == "all" else period_named(self.period, now, tz)

    def case_filters(self, now: datetime, tz: str) -> CaseFilters:
        """The filters of :func:`data.queries.open_cases`."""
        bounds = self.period_bounds(now, tz)
        return CaseFilters(
            street_code=self.street,
            category=self.category,
            department=self.department,
            status=self.status,
            start=bounds.start if bounds else None,
            end=bounds.end if bounds else None,
        )

    def map_case_filters(self) -> MapFilters:
        """The case layer's filters: the same as the table's, so the map shows what the table lists."""
        return MapFilters(
            street=self.street,
            category=self.category,
            department=self.department,
            statuses=(self.status,) if self.status else (),
            period=None if self.period == "all" else self.period,
        )

    def map_filters(self) -> dict[str, str]:
        """The case layer's URL filters, as the map component's config holds them."""
        return self.map_case_filters().as_args()


def now_utc() -> datetime:
    return datetime.now(UTC)
