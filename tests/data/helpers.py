"""A small hand-made hierarchy and case builder for tests (others may reuse them).

``build_units`` inserts one district, its streets, communities and grids (real names and codes from
the Chongqing lists where they exist), each grid a square ``cell`` degrees wide laid out in one row,
so every parent is exactly the union of its children, plus a grid worker and a grid chief per grid.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from shapely.geometry import box
from sqlalchemy.orm import Session

from data import first_response
from data.models import AdminUnit, Case, CaseEvent, GridStaff
from data.seed import seed_catalogue
from data.states import OPEN_STATES

GEO = Path(__file__).resolve().parents[2] / "data" / "resources" / "geo"
ORIGIN = (106.0, 29.8)


@dataclass
class Units:
    district: str
    streets: list[str] = field(default_factory=list)
    communities: list[str] = field(default_factory=list)
    grids: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    boxes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)

    def grids_of(self, code: str) -> list[str]:
        return [g for g in self.grids if g.startswith(code)]

    def centre(self, code: str) -> tuple[float, float]:
        x0, y0, x1, y1 = self.boxes[code]
        return (x0 + x1) / 2, (y0 + y1) / 2


def _real_names(district: str) -> tuple[str, list[tuple[str, str]], dict[str, list[tuple[str, str]]]]:
    with (GEO / "chongqing_streets.csv").open(encoding="utf-8") as fh:
        streets = [
            (r["code"], r["name"], r["district_name"])
            for r in csv.DictReader(fh)
            if r["district_code"] == district
        ]
    comms: dict[str, list[tuple[str, str]]] = {}
    with (GEO / "chongqing_communities.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["district_code"] == district:
                comms.setdefault(r["street_code"], []).append((r["code"], r["name"]))
    dname = streets[0][2] if streets else f"区县{district}"
    return dname, [(c, n) for c, n, _ in streets], comms


def _unit(
    code: str, name: str, level: str, parent: str | None, bounds: tuple[float, float, float, float]
) -> AdminUnit:
    unit = AdminUnit(code=code, name=name, level=level, parent_code=parent, synthetic=True)
    unit.set_place(code)
    x0, y0, x1, y1 = bounds
    unit.geometry = box(*bounds).wkb
    unit.min_lon, unit.min_lat, unit.max_lon, unit.max_lat = bounds
    unit.label_lon, unit.label_lat = (x0 + x1) / 2, (y0 + y1) / 2
    return unit


def build_units(
    session: Session,
    district: str = "500151",
    streets: int = 2,
    communities_per_street: int = 2,
    grids_per_community: int = 2,
    cell: float = 0.01,
    seed_catalogue_too: bool = True,
) -> Units:
    """Insert the hierarchy (and the catalogue of departments and categories) and flush."""
    if seed_catalogue_too:
        seed_catalogue(session)
    dname, real_streets, real_comms = _real_names(district)
    units = Units(district=district)
    pending: list[AdminUnit] = []
    x = ORIGIN[0]
    y0, y1 = ORIGIN[1], ORIGIN[1] + cell
    for si in range(streets):
        scode, sname = (
            real_streets[si] if si < len(real_streets) else (f"{district}{si + 1:03d}", f"街道{si + 1}")
        )
        s_x0 = x
        for ci in range(communities_per_street):
            comms = real_comms.get(scode, [])
            ccode, cname = (
                comms[ci] if ci < len(comms) else (f"{scode}{ci + 1:03d}", f"社区{si + 1}-{ci + 1}")
            )
            c_x0 = x
            for gi in range(grids_per_community):
                gcode = f"{ccode}{gi + 1:03d}"
                gname = f"{cname.removesuffix('居民委员会')}第{gi + 1}网格"
                bounds = (x, y0, x + cell, y1)
                pending.append(_unit(gcode, gname, "grid", ccode, bounds))
                units.grids.append(gcode)
                units.names[gcode], units.boxes[gcode] = gname, bounds
                x += cell
            bounds = (c_x0, y0, x, y1)
            pending.append(_unit(ccode, cname, "community", scode, bounds))
            units.communities.append(ccode)
            units.names[ccode], units.boxes[ccode] = cname, bounds
        bounds = (s_x0, y0, x, y1)
        pending.append(_unit(scode, sname, "street", district, bounds))
        units.streets.append(scode)
        units.names[scode], units.boxes[scode] = sname, bounds
    bounds = (ORIGIN[0], y0, x, y1)
    pending.append(_unit(district, dname, "district", None, bounds))
    units.names[district], units.boxes[district] = dname, bounds
    # parents first (foreign keys)
    order = {"district": 0, "street": 1, "community": 2, "grid": 3}
    session.add_all(sorted(pending, key=lambda u: order[u.level]))
    session.flush()
    for n, gcode in enumerate(units.grids):
        for role, name, phone in (
            ("grid_worker", f"网格员{n + 1}", f"1380000{n + 1:04d}"),
            ("grid_chief", f"网格长{n + 1}", f"1390000{n + 1:04d}"),
        ):
            staff = GridStaff(unit_code=gcode, role=role, name=name, phone=phone, synthetic=True)
            staff.set_place(gcode)
            session.add(staff)
    session.flush()
    return units


def add_case(
    session: Session,
    place: str | None,
    requested_at: datetime,
    *,
    category: str = "environment.noise",
    department: str | None = "ecology",
    status: str = "accepted",
    limit_hours: float | None = 72,
    accepted_at: datetime | None = None,
    resolved_at: datetime | None = None,
    satisfaction: str | None = None,
    escalation_level: str = "community",
    supervision: str = "none",
    lon: float | None = None,
    lat: float | None = None,
    events: list[tuple[datetime, str]] | None = None,
    external_id: str | None = None,
) -> Case:
    """One case with exactly the facts a test states; ``accepted_at`` defaults to ``requested_at``."""
    if accepted_at is None and status != "reported":
        accepted_at = requested_at
    deadline = accepted_at + timedelta(hours=limit_hours) if accepted_at and limit_hours is not None else None
    n = session.query(Case).count() + 1
    c = Case(
        feed_name="test",
        external_id=external_id or f"T{n}",
        source="12345",
        department_code=department,
        category_code=category,
        title=f"案件{n}",
        status=status,
        requested_at=requested_at,
        accepted_at=accepted_at,
        deadline_at=deadline,
        resolved_at=resolved_at,
        closed_at=resolved_at if status == "closed" else None,
        is_open=status in OPEN_STATES,
        first_response_at=first_response.from_events(
            {"kind": "status", "to_status": to, "at": at} for at, to in events or []
        ),
        satisfaction=satisfaction,
        escalation_level=escalation_level,
        supervision=supervision,
        lon=lon,
        lat=lat,
        placement="point" if lon is not None else "code",
    )
    c.set_place(place)
    session.add(c)
    session.flush()
    for at, to_status in events or []:
        session.add(CaseEvent(case_id=c.id, at=at, kind="status", to_status=to_status, feed_name="test"))
    session.flush()
    return c


def same(a: Any, b: Any) -> bool:
    """Equal, floats but for the last bits of a sum added up in another order (or through SQLite's
    ``julianday``, whose day fractions are exact to about a microsecond)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    return bool(a == b)
