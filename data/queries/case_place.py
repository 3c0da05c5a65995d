"""Where the map draws an open case: at its own point, else, approximately, at its unit's label point.

About one open case in six has no point of its own (``Case.lon/lat`` NULL): the feed gave only a grid
code, or an address the workers matched to a community or a grid. Such a case is drawn at the label
point (``AdminUnit.label_lon/label_lat``) of its most specific known unit, the grid if known, else the
community, and marked approximate with that unit's level (:data:`APPROX`: ``"grid"`` or
``"community"``; NULL for a case with its own point). A case known only to its street or district stays
off the map (too vague to point at); the tables still list it.

Decided at query time by one outer join on ``coalesce(grid_code, community_code)`` (the unit's primary
key), never written into ``Case.lon/lat``. :func:`with_map_place` adds the join and keeps the cases the
map can draw; :data:`MAP_LON`, :data:`MAP_LAT` and :data:`APPROX` are then usable in its columns,
filters and groupings (``layers.cases``, ``layers.case_clusters``). The table rows' ``map_lon/map_lat``
(:func:`data.queries.common.case_rows`) come from the same expressions (:func:`map_places`): the one
rule, written once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, and_, case, func, null, or_, select
from sqlalchemy.orm import Session, aliased

from ..models import AdminUnit, Case

__all__ = [
    "APPROX",
    "APPROX_LEVELS",
    "HAS_POINT",
    "MAP_LAT",
    "MAP_LON",
    "PLACE_UNIT",
    "MapPlace",
    "map_places",
    "with_map_place",
]

# The levels an approximate case may be placed at, most specific first.
APPROX_LEVELS = ("grid", "community")

# The unit an unpointed case is drawn at (an alias: a caller may join AdminUnit for its own reasons).
PLACE_UNIT = aliased(AdminUnit, name="place_unit")
HAS_POINT = and_(Case.lon.is_not(None), Case.lat.is_not(None))
MAP_LON = case((HAS_POINT, Case.lon), else_=PLACE_UNIT.label_lon)
MAP_LAT = case((HAS_POINT, Case.lat), else_=PLACE_UNIT.label_lat)
APPROX = case((HAS_POINT, null()), else_=PLACE_UNIT.level)
# NULL for a case with its own point: no unit is looked up for it (SQLite skips the index seek on a NULL
# key; PostgreSQL's hash join never matches one), so the join costs only the unpointed cases.
_PLACE_KEY = case((HAS_POINT, null()), else_=func.coalesce(Case.grid_code, Case.community_code))


def with_map_place(query: Select[Any]) -> Select[Any]:
    """``query`` (on ``Case``) outer-joined to the grid, else the community, of each case without a point
    of its own, and kept to the cases the map can draw: with a point, or with such a unit that has a label
    point. One join on the unit's primary key; only unpointed cases look a unit up."""
    drawable = or_(HAS_POINT, and_(PLACE_UNIT.label_lon.is_not(None), PLACE_UNIT.label_lat.is_not(None)))
    return query.outerjoin(PLACE_UNIT, PLACE_UNIT.code == _PLACE_KEY).where(drawable)


MapPlace = tuple[float, float, str | None]  # lon, lat, approx (None: the case's own point)


def map_places(session: Session, case_ids: Iterable[int]) -> dict[int, MapPlace]:
    """Where the map draws each of these cases, by id; a case the map cannot draw is left out."""
    wanted = sorted(set(case_ids))
    places: dict[int, MapPlace] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        query = with_map_place(select(Case.id, MAP_LON, MAP_LAT, APPROX).where(Case.id.in_(chunk)))
        for case_id, lon, lat, approx in session.execute(query):
            places[case_id] = (float(lon), float(lat), approx)
    return places
