"""The map of a scope whose open cases come by view (a city; here the district with the limit set to 0),
in real Chromium: clusters made on the server at the district's zoom, the viewport's own cases from the grid
zooms on, a new case reaching its marker without a reload, and nothing sent for the whole scope. Cases
without a point of their own count too: placed by grid or community they are drawn (dashed) at that unit's
label point, placed by street only they are not.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from dashboard.components.map import CASE_COLOURS
from data.db import transaction
from data.models import AdminUnit, Case
from layers import versions
from tests.browser.conftest import KEEP_MAPS, open_page
from tests.browser.test_map_smoke import CHROMIUM, Server, serve_map_page
from tests.conftest import REPO

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no Debian chromium"),
]

MOVE_TO = """([lat, lon, zoom]) => {
  const maps = (window.__maps || []).filter((m) => m._container && m._container.isConnected);
  if (!maps.length) return false;
  maps[0].setView([lat, lon], zoom, {animate: false});
  return maps[0].getZoom();
}"""

# What the map must hold, counted here in plain SQL (not through layers/): open cases with their own
# point, or without one but with a grid (else a community) that has a label point.
DRAWABLE_OPEN = text(
    """
    SELECT count(*) FROM "case" AS c
    LEFT JOIN admin_unit AS g ON g.code = c.grid_code
    LEFT JOIN admin_unit AS m ON m.code = c.community_code
    WHERE c.is_open = :yes AND (
        (c.lon IS NOT NULL AND c.lat IS NOT NULL)
        OR (c.grid_code IS NOT NULL AND g.label_lon IS NOT NULL AND g.label_lat IS NOT NULL)
        OR (c.grid_code IS NULL AND m.label_lon IS NOT NULL AND m.label_lat IS NOT NULL)
    )
    """
)

BUBBLE_TOTAL = """() => [...document.querySelectorAll('.case-agg .cluster-count')]
  .reduce((n, e) => n + Number(e.textContent), 0)"""


@pytest.fixture
def served(engine, session_factory, database_url, redis_url, redis_conn, tmp_path) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    # any open case: by view, as a city
    yield from serve_map_page(
        session_factory, database_url, redis_url, redis_conn, tmp_path, map_cases_whole_max=0
    )


def _pointless(code: str, n: int, title: str, placement: str) -> Case:
    """An open case with no point of its own, placed in the unit ``code``."""
    now = datetime.now(UTC)
    case = Case(
        feed_name="test",
        external_id=f"pointless-{n}",
        title=title,
        description=title,
        status="accepted",
        category_name="城市管理",
        requested_at=now - timedelta(hours=3),
        accepted_at=now - timedelta(hours=2),
        deadline_at=now + timedelta(days=2),
        placement=placement,
        is_open=True,
    )
    case.set_place(code)
    return case


def test_cases_by_view(served: Server, session_factory, redis_conn, browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    origin = served.url
    with transaction(session_factory) as session:
        grids = session.execute(
            select(AdminUnit.code, AdminUnit.label_lon, AdminUnit.label_lat)
            .where(AdminUnit.level == "grid")
            .order_by(AdminUnit.code)
        ).all()
        grid = grids[100]
        # without a point: the feed's grid code only, an address matched to a community, a vague
        # street-level address (the three kinds a feed gives); the grid-only one in the grid looked at below
        by_grid = _pointless(grid.code, 1, "只报了网格的案件", "code")
        others = [_pointless(g.code, 10 + i, "只报了网格", "code") for i, g in enumerate(grids[::40])]
        by_community = [
            _pointless(g.code[:12], 100 + i, "地址匹配到社区", "address") for i, g in enumerate(grids[5::60])
        ]
        by_street = [
            _pointless(g.code[:9], 200 + i, "只知镇街", "address") for i, g in enumerate(grids[7::300])
        ]
        session.add_all([by_grid, *others, *by_community, *by_street])
        session.flush()
        by_grid_id = by_grid.id
        open_now = session.scalar(DRAWABLE_OPEN, {"yes": True})
        with_point = session.scalar(
            select(func.count()).select_from(Case).where(Case.is_open.is_(True), Case.lon.is_not(None))
        )
    versions.bump(redis_conn, ["cases"])
    assert open_now == with_point + 1 + len(others) + len(by_community)
    page, log = open_page(browser)
    requested = log.requests
    try:
        page.add_init_script(KEEP_MAPS)
        page.goto(origin + "/")

        # the district's view: bubbles made on the server, which together hold every open case
        page.wait_for_selector(".case-agg", timeout=30000)
        page.wait_for_function(f"({BUBBLE_TOTAL})() === {open_now}", timeout=30000)
        assert page.locator(".case-marker").count() == 0
        assert any("/layers/cases/clusters.json?" in url for url in requested)
        assert not any("/layers/cases.pbf" in url for url in requested)  # not one case point sent
        page.wait_for_timeout(1000)
        shot = (
            REPO / "screenshots" / "map_by_view.png"
            if os.environ.get("GRIDCC_SCREENSHOTS")
            else tmp_path / "v.png"
        )
        page.screenshot(path=str(shot))
        tip = page.locator(".case-agg").first
        tip.hover()
        assert "在办" in page.locator(".case-tip").first.inner_text()

        # zoomed to a grid (past the cluster maxZoom): the viewport's own cases, each its own marker
        assert page.evaluate(MOVE_TO, [grid.label_lat, grid.label_lon, 17]) == 17
        page.wait_for_function("document.querySelectorAll('.case-agg').length === 0", timeout=30000)
        page.wait_for_function(
            "() => performance.getEntriesByType('resource')"
            ".some(e => e.name.includes('/layers/cases.pbf?bbox='))",
            timeout=30000,
        )
        # the grid-only case: a dashed ring at the grid's label point (the view's centre), said so
        ring = page.locator(f"path.case-{by_grid_id}")
        ring.wait_for(timeout=30000)
        assert "case-approx" in (ring.get_attribute("class") or "")
        assert ring.get_attribute("stroke-dasharray")
        assert ring.get_attribute("stroke") == CASE_COLOURS["accepted"]  # its state's colour, not a default
        box = ring.bounding_box()
        centre = page.locator(".leaflet-container").bounding_box()
        assert box is not None and centre is not None
        assert abs(box["x"] + box["width"] / 2 - (centre["x"] + centre["width"] / 2)) < 3
        assert abs(box["y"] + box["height"] / 2 - (centre["y"] + centre["height"] / 2)) < 3
        ring.click(force=True)
        popup = page.locator(".leaflet-popup-content")
        assert popup.locator(".popup-title").inner_text() == "只报了网格的案件"
        assert popup.locator(".flag.approx").inner_text() == "按网格定位"
        assert "所在网格的中心点" in popup.locator(".approx-note").inner_text()
        page.locator(".leaflet-popup-close-button").click()
        page.wait_for_selector(".leaflet-popup", state="detached", timeout=10000)  # gone after its fade
        with transaction(session_factory) as session:
            case = Case(
                feed_name="test",
                external_id="by-view-1",
                title="新案件：井盖缺失",
                description="井盖缺失",
                status="accepted",
                category_name="城市管理",
                requested_at=datetime.now(UTC),
                accepted_at=datetime.now(UTC),
                deadline_at=datetime.now(UTC) + timedelta(days=2),
                lon=float(grid.label_lon) + 0.0005,  # beside the grid-only case's ring
                lat=float(grid.label_lat),
                placement="point",
                is_open=True,
            )
            case.set_place(grid.code)
            session.add(case)
            session.flush()
            new_id = case.id
        versions.bump(redis_conn, ["cases"])
        page.wait_for_selector(f".case-{new_id}", timeout=30000)
        page.locator(f".case-{new_id}").click(force=True)
        assert page.locator(".leaflet-popup-content .popup-title").inner_text() == "新案件：井盖缺失"
        # the view's payload is the view's: far fewer cases than the scope holds
        bbox_urls = [u for u in requested if "/layers/cases.pbf?bbox=" in u]
        assert bbox_urls and all("&v=" in u or "?v=" in u for u in bbox_urls)
        drawn = page.locator(".case-marker").count()
        assert 1 <= drawn < open_now
    finally:
        page.context.close()
    log.assert_clean()
