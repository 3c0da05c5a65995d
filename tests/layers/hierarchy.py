"""A small hand-made hierarchy for layer, route and browser tests.

District 500151 is a box split into two streets (west/east); each street into two communities
(south/north); each community into two grids (west/east). Every grid has a worker with a phone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import shapely
from shapely.geometry import Polygon, box
from sqlalchemy.orm import Session

from data.models import AdminUnit, Alert, AlertGrid, Case, GridStaff, Risk

DISTRICT = "500151"
STREETS = ("500151001", "500151002")
WEST, SOUTH, EAST, NORTH = 105.90, 29.70, 106.20, 29.95
STREET_NAMES = {"500151001": "巴川街道", "500151002": "东城街道"}


def _unit(session: Session, code: str, name: str, level: str, parent: str | None, geom: Polygon) -> None:
    minx, miny, maxx, maxy = geom.bounds
    label = geom.representative_point()
    unit = AdminUnit(
        code=code,
        name=name,
        level=level,
        parent_code=parent,
        geometry=shapely.to_wkb(geom),
        min_lon=minx,
        min_lat=miny,
        max_lon=maxx,
        max_lat=maxy,
        label_lon=label.x,
        label_lat=label.y,
        synthetic=True,
    )
    unit.set_place(code)
    session.add(unit)


def grid_box(code: str) -> Polygon:
    """The box of a grid of this hierarchy (by its code)."""
    street = int(code[6:9]) - 1
    community = int(code[9:12]) - 1
    grid = int(code[12:15]) - 1
    half = (EAST - WEST) / 2
    x0 = WEST + street * half + grid * half / 2
    y0 = SOUTH + community * (NORTH - SOUTH) / 2
    return box(x0, y0, x0 + half / 2, y0 + (NORTH - SOUTH) / 2)


def build_hierarchy(session: Session) -> list[str]:
    """Insert the hierarchy; return the grid codes."""
    _unit(session, DISTRICT, "铜梁区", "district", None, box(WEST, SOUTH, EAST, NORTH))
    half = (EAST - WEST) / 2
    grids: list[str] = []
    for s, street in enumerate(STREETS):
        sx = WEST + s * half
        _unit(session, street, STREET_NAMES[street], "street", DISTRICT, box(sx, SOUTH, sx + half, NORTH))
        for c in range(2):
            community = f"{street}{c + 1:03d}"
            cy = SOUTH + c * (NORTH - SOUTH) / 2
            cbox = box(sx, cy, sx + half, cy + (NORTH - SOUTH) / 2)
            _unit(session, community, f"{STREET_NAMES[street][:2]}{'南北'[c]}社区", "community", street, cbox)
            for g in range(2):
                code = f"{community}{g + 1:03d}"
                _unit(session, code, f"第{g + 1}网格", "grid", community, grid_box(code))
                grids.append(code)
    session.flush()
    for i, code in enumerate(grids):
        session.add(GridStaff(unit_code=code, role="grid_worker", name=f"网格员{i}", phone=f"1380000{i:04d}"))
    session.flush()
    return grids


def _new_case(
    session: Session,
    code: str,
    *,
    external_id: str,
    title: str,
    status: str,
    overdue: bool,
    is_open: bool,
    category_name: str,
    point: tuple[float, float] | None,
    placement: str,
) -> Case:
    now = datetime.now(UTC)
    case = Case(
        feed_name="test",
        external_id=external_id,
        title=title,
        description=title,
        status=status,
        category_name=category_name,
        requested_at=now - timedelta(days=2),
        accepted_at=now - timedelta(days=2),
        deadline_at=now + timedelta(days=1),
        lon=point[0] if point else None,
        lat=point[1] if point else None,
        placement=placement,
        is_open=is_open,
        overdue=overdue,
        supervision="yellow" if overdue else "none",
    )
    case.set_place(code)
    session.add(case)
    session.flush()
    return case


def add_case(
    session: Session,
    grid: str,
    *,
    external_id: str,
    title: str = "占道经营",
    status: str = "accepted",
    overdue: bool = False,
    is_open: bool = True,
    category_name: str = "城市管理",
    lon: float | None = None,
    lat: float | None = None,
) -> Case:
    """An open case at the centre of ``grid`` (or at lon/lat)."""
    centre = grid_box(grid).centroid
    point = (centre.x if lon is None else lon, centre.y if lat is None else lat)
    return _new_case(
        session, grid, external_id=external_id, title=title, status=status, overdue=overdue,
        is_open=is_open, category_name=category_name, point=point, placement="point",
    )  # fmt: skip


def add_pointless_case(
    session: Session,
    code: str,
    *,
    external_id: str,
    title: str = "群众来电反映",
    placement: str = "code",
    status: str = "accepted",
    overdue: bool = False,
    is_open: bool = True,
) -> Case:
    """An open case with no point of its own, placed in the unit ``code`` (a grid, community or street:
    as a feed that gave only a grid code, or an address matched to that unit)."""
    return _new_case(
        session, code, external_id=external_id, title=title, status=status, overdue=overdue,
        is_open=is_open, category_name="城市管理", point=None, placement=placement,
    )  # fmt: skip


def add_alert(
    session: Session, grids: list[str], *, headline: str = "暴雨橙色预警", colour: str = "orange"
) -> Alert:
    """A CAP-like warning polygon over ``grids`` (their union), covering them."""
    area = shapely.union_all([grid_box(g) for g in grids])
    alert = Alert(
        feed_name="test",
        external_id=f"alert-{headline}-{len(grids)}",
        kind="weather",
        event="暴雨",
        severity="Severe",
        colour=colour,
        headline=headline,
        area_desc="测试区域",
        geometry=shapely.to_wkb(area),
        lon=area.centroid.x,
        lat=area.centroid.y,
        state="new",
        expires=datetime.now(UTC) + timedelta(hours=6),
    )
    alert.set_place(grids[0])
    session.add(alert)
    session.flush()
    for g in grids:
        session.add(AlertGrid(alert_id=alert.id, grid_code=g))
    session.flush()
    return alert


def add_risk(session: Session, grid: str, *, title: str = "危房隐患", overdue: bool = False) -> Risk:
    centre = grid_box(grid).centroid
    now = datetime.now(UTC)
    risk = Risk(
        kind="public_safety",
        level="high",
        title=title,
        lon=centre.x + 0.002,
        lat=centre.y + 0.002,
        owner="住建委",
        due_at=now - timedelta(days=1) if overdue else now + timedelta(days=10),
    )
    risk.set_place(grid)
    session.add(risk)
    session.flush()
    return risk
