"""Class cases (类案): the same category recurring in one place within N days, as one hotspot item.

Two kinds of place, both over the cases received in ``(now - days, now]``:

1. the same grid: grid + category groups with at least ``min_count`` cases, found by ``GROUP BY`` in SQL;
2. the same few hundred metres across grid boundaries: of the remaining cases of the categories that
   reach ``min_count`` at all (a second small ``GROUP BY``), seed clustering in Python: cases are taken
   as seeds in order of how many same-category neighbours they have within ``radius_m``; a seed takes
   its still-unclaimed neighbours when they are at least ``min_count``. Clusters never chain (every
   member is within ``radius_m`` of its seed), and the work is linear in the candidates.

Trend compares the newer half of the window with the older half.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import AdminUnit, Case
from ..names import place_name
from ..scope import AreaScope
from .common import CASE_ROW_COLUMNS, CaseRow, case_rows, category_index, require_aware, unit_names

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQUATOR = 111_320.0


@dataclass(frozen=True)
class Hotspot:
    category_code: str
    category_name: str
    kind: str  # grid | proximity
    place_code: str  # the grid, or the smallest unit holding every case
    place_name: str
    count: int
    recent: int  # in the newer half of the window
    previous: int  # in the older half
    trend: str  # up | down | flat
    lon: float | None
    lat: float | None
    case_ids: tuple[int, ...]
    last_at: datetime

    @property
    def key(self) -> str:
        """A name for the hotspot in a URL that still finds it after more cases join: a grid hotspot by
        its grid and category; a hotspot of nearby cases by its category, place and earliest case (the
        cases that join later are near it). ``~`` separates the parts (category codes hold dots)."""
        if self.kind == "grid":
            return f"grid~{self.category_code}~{self.place_code}"
        return f"near~{self.category_code}~{self.place_code or '-'}~{self.case_ids[0]}"


@dataclass(frozen=True)
class _Pt:
    id: int
    category: str
    grid: str | None
    street: str | None
    community: str | None
    lon: float | None
    lat: float | None
    at: datetime


def _metres(a: _Pt, b: _Pt) -> float:
    assert a.lon is not None and a.lat is not None and b.lon is not None and b.lat is not None
    dy = (a.lat - b.lat) * M_PER_DEG_LAT
    dx = (a.lon - b.lon) * M_PER_DEG_LON_EQUATOR * math.cos(math.radians((a.lat + b.lat) / 2))
    return math.hypot(dx, dy)


def _common_place(points: list[_Pt]) -> str:
    for attr in ("grid", "community", "street"):
        codes = {getattr(p, attr) for p in points}
        if len(codes) == 1 and None not in codes:
            return str(codes.pop())
    return ""


def _proximity_clusters(points: list[_Pt], radius_m: float, min_count: int) -> list[list[_Pt]]:
    placed = [p for p in points if p.lon is not None and p.lat is not None]
    if len(placed) < min_count:
        return []
    lat0 = sum(p.lat for p in placed if p.lat is not None) / len(placed)
    cell_lon = radius_m / (M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0)))
    cell_lat = radius_m / M_PER_DEG_LAT
    cells: dict[tuple[int, int], list[_Pt]] = defaultdict(list)

    def key(p: _Pt) -> tuple[int, int]:
        assert p.lon is not None and p.lat is not None
        return int(math.floor(p.lon / cell_lon)), int(math.floor(p.lat / cell_lat))

    for p in placed:
        cells[key(p)].append(p)
    neighbours: dict[int, list[_Pt]] = {}
    for p in placed:
        kx, ky = key(p)
        near = [
            q
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            for q in cells.get((kx + dx, ky + dy), ())
            if _metres(p, q) <= radius_m
        ]
        neighbours[p.id] = near  # includes p itself
    claimed: set[int] = set()
    clusters: list[list[_Pt]] = []
    for p in sorted(placed, key=lambda p: (-len(neighbours[p.id]), p.id)):
        if p.id in claimed or len(neighbours[p.id]) < min_count:
            continue
        free = [q for q in neighbours[p.id] if q.id not in claimed]
        if len(free) >= min_count:
            clusters.append(free)
            claimed.update(q.id for q in free)
    return clusters


def hotspots(
    session: Session,
    scope: AreaScope,
    now: datetime,
    days: float = 30,  # a report passes its period's exact length
    radius_m: float = 300.0,
    min_count: int = 3,
) -> list[Hotspot]:
    """Hotspots of the scope in the last ``days`` days, largest first."""
    require_aware(now)
    since = now - timedelta(days=days)
    half = now - timedelta(days=days) / 2
    window = (
        scope.clause(Case),
        Case.requested_at > since,
        Case.requested_at <= now,
        Case.category_code.is_not(None),
    )
    categories = [
        c
        for (c,) in session.execute(
            select(Case.category_code)
            .where(*window)
            .group_by(Case.category_code)
            .having(func.count() >= min_count)
        )
    ]
    if not categories:
        return []
    grid_groups = set(
        session.execute(
            select(Case.grid_code, Case.category_code)
            .where(*window, Case.grid_code.is_not(None), Case.category_code.in_(categories))
            .group_by(Case.grid_code, Case.category_code)
            .having(func.count() >= min_count)
        ).all()
    )
    rows = session.execute(
        select(
            Case.id,
            Case.category_code,
            Case.grid_code,
            Case.street_code,
            Case.community_code,
            Case.lon,
            Case.lat,
            Case.requested_at,
        ).where(*window, Case.category_code.in_(categories))
    ).all()
    points = [_Pt(*r) for r in rows]  # type: ignore[arg-type]
    groups: list[tuple[str, list[_Pt]]] = []
    by_grid: dict[tuple[str | None, str], list[_Pt]] = defaultdict(list)
    rest: dict[str, list[_Pt]] = defaultdict(list)
    for p in points:
        if (p.grid, p.category) in grid_groups:
            by_grid[(p.grid, p.category)].append(p)
        else:
            rest[p.category].append(p)
    groups.extend(("grid", pts) for pts in by_grid.values())
    for pts in rest.values():
        groups.extend(("proximity", c) for c in _proximity_clusters(pts, radius_m, min_count))
    return _items(session, groups, half)


def _items(session: Session, groups: list[tuple[str, list[_Pt]]], half: datetime) -> list[Hotspot]:
    cats = category_index(session)
    places = {_common_place(pts) for _, pts in groups}
    parents = {p[:12] for p in places if p and len(p) == 15}  # a grid is named with its community
    names = unit_names(session, places | parents)
    grid_codes = {p.grid for _, pts in groups for p in pts if p.grid and p.lon is None}
    labels: dict[str, tuple[Any, Any]] = {}
    if grid_codes:
        labels = {
            r.code: (r.label_lon, r.label_lat)
            for r in session.execute(
                select(AdminUnit.code, AdminUnit.label_lon, AdminUnit.label_lat).where(
                    AdminUnit.code.in_(sorted(grid_codes))
                )
            )
        }
    out = []
    for kind, pts in groups:
        coords = [(p.lon, p.lat) for p in pts if p.lon is not None and p.lat is not None]
        coords += [labels[p.grid] for p in pts if p.lon is None and p.grid in labels]
        coords = [c for c in coords if c[0] is not None and c[1] is not None]
        lon = sum(c[0] for c in coords) / len(coords) if coords else None
        lat = sum(c[1] for c in coords) / len(coords) if coords else None
        recent = sum(1 for p in pts if p.at > half)
        previous = len(pts) - recent
        trend = "up" if recent > previous else "down" if recent < previous else "flat"
        place = _common_place(pts)
        cat = cats.get(pts[0].category)
        out.append(
            Hotspot(
                category_code=pts[0].category,
                category_name=cat.name if cat else pts[0].category,
                kind=kind,
                place_code=place,
                place_name=place_name(place, names),
                count=len(pts),
                recent=recent,
                previous=previous,
                trend=trend,
                lon=lon,
                lat=lat,
                case_ids=tuple(sorted(p.id for p in pts)),
                last_at=max(p.at for p in pts),
            )
        )
    out.sort(key=lambda h: (-h.count, -h.recent, h.category_code, h.place_code))
    return out


KEY_MAX = 120


def find_hotspot(
    session: Session,
    scope: AreaScope,
    now: datetime,
    key: str,
    days: int = 30,
    radius_m: float = 300.0,
    min_count: int = 3,
) -> Hotspot | None:
    """The hotspot named ``key`` (:attr:`Hotspot.key`) as it stands now in ``scope``, or None: a key
    from another scope, a malformed one, or a hotspot that no longer has enough cases in the window."""
    parts = key.split("~") if isinstance(key, str) and len(key) <= KEY_MAX else []
    if len(parts) not in (3, 4) or parts[0] not in ("grid", "near") or not parts[1]:
        return None
    kind, category, place = parts[0], parts[1], parts[2]
    if (kind == "grid") != (len(parts) == 3) or (place != "-" and not place.isdecimal()):
        return None
    if kind == "grid" and (len(place) != 15 or not scope.contains(place)):
        return None
    for spot in hotspots(session, scope, now, days, radius_m, min_count):
        if spot.kind == "grid" and kind == "grid":
            if (spot.category_code, spot.place_code) == (category, place):
                return spot
        elif spot.kind == "proximity" and kind == "near" and spot.category_code == category:
            seed = parts[3]
            if (spot.place_code or "-") == place and seed.isdecimal() and int(seed) in spot.case_ids:
                return spot
    return None


def hotspot_cases(session: Session, scope: AreaScope, spot: Hotspot, now: datetime) -> list[CaseRow]:
    """The cases behind a hotspot (in scope), newest first, as the duty table's rows."""
    require_aware(now)
    query = (
        select(*CASE_ROW_COLUMNS)
        .where(Case.id.in_(list(spot.case_ids)), scope.clause(Case))
        .order_by(Case.requested_at.desc(), Case.id.desc())
    )
    return case_rows(session, session.execute(query).all(), now)
