"""``/alerts``, the alert history: signed in on the real app, the real test database and Redis. A duty
officer sees its street's past alerts with every raise, acknowledgement and escalation; another
street's officer does not; a wall account is refused; odd query values fall back, never fail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from data.auth import create_user
from data.db import transaction
from data.models import AlertEvent
from layers import versions
from tests.dashboard.test_access_scope import route
from tests.dashboard.test_alert_phones_audit import signed_in
from tests.dashboard.test_auth_web import PASSWORD, page_text
from tests.layers.hierarchy import STREETS, add_alert

WEST, EAST = STREETS


@pytest.fixture
def web(settings, redis_url, redis_conn, engine, session_factory, grids) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A west warning raised 黄→橙 after duty1 acknowledged it, acknowledged again by duty2, then
    escalated; an old east warning; and one west warning from 40 days ago."""
    from dashboard.app import create_app
    from dashboard.services import services

    now = datetime.now(UTC)
    with transaction(session_factory) as session:
        west = add_alert(session, grids[:2], headline="西边暴雨预警<script>alert(1)</script>")
        west.sent_at = now - timedelta(hours=3)
        west.raised_at = now - timedelta(hours=2)
        west.escalated_at = now - timedelta(hours=1)
        west.acknowledged_by = "duty2"
        west.state = "acknowledged"
        for minutes, kind, detail, actor in (
            (170, "acknowledged", "duty1 确认", "duty1"),
            (120, "raised", "yellow→orange", "system"),
            (100, "acknowledged", "duty2 确认", "duty2"),
        ):
            session.add(
                AlertEvent(
                    alert_id=west.id,
                    at=now - timedelta(minutes=minutes),
                    kind=kind,
                    detail=detail,
                    actor=actor,
                )
            )
        east = add_alert(session, grids[4:5], headline="东边雷电预警")
        east.sent_at = now - timedelta(days=2)
        old = add_alert(session, grids[1:2], headline="四十天前的大风预警", colour="yellow")
        old.sent_at = now - timedelta(days=40)
        create_user(session, "duty1", PASSWORD, "duty", WEST)
        create_user(session, "duty_east", PASSWORD, "duty", EAST)
        create_user(session, "leader", PASSWORD, "leader", "500151")
        create_user(session, "wall1", PASSWORD, "wall", "500151")
    versions.bump(redis_conn, ["alerts"])
    app = create_app(settings.model_copy(update={"redis_url": redis_url, "auth_required": True}))
    yield app
    services(app.server).close()


def test_a_duty_officer_reads_its_streets_history_with_raises_and_acknowledgements(web: Any) -> None:
    text = page_text(route(signed_in(web, "duty1"), "/alerts"))
    assert "预警历史" in text and "共 1 条预警" in text
    assert "西边暴雨预警<script>alert(1)</script>" in text  # the feed's words, as text
    assert "东边雷电预警" not in text and "四十天前的大风预警" not in text
    assert "橙色→" not in text and "黄色→橙色" in text
    assert any(line.startswith("duty1 ") for line in text.splitlines())
    assert any(line.startswith("duty2 ") for line in text.splitlines())


def test_the_period_reaches_further_back_and_pages(web: Any) -> None:
    text = page_text(route(signed_in(web, "duty1"), "/alerts", "?days=90"))
    assert "共 2 条预警" in text and "四十天前的大风预警" in text
    leader = page_text(route(signed_in(web, "leader"), "/alerts", "?days=7"))
    assert "西边暴雨预警" in leader and "东边雷电预警" in leader and "共 2 条预警" in leader


def test_another_street_sees_only_its_own(web: Any) -> None:
    text = page_text(route(signed_in(web, "duty_east"), "/alerts", "?days=365"))
    assert "东边雷电预警" in text and "西边暴雨预警" not in text and "共 1 条预警" in text


def test_a_wall_account_is_refused(web: Any) -> None:
    text = page_text(route(signed_in(web, "wall1"), "/alerts"))
    assert "大屏账号不能查看预警历史。" in text and "西边暴雨预警" not in text


@pytest.mark.parametrize(
    "search", ["?days=abc", "?days=²", "?page=0", "?page=-1", "?days=7&page=99999999999"]
)
def test_odd_query_values_fall_back(web: Any, search: str) -> None:
    text = page_text(route(signed_in(web, "duty1"), "/alerts", search))
    assert "预警历史" in text and "共 1 条预警" in text
