"""Static unit geometry (districts, streets, communities, grids) for one area scope, as geobuf.

Geometry is simplified per level with a tolerance fit for the zooms at which that level is drawn
(DESIGN §6) and quantised to ~6 decimals. Grids are never sent whole: only those in a viewport bbox,
and at most :data:`GRID_CAP` of them. Streets and communities are sent whole while the scope has few of
them (at most :data:`WHOLE_SCOPE_MAX`, e.g. one district); at city scale they too come by viewport bbox
(:func:`units_in_bbox`, :func:`lod_plan`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import box, mapping
from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from data.models import AdminUnit
from data.models.places import CODE_LENGTH, LEVELS
from data.names import community_short_name
from data.scope import AreaScope

from .encoding import from_wkb, geobuf_bytes

# Degrees (~111 km per degree). A district is drawn at zoom 8-10 (~150-40 m a pixel), streets at 10-12,
# communities at 12-14, grids at 14 and beyond (~10 m a pixel): about one pixel of error at each.
SIMPLIFY_TOLERANCE = {"district": 0.0008, "street": 0.0003, "community": 0.0001, "grid": 0.00003}
STATIC_LEVELS = ("district", "street", "community")
GRID_CAP = 2500
# A scope with more units than this at a level gets that level by viewport bbox, not whole.
WHOLE_SCOPE_MAX = 600
# A scope with more open cases than this gets them by view (see lod_plan).
CASES_WHOLE_MAX = 5000
BBOX_CAP = {"street": 1500, "community": 2500, "grid": GRID_CAP}


class UnknownLevel(ValueError):
    pass


@dataclass(frozen=True)
class BBox:
    """A lon/lat box: west, south, east, north (WGS-84)."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        if not (-180 <= self.west < self.east <= 180 and -90 <= self.south < self.north <= 90):
            raise ValueError("bbox must be west,south,east,north with west<east and south<north")

    @classmethod
    def parse(cls, text: str | None) -> BBox:
        """``"w,s,e,n"`` → BBox; raises ValueError with a message fit for a 400 response."""
        parts = (text or "").split(",")
        if len(parts) != 4:
            raise ValueError("bbox must be four numbers: west,south,east,north")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise ValueError("bbox must be four numbers: west,south,east,north") from None
        if any(v != v or v in (float("inf"), float("-inf")) for v in values):
            raise ValueError("bbox must be four finite numbers")
        return cls(*values)

    @property
    def key(self) -> str:
        return f"{self.west:.5f},{self.south:.5f},{self.east:.5f},{self.north:.5f}"


@dataclass(frozen=True)
class GridPayload:
    body: bytes
    count: int
    truncated: bool


def check_level(level: str, allowed: Sequence[str] = LEVELS) -> str:
    if level not in allowed:
        raise UnknownLevel(f"unknown level {level!r}: one of {', '.join(allowed)}")
    return level


def unit_scope_clause(scope: AreaScope, level: str) -> ColumnElement[bool]:
    """Units of ``level`` inside the scope, plus the ancestors of the scope's units at that level
    (a street's duty officer still sees the outline of the district around the street)."""
    if not scope.codes:
        return false()
    length = CODE_LENGTH[level]
    inside = [AdminUnit.code.startswith(code, autoescape=True) for code in sorted(scope.codes)]
    ancestors = sorted({code[:length] for code in scope.codes if len(code) > length})
    terms: list[ColumnElement[bool]] = list(inside)
    if ancestors:
        terms.append(AdminUnit.code.in_(ancestors))
    return and_(AdminUnit.level == level, or_(*terms))


def _features(rows: Sequence[Any], level: str, clip: BBox | None = None) -> list[dict[str, Any]]:
    tolerance = SIMPLIFY_TOLERANCE[level]
    area = box(clip.west, clip.south, clip.east, clip.north) if clip else None
    features = []
    for row in rows:
        geom = from_wkb(row.geometry)
        if geom is None:
            continue
        if area is not None and not geom.intersects(area):
            continue
        simple = shapely.simplify(geom, tolerance, preserve_topology=True)
        props: dict[str, Any] = {
            "code": row.code,
            "name": community_short_name(row.name) if row.level == "community" else row.name,
            "level": row.level,
            "parent_code": row.parent_code or "",
        }
        if row.label_lon is not None and row.label_lat is not None:
            props["label"] = [round(row.label_lon, 6), round(row.label_lat, 6)]
        features.append({"type": "Feature", "geometry": mapping(simple), "properties": props})
    return features


_COLUMNS = (
    AdminUnit.code,
    AdminUnit.name,
    AdminUnit.level,
    AdminUnit.parent_code,
    AdminUnit.geometry,
    AdminUnit.label_lon,
    AdminUnit.label_lat,
)


def unit_features(session: Session, scope: AreaScope, level: str) -> list[dict[str, Any]]:
    """GeoJSON features (dicts) of every unit of ``level`` in the scope, simplified for its zooms."""
    check_level(level)
    rows = session.execute(select(*_COLUMNS).where(unit_scope_clause(scope, level)).order_by(AdminUnit.code))
    return _features(rows.all(), level)


def build_units(session: Session, scope: AreaScope, level: str) -> bytes:
    """The static geometry of one level (district, street or community) for a scope, as geobuf."""
    check_level(level, STATIC_LEVELS)
    return geobuf_bytes(unit_features(session, scope, level))


def bbox_clause(bbox: BBox) -> ColumnElement[bool]:
    """Units whose stored bbox intersects ``bbox`` (the indexed candidate test)."""
    return and_(
        AdminUnit.min_lon <= bbox.east,
        AdminUnit.max_lon >= bbox.west,
        AdminUnit.min_lat <= bbox.north,
        AdminUnit.max_lat >= bbox.south,
    )


def units_in_bbox(
    session: Session, scope: AreaScope, level: str, bbox: BBox, cap: int | None = None
) -> GridPayload:
    """The units of ``level`` in the scope that intersect ``bbox`` (at most ``cap``, by code), as geobuf.

    The bbox columns (indexed with the level) pick the candidates; the exact intersection is then
    tested on the geometry, so a unit whose box touches the view but whose shape does not is left out.
    """
    check_level(level)
    limit = BBOX_CAP.get(level, GRID_CAP) if cap is None else cap
    query = (
        select(*_COLUMNS)
        .where(unit_scope_clause(scope, level), bbox_clause(bbox))
        .order_by(AdminUnit.code)
        .limit(limit + 1)
    )
    rows = session.execute(query).all()
    truncated = len(rows) > limit
    features = _features(rows[:limit], level, clip=bbox)
    return GridPayload(geobuf_bytes(features), len(features), truncated)


def grids_in_bbox(session: Session, scope: AreaScope, bbox: BBox, cap: int = GRID_CAP) -> GridPayload:
    """The grids of the scope that intersect ``bbox`` (at most ``cap``): :func:`units_in_bbox`."""
    return units_in_bbox(session, scope, "grid", bbox, cap)


def unit_sizes(session: Session, scope: AreaScope) -> dict[str, int]:
    """How many units of each level the map draws for the scope (its own, plus their ancestors)."""
    return {
        level: int(session.execute(select(func.count()).where(unit_scope_clause(scope, level))).scalar_one())
        for level in LEVELS
    }


def lod_plan(
    sizes: dict[str, int],
    limit: int = WHOLE_SCOPE_MAX,
    open_cases: int = 0,
    cases_limit: int = CASES_WHOLE_MAX,
) -> dict[str, Any]:
    """Which levels the browser loads by viewport bbox: grids always; streets and communities when
    the scope has more than ``limit`` of them (the city), otherwise whole (a district).

    ``cases_by_view``: whether the open cases come by view too (clustered on the server below the grid zooms,
    the cases of the viewport from there on) rather than whole and clustered in the browser — when the
    scope is city-sized (communities by bbox) or holds more than ``cases_limit`` open cases.
    """
    bbox = [lv for lv in LEVELS if lv == "grid" or (lv != "district" and sizes.get(lv, 0) > limit)]
    by_view = "community" in bbox or open_cases > cases_limit
    return {
        "sizes": sizes,
        "bbox": bbox,
        "whole_max": limit,
        "open_cases": open_cases,
        "cases_by_view": by_view,
    }


def scope_bounds(session: Session, scope: AreaScope) -> tuple[float, float, float, float] | None:
    """The bbox (west, south, east, north) of the scope's own units, or None when none is stored."""
    if not scope.codes:
        return None
    row = session.execute(
        select(
            func.min(AdminUnit.min_lon),
            func.min(AdminUnit.min_lat),
            func.max(AdminUnit.max_lon),
            func.max(AdminUnit.max_lat),
        ).where(AdminUnit.code.in_(sorted(scope.codes)))
    ).one()
    west, south, east, north = row
    if west is None or south is None or east is None or north is None:
        return None
    return (float(west), float(south), float(east), float(north))


def scope_units(session: Session, scope: AreaScope) -> list[tuple[str, str, bool]]:
    """(code, name, synthetic) of the scope's own units, by code."""
    if not scope.codes:
        return []
    rows = session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.synthetic)
        .where(AdminUnit.code.in_(sorted(scope.codes)))
        .order_by(AdminUnit.code)
    )
    return [(r.code, r.name, bool(r.synthetic)) for r in rows]


def any_synthetic(session: Session, scope: AreaScope) -> bool:
    """Whether any unit drawn for the scope has generated (not official) boundaries."""
    if not scope.codes:
        return False
    inside = or_(*[AdminUnit.code.startswith(c, autoescape=True) for c in sorted(scope.codes)])
    found = session.execute(select(AdminUnit.code).where(inside, AdminUnit.synthetic.is_(True)).limit(1))
    return found.first() is not None
