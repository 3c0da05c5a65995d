"""The duty officer's table, one case in full, and the options of the duty filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shapely import wkb
from shapely.geometry import mapping
from sqlalchemy import nulls_last, select, true
from sqlalchemy.orm import Session

from ..masking import mask_email, mask_phone
from ..models import AdminUnit, Case, CaseEvent, Category, Department, GridStaff
from ..scope import AreaScope
from ..states import OPEN_STATES
from .common import CASE_ROW_COLUMNS, CaseRow, case_rows, require_aware
from .rankings import streets_in_scope

if TYPE_CHECKING:  # data.case_filter imports this package (periods): a run-time import would circle
    from ..case_filter import CaseFilter


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    label_en: str = ""
    parent: str | None = None


@dataclass(frozen=True)
class UnitRef:
    level: str
    code: str
    name: str


@dataclass(frozen=True)
class StaffRow:
    role: str
    name: str
    phone: str  # masked unless the viewer may see personal data


@dataclass(frozen=True)
class EventRow:
    at: datetime
    kind: str
    from_status: str | None
    to_status: str | None
    detail: str
    actor: str
    feed_name: str | None


@dataclass(frozen=True)
class CaseDetail:
    row: CaseRow
    description: str
    category_name_from_feed: str
    source_status: str
    placement: str
    reporter_name: str
    reporter_phone: str  # masked unless allowed
    reporter_email: str  # masked unless allowed, as the phone
    media_url: str  # the reporter's photo link (Open311 media_url, http(s) only), or ""
    satisfaction: str | None
    resolved_at: datetime | None
    closed_at: datetime | None
    units: list[UnitRef] = field(default_factory=list)  # district first, grid last
    staff: list[StaffRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    grid_geometry: dict[str, Any] | None = None  # GeoJSON of the case's grid (or smallest known unit)


def open_cases(
    session: Session,
    scope: AreaScope,
    filters: CaseFilter | None = None,
    limit: int = 5000,
    *,
    now: datetime | None = None,
    tz: str = "Asia/Shanghai",
) -> list[CaseRow]:
    """Open cases of the scope matching the filters (:meth:`data.case_filter.CaseFilter.clause`, the map's
    own; a named period as of ``now`` in ``tz``): overdue first, then by deadline (soonest first). A
    status filter decides the states instead (:meth:`~data.case_filter.CaseFilter.states_clause`:
    ``closed`` lists the archived cases, newest deadline last as well).

    With ``now`` the overdue / due-soon marks and hours late are exact at that moment; without it
    they are the flags the deadline job keeps."""
    if now is not None:
        require_aware(now)
    query = select(*CASE_ROW_COLUMNS).where(scope.clause(Case))
    if filters is not None:
        query = query.where(filters.states_clause(), filters.clause(now, tz))
    else:
        query = query.where(Case.is_open == true())
    late = (Case.deadline_at < now) if now is not None else Case.overdue
    query = query.order_by(late.desc(), nulls_last(Case.deadline_at.asc()), Case.id).limit(limit)
    return case_rows(session, session.execute(query).all(), now)


def case_detail(
    session: Session,
    scope: AreaScope,
    case_id: int,
    viewer_may_see_personal: bool = False,
    *,
    now: datetime | None = None,
) -> CaseDetail | None:
    """One case with its places, its grid's people, its timeline; None when missing or out of scope."""
    row = session.execute(
        select(*CASE_ROW_COLUMNS).where(Case.id == case_id, scope.clause(Case))
    ).one_or_none()
    if row is None:
        return None
    extra = session.execute(
        select(
            Case.description,
            Case.category_name,
            Case.source_status,
            Case.placement,
            Case.reporter_name,
            Case.reporter_phone,
            Case.reporter_email,
            Case.media_url,
            Case.satisfaction,
            Case.resolved_at,
            Case.closed_at,
            Case.district_code,
        ).where(Case.id == case_id)
    ).one()
    codes = [c for c in (extra.district_code, row.street_code, row.community_code, row.grid_code) if c]
    units_by_code = {
        u.code: u
        for u in session.execute(
            select(AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.geometry).where(
                AdminUnit.code.in_(codes)
            )
        )
    }
    units = [UnitRef(u.level, u.code, u.name) for c in codes if (u := units_by_code.get(c))]
    geometry = None
    for c in reversed(codes):
        unit = units_by_code.get(c)
        if unit is not None and unit.geometry:
            geometry = dict(mapping(wkb.loads(unit.geometry)))
            break

    def phone(value: str | None) -> str:
        return (value or "") if viewer_may_see_personal else mask_phone(value)

    staff = []
    if row.grid_code:
        for s in session.execute(
            select(GridStaff.role, GridStaff.name, GridStaff.phone)
            .where(GridStaff.unit_code == row.grid_code)
            .order_by(GridStaff.role.desc(), GridStaff.id)
        ):
            staff.append(StaffRow(s.role, s.name, phone(s.phone)))
    events = [
        EventRow(
            e.at,
            e.kind,
            e.from_status,
            e.to_status,
            e.detail,
            e.actor,
            e.feed_name,
        )
        for e in session.execute(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.at, CaseEvent.id)
        ).scalars()
    ]
    return CaseDetail(
        row=case_rows(session, [row], now)[0],
        description=extra.description,
        category_name_from_feed=extra.category_name,
        source_status=extra.source_status,
        placement=extra.placement,
        reporter_name=extra.reporter_name or "",
        reporter_phone=phone(extra.reporter_phone),
        reporter_email=(extra.reporter_email or "")
        if viewer_may_see_personal
        else mask_email(extra.reporter_email),
        media_url=extra.media_url or "",
        satisfaction=extra.satisfaction,
        resolved_at=extra.resolved_at,
        closed_at=extra.closed_at,
        units=units,
        staff=staff,
        events=events,
        grid_geometry=geometry,
    )


def street_options(session: Session, scope: AreaScope) -> list[Option]:
    """The real streets (镇街) of the scope, by code, for the street selector."""
    return [Option(code, name) for code, name in streets_in_scope(session, scope)]


def place_options(session: Session, scope: AreaScope, parent: str | None) -> list[Option]:
    """The communities of a street, or the grids of a community (``parent``'s children), that overlap
    the scope, by code; none without a parent (the duty page's community and grid selectors)."""
    if not parent or not parent.isdecimal() or len(parent) not in (9, 12):
        return []
    rows = session.execute(
        select(AdminUnit.code, AdminUnit.name)
        .where(
            AdminUnit.parent_code == parent, AdminUnit.level == ("community" if len(parent) == 9 else "grid")
        )
        .order_by(AdminUnit.code)
    ).all()
    return [Option(r.code, r.name) for r in rows if scope.overlaps(r.code)]


def category_options(session: Session, scope: AreaScope) -> list[Option]:
    """Every category, each top-level one followed by its sub-categories (``parent`` set).
    The catalogue is the same everywhere; ``scope`` is taken for a uniform signature."""
    rows = session.execute(select(Category.code, Category.name, Category.name_en, Category.parent_code)).all()
    tops = sorted((r for r in rows if r.parent_code is None), key=lambda r: r.code)
    subs: dict[str, list[Any]] = {}
    for r in rows:
        if r.parent_code is not None:
            subs.setdefault(r.parent_code, []).append(r)
    out = []
    for t in tops:
        out.append(Option(t.code, t.name, t.name_en))
        out.extend(
            Option(s.code, s.name, s.name_en, t.code)
            for s in sorted(subs.get(t.code, []), key=lambda r: r.code)
        )
    return out


def department_options(session: Session, scope: AreaScope) -> list[Option]:
    """Every department, by code (``scope`` taken for a uniform signature)."""
    return [
        Option(r.code, r.name, r.name_en)
        for r in session.execute(
            select(Department.code, Department.name, Department.name_en).order_by(Department.code)
        )
    ]


def status_options() -> list[str]:
    """The states' codes, in the order a case passes through them (the screens label them): the open
    ones, then 已办结 and 已归档 (a status filter of those lists the cases no longer open)."""
    order = ("reported", "accepted", "assigned", "in_progress", "returned", "resolved", "closed")
    return [s for s in order if s in OPEN_STATES or s in ("resolved", "closed")]
