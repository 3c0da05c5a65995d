"""The wall page on a real database and the real (embedded) Redis: its layout, its data cached per
(scope, version), and its one server callback, which answers ``no_update`` when no version moved."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dash import no_update

from data.db import transaction
from data.models import Feed, FeedHealth
from data.scope import AreaScope
from data.settings import Settings
from layers import versions
from tests.data.helpers import add_case, build_units

from .test_wall_components import by_id, texts

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def units(session_factory: Any) -> Any:
    with transaction(session_factory) as session:
        return build_units(session)


@pytest.fixture
def wall_app(
    engine: Any, database_url: str, redis_url: str, redis_conn: Any, tmp_path: Path, units: Any
) -> Iterator[Any]:
    from dashboard.app import create_app
    from dashboard.services import services

    # the wall's content, not access: sign-in off explicitly (test_access_scope.py tests it on)
    settings = Settings(
        data_dir=tmp_path / "var", database_url=database_url, redis_url=redis_url, auth_required=False
    )
    app = create_app(settings)
    yield app
    services(app.server).close()


def _ctx(app: Any, lang: str = "zh-CN") -> Any:
    from dashboard.page import PageContext
    from dashboard.scope import current_scope
    from dashboard.services import services

    return PageContext(
        settings=services(app.server).settings,
        services=services(app.server),
        scope=current_scope(),
        lang=lang,
    )


def _layout(app: Any, lang: str = "zh-CN") -> Any:
    from dashboard.wall.page import layout

    with app.server.test_request_context("/"):
        return layout(_ctx(app, lang))


def _refresh(app: Any, want: dict[str, Any], have: dict[str, Any], lang: str = "zh-CN") -> list[Any]:
    from dashboard.wall.page import refresh

    with app.server.test_request_context("/_dash-update-component", method="POST"):
        return refresh(want, have, {"lang": lang})


def _cases(session_factory: Any, units: Any, now: datetime) -> None:
    grid = units.grids[0]
    # "today" is Asia/Shanghai's: placed inside what has passed of it (half an hour back crosses into
    # yesterday when the tests run between 16:00 and 16:30 UTC)
    midnight = now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    passed = now - midnight
    with transaction(session_factory) as session:
        # today: two received, one of them closed on time and rated satisfied
        add_case(session, grid, midnight + passed * 0.25, category="city.street_vending")
        add_case(
            session,
            grid,
            midnight + passed * 0.5,
            status="closed",
            resolved_at=midnight + passed * 0.75,
            satisfaction="satisfied",
        )
        # earlier this year (or late last year in early January): one open and overdue
        add_case(session, units.grids[-1], now - timedelta(days=1, hours=2), limit_hours=1)


def test_default_pages_put_the_wall_at_root_and_the_map_at_map() -> None:
    from dashboard.page import PageRegistry
    from dashboard.screens import default_pages

    registry = PageRegistry(default_pages())
    found = registry.resolve("/")
    assert found is not None and found[0].name == "wall"
    found = registry.resolve("/map")
    assert found is not None and found[0].name == "map"


def test_layout_shows_the_district_today(wall_app, session_factory, units, redis_conn) -> None:
    now = datetime.now(UTC)
    _cases(session_factory, units, now)
    versions.bump(redis_conn, ["cases", "kpis"])
    page = _layout(wall_app)
    assert by_id(page, "wall-kpi-today-received").children == "2"
    assert by_id(page, "wall-kpi-today-closure_rate").children == "50.0%"
    assert by_id(page, "wall-kpi-today-satisfaction_rate").children == "100.0%"
    assert by_id(page, "wall-kpi-now-open").children == "2"
    assert by_id(page, "wall-kpi-now-overdue").children == "1"
    title = texts(page.children[0].children[0])[0]
    assert title.endswith("网格化社会治理指挥中心") and "铜梁区" in title
    assert by_id(page, "wall-categories").figure["data"][0]["y"] == ["城市管理", "生态环境"]  # largest on top
    assert [s["name"] for s in by_id(page, "wall-trend").figure["data"]] == ["受理", "办结"]
    assert texts(by_id(page, "wall-ticker")) == ["暂无生效预警"]
    have = by_id(page, "wall-have").data
    current = versions.read(redis_conn)
    assert have["stats"] == f"{current['cases']}.{current['kpis']}.{current['loop']}"
    assert have["scale"] == 1.0
    # the shared map is the centre piece, live on the map's own 1 s tick
    assert by_id(page, {"part": "tick", "map": "wallmap"}) is not None  # type: ignore[arg-type]
    english = _layout(wall_app, "en")
    assert by_id(english, "wall-kpi-today-received").children == "2"
    assert "Closure rate" in texts(by_id(english, "wall-kpis"))


def test_empty_database_shows_dashes(wall_app) -> None:
    page = _layout(wall_app)
    assert by_id(page, "wall-kpi-today-received").children == "0"
    assert by_id(page, "wall-kpi-year-closure_rate").children == "—"
    assert by_id(page, "wall-streets").figure["data"][0]["text"][0].endswith("办结率 —")
    assert by_id(page, "wall-departments").figure["layout"]["annotations"][0]["text"] == "暂无数据"
    assert texts(by_id(page, "wall-asof"))[0].startswith("数据截至 ")


def test_refresh_is_no_update_when_versions_did_not_change(wall_app, session_factory, units) -> None:
    page = _layout(wall_app)
    have = by_id(page, "wall-have").data
    out = _refresh(wall_app, dict(have, at=1), have)
    assert out == [no_update] * len(out)
    assert _refresh(wall_app, None, have) == [no_update] * len(out)  # type: ignore[arg-type]


def test_refresh_reloads_only_what_moved(wall_app, session_factory, units, redis_conn) -> None:
    from dashboard.wall.page import OUTPUTS

    page = _layout(wall_app)
    have = by_id(page, "wall-have").data
    assert by_id(page, "wall-kpi-today-received").children == "0"
    _cases(session_factory, units, datetime.now(UTC))

    # no bump yet: the wall keeps what it has (the data is cached per version)
    assert _refresh(wall_app, dict(have, at=2), have) == [no_update] * len(OUTPUTS)

    versions.bump(redis_conn, ["cases", "kpis"])
    out = dict(zip(OUTPUTS, _refresh(wall_app, dict(have, at=3), have), strict=True))
    assert by_id(out[("wall-kpis", "children")], "wall-kpi-today-received").children == "2"
    assert out[("wall-categories", "figure")]["data"][0]["y"] == ["城市管理", "生态环境"]
    assert out[("wall-ticker", "children")] is no_update  # alerts did not move
    new_have = out[("wall-have", "data")]
    assert new_have["stats"] != have["stats"] and new_have["ticker"] == have["ticker"]

    # only the scale moved (a 4K wall): charts re-drawn bigger, from the cache
    out = dict(zip(OUTPUTS, _refresh(wall_app, dict(new_have, scale=2.0), new_have), strict=True))
    assert out[("wall-trend", "figure")]["layout"]["template"]["layout"]["font"]["size"] == 32
    assert out[("wall-ticker", "children")] is no_update

    # feeds moved: the banner and "data as of", nothing else
    with transaction(session_factory) as session:
        session.add(Feed(name="weather", protocol="cap", url="http://127.0.0.1:1/x", interval_s=60))
        session.flush()
        session.add(
            FeedHealth(
                feed_name="weather",
                last_poll_at=datetime.now(UTC) - timedelta(hours=1),
                last_success_at=datetime.now(UTC) - timedelta(hours=1),
            )
        )
    versions.bump(redis_conn, ["feeds"])
    have2 = out[("wall-have", "data")]
    out = dict(zip(OUTPUTS, _refresh(wall_app, dict(have2, at=5), have2), strict=True))
    assert out[("wall-kpis", "children")] is no_update
    assert out[("wall-banner", "className")] == "wall-banner bad"
    assert "数据过期" in " ".join(texts(out[("wall-banner", "children")]))
    assert out[("wall-asof", "children")].startswith("数据截至 ")


def test_a_part_is_built_once_per_version(wall_app, session_factory, units, redis_conn) -> None:
    """A hundred walls cost one build: the second ask of the same version reads Redis, not the database."""
    from layers import wall_payload

    now = datetime.now(UTC)
    scope = AreaScope.district(units.district)
    current = versions.read(redis_conn)
    builds: list[str] = []

    def sessions() -> Any:
        builds.append("build")
        return session_factory()

    def load() -> dict[str, Any]:
        return wall_payload.load(
            "stats",
            sessions=sessions,
            conn=redis_conn,
            scope=scope,
            versions=current,
            now=now,
            tz="Asia/Shanghai",
            stale_after_polls=3,
        )

    first = load()
    _cases(session_factory, units, now)
    assert [load() for _ in range(5)] == [first] * 5
    assert builds == ["build"]
    current = dict(current, cases=current["cases"] + 1)
    assert load()["today"]["received"] == 2
    assert builds == ["build", "build"]


def test_api_wall_answers_the_browser(
    wall_app: Any, session_factory: Any, units: Any, redis_conn: Any
) -> None:
    """``POST /api/wall``: what ``wall.js`` asks; skipped outputs are marked, the rest is plain JSON."""
    from dashboard.wall.page import OUTPUTS

    client = wall_app.server.test_client()
    page = _layout(wall_app)
    have = by_id(page, "wall-have").data
    same = client.post("/api/wall", json={"want": have, "have": have, "lang": "zh-CN"})
    assert same.status_code == 200 and same.headers["Cache-Control"] == "no-store"
    assert same.get_json()["skip"] == [True] * len(OUTPUTS)

    _cases(session_factory, units, datetime.now(UTC))
    versions.bump(redis_conn, ["cases", "kpis"])
    moved = client.post("/api/wall", json={"want": have, "have": have, "lang": "en"}).get_json()
    kpis = moved["outputs"][0]
    assert moved["skip"][0] is False and moved["skip"][6] is True  # KPIs moved, the ticker did not
    assert kpis[0]["type"] == "Div" and kpis[0]["props"]["children"][0]["props"]["children"] == "Received"
    assert moved["outputs"][-1]["stats"] != have["stats"]
    assert client.post("/api/wall", json={"have": have}).status_code == 400


def test_wall_js_gets_the_refresh_outputs_from_the_layout(wall_app) -> None:
    """wall.js counts and orders the refresh callback's outputs from wall-config, not from a constant."""
    from dashboard.wall.page import OUTPUTS

    page = _layout(wall_app)
    names = by_id(page, "wall-config").data["outputs"]
    assert names == [f"{i}.{p}" for i, p in OUTPUTS]
    registered = [key for key in wall_app.callback_map if "wall-kpis.children" in key]
    assert len(registered) == 1 and registered[0].strip(".").split("...") == names
    script = (Path(__file__).resolve().parents[2] / "dashboard" / "assets" / "wall.js").read_text()
    assert "config.outputs" in script and "OUTPUTS =" not in script
