"""The generator: real names and codes, synthetic polygons that tile their parents, staff, determinism."""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import pytest
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from data import migrate
from data.db import make_engine, make_sessionmaker, transaction
from data.geo.generate import ensure_default, generate
from data.geo.reference import Reference
from data.geo.tessellate import split
from data.models import AdminUnit, GridStaff

TOLERANCE = 1e-9  # deg²
DISTRICT = "500151"


@pytest.fixture(scope="module")
def tongliang(tmp_path_factory: pytest.TempPathFactory) -> sessionmaker[Session]:
    """铜梁区 generated once into a SQLite file for the read-only checks of this module."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('geo') / 'gridcc.db'}")
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        generate(session, [DISTRICT])
    return factory


def _units(factory: sessionmaker[Session], level: str) -> list[AdminUnit]:
    with factory() as session:
        return list(
            session.scalars(select(AdminUnit).where(AdminUnit.level == level).order_by(AdminUnit.code))
        )


def test_real_streets_and_communities(tongliang: sessionmaker[Session]) -> None:
    ref = Reference.read()
    streets = _units(tongliang, "street")
    communities = _units(tongliang, "community")
    assert len(streets) == 28
    assert len(communities) == 333
    real_streets = ref.streets[ref.streets["district_code"] == DISTRICT]
    real_communities = ref.communities[ref.communities["district_code"] == DISTRICT]
    assert {(u.code, u.name) for u in streets} == set(
        zip(real_streets["code"], real_streets["name"], strict=True)
    )
    assert {(u.code, u.name) for u in communities} == set(
        zip(real_communities["code"], real_communities["name"], strict=True)
    )
    assert all(u.parent_code == u.code[:9] for u in communities)
    assert all(u.synthetic for u in streets + communities)
    (district,) = _units(tongliang, "district")
    assert (district.name, district.synthetic, district.parent_code) == ("铜梁区", False, None)


def test_about_seven_grids_per_community(tongliang: sessionmaker[Session]) -> None:
    grids = _units(tongliang, "grid")
    per_community: dict[str, int] = defaultdict(int)
    for grid in grids:
        assert re.fullmatch(r"\d{15}", grid.code)
        assert grid.parent_code == grid.code[:12]
        assert re.fullmatch(r"第\d+网格", grid.name)
        per_community[grid.parent_code] += 1
    assert len(per_community) == 333
    assert set(per_community.values()) == {7}
    assert "500151001001001" in {g.code for g in grids}


def test_units_have_bbox_label_and_place(tongliang: sessionmaker[Session]) -> None:
    for level in ("district", "street", "community", "grid"):
        for unit in _units(tongliang, level):
            geom = shapely.from_wkb(unit.geometry)
            assert geom.geom_type in ("Polygon", "MultiPolygon") and geom.is_valid and geom.area > 0
            assert unit.min_lon is not None and unit.min_lat is not None
            assert unit.max_lon is not None and unit.max_lat is not None
            assert (unit.min_lon, unit.min_lat, unit.max_lon, unit.max_lat) == pytest.approx(geom.bounds)
            assert geom.covers(shapely.Point(unit.label_lon, unit.label_lat))
            assert unit.district_code == DISTRICT
            if level in ("community", "grid"):
                assert unit.street_code == unit.code[:9] and unit.community_code == unit.code[:12]
            assert unit.grid_code == (unit.code if level == "grid" else None)


@pytest.mark.parametrize(
    ("parent_level", "child_level"), [("district", "street"), ("street", "community"), ("community", "grid")]
)
def test_children_tile_their_parent(
    tongliang: sessionmaker[Session], parent_level: str, child_level: str
) -> None:
    parents = {u.code: shapely.from_wkb(u.geometry) for u in _units(tongliang, parent_level)}
    children: dict[str, list[shapely.Geometry]] = defaultdict(list)
    for unit in _units(tongliang, child_level):
        child = shapely.from_wkb(unit.geometry)
        assert unit.parent_code in parents
        parent = parents[unit.parent_code]
        assert child.difference(parent).area < TOLERANCE, f"{unit.code} sticks out of its parent"
        children[unit.parent_code].append(child)
    assert set(children) == set(parents)
    for code, parent in parents.items():
        cells = children[code]
        union = shapely.union_all(cells)
        assert union.symmetric_difference(parent).area < TOLERANCE, f"gaps in {code}"
        overlap = sum(c.area for c in cells) - union.area
        assert abs(overlap) < TOLERANCE, f"children of {code} overlap by {overlap}"
        tree = shapely.STRtree(cells)
        left, right = tree.query(cells, predicate="intersects")
        for i, j in zip(left, right, strict=True):
            if i < j:
                assert cells[i].intersection(cells[j]).area < TOLERANCE


def test_cells_are_reasonably_even(tongliang: sessionmaker[Session]) -> None:
    areas = np.array([shapely.from_wkb(u.geometry).area for u in _units(tongliang, "street")])
    assert areas.min() > 0.2 * areas.mean()
    assert areas.max() < 4 * areas.mean()


def test_grid_staff(tongliang: sessionmaker[Session]) -> None:
    with tongliang() as session:
        staff = list(session.scalars(select(GridStaff).where(GridStaff.unit_code == "500151001001001")))
        total = session.scalar(select(func.count()).select_from(GridStaff))
    assert total == 3 * 2331
    roles = {s.role: s for s in staff}
    assert set(roles) == {"grid_worker", "grid_chief", "party_branch"}
    for role in ("grid_worker", "grid_chief"):
        assert re.fullmatch(r"1[3-9]\d{9}", roles[role].phone or "")
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", roles[role].name)
    assert roles["party_branch"].name == "东方社区第1网格党支部"
    assert all(
        s.synthetic and s.grid_code == "500151001001001" and s.district_code == DISTRICT for s in staff
    )


def test_generation_is_deterministic_and_regeneration_replaces(
    session_factory: sessionmaker[Session],
) -> None:
    """On every backend: the same seed gives the same map; regenerating replaces, a new seed differs."""

    def snapshot() -> dict[str, bytes | None]:
        with session_factory() as session:
            rows = session.execute(
                select(AdminUnit.code, AdminUnit.geometry).where(AdminUnit.level != "grid")
            )
            return {code: geometry for code, geometry in rows}

    with transaction(session_factory) as session:
        stats = generate(session, [DISTRICT], grids_per_community=2, seed=3)
    assert (stats.districts, stats.streets, stats.communities, stats.grids) == (1, 28, 333, 666)
    first = snapshot()
    with transaction(session_factory) as session:
        generate(session, [DISTRICT], grids_per_community=2, seed=3)
    assert snapshot() == first
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AdminUnit)) == 1 + 28 + 333 + 666
        assert session.scalar(select(func.count()).select_from(GridStaff)) == 3 * 666
    with transaction(session_factory) as session:
        generate(session, [DISTRICT], grids_per_community=2, seed=4)
    other = snapshot()
    assert other.keys() == first.keys()
    assert other[DISTRICT] == first[DISTRICT]
    assert other["500151001"] != first["500151001"]


def test_ensure_default_generates_only_into_an_empty_database(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        assert ensure_default(session, "500153") is True
    with transaction(session_factory) as session:
        assert ensure_default(session, "500153") is False
        assert session.scalar(select(func.count()).where(AdminUnit.level == "district")) == 1


def test_unknown_district_is_refused(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session, pytest.raises(ValueError, match="999999"):
        generate(session, ["999999"])


def test_split_handles_multipolygons_and_slivers() -> None:
    rng = np.random.default_rng(0)
    two_islands = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(5, 0, 5.5, 0.5)])
    sliver = shapely.Polygon([(0, 0), (1, 0), (1, 1e-6)])
    tiny = shapely.box(106.0, 29.0, 106.0 + 1e-7, 29.0 + 1e-7)
    for parent, n in ((two_islands, 6), (sliver, 5), (tiny, 7)):
        cells = split(parent, n, rng)
        assert len(cells) == n
        assert all(c.area > 0 for c in cells)
        union = shapely.union_all(cells)
        assert union.symmetric_difference(parent).area <= 1e-9 * max(parent.area, 1e-12) + 1e-20
        assert sum(c.area for c in cells) == pytest.approx(parent.area, rel=1e-6)


def test_split_is_deterministic() -> None:
    parent = shapely.Polygon([(0, 0), (3, 0), (3, 1), (1, 1), (1, 3), (0, 3)])
    a = split(parent, 9, np.random.default_rng(7))
    b = split(parent, 9, np.random.default_rng(7))
    assert [c.wkb for c in a] == [c.wkb for c in b]


def test_reference_files_read_as_strings() -> None:
    ref = Reference.read()
    assert len(ref.districts) == 38 and ref.districts.crs.to_epsg() == 4326
    assert len(ref.streets) == 1031 and len(ref.communities) == 11270
    assert ref.communities["code"].str.fullmatch(r"\d{12}").all()
