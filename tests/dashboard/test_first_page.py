"""The page comes with its first layout, its callback list and its map's first state; AG Grid only where
a page uses it (``dashboard/first_page.py``), through Flask's test client on a real database and Redis."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.components.map import js_query
from dashboard.first_page import data_block, path_pattern
from dashboard.page import Page
from data.db import transaction
from data.settings import Settings
from layers import versions
from tests.layers.hierarchy import STREETS, add_case


@pytest.fixture
def screens(engine, database_url: str, redis_url: str, redis_conn, tmp_path: Path, grids) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A client of the app with every screen (sign-in off, as tests/dashboard/conftest.py's)."""
    from dashboard.app import create_app
    from dashboard.services import services

    settings = Settings(
        data_dir=tmp_path / "var", database_url=database_url, redis_url=redis_url, auth_required=False
    )
    dash_app = create_app(settings)
    yield dash_app.server.test_client()
    services(dash_app.server).close()


BLOCK = re.compile(r'<script id="(?P<id>[^"]+)" type="application/json">(?P<body>.*?)</script>', re.S)


def blocks(html: str) -> dict[str, Any]:
    return {m.group("id"): json.loads(m.group("body")) for m in BLOCK.finditer(html)}


def find(node: Any, test: Any) -> list[dict[str, Any]]:
    """Every component (``{"type", "namespace", "props"}``) of a layout in JSON for which ``test`` holds."""
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "props" in node and test(node):
            out.append(node)
        for value in node.values():
            out += find(value, test)
    elif isinstance(node, list):
        for value in node:
            out += find(value, test)
    return out


def by_id(layout: Any, id_: Any) -> dict[str, Any]:
    (found,) = find(layout, lambda n: n["props"].get("id") == id_)
    return found


def test_the_page_carries_its_layout_and_callbacks(screens) -> None:
    client = screens
    html = client.get("/?lang=en").get_data(as_text=True)
    got = blocks(html)
    layout, deps = got["gridcc-first-layout"], got["gridcc-first-dependencies"]
    assert by_id(layout, "gridcc-url")["props"] == {
        "id": "gridcc-url",
        "refresh": False,
        "pathname": "/",
        "search": "?lang=en",
    }
    assert by_id(layout, "wall-root")  # the wall itself, not an empty shell waiting for the router
    assert deps == client.get("/_dash-dependencies").get_json()
    route = next(d for d in deps if d["output"] == "gridcc-page.children")
    assert route["prevent_initial_call"] is True
    assert "gridcc_first.js" in html  # what hands them to the renderer


def test_dash_layout_answers_the_page_of_the_referer(screens) -> None:
    client = screens
    layout = client.get("/_dash-layout", headers={"Referer": "http://localhost/duty?period=30d"}).get_json()
    assert by_id(layout, "gridcc-url")["props"]["pathname"] == "/duty"
    assert by_id(layout, "gridcc-url")["props"]["search"] == "?period=30d"
    assert by_id(layout, "duty-grid")["namespace"] == "dash_ag_grid"
    shell = client.get("/_dash-layout").get_json()  # no Referer: the shell, the router fills it
    assert "pathname" not in by_id(shell, "gridcc-url")["props"]
    assert by_id(shell, "gridcc-page")["props"].get("children") is None


def test_ag_grid_is_sent_only_with_the_duty_page(screens) -> None:
    client = screens

    def grid_script(path: str) -> bool:
        return "/_dash-component-suites/dash_ag_grid/" in client.get(path).get_data(as_text=True)

    assert grid_script("/duty")
    assert not grid_script("/")
    assert not grid_script("/overdue")
    layout = blocks(client.get("/overdue").get_data(as_text=True))["gridcc-first-layout"]
    bundles = by_id(layout, "gridcc-bundles")["props"]["data"]
    assert bundles == {"loaded": [], "pages": [["^/duty/?$", ["dash_ag_grid"]]]}


def test_a_data_block_cannot_be_closed_by_its_text() -> None:
    text = json.dumps({"title": "</script><script>alert(1)</script><!--"})
    block = data_block("x", text)
    assert block.count("</script>") == 1 and "<!--" not in block
    assert blocks(block)["x"] == {"title": "</script><script>alert(1)</script><!--"}


def test_path_pattern_matches_as_page_match() -> None:
    page = Page(path="/cases/<id>", name="case", title_key="t", layout=lambda ctx: None)
    pattern = path_pattern(page.path)
    for path in ("/cases/12", "/cases/12/", "/cases", "/cases/1/2", "/x/cases/1"):
        assert bool(re.match(pattern, path)) == (page.match(path) is not None), path


def test_js_query_as_the_browser_writes_it() -> None:
    # encodeURIComponent: ',' and ' ' escaped, '-_.!~*'()' kept; keys sorted; empty values left out
    got = js_query({"v": 3, "status": "open,overdue", "street": "", "category": "乱 堆(x)"})
    assert got == "category=%E4%B9%B1%20%E5%A0%86(x)&status=open%2Coverdue&v=3"


def test_counts_of_several_levels_in_one_payload(client, session_factory, grids, redis_conn) -> None:
    with transaction(session_factory) as session:
        add_case(session, grids[0], external_id="a", overdue=True)
    versions.bump(redis_conn, ["cases"])
    v = versions.read(redis_conn)["cases"]
    both = client.get(f"/layers/counts.json?levels=street,district&v={v}")
    assert both.status_code == 200
    assert both.headers["Cache-Control"] == "private, max-age=3600"
    assert both.get_json() == {
        "district": client.get(f"/layers/counts/district.json?v={v}").get_json(),
        "street": {STREETS[0]: {"open": 1, "overdue": 1}},
    }
    for bad in ("", "city", "street,city"):
        response = client.get(f"/layers/counts.json?levels={bad}&v={v}")
        assert response.status_code == 400, bad
        assert "levels" in response.get_json()["error"]


def test_the_map_starts_with_its_plan_counts_and_layers(screens, session_factory, grids, redis_conn) -> None:
    client = screens
    with transaction(session_factory) as session:
        add_case(session, grids[0], external_id="a", overdue=True)
    versions.bump(redis_conn, ["cases"])
    v = versions.read(redis_conn)
    layout = blocks(client.get("/").get_data(as_text=True))["gridcc-first-layout"]
    config = by_id(layout, {"part": "config", "map": "wallmap"})["props"]["data"]
    plan = client.get(f"/layers/units/lod.json?v={v['units']}").get_json()
    assert config["first"] == {"plan": plan, "v": v["units"]}
    whole = [lv for lv in ("district", "street", "community", "grid") if lv not in plan["bbox"]]
    src = f"/layers/counts.json?levels={'%2C'.join(whole)}&v={v['cases']}"
    payload = client.get(src).get_json()
    for level in whole:
        hideout = by_id(layout, {"part": f"units-{level}", "map": "wallmap"})["props"]["hideout"]
        assert (hideout["src"], hideout["v"], hideout["counts"]) == (src, v["cases"], payload[level])
    grid = by_id(layout, {"part": "units-grid", "map": "wallmap"})["props"]
    assert grid["hideout"]["v"] == -1 and grid.get("url") is None  # by viewport: the browser asks
    url = lambda part: by_id(layout, {"part": part, "map": "wallmap"})["props"]["url"]  # noqa: E731
    assert url("units-district") == f"/layers/units/district.pbf?v={v['units']}"
    assert url("cases") == f"/layers/cases.pbf?v={v['cases']}"
    assert url("alerts") == f"/layers/alerts.json?v={v['alerts']}"
    assert url("risks") == f"/layers/risks.json?v={v['risks']}"
    assert url("hotspots") == f"/layers/hotspots.json?v={v['cases']}"
    for part in ("cases", "units-district", "alerts"):
        assert client.get(url(part)).status_code == 200
