"""The case filter: which open cases the duty officer means, one definition for every reader.

The duty table (:func:`data.queries.open_cases`), the map's case layers (:mod:`layers.cases`, whole, by
view and clustered), the CSV export and the duty page's URL state all take a :class:`CaseFilter`, and all
restrict their query with its one :meth:`CaseFilter.clause`: the map and the table agree by construction
on which cases a filter means (a parent category includes its sub-categories, everywhere).

Its URL form (``?street=500151002&community=500151002005&grid=500151002005003&category=city``,
``&status=closed&period=7d``) is read strictly by
:meth:`CaseFilter.from_args` (the layer routes and the export: a malformed value is a 400) and leniently by
:meth:`CaseFilter.from_query` (a bookmarked duty page: anything unknown or malformed is dropped, never
trusted); :meth:`CaseFilter.as_args` / :meth:`CaseFilter.search` write it back, :attr:`CaseFilter.key` is
its part of a layer cache key. The street is checked against the viewer's scope by the caller, not here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, select, true

from .models import Case, Category
from .queries.common import NAMED_PERIODS, Period, period_named, require_aware
from .states import OPEN_STATES, STATES

# The duty page's period selector: "all" (no period) and the named periods
PERIODS = ("all", *NAMED_PERIODS)
# URL parameters the filter does not own but a page keeps (the search box's query, the language)
KEEP = ("q", "lang")
SHANGHAI = "Asia/Shanghai"
_STREET = re.compile(r"^\d{9}$")
_COMMUNITY = re.compile(r"^\d{12}$")
_GRID = re.compile(r"^\d{15}$")
_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")


def _lenient(value: str | None, pattern: re.Pattern[str]) -> str | None:
    value = (value or "").strip()
    return value if pattern.match(value) else None


@dataclass(frozen=True)
class CaseFilter:
    """Street, community, grid, category (a top-level code includes its sub-categories), department,
    statuses, and the period of the received time: by name (``today``, ``7d``, ``30d``, ``year``:
    resolved when the clause is built, in the deployment's time zone) or as explicit aware bounds
    ``[start, end)`` (no URL form). None / empty means no filter. Without statuses the filter means the
    open cases; with them, exactly those states (``closed`` shows the archived ones)."""

    street: str | None = None
    category: str | None = None
    department: str | None = None
    statuses: tuple[str, ...] = ()
    period: str | Period | None = None
    community: str | None = None
    grid: str | None = None

    def __post_init__(self) -> None:
        if self.street is not None and not _STREET.match(self.street):
            raise ValueError(f"street must be a 9-digit street code, not {self.street!r}")
        if self.community is not None and not _COMMUNITY.match(self.community):
            raise ValueError(f"community must be a 12-digit community code, not {self.community!r}")
        if self.grid is not None and not _GRID.match(self.grid):
            raise ValueError(f"grid must be a 15-digit grid code, not {self.grid!r}")
        for value, name in ((self.category, "category"), (self.department, "department")):
            if value is not None and not _CODE.match(value):
                raise ValueError(f"{name} must be a catalogue code, not {value!r}")
        for status in self.statuses:
            if status not in STATES:
                raise ValueError(f"unknown status {status!r}: one of {', '.join(STATES)}")
        if isinstance(self.period, Period):
            require_aware(self.period.start, self.period.end)
        elif self.period is not None and self.period not in NAMED_PERIODS:
            raise ValueError(f"unknown period {self.period!r}: one of {', '.join(NAMED_PERIODS)}")

    # -- URL form -------------------------------------------------------------------------------------

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CaseFilter:
        """From query parameters ``street``, ``community``, ``grid``, ``category``, ``department``,
        ``status`` (comma-separated), ``period``; a malformed value raises :class:`ValueError`."""
        statuses = tuple(sorted({s for s in (args.get("status") or "").split(",") if s}))
        return cls(
            street=args.get("street") or None,
            community=args.get("community") or None,
            grid=args.get("grid") or None,
            category=args.get("category") or None,
            department=args.get("department") or None,
            statuses=statuses,
            period=args.get("period") or None,
        )

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> CaseFilter:
        """From a page's URL query, leniently: anything unknown or malformed is dropped; the status is one
        state (the duty page's selector), the period one of :data:`PERIODS` (``all``: none)."""
        status = (query.get("status") or "").strip()
        period = (query.get("period") or "").strip()
        return cls(
            street=_lenient(query.get("street"), _STREET),
            community=_lenient(query.get("community"), _COMMUNITY),
            grid=_lenient(query.get("grid"), _GRID),
            category=_lenient(query.get("category"), _CODE),
            department=_lenient(query.get("department"), _CODE),
            statuses=(status,) if status in STATES else (),
            period=period if period in NAMED_PERIODS else None,
        )

    @classmethod
    def from_values(
        cls,
        street: str | None,
        category: str | None,
        department: str | None,
        status: str | None,
        period: str | None,
        community: str | None = None,
        grid: str | None = None,
    ) -> CaseFilter:
        """From the duty page's selectors' values (validated like a URL)."""
        return cls.from_query(
            {
                "street": street or "",
                "community": community or "",
                "grid": grid or "",
                "category": category or "",
                "department": department or "",
                "status": status or "",
                "period": period or "",
            }
        )

    def as_args(self) -> dict[str, str]:
        """The query parameters :meth:`from_args` reads back (only those set)."""
        if isinstance(self.period, Period):
            raise ValueError("a period given by its bounds has no URL form")
        args = {
            "street": self.street or "",
            "community": self.community or "",
            "grid": self.grid or "",
            "category": self.category or "",
            "department": self.department or "",
            "status": ",".join(self.statuses),
            "period": self.period or "",
        }
        return {k: v for k, v in args.items() if v}

    def search(self, keep: Mapping[str, str] | None = None) -> str:
        """The URL query of this filter (``""`` for none), keeping ``lang`` from ``keep``."""
        params = list(self.as_args().items())
        params.extend((name, keep[name]) for name in KEEP if keep and keep.get(name))
        return "?" + urlencode(params) if params else ""

    @property
    def key(self) -> str:
        """A stable string for cache keys (``""`` when no filter is set)."""
        if isinstance(self.period, Period):
            raise ValueError("a period given by its bounds has no cache key")
        parts = [
            f"s={self.street}" if self.street else "",
            f"cm={self.community}" if self.community else "",
            f"g={self.grid}" if self.grid else "",
            f"c={self.category}" if self.category else "",
            f"d={self.department}" if self.department else "",
            f"st={'+'.join(self.statuses)}" if self.statuses else "",
            f"p={self.period}" if self.period else "",
        ]
        return "&".join(p for p in parts if p)

    # -- the duty page's selectors ----------------------------------------------------------------------

    @property
    def status(self) -> str | None:
        """The one status selected (the duty page selects at most one), else None."""
        return self.statuses[0] if len(self.statuses) == 1 else None

    @property
    def period_name(self) -> str:
        """The period selector's value: a named period, or ``all``."""
        return self.period if isinstance(self.period, str) else "all"

    def without_street(self) -> CaseFilter:
        return replace(self, street=None, community=None, grid=None)

    def without_places(self) -> CaseFilter:
        """Without the community and the grid (the street kept)."""
        return replace(self, community=None, grid=None)

    # -- the query --------------------------------------------------------------------------------------

    def period_bounds(self, now: datetime | None = None, tz: ZoneInfo | str = SHANGHAI) -> Period | None:
        """``[start, end)`` of the cases' received time (a named period as of ``now`` in ``tz``), or None."""
        if self.period is None:
            return None
        if isinstance(self.period, Period):
            return self.period
        return period_named(self.period, now or datetime.now(UTC), tz)

    def clause(self, now: datetime | None = None, tz: ZoneInfo | str = SHANGHAI) -> ColumnElement[bool]:
        """The WHERE clause restricting :class:`~data.models.Case` rows to this filter (true for none);
        a named period is resolved as of ``now`` (default: the present) in ``tz``."""
        terms: list[ColumnElement[bool]] = []
        if self.street:
            terms.append(Case.street_code == self.street)
        if self.community:
            terms.append(Case.community_code == self.community)
        if self.grid:
            terms.append(Case.grid_code == self.grid)
        if self.category:
            children = select(Category.code).where(Category.parent_code == self.category)
            terms.append(or_(Case.category_code == self.category, Case.category_code.in_(children)))
        if self.department:
            terms.append(Case.department_code == self.department)
        if self.statuses:
            terms.append(Case.status.in_(self.statuses))
        bounds = self.period_bounds(now, tz)
        if bounds is not None:
            terms.append(and_(Case.requested_at >= bounds.start, Case.requested_at < bounds.end))
        return and_(true(), *terms)

    def states_clause(self) -> ColumnElement[bool]:
        """Which cases the filter's states mean: the open cases without a status filter, else exactly the
        states asked for (so ``closed`` brings the archived cases to the table and the map alike)."""
        if self.statuses:
            return Case.status.in_(self.statuses)
        return and_(Case.is_open.is_(True), Case.status.in_(sorted(OPEN_STATES)))


NO_FILTER = CaseFilter()
