"""Generate the grid hierarchy of real districts with synthetic polygons.

For each district: the real outline; its real streets as Voronoi cells inside it; each street's real
communities as Voronoi cells inside the street; about N grids per community inside the community (see
``tessellate.split``); three synthetic ``grid_staff`` rows per grid. Each level tiles its parent.

Data quirks: a street with no communities gets no communities and no grids; a community whose street is
not listed for the district is skipped (and counted in ``GenerateStats.skipped_communities``). The
bundled files have neither, but a user's replacement files may.

Randomness is seeded per unit from ``(seed, code)``, so a district comes out the same whatever other
districts are generated with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from ..models.places import LEVELS, AdminUnit, GridStaff
from .reference import Reference
from .rows import unit_rows
from .staff import grid_staff_rows
from .tessellate import polygonal, split

ProgressCallback = Callable[[int, int, str], None]
"""Called as ``progress(done, total, label)``: communities done so far, communities in all, and the
name of the district being built. Keeps the library free of any UI."""

INSERT_CHUNK = 5000


@dataclass
class GenerateStats:
    districts: int = 0
    streets: int = 0
    communities: int = 0
    grids: int = 0
    staff: int = 0
    skipped_communities: int = 0
    seconds: float = 0.0
    district_codes: list[str] = field(default_factory=list)

    @property
    def units(self) -> int:
        return self.districts + self.streets + self.communities + self.grids

    def add(self, other: GenerateStats) -> None:
        for name in ("districts", "streets", "communities", "grids", "staff", "skipped_communities"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.district_codes.extend(other.district_codes)


def grid_code(community_code: str, number: int) -> str:
    """``500151002005`` and 1 → ``500151002005001``."""
    return f"{community_code}{number:03d}"


def grid_name(number: int) -> str:
    return f"第{number}网格"


def _rng(seed: int, code: str, stream: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, int(code), stream])


def delete_district(session: Session, district_code: str) -> None:
    """Remove every unit (and its staff) of a district, deepest level first."""
    session.execute(delete(GridStaff).where(GridStaff.district_code == district_code))
    for level in reversed(LEVELS):
        session.execute(
            delete(AdminUnit).where(AdminUnit.district_code == district_code, AdminUnit.level == level)
        )


def _insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(insert(table), rows[start : start + INSERT_CHUNK])


class _DistrictBuilder:
    """Builds the rows of one district (no database access)."""

    def __init__(self, ref: Reference, code: str, grids_per_community: int, seed: int) -> None:
        self.code = code
        self.seed = seed
        self.grids_per_community = grids_per_community
        district = ref.districts[ref.districts["code"] == code].iloc[0]
        self.name = str(district["name"])
        self.outline = polygonal(shapely.make_valid(district.geometry))
        self.streets = ref.streets[ref.streets["district_code"] == code]
        self.communities = ref.communities[ref.communities["district_code"] == code]
        self.units: dict[str, list[dict[str, Any]]] = {level: [] for level in LEVELS}
        self.staff: list[dict[str, Any]] = []
        self.stats = GenerateStats(district_codes=[code])

    def build(self, tick: Callable[[int], None]) -> None:
        self.units["district"] = unit_rows(
            [self.code], [self.name], "district", [None], [self.outline], synthetic=False
        )
        self.stats.districts = 1
        known_streets = set(self.streets["code"])
        by_street = {k: g for k, g in self.communities.groupby("street_code", sort=True)}
        self.stats.skipped_communities = int((~self.communities["street_code"].isin(known_streets)).sum())
        codes = list(self.streets["code"])
        cells = split(self.outline, len(codes), _rng(self.seed, self.code))
        self.units["street"] = unit_rows(
            codes, list(self.streets["name"]), "street", [self.code] * len(codes), cells, synthetic=True
        )
        self.stats.streets = len(codes)
        for street_code, street_cell in zip(codes, cells, strict=True):
            members = by_street.get(street_code)
            if members is None or members.empty:
                continue
            self._street(street_code, street_cell, list(members["code"]), list(members["name"]))
            tick(len(members))

    def _street(self, street_code: str, cell: Any, codes: list[str], names: list[str]) -> None:
        communities = split(cell, len(codes), _rng(self.seed, street_code))
        self.units["community"] += unit_rows(
            codes, names, "community", [street_code] * len(codes), communities, synthetic=True
        )
        self.stats.communities += len(codes)
        for code, name, community in zip(codes, names, communities, strict=True):
            grids = split(community, self.grids_per_community, _rng(self.seed, code))
            numbers = range(1, len(grids) + 1)
            gcodes = [grid_code(code, n) for n in numbers]
            gnames = [grid_name(n) for n in numbers]
            self.units["grid"] += unit_rows(
                gcodes, gnames, "grid", [code] * len(grids), grids, synthetic=True
            )
            staff_rng = _rng(self.seed, code, 1)
            for gcode, gname in zip(gcodes, gnames, strict=True):
                self.staff += grid_staff_rows(gcode, gname, name, staff_rng)
            self.stats.grids += len(grids)
            self.stats.staff += 3 * len(grids)

    def write(self, session: Session) -> None:
        delete_district(session, self.code)
        for level in LEVELS:
            _insert(session, AdminUnit, self.units[level])
        _insert(session, GridStaff, self.staff)


def _unique(codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(str(c).strip() for c in codes))


def generate(
    session: Session,
    district_codes: list[str],
    grids_per_community: int = 7,
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> GenerateStats:
    """Build (or rebuild) the hierarchy of the given districts in the caller's transaction.

    Existing units of those districts are deleted first (with their staff; alert-grid links go by the
    foreign key's cascade). Raises ValueError for a code that is not a Chongqing district.
    """
    if grids_per_community < 1 or grids_per_community > 999:
        raise ValueError("grids_per_community must be between 1 and 999")
    started = time.perf_counter()
    ref = Reference.read()
    codes = _unique(district_codes)
    unknown = sorted(set(codes) - set(ref.district_codes()))
    if unknown:
        raise ValueError(f"unknown district code(s): {', '.join(unknown)}")
    total = int(ref.communities["district_code"].isin(codes).sum())
    done = 0
    stats = GenerateStats()
    for code in codes:
        builder = _DistrictBuilder(ref, code, grids_per_community, seed)

        def tick(count: int, label: str = builder.name) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(done, total, label)

        builder.build(tick)
        builder.write(session)
        stats.add(builder.stats)
    if progress is not None:
        progress(total, total, "")
    stats.seconds = time.perf_counter() - started
    return stats


def ensure_default(session: Session, district_code: str) -> bool:
    """Generate ``district_code`` when the database holds no units at all; True when it generated."""
    count = session.scalar(select(func.count()).select_from(AdminUnit))
    if count:
        return False
    generate(session, [district_code])
    return True
