"""Feed text is text, phones are masked — in real Chromium against the shared demo stack.

A case is filed through the 12345 simulator's Open311 POST with markup as its description and address;
once polled in, it shows as characters on /cases/<id>, in the map's popup and tooltip, and in /duty's
table, and nothing runs (no dialog, no <img src=x>). No response of /, /duty, /cases/<id> or /layers/*
carries an unmasked mobile number (signed in as the district's leader, a role that sees phones masked).
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from typing import Any

import geobuf
from sqlalchemy import func, select

from dashboard.i18n import js_strings
from data.db import make_engine
from data.models import AdminUnit, Case, Category
from tests.browser.conftest import http_client, open_page, sign_in_as
from tests.leaks import find_leaks

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"


def file_markup_case(stack: Any) -> dict[str, Any]:
    """POST the case to the 12345 simulator in a quiet category of one grid; wait until it is polled in."""
    engine = make_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            grid = conn.execute(
                select(AdminUnit.code, AdminUnit.label_lon, AdminUnit.label_lat)
                .where(AdminUnit.level == "grid")
                .order_by(AdminUnit.code.desc())
                .limit(1)
            ).one()
            used = dict(
                conn.execute(
                    select(Case.category_code, func.count())
                    .where(Case.street_code == grid.code[:9])
                    .group_by(Case.category_code)
                ).all()
            )
            leaves = (
                conn.execute(select(Category.code).where(Category.parent_code.is_not(None))).scalars().all()
            )
        category = min(leaves, key=lambda c: (used.get(c, 0), c))
        form = {
            "service_code": category,
            "description": IMG,
            "address_string": SCRIPT,
            "lat": f"{grid.label_lat:.6f}",
            "long": f"{grid.label_lon:.6f}",
        }
        request = urllib.request.Request(
            f"{stack.simulator_url(0)}/requests.json",
            data=urllib.parse.urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        answer = json.loads(_get_request(request))
        assert answer and answer[0]["service_request_id"], answer
        deadline = time.monotonic() + 180
        while True:
            with engine.connect() as conn:
                row = conn.execute(
                    select(Case.id, Case.street_code, Case.category_code, Case.lon, Case.lat).where(
                        Case.description == IMG, Case.address == SCRIPT
                    )
                ).first()
            if row is not None:
                return {
                    "id": row.id,
                    "street": row.street_code,
                    "category": row.category_code,
                    "lon": row.lon,
                    "lat": row.lat,
                }
            assert time.monotonic() < deadline, "the posted case never reached the database"
            time.sleep(1)
    finally:
        engine.dispose()


def _get_request(request: urllib.request.Request) -> bytes:
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - 127.0.0.1 only
        return bytes(response.read())


def watch(page: Any) -> tuple[list[str], list[tuple[str, bytes]]]:
    """Dialogs opened and (url, body) of every response of the app (for the phone check)."""
    dialogs: list[str] = []
    bodies: list[tuple[str, bytes]] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_response(response: Any) -> None:
        try:
            bodies.append((response.url, response.body()))
        except Exception:  # noqa: BLE001 - redirects and aborted requests have no body
            pass

    page.on("dialog", on_dialog)
    page.on("response", on_response)
    return dialogs, bodies


def test_markup_is_text_and_phones_are_masked(stack, browser) -> None:
    case = file_markup_case(stack)
    page, log = open_page(browser)
    sign_in_as(page, stack, "leader")  # a district leader: phones masked
    dialogs, bodies = watch(page)
    try:
        # the case page
        page.goto(f"{stack.url}cases/{case['id']}")
        page.wait_for_selector(".case-description", timeout=30000)
        assert page.locator(".case-description").inner_text() == IMG
        assert page.locator(".case-address").inner_text() == SCRIPT
        page.locator(".case-map-marker").first.hover(force=True)
        page.wait_for_selector(".case-map .leaflet-tooltip", timeout=10000)
        assert page.locator(".case-map .leaflet-tooltip").inner_text() == SCRIPT

        # the duty table: the case's street and category, its address cell as characters
        page.goto(f"{stack.url}duty?street={case['street']}&category={case['category']}")
        cell = page.locator(".ag-cell", has_text="<script>alert(2)</script>")
        cell.first.wait_for(timeout=60000)
        assert cell.first.inner_text() == SCRIPT

        # the wall's map: the real popup and tooltip functions on the real layer payload of this case
        page.goto(stack.url)
        page.wait_for_selector(".leaflet-container", timeout=60000)
        props = _case_feature(stack, case["id"])
        assert props["address"] == SCRIPT  # a plain string in the payload
        shown = page.evaluate(
            """([p, lat, lon, strings]) => {
                const box = document.createElement('div');
                box.style.cssText = 'position:fixed;left:0;top:0;width:480px;height:360px;z-index:99999';
                document.body.appendChild(box);
                const map = L.map(box, {zoomControl: false}).setView([lat, lon], 16);
                const ctx = {hideout: {strings: strings, tz: 'Asia/Shanghai', cases: {}}, pane: 'markerPane'};
                const at = L.latLng(lat, lon);
                const marker = window.gridcc.map.casePoint({properties: p}, at, ctx).addTo(map);
                marker.openTooltip();
                const tip = marker.getTooltip().getElement().textContent;
                marker.openPopup();
                const popup = marker.getPopup().getElement().textContent;
                const imgs = box.querySelectorAll('img').length + box.querySelectorAll('script').length;
                map.remove(); box.remove();
                return {tip, popup, imgs};
            }""",
            [props, case["lat"], case["lon"], js_strings("zh-CN")],
        )
        assert shown["tip"] == props["title"]
        assert SCRIPT in shown["popup"]
        assert shown["imgs"] == 0

        page.wait_for_timeout(1500)  # let the wall's layer requests land
        assert page.evaluate("document.querySelector('img[src=\"x\"]')") is None
        assert dialogs == []
        log.assert_clean()
    finally:
        page.context.close()

    # no unmasked phone in any page, callback or layer response
    # (a page's first layout comes in its HTML, dashboard/first_page.py; what changes after, by callbacks)
    checked = [u for u, _ in bodies if "/layers/" in u or "_dash-update-component" in u or "/cases/" in u]
    assert any("/layers/cases.pbf" in u for u in checked) and any("/cases/" in u for u in checked)
    assert any("/duty?" in u for u, _ in bodies)
    full = [
        (u, [f for f in find_leaks(b.decode("utf-8", "replace")) if f.startswith("mobile:")])
        for u, b in bodies
    ]
    assert [(u, found) for u, found in full if found] == []  # tests/leaks.py: Dash's end_id is no phone


def _case_feature(stack: Any, case_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        client = http_client(stack, "leader")
        v = client.get("api/versions").json()["cases"]
        for feature in geobuf.decode(client.get(f"layers/cases.pbf?v={v}").content)["features"]:
            if feature["properties"]["id"] == case_id:
                return dict(feature["properties"])
        assert time.monotonic() < deadline, "the case never reached the cases layer"
        time.sleep(1)
