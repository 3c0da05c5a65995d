"""Alerts that stay loud, in real Chromium against the shared demo stack: a warning the duty officer
acknowledged at 黄色 and a CAP Update raised to 橙色 flashes again on /duty with 已升级 黄色→橙色; the
nav's 预警历史 lists it with the raise and both acknowledgements; screenshots of both."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import shapely
from sqlalchemy import select

from data.auth import get_user, scope_of
from data.db import make_engine, make_sessionmaker, transaction
from data.models import AdminUnit, Alert, AlertEvent, AlertGrid
from tests.browser.conftest import screenshot, sign_in_as

HEADLINE = "测试：暴雨橙色预警（由黄色升级）"


def _raised_alert(database_url: str) -> int:
    """A warning over one grid of the duty officer's street: sent 50 minutes ago at 黄色, acknowledged
    by duty, raised to 橙色 by an update 20 minutes ago (so new again), not yet acknowledged."""
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            duty = get_user(session, "duty")
            assert duty is not None
            street = sorted(scope_of(duty).codes)[0]
            grid = session.execute(
                select(AdminUnit.code, AdminUnit.label_lon, AdminUnit.label_lat)
                .where(AdminUnit.level == "grid", AdminUnit.code.startswith(street))
                .order_by(AdminUnit.code)
                .limit(1)
            ).one()
            point = shapely.Point(grid.label_lon, grid.label_lat)
            alert = Alert(
                feed_name="browser-test",
                external_id=f"raised-{uuid.uuid4().hex[:10]}",
                kind="weather",
                event="暴雨",
                severity="Severe",
                colour="orange",
                headline=HEADLINE,
                area_desc="测试区域",
                geometry=shapely.to_wkb(point.buffer(0.002)),
                lon=grid.label_lon,
                lat=grid.label_lat,
                state="new",
                sent_at=now - timedelta(minutes=50),
                raised_at=now - timedelta(minutes=20),
                expires=now + timedelta(hours=6),
            )
            alert.set_place(grid.code)
            session.add(alert)
            session.flush()
            session.add(AlertGrid(alert_id=alert.id, grid_code=grid.code))
            for minutes, kind, detail, actor in (
                (45, "acknowledged", "duty 确认", "duty"),
                (20, "raised", "yellow→orange", "system"),
            ):
                session.add(
                    AlertEvent(
                        alert_id=alert.id,
                        at=now - timedelta(minutes=minutes),
                        kind=kind,
                        detail=detail,
                        actor=actor,
                    )
                )
            return alert.id
    finally:
        engine.dispose()


def test_a_raised_alert_flashes_again_and_the_history_shows_why(stack, page_and_log) -> None:
    page, log = page_and_log
    alert_id = _raised_alert(stack.database_url)
    sign_in_as(page, stack, "duty")
    page.goto(f"{stack.url}duty")
    card = page.locator(f".duty-alert[data-alert='{alert_id}']")
    card.wait_for(timeout=60000)
    assert "duty-alert-new" in (card.get_attribute("class") or "")  # flashing until acknowledged again
    assert card.locator(".duty-alert-raised").inner_text() == "已升级 黄色→橙色"
    card.scroll_into_view_if_needed()
    screenshot(page, "duty-alert-raised")

    page.get_by_role("link", name="预警历史").click()
    page.wait_for_url("**/alerts**", timeout=30000)
    row = page.locator(f".alerts-row[data-alert='{alert_id}']")
    row.wait_for(timeout=30000)
    text = row.inner_text()
    assert HEADLINE in text and "黄色→橙色" in text and "duty " in text
    assert row.get_attribute("data-state") == "new"
    screenshot(page, "alerts")
    log.assert_clean()
