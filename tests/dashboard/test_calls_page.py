"""``/calls/<alert id>``, the duty officer's 预警叫应 screen, signed in on the real app, the real test
database and Redis: the silent grids with their workers — phones in full for the duty officer (each view
audited ``personal_view``), masked for a leader, none for a wall — and 再叫应, which writes one new call
per silent grid of the officer's own street to the outbox (audited ``call_recall``). A duty officer of
another street sees no call and calls no one; a 再叫应 without the CSRF token, or by a leader, writes
nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from data.auth import audit_rows, create_user
from data.db import transaction
from data.loop.calls import sync_alert
from data.loop.outbox import mark_delivered
from data.models import AlertCall, OutboxMessage
from layers import versions
from tests.dashboard.test_access_scope import callback_body, post_callback, route
from tests.dashboard.test_auth_web import ADDR, PASSWORD, page_text, sign_in
from tests.layers.hierarchy import STREETS, add_alert

WEST, EAST = STREETS
PHONE = re.compile(r"(?<![\d*])1[3-9]\d{9}(?!\d)")


@pytest.fixture
def web(settings, redis_url, redis_conn, engine, session_factory, grids) -> Iterator[tuple[Any, int]]:  # type: ignore[no-untyped-def]
    """A warning over the west street's four grids, its calls delivered (one has answered); accounts."""
    from dashboard.app import create_app
    from dashboard.services import services

    west = [g for g in grids if g.startswith(WEST)]
    with transaction(session_factory) as session:
        alert = add_alert(session, west, headline="西边暴雨橙色预警")
        for message in sync_alert(session, alert, datetime.now(UTC)).messages:  # as the workers deliver them
            mark_delivered(session, message.id, datetime.now(UTC))
        answered = session.scalars(select(AlertCall).where(AlertCall.grid_code == west[0])).one()
        answered.state, answered.answered_at = "received", datetime.now(UTC)
        create_user(session, "duty1", PASSWORD, "duty", WEST)
        create_user(session, "duty_east", PASSWORD, "duty", EAST)
        create_user(session, "leader", PASSWORD, "leader", "500151")
        create_user(session, "wall1", PASSWORD, "wall", "500151")
        alert_id = alert.id
    versions.bump(redis_conn, ["alerts"])
    app = create_app(settings.model_copy(update={"redis_url": redis_url, "auth_required": True}))
    yield app, alert_id
    services(app.server).close()


def signed_in(app: Any, username: str) -> Any:
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDR
    assert sign_in(client, username).status_code == 302
    return client


def _recall(client: Any, alert_id: int, csrf: bool = True) -> Any:
    body = callback_body(
        client, "calls-message", {"calls-recall.n_clicks": 1, "calls-alert.data": {"alert": alert_id}},
        "calls-recall.n_clicks",
    )  # fmt: skip
    body["outputs"] = body["outputs"][0]  # one output: as the renderer sends it
    return post_callback(client, body, csrf=csrf)


def _audit(session_factory: Any, action: str) -> list[Any]:
    with session_factory() as session:  # closed: an open transaction would hold PostgreSQL's teardown
        return list(audit_rows(session, action=action))


def _outbox(session_factory: Any) -> int:
    with session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def test_the_duty_officer_sees_the_silent_grids_phones_in_full_audited(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    app, alert_id = web
    text = page_text(route(signed_in(app, "duty1"), f"/calls/{alert_id}"))
    assert "未应答网格 3 个" in text and "已应答网格 1 个" in text and "已叫应 1/4 网格" in text, text
    assert len(set(PHONE.findall(text))) == 4 and "再叫应" in text
    rows = _audit(session_factory, "personal_view")
    assert [(r.actor, r.target) for r in rows] == [("duty1", f"calls:alert:{alert_id}")]
    assert rows[0].detail == "4 grid worker phones in full" and not PHONE.search(rows[0].detail)

    leader = page_text(route(signed_in(app, "leader"), f"/calls/{alert_id}"))
    assert "未应答网格 3 个" in leader and not PHONE.search(leader) and "****" in leader
    wall = page_text(route(signed_in(app, "wall1"), f"/calls/{alert_id}"))
    assert "未应答网格 3 个" in wall and not re.search(r"1[3-9]\d", wall.replace(str(alert_id), ""))
    assert "再叫应" not in leader and "再叫应" not in wall  # no button for who may not
    assert len(_audit(session_factory, "personal_view")) == 1  # masked views: no row


def test_recall_reaches_the_silent_grids_of_ones_own_street_only(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    app, alert_id = web
    before = _outbox(session_factory)

    east = signed_in(app, "duty_east")
    text = page_text(route(east, f"/calls/{alert_id}"))
    assert "没有该预警在您辖区内的叫应" in text and not PHONE.search(text)
    assert "没有该预警在您辖区内的叫应" in page_text(_recall(east, alert_id))
    assert "您的角色不能再叫应" in page_text(_recall(signed_in(app, "leader"), alert_id))
    duty = signed_in(app, "duty1")
    assert _recall(duty, alert_id, csrf=False).status_code in (400, 403)
    assert _outbox(session_factory) == before  # nothing written by any of them

    assert "已再叫应 3 个未应答网格" in page_text(_recall(duty, alert_id))
    assert _outbox(session_factory) == before + 3
    with session_factory() as session:
        silent = set(session.scalars(select(AlertCall.id).where(AlertCall.state == "calling")))
        new = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(3)).all()
        assert {m.call_id for m in new} == silent and all('"recall":true' in m.body for m in new)
    [row] = _audit(session_factory, "call_recall")
    assert (row.actor, row.target, row.remote_addr) == ("duty1", f"alert:{alert_id}", ADDR)
    # again at once: the calls have not left yet, so nothing more is written
    assert "没有需要再叫应的网格" in page_text(_recall(duty, alert_id))
    assert _outbox(session_factory) == before + 3
