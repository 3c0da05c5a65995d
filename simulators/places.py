"""The district the simulators report from: its real streets, communities and grids, read once from
the ``admin_unit`` table, with random points inside a unit and addresses made from the real names."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from data.models import AdminUnit
from data.names import community_short_name as short_name

from . import texts


class NoDistrict(RuntimeError):
    """The database holds no units of the district (run ``gridcc geo generate`` first)."""


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    level: str
    parent_code: str | None
    geometry: BaseGeometry


@dataclass
class District:
    """A district's hierarchy in memory. Every lookup and sample is local; no database access."""

    unit: Unit
    streets: list[Unit]
    communities: list[Unit]
    grids: list[Unit]
    by_code: dict[str, Unit] = field(default_factory=dict)
    _tree: shapely.STRtree | None = None

    def __post_init__(self) -> None:
        for u in [self.unit, *self.streets, *self.communities, *self.grids]:
            self.by_code[u.code] = u
        self._leaves = self.grids or self.communities or self.streets
        self._tree = shapely.STRtree([u.geometry for u in self._leaves]) if self._leaves else None

    @property
    def code(self) -> str:
        return self.unit.code

    @property
    def name(self) -> str:
        return self.unit.name

    @classmethod
    def load(cls, engine: Engine, district_code: str) -> District:
        """Read the district and every unit below it; raise :class:`NoDistrict` when it is absent."""
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    select(
                        AdminUnit.code,
                        AdminUnit.name,
                        AdminUnit.level,
                        AdminUnit.parent_code,
                        AdminUnit.geometry,
                    ).where(AdminUnit.code.like(f"{district_code}%"))
                ).all()
        except SQLAlchemyError as exc:
            raise NoDistrict(f"cannot read admin_unit: {exc.__class__.__name__}") from exc
        units = [
            Unit(code, name, level, parent, shapely.from_wkb(geom))
            for code, name, level, parent, geom in rows
            if geom is not None
        ]
        district = [u for u in units if u.level == "district" and u.code == district_code]
        streets = sorted((u for u in units if u.level == "street"), key=lambda u: u.code)
        if not district or not streets:
            raise NoDistrict(f"district {district_code} has no units in the database")
        return cls(
            district[0],
            streets,
            sorted((u for u in units if u.level == "community"), key=lambda u: u.code),
            sorted((u for u in units if u.level == "grid"), key=lambda u: u.code),
        )

    # sampling

    def random_leaf(self, rng: random.Random) -> Unit:
        return rng.choice(self._leaves)

    def random_point_in(self, code: str, rng: random.Random) -> tuple[float, float]:
        """A uniformly random (lon, lat) inside the unit (rejection sampling in its bbox)."""
        geom = self.by_code[code].geometry
        minx, miny, maxx, maxy = geom.bounds
        shapely.prepare(geom)
        for _ in range(200):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(geom, x, y):
                return round(x, 6), round(y, 6)
        p = geom.representative_point()
        return round(p.x, 6), round(p.y, 6)

    def leaf_at(self, lon: float, lat: float) -> Unit | None:
        """The grid (or the most specific unit level there is) containing the point."""
        if self._tree is None:
            return None
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        return self._leaves[int(min(hits))] if len(hits) else None

    def contains(self, lon: float, lat: float) -> bool:
        return bool(shapely.contains_xy(self.unit.geometry, lon, lat))

    def street_of(self, code: str) -> Unit:
        return self.by_code[code[:9]]

    def community_of(self, code: str) -> Unit | None:
        return self.by_code.get(code[:12])

    def address(self, code: str, rng: random.Random, with_community: bool = True) -> str:
        """``铜梁区巴川街道玉皇社区龙城大道12号`` from the real names of the unit's parents."""
        street = self.street_of(code)
        community = self.community_of(code)
        place = street.name + (short_name(community.name) if community and with_community else "")
        return f"{self.name}{place}{texts.road_address(rng)}"
