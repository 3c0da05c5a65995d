"""Pieces shared by the query modules: periods, rates, portable time arithmetic, unit names, case rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Float, Integer, and_, case, cast, extract, func, or_, select
from sqlalchemy.orm import Session

from ..models import AdminUnit, Case, Category, Department
from ..models.places import CODE_LENGTH
from ..scope import AreaScope
from .case_place import map_places

_COLUMN_BY_LENGTH = {6: "district_code", 9: "street_code", 12: "community_code", 15: "grid_code"}
CHILD_LEVEL = {"district": "street", "street": "community", "community": "grid"}


class Period(NamedTuple):
    """A half-open period ``[start, end)`` of aware datetimes."""

    start: datetime
    end: datetime


def require_aware(*values: datetime) -> None:
    for value in values:
        if value.tzinfo is None:
            raise ValueError("query times must be timezone-aware")


def _tz(tz: ZoneInfo | str) -> ZoneInfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def period_today(now: datetime, tz: ZoneInfo | str = "Asia/Shanghai") -> Period:
    """Local midnight today to local midnight tomorrow, in UTC."""
    require_aware(now)
    zone = _tz(tz)
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return Period(start.astimezone(UTC), end.astimezone(UTC))


def period_year(now: datetime, tz: ZoneInfo | str = "Asia/Shanghai") -> Period:
    """1 January local midnight of this year to that of next year, in UTC."""
    require_aware(now)
    zone = _tz(tz)
    year = now.astimezone(zone).year
    start = datetime(year, 1, 1, tzinfo=zone)
    end = datetime(year + 1, 1, 1, tzinfo=zone)
    return Period(start.astimezone(UTC), end.astimezone(UTC))


NAMED_PERIODS = ("today", "7d", "30d", "year")


def period_named(name: str, now: datetime, tz: ZoneInfo | str = "Asia/Shanghai") -> Period:
    """A received-time period by the name the screens use: ``today``, ``7d``/``30d`` (the last 7 or 30
    days up to now) or ``year``."""
    if name == "today":
        return period_today(now, tz)
    if name == "year":
        return period_year(now, tz)
    if name in ("7d", "30d"):
        require_aware(now)
        days = 7 if name == "7d" else 30
        return Period(now - timedelta(days=days), now + timedelta(seconds=1))
    raise ValueError(f"unknown period {name!r}: one of {', '.join(NAMED_PERIODS)}")


def local_day_bounds(now: datetime, tz: ZoneInfo | str, days: int) -> list[datetime]:
    """``days + 1`` UTC instants: the local midnights starting ``days - 1`` days ago, up to tomorrow's."""
    zone = _tz(tz)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    return [
        datetime.combine(first + timedelta(days=i), time(0), zone).astimezone(UTC) for i in range(days + 1)
    ]


def rate(numerator: int | None, denominator: int | None) -> float | None:
    """A ratio in [0, 1], or None when the denominator is zero (shown as ``—``)."""
    if not denominator:
        return None
    return (numerator or 0) / denominator


LONG_PERIOD = timedelta(days=45)


def _long_scan(session: Session, scope: AreaScope, start: datetime, end: datetime) -> bool:
    return (
        session.get_bind().dialect.name == "sqlite"
        and end - start > LONG_PERIOD
        and bool(scope.codes)
        and all(len(c) == CODE_LENGTH["district"] for c in scope.codes)
    )


def period_group(session: Session, scope: AreaScope, start: datetime, end: datetime, column: Any) -> Any:
    """A GROUP BY key for a query filtered by :func:`in_period`: on SQLite's long scans the column is
    wrapped so the planner does not walk that column's index (a row lookup per case) to get groups in
    order, but scans the table and sorts the few groups."""
    if _long_scan(session, scope, start, end):
        return func.coalesce(column, column).label(column.key)
    return column


def in_period(session: Session, scope: AreaScope, start: datetime, end: datetime) -> ColumnElement[bool]:
    """WHERE: cases of the scope received in ``[start, end)``.

    On SQLite, for a long period of whole districts, the columns are wrapped in ``coalesce`` so that the
    planner reads the table in order instead of going through ``ix_case_district_period`` (even by skip
    scan): an index range covering most of the table costs a random row lookup per case, three to four
    times a plain scan, and SQLite has no range statistics to see it. Other databases plan this
    themselves from their statistics.
    """
    if _long_scan(session, scope, start, end):
        at = func.coalesce(Case.requested_at, Case.requested_at)
        district = func.coalesce(Case.district_code, "")
        return and_(or_(*[district == c for c in sorted(scope.codes)]), at >= start, at < end)
    return and_(scope.clause(Case), Case.requested_at >= start, Case.requested_at < end)


def count_if(condition: Any) -> Any:
    """SQL: how many rows of the group satisfy ``condition`` (0 for an empty group)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


def epoch_seconds(session: Session, column: Any) -> ColumnElement[float]:
    """Seconds since 1970 of a UTC datetime column, on SQLite (naive UTC text) and PostgreSQL."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    return cast(extract("epoch", column), Float)


def hours_between(session: Session, start: Any, end: Any) -> ColumnElement[float]:
    """``end - start`` in hours, portably."""
    return (epoch_seconds(session, end) - epoch_seconds(session, start)) / 3600.0


def place_column(model: Any, code: str) -> Any:
    """The place column matching a unit code's level (``street_code`` for a 9-digit code ...)."""
    try:
        return getattr(model, _COLUMN_BY_LENGTH[len(code)])
    except KeyError:
        raise ValueError(f"not a district/street/community/grid code: {code!r}") from None


def level_of(code: str) -> str:
    for level, length in CODE_LENGTH.items():
        if len(code) == length:
            return level
    raise ValueError(f"not a district/street/community/grid code: {code!r}")


def unit_names(session: Session, codes: Iterable[str | None]) -> dict[str, str]:
    """Names of the given units (missing ones are left out)."""
    wanted = sorted({c for c in codes if c})
    names: dict[str, str] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        names.update(
            session.execute(select(AdminUnit.code, AdminUnit.name).where(AdminUnit.code.in_(chunk))).all()
        )
    return names


def department_names(session: Session) -> dict[str, str]:
    """Every department's name by code: the one look-up of department names (rows name a department with
    :func:`department_name`)."""
    return dict(session.execute(select(Department.code, Department.name)).all())


def department_name(names: dict[str, str], code: str | None, unknown: str = "") -> str:
    """The name of the department ``code`` (its code when it has none), ``unknown`` without a code."""
    if not code:
        return unknown
    return names.get(code) or code


@dataclass(frozen=True)
class CategoryInfo:
    code: str
    name: str
    name_en: str
    top_code: str
    top_name: str


def category_index(session: Session) -> dict[str, CategoryInfo]:
    """Every category with its top-level category (categories nest one level deep)."""
    rows = session.execute(select(Category.code, Category.name, Category.name_en, Category.parent_code)).all()
    names = {r.code: r.name for r in rows}
    return {
        r.code: CategoryInfo(
            r.code, r.name, r.name_en, r.parent_code or r.code, names.get(r.parent_code or r.code, r.name)
        )
        for r in rows
    }


@dataclass(frozen=True)
class CaseRow:
    """One case as a table row (duty table, overdue list). Labels are zh-CN; codes are kept beside them.

    ``hours_late`` is how far past the deadline the case is at ``now`` (negative: hours left), None
    without a deadline, without ``now`` or for a case no longer open.
    """

    id: int
    external_id: str
    source: str
    title: str
    address: str
    category_code: str | None
    category_name: str
    top_category_name: str
    department_code: str | None
    department_name: str
    status: str
    priority: str
    requested_at: datetime
    accepted_at: datetime | None
    deadline_at: datetime | None
    hours_late: float | None
    overdue: bool
    due_soon: bool
    escalation_level: str
    supervision: str
    street_code: str | None
    street_name: str
    community_code: str | None
    community_name: str
    grid_code: str | None
    grid_name: str
    lon: float | None
    lat: float | None
    # where a map draws the case: its own point, else its grid's (else community's) label point, with
    # ``approx`` the level of that unit (:mod:`data.queries.case_place`, the map layers' rule)
    map_lon: float | None = None
    map_lat: float | None = None
    approx: str | None = None


CASE_ROW_COLUMNS = (
    Case.id,
    Case.external_id,
    Case.source,
    Case.title,
    Case.address,
    Case.category_code,
    Case.category_name,
    Case.department_code,
    Case.status,
    Case.priority,
    Case.requested_at,
    Case.accepted_at,
    Case.deadline_at,
    Case.is_open,
    Case.overdue,
    Case.due_soon,
    Case.escalation_level,
    Case.supervision,
    Case.street_code,
    Case.community_code,
    Case.grid_code,
    Case.lon,
    Case.lat,
)


def due_soon_at(accepted_at: datetime | None, deadline_at: datetime | None) -> datetime | None:
    """When a case becomes due soon: at 80 % of its limit (:func:`data.deadlines.moments`)."""
    from ..deadlines import moments

    if accepted_at is None or deadline_at is None:
        return None
    due_soon: datetime = moments(accepted_at, deadline_at).due_soon
    return due_soon


def case_rows(session: Session, rows: Sequence[Any], now: datetime | None) -> list[CaseRow]:
    """Turn rows selected with :data:`CASE_ROW_COLUMNS` into :class:`CaseRow` (two small look-ups for names).

    With ``now``, overdue / due-soon / hours late are computed exactly; without it the stored flags
    (kept by the deadline job) are used.
    """
    cats = category_index(session)
    deps = department_names(session)
    names = unit_names(session, [c for r in rows for c in (r.street_code, r.community_code, r.grid_code)])
    places = map_places(session, [r.id for r in rows])
    out: list[CaseRow] = []
    for r in rows:
        map_lon, map_lat, approx = places.get(r.id, (None, None, None))
        cat = cats.get(r.category_code or "")
        if now is not None and r.deadline_at is not None:
            # a case no longer open is neither late nor has time left (the search lists closed cases)
            hours_late: float | None = (now - r.deadline_at).total_seconds() / 3600.0 if r.is_open else None
            overdue = bool(r.is_open) and now > r.deadline_at
            soon_at = due_soon_at(r.accepted_at, r.deadline_at)
            due_soon = bool(r.is_open) and not overdue and soon_at is not None and now >= soon_at
        else:
            hours_late = None
            overdue, due_soon = bool(r.overdue), bool(r.due_soon)
        out.append(
            CaseRow(
                id=r.id,
                external_id=r.external_id,
                source=r.source,
                title=r.title,
                address=r.address,
                category_code=r.category_code,
                # "" when the case has no category (the screens say 未分类)
                category_name=cat.name if cat else (r.category_name or ""),
                top_category_name=cat.top_name if cat else "",
                department_code=r.department_code,
                department_name=department_name(deps, r.department_code),
                status=r.status,
                priority=r.priority,
                requested_at=r.requested_at,
                accepted_at=r.accepted_at,
                deadline_at=r.deadline_at,
                hours_late=hours_late,
                overdue=overdue,
                due_soon=due_soon,
                escalation_level=r.escalation_level,
                supervision=r.supervision,
                street_code=r.street_code,
                street_name=names.get(r.street_code or "", ""),
                community_code=r.community_code,
                community_name=names.get(r.community_code or "", ""),
                grid_code=r.grid_code,
                grid_name=names.get(r.grid_code or "", ""),
                lon=r.lon,
                lat=r.lat,
                map_lon=map_lon,
                map_lat=map_lat,
                approx=approx,
            )
        )
    return out
