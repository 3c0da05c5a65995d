"""Shared helpers of the simulator tests: a small hand-made hierarchy of the real district 500151
(two real streets, four real communities, eight grids; box geometries) in the real test database,
and a started SimulatorSet on free ports with its clock in the test's hands."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import box
from sqlalchemy import Engine

from data.db import make_sessionmaker, transaction
from data.models import AdminUnit
from simulators import Config, District, SimulatorSet

DISTRICT = "500151"
# (code, name, (minx, miny, maxx, maxy))
STREETS = [
    ("500151001", "巴川街道", (105.95, 29.80, 106.05, 29.90)),
    ("500151101", "土桥镇", (106.05, 29.80, 106.15, 29.90)),
]
COMMUNITIES = [
    ("500151001001", "东方社区居民委员会", (105.95, 29.80, 106.00, 29.90)),
    ("500151001002", "东城社区居民委员会", (106.00, 29.80, 106.05, 29.90)),
    ("500151101001", "桃溪社区居民委员会", (106.05, 29.80, 106.10, 29.90)),
    ("500151101201", "高桥村村民委员会", (106.10, 29.80, 106.15, 29.90)),
]
NOW = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)  # 10:00 in Chongqing: three months of history


def grids() -> list[tuple[str, str, tuple[float, float, float, float]]]:
    out = []
    for code, _name, (x0, y0, x1, y1) in COMMUNITIES:
        ym = (y0 + y1) / 2
        out.append((code + "001", "第一网格", (x0, y0, x1, ym)))
        out.append((code + "002", "第二网格", (x0, ym, x1, y1)))
    return out


def add_district(engine: Engine) -> None:
    """Insert the small hierarchy into a migrated database."""

    def unit(code: str, name: str, level: str, parent: str | None, bounds: tuple[float, ...]) -> AdminUnit:
        geom = box(*bounds)
        u = AdminUnit(
            code=code,
            name=name,
            level=level,
            parent_code=parent,
            geometry=shapely.to_wkb(geom),
            min_lon=bounds[0],
            min_lat=bounds[1],
            max_lon=bounds[2],
            max_lat=bounds[3],
            synthetic=True,
        )
        u.set_place(code)
        return u

    with transaction(make_sessionmaker(engine)) as session:
        session.add(unit(DISTRICT, "铜梁区", "district", None, (105.95, 29.80, 106.15, 29.90)))
        session.flush()
        for code, name, b in STREETS:
            session.add(unit(code, name, "street", DISTRICT, b))
        session.flush()
        for code, name, b in COMMUNITIES:
            session.add(unit(code, name, "community", code[:9], b))
        session.flush()
        for code, name, b in grids():
            session.add(unit(code, name, "grid", code[:12], b))


class Clock:
    """The simulators' time, moved by the test."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Env:
    """What a simulator test works with: the running simulators, their clock, the district."""

    sims: SimulatorSet
    clock: Clock
    district: District
    state: Path


def start_sims(district: District, state: Path, clock: Clock, **kw: Any) -> SimulatorSet:
    """Every simulator on free ports, the clock thread off (the test moves time with ``step``)."""
    kw.setdefault("seed", 7)
    config = Config(state_path=state, port_base=0, live=False, slow_seconds=3.0, **kw)
    return SimulatorSet(district, config, clock=clock).start()


def environment(engine: Engine, tmp_path: Path) -> Iterator[Env]:
    """Body of each test module's ``env`` fixture: hierarchy in the database, simulators started."""
    add_district(engine)
    district = District.load(engine, DISTRICT)
    clock = Clock()
    state = tmp_path / "simulators.sqlite"
    sims = start_sims(district, state, clock)
    try:
        yield Env(sims, clock, district, state)
    finally:
        sims.stop()


def get(
    url: str, headers: dict[str, str] | None = None, timeout: float = 10
) -> tuple[int, dict[str, str], bytes]:
    """GET with the standard library: (status, headers, body); HTTP errors are answers, not raised."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:  # noqa: S310 (localhost test server)
            return res.status, dict(res.headers), res.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def post(url: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:  # noqa: S310
            return res.status, res.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def get_json(url: str) -> object:
    status, _h, body = get(url)
    assert status == 200, (status, body[:200])
    return json.loads(body)


def test_hand_made_district_loads(engine: Engine) -> None:
    add_district(engine)
    district = District.load(engine, DISTRICT)
    assert district.name == "铜梁区"
    assert [s.name for s in district.streets] == ["巴川街道", "土桥镇"]
    assert len(district.grids) == 8
    assert district.leaf_at(105.96, 29.81) is not None
    assert district.leaf_at(105.96, 29.81).code == "500151001001001"  # type: ignore[union-attr]
