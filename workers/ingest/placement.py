"""Placing records in the grid hierarchy, with a per-process cache rebuilt when the units change.

A case is placed by its point (point-in-polygon through ``data.geo.placement.GridLocator``), else by
the grid/community/street code the feed gave when that unit exists, else by its address, else it is
left unplaced (``placement="unplaced"``: stored and listed all the same). A warning area is
intersected with the grids (an STRtree query with the area, then exact ``intersects``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import redis
import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import AdminUnit
from layers import versions


class Locator(Protocol):
    def locate_many(self, lons: Sequence[float], lats: Sequence[float]) -> Sequence[str | None]: ...
    def unit_exists(self, code: str) -> bool: ...
    def by_address(self, text: str) -> str | None: ...


@dataclass(frozen=True)
class Placement:
    code: str | None
    method: str  # point | code | address | unplaced


class GridAreas:
    """The grids' polygons in an STRtree, for intersecting warning areas."""

    def __init__(self, codes: list[str], geoms: list[BaseGeometry]) -> None:
        self.codes = codes
        self.geoms = np.array(geoms, dtype=object)
        self.tree = STRtree(self.geoms) if geoms else None

    @classmethod
    def from_session(cls, session: Session) -> GridAreas:
        rows = session.execute(
            select(AdminUnit.code, AdminUnit.geometry).where(
                AdminUnit.level == "grid", AdminUnit.geometry.is_not(None)
            )
        ).all()
        codes = [r.code for r in rows]
        geoms = list(shapely.from_wkb([r.geometry for r in rows])) if rows else []
        return cls(codes, geoms)

    def covering(self, area: BaseGeometry | None) -> list[str]:
        """Codes of the grids the area touches (sorted)."""
        if area is None or area.is_empty or self.tree is None:
            return []
        if not area.is_valid:
            area = shapely.make_valid(area)
        hits = self.tree.query(area, predicate="intersects")
        return sorted(self.codes[int(i)] for i in hits)


class Placer:
    def __init__(self, locator: Locator, areas: GridAreas) -> None:
        self.locator = locator
        self.areas = areas

    def place(
        self,
        points: Sequence[tuple[float | None, float | None]],
        codes: Sequence[str],
        addresses: Sequence[str],
    ) -> list[Placement]:
        """One placement per record, with every point located in one vectorised call."""
        with_point = [i for i, (lon, lat) in enumerate(points) if lon is not None and lat is not None]
        located: dict[int, str | None] = {}
        if with_point:
            lons = [float(points[i][0]) for i in with_point]  # type: ignore[arg-type]
            lats = [float(points[i][1]) for i in with_point]  # type: ignore[arg-type]
            for i, code in zip(with_point, self.locator.locate_many(lons, lats), strict=True):
                located[i] = code
        found_at: dict[str, str | None] = {}  # a batch repeats its addresses: each looked up once

        def by_address(text: str) -> str | None:
            if text not in found_at:
                found_at[text] = self.locator.by_address(text)
            return found_at[text]

        out: list[Placement] = []
        for i in range(len(points)):
            if located.get(i):
                out.append(Placement(located[i], "point"))
            elif codes[i] and self.locator.unit_exists(codes[i]):
                out.append(Placement(codes[i], "code"))
            elif addresses[i] and (found := by_address(addresses[i])):
                out.append(Placement(found, "address"))
            else:
                out.append(Placement(None, "unplaced"))
        return out


def build_placer(session: Session) -> Placer:
    from data.geo.placement import GridLocator

    return Placer(GridLocator(session), GridAreas.from_session(session))


def cached_placer(cache: dict[str, Any], session: Session, conn: redis.Redis) -> Placer:
    """The process's placer, rebuilt when the ``units`` layer version has moved."""
    version = versions.read(conn)["units"]
    entry = cache.get("placer")
    if entry is None or entry[0] != version:
        entry = (version, build_placer(session))
        cache["placer"] = entry
    placer: Placer = entry[1]
    return placer
