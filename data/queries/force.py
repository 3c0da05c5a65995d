"""网格力量: the grid force of an area, per street — grids, grid workers, grid chiefs, party branches —
and the two gaps 一格一员 ("one grid, one worker") is about: grids with no worker, and workers spread over
several grids. Counted in SQL (a city holds ~81,000 grids and ~144,000 workers); the lists are capped.

Staff rows are placed through their grid (``admin_unit``), not their own place columns. A worker is one
person by name and phone (the roster's own key): the same name with another phone is
another person. Phones are masked unless the caller asks for them in full (a role that may see them).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, distinct, func, select
from sqlalchemy.orm import Session

from ..masking import mask_phone
from ..models import AdminUnit, GridStaff
from ..scope import AreaScope
from .common import unit_names

MANY_GRIDS = 2  # a worker over this many grids or more is flagged (一格一员)
LIST_LIMIT = 500


@dataclass(frozen=True)
class StreetForce:
    code: str
    name: str
    grids: int
    workers: int  # distinct people with the grid_worker role
    chiefs: int
    branches: int
    empty_grids: int  # grids with no grid worker
    spread_workers: int  # workers over MANY_GRIDS grids or more


@dataclass(frozen=True)
class EmptyGrid:
    code: str
    name: str
    street_name: str
    community_name: str


@dataclass(frozen=True)
class SpreadWorker:
    name: str
    phone: str  # masked unless asked for in full
    grids: int
    grid_names: str  # the first few, joined
    street_name: str


def _count_by_street(session: Session, scope: AreaScope, role: str) -> dict[str, int]:
    person = func.coalesce(GridStaff.phone, "", type_=String) + "|" + GridStaff.name  # typed: || not +
    rows = session.execute(
        select(AdminUnit.street_code, func.count(distinct(person)))
        .join(AdminUnit, AdminUnit.code == GridStaff.unit_code)
        .where(scope.clause(AdminUnit), GridStaff.role == role)
        .group_by(AdminUnit.street_code)
    ).all()
    return {code or "": n for code, n in rows}


def _empty_grid_clause(scope: AreaScope) -> tuple[ColumnElement[bool], ...]:
    staffed = select(GridStaff.unit_code).where(GridStaff.role == "grid_worker")
    return (AdminUnit.level == "grid", scope.clause(AdminUnit), AdminUnit.code.not_in(staffed))


def _spread(session: Session, scope: AreaScope) -> list[tuple[str, str | None, int, str | None]]:
    """(name, phone, grids, street) of the workers over MANY_GRIDS grids or more, most grids first."""
    return [
        (name, phone, n, street)
        for name, phone, n, street in session.execute(
            select(
                GridStaff.name,
                GridStaff.phone,
                func.count(distinct(GridStaff.unit_code)),
                func.min(AdminUnit.street_code),
            )
            .join(AdminUnit, AdminUnit.code == GridStaff.unit_code)
            .where(scope.clause(AdminUnit), GridStaff.role == "grid_worker")
            .group_by(GridStaff.name, GridStaff.phone)
            .having(func.count(distinct(GridStaff.unit_code)) >= MANY_GRIDS)
            .order_by(func.count(distinct(GridStaff.unit_code)).desc(), GridStaff.name)
        ).all()
    ]


def force_by_street(session: Session, scope: AreaScope) -> list[StreetForce]:
    """One row per street of the scope that has grids, by code."""
    grids = dict(
        session.execute(
            select(AdminUnit.street_code, func.count())
            .where(AdminUnit.level == "grid", scope.clause(AdminUnit))
            .group_by(AdminUnit.street_code)
        ).all()
    )
    empty = dict(
        session.execute(
            select(AdminUnit.street_code, func.count())
            .where(*_empty_grid_clause(scope))
            .group_by(AdminUnit.street_code)
        ).all()
    )
    workers = _count_by_street(session, scope, "grid_worker")
    chiefs = _count_by_street(session, scope, "grid_chief")
    branches = _count_by_street(session, scope, "party_branch")
    spread: dict[str, int] = {}
    for _name, _phone, _n, street in _spread(session, scope):
        spread[street or ""] = spread.get(street or "", 0) + 1
    codes = sorted(c for c in grids if c)
    names = unit_names(session, codes)
    return [
        StreetForce(
            code=c,
            name=names.get(c, c),
            grids=grids.get(c, 0),
            workers=workers.get(c, 0),
            chiefs=chiefs.get(c, 0),
            branches=branches.get(c, 0),
            empty_grids=empty.get(c, 0),
            spread_workers=spread.get(c, 0),
        )
        for c in codes
    ]


def empty_grids(session: Session, scope: AreaScope, limit: int = LIST_LIMIT) -> list[EmptyGrid]:
    """Grids of the scope with no grid worker, by code."""
    rows = session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.street_code, AdminUnit.community_code)
        .where(*_empty_grid_clause(scope))
        .order_by(AdminUnit.code)
        .limit(limit)
    ).all()
    names = unit_names(session, [c for r in rows for c in (r[2], r[3]) if c])
    return [
        EmptyGrid(code, name, names.get(s or "", ""), names.get(m or "", "")) for code, name, s, m in rows
    ]


def spread_workers(
    session: Session, scope: AreaScope, full_phones: bool = False, limit: int = LIST_LIMIT
) -> list[SpreadWorker]:
    """Workers over MANY_GRIDS grids or more, most grids first, with the names of their grids."""
    found = _spread(session, scope)[:limit]
    out: list[SpreadWorker] = []
    streets = unit_names(session, [s for *_, s in found if s])
    for name, phone, n, street in found:
        where = [GridStaff.name == name, GridStaff.role == "grid_worker", scope.clause(AdminUnit)]
        where.append(GridStaff.phone.is_(None) if phone is None else GridStaff.phone == phone)
        found_codes = session.scalars(
            select(GridStaff.unit_code).join(AdminUnit, AdminUnit.code == GridStaff.unit_code).where(*where)
        )
        codes = sorted(set(found_codes))
        grid_names = unit_names(session, codes[:5])
        shown = "、".join(grid_names.get(c, c) for c in codes[:5]) + ("…" if len(codes) > 5 else "")
        out.append(
            SpreadWorker(
                name=name,
                phone=(phone or "") if full_phones else mask_phone(phone),
                grids=n,
                grid_names=shown,
                street_name=streets.get(street or "", ""),
            )
        )
    return out
