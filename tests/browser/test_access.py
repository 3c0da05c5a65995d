"""Sign-in, roles and area scopes against the shared demo stack (sign-in required, the demo's accounts):
in real Chromium, the first street's duty officer sees only that street (the duty page's street list,
the map's case layer and units, the wall's KPIs — compared with the database), and a leader issues a
supervision card that shows on the case's timeline and, for the admin, in ``/audit``; with httpx, forged
requests for the other streets get nothing, a wall's payloads carry no phone number at all, a request
without the CSRF token is refused, and the tenth wrong password in a minute is refused.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import geobuf
import httpx
from sqlalchemy import func, select

from data.db import make_engine, make_sessionmaker, transaction
from data.models import AdminUnit, Case, CaseEvent
from tests.browser.conftest import file_case, http_client, sign_in_as, wall_signed_in
from tests.leaks import find_leaks
from tests.stack import Demo

STREET = "500151001"  # the demo's duty account: the district's first street


def _open_counts(stack: Demo) -> tuple[int, int, set[int]]:
    """(open cases in the street, open cases in the district, ids of the street's cases) right now."""
    engine = make_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            street = conn.scalar(
                select(func.count()).where(Case.is_open.is_(True), Case.street_code == STREET)
            )
            district = conn.scalar(select(func.count()).where(Case.is_open.is_(True)))
            ids = set(conn.scalars(select(Case.id).where(Case.street_code == STREET)))
    finally:
        engine.dispose()
    return int(street or 0), int(district or 0), ids


def _streets_of(stack: Demo, case_ids: set[int]) -> set[str | None]:
    """The streets of these cases, read after the payloads that named them (new cases keep coming)."""
    if not case_ids:
        return set()
    engine = make_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(select(Case.street_code).where(Case.id.in_(case_ids))))
    finally:
        engine.dispose()


def _wait_for_cases(stack: Demo, timeout: float = 120) -> None:
    """At least one open case in the first street. The demo's ~50 open cases over 28 streets leave a
    street empty about one time in six, so one is filed there through the 12345 simulator's Open311 POST
    (the way a resident's call comes in) and the feed's poll brings it in."""
    engine = make_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            lon, lat = conn.execute(
                select(AdminUnit.label_lon, AdminUnit.label_lat)
                .where(AdminUnit.level == "grid", AdminUnit.code.startswith(STREET))
                .order_by(AdminUnit.code)
                .limit(1)
            ).one()
    finally:
        engine.dispose()
    file_case(stack, "路灯不亮，请尽快维修（权限测试）", "巴川街道 权限测试", float(lon), float(lat))
    deadline = time.monotonic() + timeout
    while _open_counts(stack)[0] < 1:
        assert time.monotonic() < deadline, "no open case reached the first street"
        time.sleep(1)


def test_street_officer_sees_only_the_street(stack: Demo, page_and_log: tuple[Any, Any]) -> None:
    page, log = page_and_log
    _wait_for_cases(stack)
    sign_in_as(page, stack, "duty")
    page.goto(f"{stack.url}duty")
    page.wait_for_selector(".ag-row", timeout=60000)
    assert page.locator("#gridcc-user .user-name").inner_text() == "巴川街道值班员"
    page.click("#duty-street")
    options = page.get_by_role("option").all_inner_texts()
    assert options == ["巴川街道"], options
    page.keyboard.press("Escape")
    rows = page.evaluate(
        "() => { const r = []; dash_ag_grid.getApi('duty-grid').forEachNode(n => r.push(n.data)); return r; }"
    )
    assert rows and {r["street"] for r in rows} == {"巴川街道"}
    assert _streets_of(stack, {int(r["id"]) for r in rows}) == {STREET}
    # the map's payloads, as the page fetched them: the street's units and cases only
    page.wait_for_function(
        "() => performance.getEntriesByType('resource').some(e => e.name.includes('/layers/cases.pbf'))",
        timeout=30000,
    )
    client = http_client(stack, "duty")
    loaded = page.evaluate(
        "() => performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => n.includes('/layers/cases.pbf')"
        " || (n.includes('/layers/units/') && n.includes('.pbf')))"
    )
    on_map: set[int] = set()
    for url in loaded:
        collection = geobuf.decode(client.get(url).content) or {"features": []}
        for feature in collection["features"]:
            props = feature["properties"]
            if "/units/" in url and props.get("level") != "district":
                assert props["code"].startswith(STREET), (url, props["code"])
            if "/cases.pbf" in url:
                on_map.add(int(props["id"]))
    assert on_map and _streets_of(stack, on_map) == {STREET}

    # the wall, as the same officer: its KPIs count the street's open cases, not the district's
    before, district, _ = _open_counts(stack)
    page.goto(stack.url)
    page.wait_for_selector("#wall-kpi-now-open", timeout=60000)
    shown = int(page.inner_text("#wall-kpi-now-open").replace(",", "") or 0)
    after, _, _ = _open_counts(stack)
    assert min(before, after) - 3 <= shown <= max(before, after) + 3, (shown, before, after)
    assert district > max(before, after) + 3  # and far from the district's count
    log.assert_clean()


def _fresh_case(stack: Demo) -> int:
    """An open, on-time case without a card, in the district's first grid."""
    engine = make_engine(stack.database_url)
    now = datetime.now(UTC)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            grid = session.execute(
                select(AdminUnit.code, AdminUnit.label_lon, AdminUnit.label_lat)
                .where(AdminUnit.level == "grid")
                .order_by(AdminUnit.code)
                .limit(1)
            ).one()
            case = Case(
                feed_name="browser-test",
                external_id=f"card-{uuid.uuid4().hex[:10]}",
                source="12345",
                department_code="city_management",
                category_code="city.manhole",
                category_name="井盖缺失",
                title="测试：督办卡",
                description="测试：督办卡",
                address="测试地址",
                status="in_progress",
                requested_at=now - timedelta(days=1),
                accepted_at=now - timedelta(days=1),
                deadline_at=now + timedelta(days=2),
                lon=grid.label_lon,
                lat=grid.label_lat,
                placement="point",
                is_open=True,
                supervision="none",
            )
            case.set_place(grid.code)
            session.add(case)
            session.flush()
            session.add(CaseEvent(case_id=case.id, at=now, kind="created", to_status="in_progress"))
            return int(case.id)
    finally:
        engine.dispose()


def test_leader_card_on_the_timeline_and_in_the_audit(stack: Demo, page_and_log: tuple[Any, Any]) -> None:
    page, log = page_and_log
    case_id = _fresh_case(stack)
    sign_in_as(page, stack, "leader")
    page.goto(f"{stack.url}cases/{case_id}")
    page.wait_for_selector("#case-card-yellow", timeout=30000)
    assert page.locator("#case-card-cancel").is_disabled()
    page.click("#case-card-yellow")
    page.wait_for_function(
        "() => document.querySelector('#case-supervise-msg').textContent === '已发黄牌督办。'", timeout=30000
    )
    last = page.locator(".case-event").last
    assert last.locator(".kind").inner_text() == "黄牌督办"
    assert last.locator(".actor").inner_text() == "leader"
    page.click("#case-card-cancel")
    page.wait_for_function(
        "() => document.querySelector('#case-supervise-msg').textContent === '已撤销督办。'", timeout=30000
    )
    assert page.locator(".case-event .kind").last.inner_text() == "撤销督办"
    page.reload()  # it is stored: the timeline shows both after a reload
    page.wait_for_selector(".case-event.ev-card-cancel", timeout=30000)
    log.assert_clean()

    # the administrator reads both actions in /audit
    sign_in_as(page, stack, "admin")
    page.goto(f"{stack.url}audit?actor=leader")
    page.wait_for_selector(".audit-table", timeout=30000)
    rows = page.locator(f".audit-row:has(td.target:text-is('case:{case_id}'))")
    assert sorted(rows.locator("td.action").all_inner_texts()) == ["撤销督办", "督办"]
    log.assert_clean()


def _props_by_id(node: Any, found: dict[str, Any] | None = None) -> dict[str, Any]:
    """The props of every component with a string id in a Dash JSON answer."""
    found = {} if found is None else found
    if isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and isinstance(props.get("id"), str):
            found[props["id"]] = props
        for value in node.values():
            _props_by_id(value, found)
    elif isinstance(node, list):
        for value in node:
            _props_by_id(value, found)
    return found


def test_forged_requests_for_other_streets_get_nothing(stack: Demo) -> None:
    _wait_for_cases(stack)
    client = http_client(stack, "duty")
    other = "500151002"
    assert geobuf.decode(client.get(f"layers/cases.pbf?street={other}&v=1").content) == {
        "type": "FeatureCollection",
        "features": [],
    }
    for url in ("layers/cases.pbf", "layers/cases.pbf?v=99"):
        decoded = geobuf.decode(client.get(url).content) or {"features": []}
        assert _streets_of(stack, {int(f["properties"]["id"]) for f in decoded["features"]}) == {STREET}
    for level in ("street", "community"):
        units = geobuf.decode(client.get(f"layers/units/{level}.pbf?v=1").content)
        assert units and all(f["properties"]["code"].startswith(STREET) for f in units["features"])
    counts = client.get("layers/counts/community.json?v=1").json()
    assert all(code.startswith(STREET) for code in counts)
    features = client.get("layers/alerts.json").json()["features"]
    alerts = [a for a in features if "call" not in a["properties"]]  # 预警叫应's called grids: below
    assert all(g["code"].startswith(STREET) for a in alerts for g in a["properties"]["grids"])
    assert all(a["properties"]["grid"].startswith(STREET) for a in features if "call" in a["properties"])
    # a page bookmarked for another street shows the officer's own street
    body = {
        "output": "gridcc-page.children",
        "outputs": {"id": "gridcc-page", "property": "children"},
        "inputs": [{"id": "gridcc-url", "property": "pathname", "value": "/duty"}],
        "state": [{"id": "gridcc-url", "property": "search", "value": f"?street={other}"}],
        "changedPropIds": ["gridcc-url.pathname"],
    }
    token = client.cookies.get("_csrf_token") or ""
    answer = client.post("_dash-update-component", json=body, headers={"X-CSRFToken": token})
    assert answer.status_code == 200
    props = _props_by_id(answer.json())
    assert [o["value"] for o in props["duty-street"]["data"]] == [STREET]  # one street to choose
    assert props["duty-street"].get("value") in (None, "")  # the other street was dropped
    rows = props["duty-grid"]["rowData"]
    assert rows and {r["street"] for r in rows} == {"巴川街道"}
    assert _streets_of(stack, {int(r["id"]) for r in rows}) == {STREET}
    # without the token, a state-changing request is refused
    assert client.post("_dash-update-component", json=body).status_code == 403
    assert client.post("api/wall", json={"want": {"minute": 1}, "have": {}}).status_code == 403


def test_wall_payloads_carry_no_phone(stack: Demo, page_and_log: tuple[Any, Any]) -> None:
    page, log = page_and_log
    bodies: list[tuple[str, bytes]] = []

    def keep(response: Any) -> None:
        try:
            bodies.append((response.url, response.body()))
        except Exception:  # noqa: BLE001 - redirects have no body
            pass

    page.on("response", keep)
    wall_signed_in(page, stack)
    for path in ("", "map"):
        page.goto(stack.url + path)
        page.wait_for_selector(".case-cluster, path.case-marker", timeout=90000)
        page.wait_for_timeout(2500)
    client = http_client(stack, "wall")
    for url in ("layers/alerts.json", "layers/risks.json", "layers/counts/grid.json?v=1"):
        bodies.append((url, client.get(url).content))
    checked = [u for u, _ in bodies]
    # the pages themselves (their first layout comes in the HTML: dashboard/first_page.py) and the layers
    assert {stack.url, stack.url + "map"} <= set(checked) and any("/layers/" in u for u in checked)
    # phones and ID numbers, full or masked (tests/leaks.py; not Dash's end_id, which is not a phone)
    leaks = [(u, find_leaks(b.decode("utf-8", "replace"))) for u, b in bodies]
    assert [(u, found) for u, found in leaks if found] == []
    features = json.loads(client.get("layers/alerts.json").content)["features"]
    alerts = [a for a in features if "call" not in a["properties"]]
    assert all("phone" not in w for a in alerts for g in a["properties"]["grids"] for w in g["workers"])
    # 预警叫应's called grids (drawn silent or answered): a grid's code and name, never a worker
    calls = [a["properties"] for a in features if "call" in a["properties"]]
    assert all(set(p) <= {"call", "state", "alert", "colour", "grid", "name"} for p in calls), calls[:3]
    log.assert_clean()


def test_tenth_wrong_password_in_a_minute_is_refused(stack: Demo) -> None:
    """Against the stack's own sign-in form: ten wrong passwords, then the right one — refused. On an
    account of its own, made with ``gridcc users add --password-stdin`` (the demo's stay usable)."""
    target, password = f"lock{uuid.uuid4().hex[:6]}", "the right one 42"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDCC_")}
    env["GRIDCC_DATA_DIR"] = str(stack.data_dir)
    added = subprocess.run(
        [sys.executable, "-m", "gridcc", "users", "add", target, "--role", "duty", "--scope", STREET,
         "--password-stdin"],
        input=password + "\n", env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    client = httpx.Client(base_url=stack.url, timeout=20)
    statuses = []
    for i in range(10):
        form = client.get("signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        statuses.append(
            client.post(
                "signin", data={"csrf_token": token, "username": target, "password": f"wrong {i}"}
            ).status_code
        )
    form = client.get("signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    right = client.post("signin", data={"csrf_token": token, "username": target, "password": password})
    assert statuses == [401] * 10 and right.status_code == 401
    assert client.get("api/versions").status_code == 401
