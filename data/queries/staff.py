"""网格力量: the grid force of an area, per street — grids, grid workers, grid chiefs, party branches —
and its gaps: grids with no grid worker, grid workers over several grids.

A person is counted once however many grids they serve: identified by their phone, or by their name
when they have none. "Over several grids" counts the grids of the scope a worker serves (a worker serving
two streets counts in each street whose grids they serve).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..models import AdminUnit, GridStaff
from ..scope import AreaScope
from .common import unit_names


@dataclass(frozen=True)
class StreetForce:
    street_code: str
    street_name: str
    grids: int
    workers: int  # 网格员 (distinct people)
    chiefs: int  # 网格长 (distinct people)
    branches: int  # 网格党支部 (distinct names)
    grids_without_worker: int
    workers_over_grids: int  # 网格员 serving more than one grid of the scope
    synthetic: bool  # every staff row of the street is generated, none from a loaded roster


@dataclass(frozen=True)
class GridForce:
    """The street rows and the district total, and the grids and workers the view flags."""

    streets: list[StreetForce]
    total: StreetForce
    grids_without_worker: list[str]  # grid codes
    workers_over_grids: list[tuple[str, list[str]]]  # (name, grid codes), more than one grid each


def _person(name: str, phone: str | None) -> str:
    return phone or f"name:{name}"


def grid_force(session: Session, scope: AreaScope) -> GridForce:
    """Per street of the scope, street code order, and the total (coded ``""``)."""
    if not scope.codes:
        empty = StreetForce("", "", 0, 0, 0, 0, 0, 0, False)
        return GridForce([], empty, [], [])
    in_scope = or_(*[AdminUnit.code.startswith(c, autoescape=True) for c in sorted(scope.codes)])
    grids = sorted(session.scalars(select(AdminUnit.code).where(AdminUnit.level == "grid", in_scope)))
    staff = session.execute(
        select(GridStaff.unit_code, GridStaff.role, GridStaff.name, GridStaff.phone, GridStaff.synthetic)
        .where(scope.clause(GridStaff))
        .order_by(GridStaff.id)
    ).all()
    worker_grids: dict[str, set[str]] = defaultdict(set)
    worker_name: dict[str, str] = {}
    # per street ("" = the total): role -> people; and whether every row is synthetic
    people: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    generated: dict[str, bool] = {}
    for row in staff:
        who = row.name if row.role == "party_branch" else _person(row.name, row.phone)
        for key in (row.unit_code[:9], ""):
            people[key][row.role].add(who)
            generated[key] = generated.get(key, True) and bool(row.synthetic)
        if row.role == "grid_worker":
            worker_grids[who].add(row.unit_code)
            worker_name.setdefault(who, row.name)
    staffed = {g for gs in worker_grids.values() for g in gs}
    over = {who: gs for who, gs in worker_grids.items() if len(gs) > 1}
    streets = sorted({g[:9] for g in grids})
    names = unit_names(session, streets)

    def force(key: str) -> StreetForce:
        mine = [g for g in grids if g.startswith(key)]
        return StreetForce(
            street_code=key,
            street_name=names.get(key, key) if key else "",
            grids=len(mine),
            workers=len(people[key]["grid_worker"]),
            chiefs=len(people[key]["grid_chief"]),
            branches=len(people[key]["party_branch"]),
            grids_without_worker=sum(1 for g in mine if g not in staffed),
            workers_over_grids=sum(1 for gs in over.values() if any(g.startswith(key) for g in gs)),
            synthetic=generated.get(key, False),
        )

    return GridForce(
        streets=[force(s) for s in streets],
        total=force(""),
        grids_without_worker=[g for g in grids if g not in staffed],
        workers_over_grids=sorted((worker_name[w], sorted(gs)) for w, gs in over.items()),
    )
