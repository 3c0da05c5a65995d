"""An open wall in Chromium hears of new cases through the long poll (``/api/versions?since=&wait=``,
answered when a bump is published) and keeps doing so, without a reload, after its web server is
restarted and after Redis is restarted.

A setup of its own (``tests.wall_live``: a small hierarchy in SQLite, a private Redis, gunicorn), so
that the web server and Redis can each be stopped and started again without disturbing the shared demo.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from shapely.geometry import Point

from data import migrate
from data.db import make_engine, make_sessionmaker
from data.redis_server import connect
from data.seed import seed_catalogue
from layers import versions
from tests.browser.conftest import screenshot
from tests.layers.hierarchy import add_case, build_hierarchy, grid_box
from tests.wall_live import MOVE_TO, PROBE_ZOOM, WATCH, Live, Web, insert_case, wall_page

MARKER_TIMEOUT_MS = 30000


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, Web, Any]]:
    folder = tmp_path_factory.mktemp("wall-long-poll")
    url = f"sqlite:///{folder / 'wall.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)
    with factory() as session:
        seed_catalogue(session)
        grids = build_hierarchy(session)
        for i, grid in enumerate(grids):
            add_case(session, grid, external_id=f"seed-{i}")
        session.commit()
    setup = Live(folder, url)
    try:
        setup.start_redis().close()
        web = setup.web("wall", threads=16, GRIDCC_LONG_POLL_SLOTS="8")
        yield setup, web, factory
    finally:
        setup.close()
        engine.dispose()


def _grid_spot(grid: str, k: int) -> tuple[float, float]:
    """A point inside ``grid``, different for each k (markers do not sit on each other)."""
    box = grid_box(grid)
    minx, miny, maxx, maxy = box.bounds
    p = Point(minx + (maxx - minx) * (0.3 + 0.05 * k), miny + (maxy - miny) * 0.4)
    return p.x, p.y


def _new_case_appears(page: Any, setup: Live, factory: Any, k: int) -> int:
    """Commit a case and bump the versions (what the ingest does); wait for its marker on the open
    wall (no reload); its id."""
    grid = "500151001001001"
    lon, lat = _grid_spot(grid, k)
    page.evaluate(MOVE_TO, [lat, lon, PROBE_ZOOM])
    page.wait_for_timeout(1500)  # the view settles (cases of the viewport, markers at this zoom)
    conn = connect(setup.redis_url)
    try:
        case_id = insert_case(factory, grid, lon, lat)
        page.evaluate(WATCH, case_id)
        versions.bump(conn, ["cases", "kpis"])
    finally:
        conn.close()
    page.wait_for_function("() => window.__seen", polling=50, timeout=MARKER_TIMEOUT_MS)
    return case_id


def test_new_case_reaches_the_open_wall_through_the_long_poll(
    live: tuple[Live, Web, Any], browser: Any
) -> None:
    setup, web, factory = live
    context, page = wall_page(browser, web.url)
    answers: list[str] = []
    page.on(
        "response",
        lambda r: (
            answers.append(r.headers.get("x-gridcc-wait", ""))
            if "/api/versions" in r.url and "wait=" in r.url
            else None
        ),
    )
    try:
        page.evaluate("window.__notReloaded = true")
        case_id = _new_case_appears(page, setup, factory, 0)
        assert page.locator(f".case-{case_id}").count() >= 1
        # the wall held a long poll and was answered by the bump, not by a tick
        assert "changed" in answers, answers
        screenshot(page, "wall_long_poll_marker")

        # the web server restarted: the held request breaks, the wall asks again by itself
        web.restart()
        case_id = _new_case_appears(page, setup, factory, 1)
        assert page.locator(f".case-{case_id}").count() >= 1

        # Redis restarted: the web process's subscription is cut and comes back by itself
        setup.restart_redis()
        page.wait_for_timeout(3000)
        answers.clear()
        case_id = _new_case_appears(page, setup, factory, 2)
        assert page.locator(f".case-{case_id}").count() >= 1
        assert page.evaluate("window.__notReloaded") is True
    finally:
        context.close()


def test_the_map_answers_a_pan_while_a_long_poll_is_held(live: tuple[Live, Web, Any], browser: Any) -> None:
    """The long poll is out (nothing changes for 25 s): moving the map to a grid's zoom still loads the
    grids of the new view at once. (A poll awaited inside the tick callback would hold back every
    callback that reads the versions store — the map's level of detail among them — until it ended.)"""
    setup, web, _ = live
    held: list[str] = []
    context, page = wall_page(
        browser,
        web.url,
        lambda r: held.append(r.url) if "/api/versions" in r.url and "wait=" in r.url else None,
    )
    try:
        page.wait_for_timeout(3000)  # the first long poll is out by now
        assert page.locator("path.unit-grid").count() == 0  # the district's view: no grid drawn
        lon, lat = _grid_spot("500151002002002", 0)
        held.clear()
        page.evaluate(MOVE_TO, [lat, lon, PROBE_ZOOM])
        page.wait_for_selector("path.unit-grid", timeout=10000)  # well before the poll's 25 s
        assert not held  # no long poll had answered: the grids did not wait for one
    finally:
        context.close()


def test_without_slots_the_wall_ticks_and_still_updates(live: tuple[Live, Web, Any], browser: Any) -> None:
    """A web process that may hold no wait (``long_poll_slots=0``): answered "full", the wall falls
    back to the 1 s tick and still shows the new case."""
    setup, _, factory = live
    web = setup.web("tick", threads=8, GRIDCC_LONG_POLL_SLOTS="0")
    answers: list[tuple[bool, str]] = []

    def seen(r: Any) -> None:
        if "/api/versions" in r.url:
            answers.append(("wait=" in r.url, r.headers.get("x-gridcc-wait", "")))

    context, page = wall_page(browser, web.url, seen)
    try:
        case_id = _new_case_appears(page, setup, factory, 3)
        assert page.locator(f".case-{case_id}").count() >= 1
        assert (True, "full") in answers, answers  # asked to wait, answered at once
        assert (False, "none") in answers, answers  # then plain ticks
    finally:
        context.close()
        web.stop()


def test_a_slow_cases_layer_lands_while_other_versions_keep_moving(
    live: tuple[Live, Web, Any], browser: Any
) -> None:
    """The new case's cases layer takes 2 s to load while the feeds' version moves every 0.25 s (on a
    busy district the feeds' health alone moves it every second or so): each move asks the map's layer
    callback again, and Dash throws away the result of a callback asked again while it runs. The layer
    is handed its URL when that URL has loaded, whatever the callback became meanwhile: the marker is
    drawn while the versions keep moving."""
    setup, web, factory = live
    context, page = wall_page(browser, web.url)
    stop = threading.Event()

    def slow(route: Any) -> None:
        time.sleep(2.0)
        route.continue_()

    def churn() -> None:
        conn = connect(setup.redis_url)
        try:
            while not stop.wait(0.25):
                versions.bump(conn, ["feeds"])
        finally:
            conn.close()

    grid = "500151001001001"
    lon, lat = _grid_spot(grid, 4)
    mover = threading.Thread(target=churn, daemon=True)
    try:
        page.evaluate(MOVE_TO, [lat, lon, PROBE_ZOOM])
        page.wait_for_timeout(1500)
        page.route("**/layers/cases.pbf*", slow)
        mover.start()
        page.wait_for_timeout(1500)  # the churn is under way
        case_id = insert_case(factory, grid, lon, lat)
        page.evaluate(WATCH, case_id)
        conn = connect(setup.redis_url)
        try:
            versions.bump(conn, ["cases", "kpis"])
        finally:
            conn.close()
        page.wait_for_function("() => window.__seen", polling=100, timeout=15000)
        assert mover.is_alive()  # drawn while the versions were still moving
        assert page.locator(f".case-{case_id}").count() >= 1
    finally:
        stop.set()
        mover.join(5)
        context.close()


def test_slow_figures_still_reach_the_wall_while_the_ticks_go_on(
    live: tuple[Live, Web, Any], browser: Any
) -> None:
    """``/api/wall`` answers after 2.5 s, longer than the wall's 1 s tick: Dash throws away the result
    of a callback asked again while it runs, so the figures must reach the components another way
    (``wall.js`` hands them over through set_props). A new open case raises 在办 on the wall."""
    setup, web, factory = live
    context, page = wall_page(browser, web.url)

    def slow(route: Any) -> None:
        time.sleep(2.5)
        route.continue_()

    try:
        page.wait_for_selector("#wall-kpi-now-open", timeout=60000)
        page.wait_for_function(
            "() => /^[0-9,]+$/.test(document.querySelector('#wall-kpi-now-open').textContent.trim())",
            timeout=60000,
        )
        before = int(page.inner_text("#wall-kpi-now-open").replace(",", "").strip())
        page.route("**/api/wall", slow)
        grid = "500151001001001"
        lon, lat = _grid_spot(grid, 5)
        insert_case(factory, grid, lon, lat)
        conn = connect(setup.redis_url)
        try:
            versions.bump(conn, ["cases", "kpis"])
        finally:
            conn.close()
        page.wait_for_function(
            "n => parseInt(document.querySelector('#wall-kpi-now-open').textContent.replace(/,/g, '')) > n",
            arg=before,
            timeout=30000,
        )
        assert int(page.inner_text("#wall-kpi-now-open").replace(",", "").strip()) == before + 1
    finally:
        context.close()
