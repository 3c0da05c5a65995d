"""Open cases clustered on the server: what a city-sized map shows below the grid zooms.

A city has ~100,000 open cases; a wall at city zoom needs a few dozen bubbles, not 100,000 points. For a
scope whose cases come by view (:func:`layers.units.lod_plan` says ``cases_by_view``) the map asks, below
the grid zooms, for the view's open cases grouped into square cells of about the browser clusterer's
radius at that zoom (:data:`RADIUS_PX` pixels), as supercluster would group them: one bubble per cell
with its count, its overdue count and the mean of its points. A case without a point of its own counts
where the map draws it: at its grid's or community's label point (:mod:`data.queries.case_place`), so the
bubbles hold what the bbox layer and the whole layer hold. Cells are fixed on the globe (anchored at
-180°, -90°), so a pan never regroups what stays in view, and the bbox is widened to whole cells, so a
bubble never counts only part of its cell. The payload grows with the view, never with the city.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, func
from sqlalchemy.orm import Session

from data.case_filter import NO_FILTER, CaseFilter
from data.models import Case
from data.queries.case_place import MAP_LAT, MAP_LON
from data.scope import AreaScope

from .cases import open_cases_query
from .units import BBox

# The one cluster radius, in screen pixels: the browser's supercluster gets it too (dashboard.components.map
# passes it in CLUSTER and in the layers' hideout as ``cluster_radius``)
RADIUS_PX = 70
TILE_PX = 256
MIN_ZOOM, MAX_ZOOM = 0, 20


def cell_degrees(zoom: int, radius_px: int = RADIUS_PX) -> float:
    """The side of a cluster cell in degrees at ``zoom``: ``radius_px`` screen pixels of longitude."""
    if not MIN_ZOOM <= zoom <= MAX_ZOOM:
        raise ValueError(f"zoom must be an integer from {MIN_ZOOM} to {MAX_ZOOM}, not {zoom!r}")
    return radius_px * 360.0 / (TILE_PX * 2**zoom)


def whole_cells(bbox: BBox, cell: float) -> BBox:
    """``bbox`` widened outwards to cell boundaries (and kept on the globe)."""

    def down(v: float, origin: float) -> float:
        return math.floor((v - origin) / cell) * cell + origin

    def up(v: float, origin: float) -> float:
        return math.ceil((v - origin) / cell) * cell + origin

    return BBox(
        max(down(bbox.west, -180.0), -180.0),
        max(down(bbox.south, -90.0), -90.0),
        min(up(bbox.east, -180.0), 180.0),
        min(up(bbox.north, -90.0), 90.0),
    )


def _cell_index(value: ColumnElement[float], origin: float, cell: float, dialect: str) -> ColumnElement[int]:
    shifted = (value - origin) / cell  # never negative: the origin is the globe's corner
    if dialect == "sqlite":
        return cast(shifted, Integer)  # SQLite truncates: floor, for a non-negative value
    return cast(func.floor(shifted), Integer)  # PostgreSQL's cast rounds; floor first


def case_clusters(
    session: Session,
    scope: AreaScope,
    zoom: int,
    bbox: BBox,
    filters: CaseFilter = NO_FILTER,
    tz: str = "Asia/Shanghai",
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: one point per cell of ``zoom`` holding open cases of the view.

    Properties: ``count`` (open cases in the cell, approximate ones included), ``overdue``, ``cell``
    (``"<x>:<y>"``, stable across pans and versions: the browser may key on it).
    """
    cell = cell_degrees(zoom)
    area = whole_cells(bbox, cell)
    dialect = session.get_bind().dialect.name
    ix = _cell_index(MAP_LON, -180.0, cell, dialect).label("ix")
    iy = _cell_index(MAP_LAT, -90.0, cell, dialect).label("iy")
    query = (
        open_cases_query(scope, filters, area, tz)
        .with_only_columns(
            ix,
            iy,
            func.count().label("n"),
            func.coalesce(func.sum(cast(Case.overdue, Integer)), 0).label("late"),
            func.avg(MAP_LON).label("lon"),
            func.avg(MAP_LAT).label("lat"),
        )
        .group_by(ix, iy)
        .order_by(ix, iy)
    )
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(float(r.lon), 6), round(float(r.lat), 6)]},
            "properties": {"count": int(r.n), "overdue": int(r.late), "cell": f"{r.ix}:{r.iy}"},
        }
        for r in session.execute(query)
    ]
    return {"type": "FeatureCollection", "features": features}
