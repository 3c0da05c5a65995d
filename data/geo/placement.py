"""Place points and addresses in the grid hierarchy.

``GridLocator`` is built once (per poll, per simulator run) from the units in the database, optionally
limited to an area scope, and then answers point-in-grid questions through an STRtree of the grid
polygons, vectorised for batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models.places import AdminUnit
from ..scope import AreaScope
from .address import AddressMatcher


class RandomSource(Protocol):
    """Anything with ``random() -> float`` in [0, 1): ``random.Random`` or ``numpy.random.Generator``."""

    def random(self) -> float: ...


def _as_floats(values: Sequence[float | None] | NDArray[np.float64]) -> NDArray[np.float64]:
    if isinstance(values, np.ndarray):
        return values.astype(float)
    return np.array([np.nan if v is None else v for v in values], dtype=float)


class GridLocator:
    """Point-in-grid and name lookups over the units of the database (or of one area scope)."""

    def __init__(self, session: Session, scope: AreaScope | None = None) -> None:
        query = select(AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.geometry)
        if scope is not None:
            query = query.where(scope.clause(AdminUnit))
        rows = session.execute(query.order_by(AdminUnit.code)).all()
        self._wkb: dict[str, bytes | None] = {code: geometry for code, _n, _l, geometry in rows}
        self._levels: dict[str, str] = {code: level for code, _n, level, _g in rows}
        grids = [(code, geometry) for code, _n, level, geometry in rows if level == "grid" and geometry]
        self._grid_codes: NDArray[np.str_] = np.array([code for code, _ in grids], dtype=str)
        self._grid_geoms = shapely.from_wkb([geometry for _, geometry in grids])
        self._tree = shapely.STRtree(self._grid_geoms)
        self._cache: dict[str, BaseGeometry] = {}
        self._matcher = AddressMatcher((code, name, level) for code, name, level, _g in rows)

    def __len__(self) -> int:
        """The number of grids the locator can place points in."""
        return len(self._grid_codes)

    def locate(self, lon: float | None, lat: float | None) -> str | None:
        """The code of the grid containing the point (on a shared edge: one of them), or None."""
        return self.locate_many([lon], [lat])[0]

    def locate_many(
        self,
        lons: Sequence[float | None] | NDArray[np.float64],
        lats: Sequence[float | None] | NDArray[np.float64],
    ) -> list[str | None]:
        """``locate`` for many points at once (one STRtree query); None/NaN coordinates give None."""
        x, y = _as_floats(lons), _as_floats(lats)
        if x.shape != y.shape:
            raise ValueError("lons and lats differ in length")
        result: list[str | None] = [None] * len(x)
        if len(x) == 0 or len(self._grid_codes) == 0:
            return result
        points = shapely.points(x, y)
        points[~(np.isfinite(x) & np.isfinite(y))] = None
        point_index, tree_index = self._tree.query(points, predicate="intersects")
        # several hits only on shared edges: keep the first (the smallest grid code)
        order = np.lexsort((tree_index, point_index))
        point_index, tree_index = point_index[order], tree_index[order]
        first = np.unique(point_index, return_index=True)[1]
        for p, t in zip(point_index[first], tree_index[first], strict=True):
            result[int(p)] = str(self._grid_codes[t])
        return result

    def unit_exists(self, code: str | None) -> bool:
        """Whether a unit of any level with this code is known (within the scope)."""
        return bool(code) and code in self._levels

    def level_of(self, code: str) -> str | None:
        return self._levels.get(code)

    def by_address(self, text: str | None) -> str | None:
        """The code of the most specific community or street whose name appears in ``text``."""
        return self._matcher.find(text)

    def geometry(self, code: str) -> BaseGeometry | None:
        """A unit's polygon (decoded on first use)."""
        if code not in self._cache:
            wkb = self._wkb.get(code)
            if not wkb:
                return None
            self._cache[code] = shapely.from_wkb(wkb)
        return self._cache[code]

    def random_point_in(self, code: str, rng: RandomSource) -> tuple[float, float]:
        """A uniformly random point inside unit ``code`` (KeyError when unknown)."""
        geom = self.geometry(code)
        if geom is None or geom.is_empty:
            raise KeyError(code)
        shapely.prepare(geom)
        min_x, min_y, max_x, max_y = geom.bounds
        for _ in range(1000):
            x = min_x + (max_x - min_x) * rng.random()
            y = min_y + (max_y - min_y) * rng.random()
            if shapely.contains_xy(geom, x, y):
                return float(x), float(y)
        point = geom.point_on_surface()
        return float(point.x), float(point.y)
