"""GridLocator: point in grid (one and many), unit lookups, addresses, random points."""

from __future__ import annotations

import random

import numpy as np
import pytest
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from data import migrate
from data.db import make_engine, make_sessionmaker, transaction
from data.geo.address import AddressMatcher, name_forms
from data.geo.generate import generate
from data.geo.placement import GridLocator
from data.models import AdminUnit
from data.scope import AreaScope

GRID = "500151001001003"


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('geo') / 'gridcc.db'}")
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        generate(session, ["500151"], grids_per_community=3)
    return factory


@pytest.fixture(scope="module")
def locator(factory: sessionmaker[Session]) -> GridLocator:
    with factory() as session:
        return GridLocator(session)


def _geometry(factory: sessionmaker[Session], code: str) -> shapely.Geometry:
    with factory() as session:
        return shapely.from_wkb(session.scalar(select(AdminUnit.geometry).where(AdminUnit.code == code)))


def test_point_inside_a_grid_is_found(factory: sessionmaker[Session], locator: GridLocator) -> None:
    point = _geometry(factory, GRID).point_on_surface()
    assert locator.locate(point.x, point.y) == GRID
    assert len(locator) == 333 * 3


def test_points_outside_the_district_or_missing_are_none(locator: GridLocator) -> None:
    assert locator.locate(116.39, 39.91) is None  # Beijing
    assert locator.locate(None, None) is None
    assert locator.locate_many([float("nan"), 0.0], [29.8, 0.0]) == [None, None]
    assert locator.locate_many([], []) == []


def test_locate_many_agrees_with_a_naive_scan(factory: sessionmaker[Session], locator: GridLocator) -> None:
    with factory() as session:
        rows = session.execute(
            select(AdminUnit.code, AdminUnit.geometry).where(AdminUnit.level == "grid")
        ).all()
    grids = [(code, shapely.from_wkb(wkb)) for code, wkb in rows]
    district = _geometry(factory, "500151")
    min_x, min_y, max_x, max_y = district.bounds
    rng = np.random.default_rng(1)
    lons = rng.uniform(min_x - 0.05, max_x + 0.05, 300)
    lats = rng.uniform(min_y - 0.05, max_y + 0.05, 300)
    found = locator.locate_many(lons, lats)
    assert any(f is None for f in found) and sum(f is not None for f in found) > 50
    for lon, lat, code in zip(lons, lats, found, strict=True):
        point = shapely.Point(lon, lat)
        expected = [c for c, g in grids if g.covers(point)]
        assert (code is None) == (not expected)
        if code is not None:
            assert code in expected


def test_random_point_in_any_unit_lies_inside_it(
    factory: sessionmaker[Session], locator: GridLocator
) -> None:
    rng = random.Random(5)
    for code in (GRID, "500151001001", "500151001"):
        lon, lat = locator.random_point_in(code, rng)
        assert _geometry(factory, code).covers(shapely.Point(lon, lat))
        assert (locator.locate(lon, lat) or "").startswith(code)
    lon, lat = locator.random_point_in(GRID, np.random.default_rng(0))
    assert locator.locate(lon, lat) == GRID
    with pytest.raises(KeyError):
        locator.random_point_in("500151999999", rng)


def test_unit_exists(locator: GridLocator) -> None:
    assert locator.unit_exists("500151")
    assert locator.unit_exists("500151001")
    assert locator.unit_exists(GRID)
    assert not locator.unit_exists("500151001001999")
    assert not locator.unit_exists("")
    assert not locator.unit_exists(None)


def test_a_scoped_locator_sees_only_its_area(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        street = GridLocator(session, AreaScope.of("500151001"))
    inside = street.random_point_in(GRID, random.Random(1))
    assert street.locate(*inside) == GRID
    assert not street.unit_exists("500151002")
    assert all(code is not None and code.startswith("500151001") for code in street.locate_many(*zip(inside)))


def test_by_address_finds_communities_and_streets(locator: GridLocator) -> None:
    # 500151001001 东方社区居民委员会 in 500151001 巴川街道; 500151105 安居镇
    assert locator.by_address("重庆市铜梁区巴川街道东方社区居民委员会旁") == "500151001001"
    assert locator.by_address("铜梁区东方社区中兴路12号") == "500151001001"
    assert locator.by_address("巴川街道东方小区3栋") == "500151001001"  # bare core, street named
    assert locator.by_address("铜梁区安居镇滨江路8号") == "500151105"
    assert locator.by_address("铜梁区安居某路") == "500151105"  # bare core, district named
    assert locator.by_address("北京市朝阳区建国路") is None
    assert locator.by_address("") is None
    assert locator.by_address(None) is None


def test_a_bare_name_inside_a_longer_one_does_not_win() -> None:
    matcher = AddressMatcher(
        [
            ("500101", "万州区", "district"),
            ("500101017", "太白街道", "street"),
            ("500101017200", "太白村村民委员会", "community"),
            ("500101001", "高笋塘街道", "street"),
            ("500101001005", "中兴社区居民委员会", "community"),
        ]
    )
    assert matcher.find("万州区太白街道某路") == "500101017"
    assert matcher.find("万州区太白村5组") == "500101017200"
    assert matcher.find("中兴路12号") is None  # a road, not 中兴社区: nothing confirms it
    assert matcher.find("高笋塘中兴路") == "500101001005"


def test_name_forms() -> None:
    assert name_forms("太白村村民委员会", "community") == {
        "太白村村民委员会": True,
        "太白村": True,
        "太白": False,
    }
    assert name_forms("东方广场社区居民委员会", "community") == {
        "东方广场社区居民委员会": True,
        "东方广场": False,
        "东方广场社区": True,
    }
    assert name_forms("高笋塘街道", "street") == {"高笋塘街道": True, "高笋塘": False}
    assert name_forms("龙镇", "street") == {"龙镇": True}
