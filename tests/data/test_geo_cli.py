"""``gridcc geo generate`` and ``gridcc geo export`` through the real command, on a fresh database."""

from __future__ import annotations

import json
from pathlib import Path

import redis
import shapely
from click.testing import CliRunner

from gridcc.cli import main
from layers import versions


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    # English: the counts' words asserted below
    data_dir = str(tmp_path / "var")
    return {"GRIDCC_DATABASE_URL": database_url, "GRIDCC_DATA_DIR": data_dir, "GRIDCC_LANGUAGE": "en"}


def test_generate_then_export_streets_and_communities(database_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    env = _env(database_url, tmp_path)
    result = runner.invoke(
        main, ["geo", "generate", "--district", "500151", "--grids-per-community", "2"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "28 streets, 333 communities, 666 grids" in result.output

    out = tmp_path / "streets.geojson"
    result = runner.invoke(main, ["geo", "export", "--level", "street", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    streets = json.loads(out.read_text(encoding="utf-8"))
    assert streets["type"] == "FeatureCollection"
    assert len(streets["features"]) == 28
    first = streets["features"][0]
    assert first["properties"] == {
        "code": "500151001",
        "name": "巴川街道",
        "level": "street",
        "parent_code": "500151",
        "synthetic": True,
    }
    assert shapely.geometry.shape(first["geometry"]).is_valid

    result = runner.invoke(
        main, ["geo", "export", "--level", "community", "--district", "500151", "-o", "-"], env=env
    )
    assert result.exit_code == 0, result.output
    communities = json.loads(result.stdout)
    assert len(communities["features"]) == 333
    names = {f["properties"]["name"] for f in communities["features"]}
    assert "东方社区居民委员会" in names
    assert all(f["properties"]["parent_code"] == f["properties"]["code"][:9] for f in communities["features"])

    result = runner.invoke(
        main, ["geo", "export", "--level", "grid", "--district", "500101", "-o", "-"], env=env
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["features"] == []


def test_generate_refuses_an_unknown_district(database_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["geo", "generate", "--district", "123456"], env=_env(database_url, tmp_path)
    )
    assert result.exit_code == 2
    assert "123456" in result.output


def test_generate_bumps_the_units_layer_version(
    database_url: str, tmp_path: Path, redis_url: str, redis_conn: redis.Redis
) -> None:
    before = versions.read(redis_conn)["units"]
    env = {**_env(database_url, tmp_path), "GRIDCC_REDIS_URL": redis_url}
    result = CliRunner().invoke(
        main, ["geo", "generate", "--district", "500153", "--grids-per-community", "1"], env=env
    )
    assert result.exit_code == 0, result.output
    assert versions.read(redis_conn)["units"] == before + 1
