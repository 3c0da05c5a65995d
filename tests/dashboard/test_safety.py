"""Safety of what the screens send: feed text stays text, phones are masked, everything goes through
the viewer's area scope. On a real test database and the real (embedded) Redis."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import geobuf
import pytest

from data.db import transaction
from data.models import GridStaff
from data.scope import AreaScope
from data.seed import seed_catalogue
from layers import versions
from layers.alerts import build_alerts
from layers.cases import build_cases
from layers.counts import unit_counts
from layers.risks import build_risks
from layers.units import build_units
from tests.dashboard.test_case_support import (
    PHONE,
    all_pages_app,
    as_json,
    by_class,
    html_sinks,
    render,
    text,
)
from tests.layers.hierarchy import STREETS, add_alert, add_case, add_risk

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
PAGES = ("/", "/duty", "/overdue", "/feeds")


@pytest.fixture
def app(engine, database_url, redis_url, redis_conn, tmp_path, grids) -> Iterator[Any]:
    """The app with every page (overrides the map-only ``app`` of conftest)."""
    yield from all_pages_app(database_url, redis_url, tmp_path)


@pytest.fixture
def world(app, session_factory, grids, redis_conn) -> dict[str, Any]:
    """A markup case with a reporter's phone in street 1, a plain case in street 2, alerts and risks in
    both, a grid chief with a phone."""
    with transaction(session_factory) as session:
        seed_catalogue(session)
        bad = add_case(session, grids[0], external_id="xss", title=IMG)
        bad.description = IMG
        bad.address = SCRIPT
        bad.reporter_name = "张三"
        bad.reporter_phone = "13912345678"
        other = add_case(session, grids[4], external_id="east", title="东边的案件")
        other.description = "东城街道的描述"
        session.add(GridStaff(unit_code=grids[0], role="grid_chief", name="李四", phone="139-8765-4321"))
        add_alert(session, grids[:2], headline="西边预警")
        add_alert(session, grids[4:6], headline="东边预警")
        add_risk(session, grids[1], title="西边风险")
        add_risk(session, grids[5], title="东边风险")
        ids = {"bad": bad.id, "other": other.id}
    versions.bump(redis_conn, ["units", "cases", "alerts", "risks"])
    return ids


def test_case_page_shows_markup_as_text(app, world) -> None:
    layout = render(app, f"/cases/{world['bad']}")
    assert by_class(layout, "case-description")[0].children == IMG
    assert by_class(layout, "case-address")[0].children == SCRIPT
    assert IMG in text(layout) and SCRIPT in text(layout)
    assert not html_sinks(layout)
    assert "139****5678" in text(layout)  # the reporter, masked
    assert "139****4321" in text(layout)  # the grid chief, masked
    assert not re.search(PHONE, as_json(layout))


def test_duty_table_carries_the_markup_as_data(app, world) -> None:
    layout = render(app, "/duty")
    rows = next(c.rowData for c in _walk_components(layout) if type(c).__name__ == "AgGrid")
    assert SCRIPT in [r["address"] for r in rows]  # a plain string in rowData: AG Grid renders it as text
    aggrid = next(c for c in _walk_components(layout) if type(c).__name__ == "AgGrid")
    assert not getattr(aggrid, "dangerously_allow_code", False)
    assert not any(col.get("cellRenderer") == "markdown" for col in aggrid.columnDefs)
    assert not html_sinks(layout)


def _walk_components(layout: Any) -> list[Any]:
    from tests.dashboard.test_case_support import walk

    return [c for c in walk(layout) if hasattr(c, "to_plotly_json")]


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_no_phone_and_no_html_sink(app, world, path) -> None:
    layout = render(app, path)
    assert not re.search(PHONE, as_json(layout)), path
    assert not html_sinks(layout), path


def test_layer_urls_carry_text_and_no_phone(app, client, world, redis_conn) -> None:
    v = versions.read(redis_conn)
    urls = [f"/layers/units/{level}.pbf?v={v['units']}" for level in ("district", "street", "community")] + [
        "/layers/grids.pbf?bbox=105.8,29.6,106.3,30.0&v=1",
        f"/layers/cases.pbf?v={v['cases']}",
        f"/layers/alerts.json?v={v['alerts']}",
        f"/layers/risks.json?v={v['risks']}",
        *(
            f"/layers/counts/{level}.json?v={v['cases']}"
            for level in ("district", "street", "community", "grid")
        ),
        "/api/versions",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data()
        assert not re.search(PHONE.encode(), body), url
    cases = geobuf.decode(client.get(f"/layers/cases.pbf?v={v['cases']}").data)["features"]
    bad = next(f["properties"] for f in cases if f["properties"]["id"] == world["bad"])
    assert bad["title"] == IMG and bad["address"] == SCRIPT  # plain strings; the JS sets textContent
    alerts = client.get(f"/layers/alerts.json?v={v['alerts']}").get_json()
    phones = [w["phone"] for f in alerts["features"] for g in f["properties"]["grids"] for w in g["workers"]]
    assert phones and all("****" in p for p in phones)


def test_everything_goes_through_a_street_scope(app, session_factory, world, grids) -> None:
    west = AreaScope.of([STREETS[0]])
    with session_factory() as session:
        cases = geobuf.decode(build_cases(session, west))["features"]
        assert [f["properties"]["id"] for f in cases] == [world["bad"]]
        alerts = build_alerts(session, west)["features"]
        assert [f["properties"]["headline"] for f in alerts] == ["西边预警"]
        covered = {g["code"] for f in alerts for g in f["properties"]["grids"]}
        assert covered and all(c.startswith(STREETS[0]) for c in covered)
        assert [f["properties"]["title"] for f in build_risks(session, west)["features"]] == ["西边风险"]
        for level in ("street", "community", "grid"):
            assert all(code.startswith(STREETS[0]) for code in unit_counts(session, west, level)), level
        for level in ("street", "community"):
            codes = [
                f["properties"]["code"] for f in geobuf.decode(build_units(session, west, level))["features"]
            ]
            assert codes and all(c.startswith(STREETS[0]) for c in codes), level
    # pages: the east case is "not found" and none of the east's data reaches any page
    assert "未找到该案件" in text(render(app, f"/cases/{world['other']}", scope=west))
    assert "东城街道的描述" in text(render(app, f"/cases/{world['other']}"))  # (visible district-wide)
    for path in ("/", "/duty", "/overdue", f"/cases/{world['bad']}", f"/cases/{world['other']}"):
        sent = as_json(render(app, path, scope=west))
        for east in ("东城街道的描述", "东边的案件", "东边预警", "东边风险", STREETS[1]):
            assert east not in sent, (path, east)


def test_json_round_trip_keeps_the_characters(app, world) -> None:
    """What the browser receives for the case page decodes back to the very characters."""
    sent = json.loads(as_json(render(app, f"/cases/{world['bad']}")))
    assert IMG in json.dumps(sent, ensure_ascii=False) and SCRIPT in json.dumps(sent, ensure_ascii=False)
