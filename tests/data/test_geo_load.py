"""``gridcc geo load``: per-row report, all or nothing, reprojection and repair."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from data.db import transaction
from data.geo.generate import generate
from data.geo.load import load_file
from data.models import AdminUnit
from gridcc.cli import main

COMMUNITY = "500151001001"


@pytest.fixture
def loaded(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """铜梁区 with one grid per community: the parents the files below refer to."""
    with transaction(session_factory) as session:
        generate(session, ["500151"], grids_per_community=1)
    return session_factory


def _community(factory: sessionmaker[Session]) -> shapely.Geometry:
    with factory() as session:
        return shapely.from_wkb(session.scalar(select(AdminUnit.geometry).where(AdminUnit.code == COMMUNITY)))


def _count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(AdminUnit)) or 0)


def _load(
    database_url: str, tmp_path: Path, path: Path, level: str = "grid", lang: str = "en"
) -> tuple[int, str]:
    """``gridcc geo load`` with its report in ``lang`` (GRIDCC_LANGUAGE)."""
    data_dir = str(tmp_path / "var")
    env = {"GRIDCC_DATABASE_URL": database_url, "GRIDCC_DATA_DIR": data_dir, "GRIDCC_LANGUAGE": lang}
    result = CliRunner().invoke(main, ["geo", "load", str(path), "--level", level], env=env)
    return result.exit_code, result.output


def _square(centre: shapely.Point, half: float = 0.0005) -> shapely.Polygon:
    return shapely.box(centre.x - half, centre.y - half, centre.x + half, centre.y + half)


def test_a_file_with_bad_rows_is_reported_row_by_row_and_nothing_loads(
    loaded: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    inside = _community(loaded).point_on_surface()
    x, y = inside.x, inside.y
    bowtie = shapely.Polygon([(x, y), (x + 0.001, y + 0.001), (x + 0.001, y), (x, y + 0.001), (x, y)])
    assert not bowtie.is_valid
    rows = [
        ("500151001001901", "好网格", _square(inside)),
        ("500151001001902", "自相交网格", bowtie),
        ("500151999999901", "无上级网格", _square(inside)),
        ("500151001001903", "米制坐标网格", shapely.box(11_800_000, 3_480_000, 11_801_000, 3_481_000)),
        ("500151001001901", "重复网格", _square(inside)),
        ("50015100100190", "短编码网格", _square(inside)),
        ("500151001001904", "点网格", inside),
    ]
    path = tmp_path / "bad.geojson"
    frame = gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs="EPSG:4326",
    )
    frame.to_file(path)
    before = _count(loaded)

    status, output = _load(database_url, tmp_path, path)

    assert status == 1, output
    lines = output.splitlines()

    def line(row: int) -> str:
        (found,) = [text for text in lines if f"row {row} " in text]
        return found

    assert "WARNING" in line(2) and "repaired" in line(2) and "Self-intersection" in line(2)
    assert "ERROR" in line(3) and "parent 500151999999 is neither in the database nor in the file" in line(3)
    assert "ERROR" in line(4) and "not longitude/latitude" in line(4)
    assert "ERROR" in line(5) and "duplicate code" in line(5)
    assert "ERROR" in line(6) and "15 digits" in line(6)
    assert "ERROR" in line(7) and "not a polygon" in line(7)
    assert not any("row 1 " in text for text in lines)
    assert "5 error(s) in 7 rows; nothing loaded" in output
    assert _count(loaded) == before

    with transaction(loaded) as session:
        report = load_file(session, path, "grid")
    assert sorted((i.row, i.reason) for i in report.errors) == [
        (3, "unknown_parent"),
        (4, "not_lon_lat"),
        (5, "duplicate_code"),
        (6, "bad_code"),
        (7, "not_polygon"),
    ]
    assert [(i.row, i.key, i.reason) for i in report.warnings] == [(2, "500151001001902", "repaired")]
    (parent,) = [i for i in report.errors if i.reason == "unknown_parent"]
    assert parent.values == {"parent": "500151999999"}

    status, output = _load(database_url, tmp_path, path, lang="zh-CN")
    assert status == 1, output
    lines = output.splitlines()
    assert lines[0].startswith("警告  第 2 行（编码 500151001001902）：图形无效（Self-intersection")
    assert (
        lines[1]
        == "错误  第 3 行（编码 500151999999901）：上级单位 500151999999 既不在数据库中，也不在本文件中"
    )
    assert (
        lines[4] == "错误  第 6 行（编码 50015100100190）：网格编码应为 15 位数字，这里是「50015100100190」"
    )
    assert lines[-1] == f"{path}：7 行中有 5 处错误，未导入任何数据"
    assert _count(loaded) == before


@pytest.mark.filterwarnings("ignore:.crs. was not provided")
def test_a_file_without_a_crs_is_refused(
    loaded: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    inside = _community(loaded).point_on_surface()
    path = tmp_path / "nocrs.gpkg"
    gpd.GeoDataFrame(
        {"code": ["500151001001901"], "name": ["网格"]}, geometry=[_square(inside)], crs=None
    ).to_file(path)
    before = _count(loaded)
    status, output = _load(database_url, tmp_path, path)
    assert status == 1
    assert "file: the file declares no coordinate reference system" in output
    assert _count(loaded) == before


def test_missing_columns_are_reported(loaded: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "nocode.geojson"
    gpd.GeoDataFrame(
        {"label": ["x"]}, geometry=[shapely.box(106, 29.8, 106.1, 29.9)], crs="EPSG:4326"
    ).to_file(path)
    with transaction(loaded) as session:
        report = load_file(session, path, "street")
    assert not report.ok
    assert [(e.row, e.reason, e.values) for e in report.errors] == [
        (None, "missing_columns", {"columns": ["code", "name"]})
    ]
    assert [e.text("en") for e in report.errors] == ["file: missing required column(s): code, name"]
    assert [e.text("zh-CN") for e in report.errors] == ["文件：缺少必填列：code、name"]


def test_a_good_file_in_web_mercator_is_reprojected_and_upserted(
    loaded: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    inside = _community(loaded).point_on_surface()
    new_square = _square(inside)
    existing = "500151001001001"  # generated grid: updated, no longer synthetic
    wgs84 = gpd.GeoDataFrame(
        {
            "code": ["500151001001901", existing],
            "name": ["新网格", "改名网格"],
            "parent_code": [COMMUNITY, COMMUNITY],
        },
        geometry=[new_square, _square(inside, 0.0002)],
        crs="EPSG:4326",
    )
    path = tmp_path / "good.gpkg"
    wgs84.to_crs("EPSG:3857").to_file(path)
    before = _count(loaded)

    status, output = _load(database_url, tmp_path, path)

    assert status == 0, output
    assert "2 grid rows, 1 inserted, 1 updated" in output
    assert _count(loaded) == before + 1
    with loaded() as session:
        new = session.get(AdminUnit, "500151001001901")
        old = session.get(AdminUnit, existing)
        assert new is not None and old is not None
        assert (new.name, new.parent_code, new.synthetic, new.community_code) == (
            "新网格",
            COMMUNITY,
            False,
            COMMUNITY,
        )
        assert (old.name, old.synthetic) == ("改名网格", False)
        geom = shapely.from_wkb(new.geometry)
        assert geom.symmetric_difference(new_square).area < 1e-12
        assert new.min_lon == pytest.approx(new_square.bounds[0], abs=1e-9)

    status, output = _load(database_url, tmp_path, path, lang="zh-CN")  # again: both are updates now
    assert status == 0, output
    assert output.splitlines()[-1] == f"{path}：共 2 行网格数据，新增 0 个，更新 2 个"
