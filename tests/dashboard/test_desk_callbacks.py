"""The duty desk's Dash callbacks on the real app with sign-in required (the real test database and
Redis), posted through Flask's test client as the renderer posts them — with the session's CSRF
token, and as an attacker with a valid session would forge them: another street's place or alert, a
wall account, no token, a title of 10,000 characters, script tags and bidi characters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from data.auth import audit_rows, create_user
from data.db import transaction
from data.models import Alert, AlertEvent, AuditLog, Case, CaseEvent
from data.seed import seed_catalogue
from layers import versions
from tests.dashboard.test_access_scope import callback_body, post_callback, route
from tests.dashboard.test_auth_web import ADDR, PASSWORD, page_text, sign_in
from tests.layers.hierarchy import STREETS, add_alert

WEST, EAST = STREETS


@pytest.fixture
def web(settings, redis_url, redis_conn, engine, session_factory, grids) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from dashboard.app import create_app
    from dashboard.services import services

    with transaction(session_factory) as session:
        seed_catalogue(session)
        west = add_alert(session, grids[:2], headline="巴川暴雨预警")
        east = add_alert(session, grids[4:6], headline="东城暴雨预警")
        create_user(session, "street1", PASSWORD, "duty", WEST)
        create_user(session, "leader", PASSWORD, "leader", "500151")
        create_user(session, "wall1", PASSWORD, "wall", "500151")
        ids = {"west_alert": west.id, "east_alert": east.id}
    versions.bump(redis_conn, ["units", "cases", "alerts"])
    app = create_app(settings.model_copy(update={"redis_url": redis_url, "auth_required": True}))
    app.server.config["GRIDCC_TEST_IDS"] = ids
    yield app
    services(app.server).close()


def client_as(web: Any, username: str) -> Any:
    client = web.server.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDR
    assert sign_in(client, username).status_code == 302
    return client


def written(session_factory) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    with session_factory() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(m)) or 0
            for m in (Case, CaseEvent, AlertEvent, AuditLog)
        ) + (session.scalar(select(func.count()).select_from(Alert).where(Alert.state != "new")) or 0,)


FORM = {
    "desk-file-category.value": "city.street_vending",
    "desk-file-priority.value": "urgent",
    "desk-file-street.value": WEST,
    "desk-file-community.value": WEST + "001",
    "desk-file-title.value": "来电：<script>alert(1)</script>\u202e夜市占道",
    "desk-file-description.value": "中兴路夜市\u200b占道，电话13912345678",
    "desk-file-reporter.value": "李女士",
    "desk-file-phone.value": "13912345678",
    "desk-file-submit.n_clicks": 1,
}


def file_body(client: Any, **changes: Any) -> dict[str, Any]:
    return callback_body(client, "desk-file-dialog.hidden", {**FORM, **changes}, "desk-file-submit.n_clicks")


def answer(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.status_code
    return dict(response.get_json()["response"])


def test_the_duty_page_offers_the_desk_to_a_duty_officer(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    client = client_as(web, "street1")
    text = page_text(route(client, "/duty"))
    assert "登记" in text and "转为案件" in text and "排除" in text
    body = json.dumps(route(client, "/duty").get_json(), ensure_ascii=False)
    assert '"desk-file-open"' in body and '"hidden": false' in body.split('"desk-file-open"')[1][:200]
    # the street select offers the officer's own street only
    assert (
        "东城街道"
        not in body.split('"desk-file-street"')[0][-2000:] + body.split('"desk-file-street"')[1][:600]
    )


def test_a_duty_officer_files_a_case_through_the_callback(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    client = client_as(web, "street1")
    before = written(session_factory)
    # without the CSRF token: refused before any callback runs, nothing written
    assert post_callback(client, file_body(client), csrf=False).status_code == 403
    assert written(session_factory) == before
    out = answer(post_callback(client, file_body(client)))
    assert out["desk-file-dialog"]["hidden"] is True
    result = json.dumps(out["desk-result"], ensure_ascii=False)
    assert "已登记 DESK-" in result and "/cases/" in result
    with session_factory() as session:
        case = session.scalars(select(Case).where(Case.feed_name == "desk")).one()
        assert case.title == "来电：<script>alert(1)</script>夜市占道"  # markup kept as text, bidi gone
        assert case.description == "中兴路夜市占道，电话13912345678"
        assert (case.community_code, case.reporter_phone, case.priority) == (
            WEST + "001",
            "13912345678",
            "urgent",
        )
        event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).one()
        assert (event.kind, event.actor) == ("created", "street1")
        rows = audit_rows(session, action="desk_file")
        assert [(r.actor, r.target, r.remote_addr) for r in rows] == [("street1", f"case:{case.id}", ADDR)]


EAST_PLACE = {"desk-file-street.value": EAST, "desk-file-community.value": EAST + "001"}
ATTACKS = [
    ("another street's community", "street1", EAST_PLACE, "所选位置不在您的管辖范围内"),
    (
        "a 10,000-character title",
        "street1",
        {"desk-file-title.value": "长" * 10_000},
        "标题过长：10000 字，最多 200 字",
    ),
    ("an impossible category", "street1", {"desk-file-category.value": "x' OR '1'"}, "请选择类别表中的类别"),
    ("a wall account", "wall1", {}, "您的账号无权办理此事项"),
]


@pytest.mark.parametrize(("what", "user", "changes", "message"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_forged_filings_are_refused_and_write_nothing(  # type: ignore[no-untyped-def]
    web, session_factory, what: str, user: str, changes: dict[str, Any], message: str
) -> None:
    client = client_as(web, user)
    before = written(session_factory)
    out = answer(post_callback(client, file_body(client, **changes)))
    assert out["desk-file-message"]["children"] == message, what
    assert "desk-file-dialog" not in out  # the form stays open with what was typed
    assert written(session_factory) == before


def convert_body(client: Any, trigger: str, alert: Any, **values: Any) -> dict[str, Any]:
    base = {
        "desk-convert-request.data": {"alert": str(alert), "at": 1},
        "desk-convert-alert.data": alert,
        "desk-convert-category.value": "safety",
        "desk-convert-priority.value": "urgent",
    }
    if trigger.endswith(".n_clicks"):
        base[trigger] = 1
    return callback_body(client, "desk-convert-dialog.hidden", {**base, **values}, trigger)


def test_an_alert_becomes_a_case_through_the_callbacks(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    ids = web.server.config["GRIDCC_TEST_IDS"]
    client = client_as(web, "street1")
    # the card's button: the dialog opens for the alert, found again in the officer's scope
    opened = answer(
        post_callback(client, convert_body(client, "desk-convert-request.data", ids["west_alert"]))
    )
    assert (opened["desk-convert-dialog"]["hidden"], opened["desk-convert-head"]["children"]) == (
        False,
        "巴川暴雨预警",
    )
    # another street's alert: the dialog does not open
    other = answer(
        post_callback(client, convert_body(client, "desk-convert-request.data", ids["east_alert"]))
    )
    assert other["desk-convert-dialog"]["hidden"] is True
    before = written(session_factory)
    # a forged submit naming the other street's alert: refused, nothing written
    forged = answer(
        post_callback(client, convert_body(client, "desk-convert-submit.n_clicks", ids["east_alert"]))
    )
    assert forged["desk-convert-message"]["children"] == "无法办理：预警不存在、已处理或不在管辖范围内"
    assert written(session_factory) == before
    done = answer(
        post_callback(client, convert_body(client, "desk-convert-submit.n_clicks", ids["west_alert"]))
    )
    assert done["desk-convert-dialog"]["hidden"] is True
    with session_factory() as session:
        alert = session.get(Alert, ids["west_alert"])
        assert alert is not None and alert.state == "linked" and alert.case_id is not None
        case = session.get(Case, alert.case_id)
        assert case is not None and case.title == "巴川暴雨预警" and case.street_code == WEST
    # the card now names the case; the case page names the alert
    duty = json.dumps(route(client, "/duty").get_json(), ensure_ascii=False)
    assert "已转案件" in duty and case.external_id in duty
    page = page_text(route(client, f"/cases/{case.id}"))
    assert "来源预警" in page and f"#{ids['west_alert']}" in page and "由预警" in page


def dismiss_body(client: Any, alert: Any, reason: Any, note: str) -> dict[str, Any]:
    values = {
        "desk-dismiss-request.data": {"alert": str(alert), "at": 1},
        "desk-dismiss-alert.data": alert,
        "desk-dismiss-reason.value": reason,
        "desk-dismiss-note.value": note,
        "desk-dismiss-submit.n_clicks": 1,
    }
    return callback_body(client, "desk-dismiss-dialog.hidden", values, "desk-dismiss-submit.n_clicks")


def test_dismissing_an_alert_through_the_callback(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    ids = web.server.config["GRIDCC_TEST_IDS"]
    client = client_as(web, "street1")
    leader = client_as(web, "leader")  # may not acknowledge alerts, so may not dismiss them
    before = written(session_factory)  # (after the sign-ins' own audit rows)
    for alert, reason, message in (
        (ids["east_alert"], "false_alarm", "无法办理：预警不存在、已处理或不在管辖范围内"),
        (ids["west_alert"], None, "请选择排除原因"),
        (ids["west_alert"], "other", "请填写说明"),
        ("1 or 1=1", "false_alarm", "无法办理：预警不存在、已处理或不在管辖范围内"),
    ):
        out = answer(post_callback(client, dismiss_body(client, alert, reason, "")))
        assert out["desk-dismiss-message"]["children"] == message
    out = answer(post_callback(leader, dismiss_body(leader, ids["west_alert"], "false_alarm", "")))
    assert out["desk-dismiss-message"]["children"] == "您的账号无权办理此事项"
    assert written(session_factory) == before
    out = answer(
        post_callback(client, dismiss_body(client, ids["west_alert"], "false_alarm", "现场核实无积水"))
    )
    assert out["desk-dismiss-dialog"]["hidden"] is True
    with session_factory() as session:
        assert session.get(Alert, ids["west_alert"]).state == "dismissed"  # type: ignore[union-attr]
        rows = audit_rows(session, action="desk_alert_dismiss")
        assert [(r.actor, r.detail, r.remote_addr) for r in rows] == [
            ("street1", "false_alarm: 现场核实无积水", ADDR)
        ]
    assert "巴川暴雨预警" not in page_text(route(client, "/duty"))
