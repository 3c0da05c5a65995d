"""The duty desk in real Chromium against the shared demo stack: choosing a street changes the table (every
row in that street) and the map (zoomed in, the street outlined, the case layer's URL carries the street);
the URL holds the filters and a reload restores them (signed in as the district's leader);
acknowledging an alert writes the event and an audit row (signed in as the first street's duty officer)."""

from __future__ import annotations

import csv
import io
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import shapely
from sqlalchemy import func, select

from data.db import make_engine, make_sessionmaker, transaction
from data.models import AdminUnit, Alert, AlertEvent, AlertGrid, AuditLog, Case
from data.redis_server import connect
from layers import versions
from tests.browser.conftest import screenshot, sign_in_as
from tests.browser.test_map_smoke import SHOWN_LABELS, label_clashes, settle_labels

ROWS_JS = """() => {
    const api = dash_ag_grid.getApi('duty-grid');
    const rows = [];
    api.forEachNodeAfterFilter(n => rows.push(n.data));
    return rows;
}"""


def _busiest_street(database_url: str, timeout: float = 120) -> tuple[str, str, int]:
    """(code, name, open cases) of the street with the most open cases received in the last 30 days,
    once the feeds brought some to at least two streets."""
    engine = make_engine(database_url)
    deadline = time.monotonic() + timeout
    since = datetime.now(UTC) - timedelta(days=29)
    try:
        while True:
            with engine.connect() as conn:
                rows = conn.execute(
                    select(Case.street_code, AdminUnit.name, func.count())
                    .join(AdminUnit, AdminUnit.code == Case.street_code)
                    .where(Case.is_open.is_(True), Case.requested_at >= since)
                    .group_by(Case.street_code, AdminUnit.name)
                    .order_by(func.count().desc(), Case.street_code)
                ).all()
            if len(rows) >= 2:
                return rows[0][0], rows[0][1], rows[0][2]
            if time.monotonic() > deadline:
                raise AssertionError("the feeds brought no open cases to two streets")
            time.sleep(1)
    finally:
        engine.dispose()


def _rows(page: Any) -> list[dict[str, Any]]:
    page.wait_for_function("window.dash_ag_grid && dash_ag_grid.getApi('duty-grid')", timeout=30000)
    return page.evaluate(ROWS_JS)


def _choose(page: Any, selector: str, option: str) -> None:
    page.click(selector)
    page.get_by_role("option", name=option, exact=True).click()


def test_street_filters_table_map_and_url(stack, page_and_log) -> None:
    page, log = page_and_log
    code, name, _ = _busiest_street(stack.database_url)
    sign_in_as(page, stack, "leader")  # the whole district: every street to choose from
    page.goto(f"{stack.url}duty")
    page.wait_for_selector(".ag-row", timeout=60000)
    everything = _rows(page)
    assert len({r["street"] for r in everything}) >= 2
    assert "lod-street" in page.locator(".duty-map .gridcc-map-wrap").get_attribute("class")

    _choose(page, "#duty-street", name)
    page.wait_for_function("s => location.search.includes('street=' + s)", arg=code, timeout=30000)
    page.wait_for_function(
        "n => { const a = dash_ag_grid.getApi('duty-grid'); let k = 0, other = 0;"
        " a.forEachNode(x => { k++; if (x.data.street !== n) other++; }); return k > 0 && other === 0; }",
        arg=name,
        timeout=30000,
    )
    rows = _rows(page)
    assert rows and {r["street"] for r in rows} == {name}
    assert len(rows) < len(everything)
    assert page.locator("#duty-case-count").inner_text().startswith(f"{len(rows)} 件")
    # the map: the case layer asks for this street only, zoomed in past the street level, outlined
    page.wait_for_function(
        "s => performance.getEntriesByType('resource').some(e => e.name.includes('cases.pbf') &&"
        " e.name.includes('street=' + s))",
        arg=code,
        timeout=30000,
    )
    page.wait_for_function(
        "() => !document.querySelector('.duty-map .gridcc-map-wrap').className.includes('lod-street')",
        timeout=30000,
    )
    assert page.locator(".leaflet-duty-highlight-pane path").count() >= 1
    # the street's village and community names: never edge to edge (read as one run of text), a gap
    # between any two shown side by side (assets/gridcc_map.js: declutter)
    # (once the labels settled: counts arrive after the outlines, and each re-runs the declutter)
    page.wait_for_timeout(1000)
    settle_labels(page)
    assert page.evaluate(SHOWN_LABELS) >= 2
    clashes = label_clashes(page)
    assert clashes == [], clashes

    # a second filter, then a reload: the view comes back from the URL alone
    page.get_by_text("近30天", exact=True).click()
    page.wait_for_function("() => location.search.includes('period=30d')", timeout=30000)
    search = page.evaluate("location.search")
    assert f"street={code}" in search
    # 导出: the link follows the filters, and the file holds this street's open cases only
    page.wait_for_function(
        "s => document.querySelector('#duty-export').getAttribute('href') === '/export/cases.csv' + s",
        arg=search,
        timeout=30000,
    )
    exported = page.request.get(stack.url.rstrip("/") + page.locator("#duty-export").get_attribute("href"))
    assert exported.status == 200 and exported.headers["content-type"] == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(exported.body().decode("utf-8-sig"), newline="")))
    assert table[0][:4] == ["编号", "标题", "类别", "镇街"]
    assert len(table) > 1 and {r[3] for r in table[1:]} == {name}
    page.reload()
    page.wait_for_selector(".ag-row", timeout=60000)
    assert page.evaluate("location.search") == search
    assert page.locator("#duty-street").input_value() == name
    assert page.locator(".duty-period input[value='30d']").is_checked()
    restored = _rows(page)
    assert restored and {r["street"] for r in restored} == {name}
    page.wait_for_timeout(1200)
    screenshot(page, "duty")

    # a row: ringed on the map, with a link to the case
    placed = next((i for i, r in enumerate(restored) if r.get("lat") is not None), None)
    if placed is not None:
        page.locator(f".ag-center-cols-container .ag-row[row-id='{restored[placed]['id']}']").click()
        page.wait_for_selector("#duty-selected a.duty-open-case", timeout=30000)
        href = page.locator("#duty-selected a.duty-open-case").get_attribute("href")
        assert href == f"/cases/{restored[placed]['id']}"
        page.wait_for_selector("path.duty-highlight-ring", timeout=30000)
        page.wait_for_timeout(1000)
        screenshot(page, "duty_selected")
    log.assert_clean()


def _new_alert(database_url: str, redis_url: str) -> tuple[int, str]:
    """A new (unacknowledged) noise alarm over one grid of the stack's district; its id and headline."""
    engine = make_engine(database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            grid = session.execute(
                select(AdminUnit.code, AdminUnit.geometry, AdminUnit.name)
                .where(AdminUnit.level == "grid")
                .order_by(AdminUnit.code)
                .limit(1)
            ).one()
            area = shapely.from_wkb(grid.geometry)
            centre = area.representative_point()
            headline = f"噪声超标 <b>测试</b> {uuid.uuid4().hex[:6]}"
            alert = Alert(
                feed_name="browser-test",
                external_id=f"duty-{uuid.uuid4().hex}",
                kind="noise",
                event="噪声超标",
                severity="Moderate",
                colour="yellow",
                headline=headline,
                # a long description, as CAP areaDescs often are: its card must still fit the screen
                area_desc="、".join([grid.name, *(f"滨江路{n}号至{n + 20}号" for n in range(1, 400, 20))]),
                geometry=shapely.to_wkb(centre),
                lon=centre.x,
                lat=centre.y,
                state="new",
                onset=datetime.now(UTC),
                expires=datetime.now(UTC) + timedelta(hours=2),
            )
            alert.set_place(grid.code)
            session.add(alert)
            session.flush()
            session.add(AlertGrid(alert_id=alert.id, grid_code=grid.code))
            alert_id = alert.id
    finally:
        engine.dispose()
    conn = connect(redis_url)
    versions.bump(conn, ["alerts"])
    conn.close()
    return alert_id, headline


def test_acknowledge_alert_writes_the_event(stack, page_and_log) -> None:
    page, log = page_and_log
    alert_id, headline = _new_alert(stack.database_url, stack.redis_url)
    sign_in_as(page, stack, "duty")  # the first street's duty officer: the alert is in its first grid
    page.goto(f"{stack.url}duty")
    card = page.locator(f".duty-alert[data-alert='{alert_id}']")
    card.wait_for(timeout=60000)
    assert "duty-alert-new" in card.get_attribute("class")  # flashing
    assert card.locator(".duty-alert-head").inner_text() == headline  # markup shown as text
    assert card.locator("b").count() == 0
    # every card, however long its list of covered grids, fits the screen with its 确认 button on it
    overflow = page.evaluate(
        "() => [...document.querySelectorAll('.duty-alert')]"
        ".map(c => c.getBoundingClientRect().right).filter(r => r > window.innerWidth)"
    )
    assert overflow == [], overflow
    card.locator("button.duty-ack").click()
    page.wait_for_function(
        "id => { const c = document.querySelector(`.duty-alert[data-alert='${id}']`);"
        " return c && !c.classList.contains('duty-alert-new'); }",
        arg=alert_id,
        timeout=30000,
    )
    assert card.locator(".duty-acked-by").inner_text().startswith("duty")
    engine = make_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            events = conn.execute(
                select(AlertEvent.kind, AlertEvent.actor).where(AlertEvent.alert_id == alert_id)
            ).all()
            state = conn.execute(select(Alert.state, Alert.acknowledged_by).where(Alert.id == alert_id)).one()
            audited = conn.execute(
                select(AuditLog.actor, AuditLog.remote_addr).where(
                    AuditLog.action == "alert_ack", AuditLog.target == f"alert:{alert_id}"
                )
            ).all()
    finally:
        engine.dispose()
    assert events == [("acknowledged", "duty")]
    assert state == ("acknowledged", "duty")
    assert audited == [("duty", "127.0.0.1")]
    log.assert_clean()


def test_an_empty_cases_layer_draws_nothing_and_throws_nothing(stack, page_and_log) -> None:
    """The server's answer for a cases layer that matches no case (an empty geobuf FeatureCollection) is
    drawn by the real dash-leaflet as nothing, with no page error. Python's geobuf wrote an empty
    collection as a bare header, which the browser's decoder read as ``{}``: dash-leaflet then threw
    "Cannot read properties of undefined (reading 'map')", the page error seen now and then on /duty and
    on the wall (an empty grid or case layer for the view); layers/encoding.py now writes the collection."""
    page, log = page_and_log
    sign_in_as(page, stack, "duty")
    empty = page.request.get(f"{stack.url}layers/cases.pbf?department=nosuchdept")
    assert empty.ok, empty.status
    body = empty.body()
    served: list[str] = []

    def answer_empty(route: Any) -> None:
        served.append(route.request.url)
        route.fulfill(status=200, body=body, headers={"Content-Type": "application/x-protobuf"})

    page.route("**/layers/cases.pbf*", answer_empty)
    page.goto(f"{stack.url}duty")
    page.wait_for_selector("#duty-case-count", timeout=60000)
    page.wait_for_function(
        "() => performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('cases.pbf')).length >= 2",
        timeout=30000,
    )  # the prefetch, then the layer's own fetch
    page.wait_for_timeout(1500)  # the layer decodes and draws after its fetch
    assert served
    assert page.locator(".duty-map .leaflet-gridcc-cases-pane path").count() == 0
    log.assert_clean()


SLOW_FILTER_ANSWER_JS = """ms => {
    // the answer to a filter change arrives late (a busy server): the next tick's request overtakes it
    const fetch0 = window.fetch;
    window.fetch = async (url, opts) => {
        const answer = await fetch0(url, opts);
        const body = opts && typeof opts.body === 'string' ? opts.body : '';
        const period = body.includes('"changedPropIds":["duty-period.value"]');
        if (String(url).includes('_dash-update-component') && period) {
            await new Promise(done => setTimeout(done, ms));
        }
        return answer;
    };
}"""


def test_a_filter_change_overtaken_by_a_tick_still_reaches_the_url(stack, page_and_log) -> None:
    """Dash keeps only the newest answer of a callback: a tick that fires while a filter change's answer
    is on its way supersedes it, and the filter must not be lost (CI saw 近30天 clicked and the URL never
    follow)."""
    page, _log = page_and_log
    sign_in_as(page, stack, "leader")
    page.goto(f"{stack.url}duty")
    page.wait_for_selector(".ag-row", timeout=60000)
    page.evaluate(SLOW_FILTER_ANSWER_JS, 7000)  # longer than the duty tick (5 s)
    page.get_by_text("近30天", exact=True).click()
    page.wait_for_function("() => location.search.includes('period=30d')", timeout=20000)
    assert page.locator(".duty-period input[value='30d']").is_checked()
