"""The wall's refresh while another web process builds the new version of its figures: it answers the
previous figures at once, never builds them a second time, and tells the browser the part is still
"building" (so ``wall.js`` asks again shortly) — then the new figures once they are built."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from data.scope import AreaScope
from layers import versions, wall_payload
from layers.cache import cache_key

from .test_wall_components import by_id
from .test_wall_page import _cases, _layout, _refresh
from .test_wall_page import units as units  # noqa: F401 - a fixture
from .test_wall_page import wall_app as wall_app  # noqa: F401 - a fixture


def test_refresh_answers_the_previous_figures_while_the_new_build(
    wall_app,
    session_factory,
    units,
    redis_conn,
) -> None:
    from dashboard.wall.page import OUTPUTS

    page = _layout(wall_app)  # builds and caches the figures of the current version
    have = by_id(page, "wall-have").data
    assert by_id(page, "wall-kpi-today-received").children == "0"
    _cases(session_factory, units, datetime.now(UTC))
    versions.bump(redis_conn, ["cases", "kpis"])

    # another process holds the build lock of the new version's figures (it is building them)
    now = datetime.now(UTC)
    current = versions.read(redis_conn)
    version, params = wall_payload.part_params("stats", current, now, "Asia/Shanghai")
    scope = AreaScope.district(units.district)
    lock = cache_key("wall-stats", scope, version, f"{params}:t=masked") + ":building"
    redis_conn.set(lock, "another-process", px=30000)

    out = dict(zip(OUTPUTS, _refresh(wall_app, dict(have, at=2), have), strict=True))
    assert by_id(out[("wall-kpis", "children")], "wall-kpi-today-received").children == "0"  # previous
    assert out[("wall-have", "data")]["stats"] == "building"  # the browser asks again

    redis_conn.delete(lock)  # the other process is gone (or done): the next ask builds the new figures
    again = out[("wall-have", "data")]
    out = dict(zip(OUTPUTS, _refresh(wall_app, dict(have, at=3), again), strict=True))
    assert by_id(out[("wall-kpis", "children")], "wall-kpi-today-received").children == "2"
    assert out[("wall-have", "data")]["stats"] == wall_payload.part_key("stats", current)


def test_the_first_render_says_building_too(wall_app, units, redis_conn) -> None:
    page = _layout(wall_app)
    assert by_id(page, "wall-have").data["stats"] != "building"
    versions.bump(redis_conn, ["cases"])
    current = versions.read(redis_conn)
    now = datetime.now(UTC)
    version, params = wall_payload.part_params("stats", current, now, "Asia/Shanghai")
    scope = AreaScope.district(units.district)
    lock = cache_key("wall-stats", scope, version, f"{params}:t=masked") + ":building"
    redis_conn.set(lock, "another-process", px=30000)
    page: Any = _layout(wall_app)
    assert by_id(page, "wall-have").data["stats"] == "building"
