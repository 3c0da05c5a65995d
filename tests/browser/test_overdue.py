"""The overdue drill-down in real Chromium against the shared demo stack: from the district to a single
overdue case's page in four clicks (street, community, grid, case), counted; the back button goes back
up a level; screenshots of the district and of a drilled-down level."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from data.db import make_engine, make_sessionmaker, transaction
from data.models import AdminUnit, Case
from tests.browser.conftest import screenshot, sign_in_as

TITLE = "测试：井盖缺失超期未处置"


def _overdue_case(database_url: str) -> tuple[int, str]:
    """An overdue case (five days late, red card, held at the district) in the last grid of the
    district; its id and grid code."""
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            grid = session.execute(
                select(AdminUnit.code, AdminUnit.label_lon, AdminUnit.label_lat)
                .where(AdminUnit.level == "grid")
                .order_by(AdminUnit.code.desc())
                .limit(1)
            ).one()
            case = Case(
                feed_name="browser-test",
                external_id=f"overdue-{uuid.uuid4().hex[:10]}",
                source="12345",
                department_code="city_management",
                category_code="city.manhole",
                category_name="井盖缺失",
                title=TITLE,
                description=TITLE,
                address="测试地址",
                status="in_progress",
                requested_at=now - timedelta(days=8),
                accepted_at=now - timedelta(days=8),
                deadline_at=now - timedelta(days=5),
                lon=grid.label_lon,
                lat=grid.label_lat,
                placement="point",
                is_open=True,
                overdue=True,
                supervision="red",
                escalation_level="district",
            )
            case.set_place(grid.code)
            session.add(case)
            session.flush()
            return case.id, grid.code
    finally:
        engine.dispose()


def _click(page: Any, selector: str) -> None:
    page.locator(selector).first.click()


def test_district_to_one_overdue_case_in_four_clicks(stack, page_and_log) -> None:
    page, log = page_and_log
    case_id, grid = _overdue_case(stack.database_url)
    street, community = grid[:9], grid[:12]
    sign_in_as(page, stack, "leader")
    page.goto(f"{stack.url}overdue")
    page.wait_for_selector(".overdue-top[data-level='district']", timeout=60000)
    late = int(page.locator(".overdue-kpi.is-late .overdue-kpi-value").inner_text())
    assert late >= 1
    # the children most overdue first, each a link one level down
    counts = [
        int(x) for x in page.locator(".overdue-unit-row:not(.is-head) .overdue-bar-value").all_inner_texts()
    ]
    assert counts == sorted(counts, reverse=True) and counts[0] >= 1
    assert (
        page.locator(f".overdue-case-row[data-case='{case_id}'] .overdue-card.is-red").inner_text()
        == "红牌督办"
    )
    page.wait_for_timeout(500)
    screenshot(page, "overdue")

    clicks = 0
    for code, level in ((street, "street"), (community, "community"), (grid, "grid")):
        _click(page, f".overdue-unit-row[data-code='{code}'] a.overdue-unit-link")
        clicks += 1
        page.wait_for_selector(f".overdue-top[data-unit='{code}'][data-level='{level}']", timeout=30000)
        assert page.evaluate("location.search") == f"?unit={code}"
        row = page.locator(f".overdue-case-row[data-case='{case_id}']")
        assert row.locator(".overdue-case-title").inner_text() == TITLE
        assert row.locator(".overdue-level").inner_text() == "区县"
        assert row.locator(".overdue-late").inner_text().startswith("5天")
        assert row.locator(".overdue-case-dept").inner_text()  # the department holding it
        if level == "community":
            page.wait_for_timeout(300)
            screenshot(page, "overdue_community")
    crumbs = page.locator(".overdue-breadcrumb a").all_inner_texts()
    assert len(crumbs) == 3  # district › street › community › (this grid)
    _click(page, f".overdue-case-row[data-case='{case_id}'] a.overdue-open")
    clicks += 1
    page.wait_for_function("id => location.pathname === '/cases/' + id", arg=case_id, timeout=30000)
    page.wait_for_selector(".page-title", timeout=30000)
    assert TITLE in page.locator("body").inner_text()
    assert clicks <= 4

    # the back button: the grid level, then the community
    page.go_back()
    page.wait_for_selector(f".overdue-top[data-unit='{grid}']", timeout=30000)
    page.go_back()
    page.wait_for_selector(f".overdue-top[data-unit='{community}']", timeout=30000)
    # the breadcrumb: straight back to the district
    _click(page, ".overdue-breadcrumb a.overdue-crumb")
    page.wait_for_selector(".overdue-top[data-level='district']", timeout=30000)
    assert page.evaluate("location.search") == "?unit=500151"
    log.assert_clean()


def test_foreign_unit_is_refused(stack, page_and_log) -> None:
    page, log = page_and_log
    sign_in_as(page, stack, "leader")
    page.goto(f"{stack.url}overdue?unit=500152001")  # another district's street
    page.wait_for_selector(".overdue-missing", timeout=60000)
    assert "不在管辖范围内" in page.locator(".overdue-missing").inner_text()
    assert page.locator("a[href^='/cases/']").count() == 0
    log.assert_clean()
