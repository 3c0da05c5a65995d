"""类案 you can open, in real Chromium against the shared demo stack: three 乱堆乱放 cases in one grid of
the duty officer's street make a hotspot; /duty's nav leads to 类案, the row opens the cases behind it
(a marker each on the map, a row each in the table), and a case number opens the case; a leader
supervises the whole class with one instruction. Screenshots of the list and of one hotspot."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from data.auth import get_user, scope_of
from data.db import make_engine, make_sessionmaker, transaction
from data.models import AdminUnit, Case, Instruction
from tests.browser.conftest import screenshot, sign_in_as

TITLE = "测试类案：楼道堆放杂物"


def _three_cases(database_url: str) -> tuple[str, list[str]]:
    """Three open 乱堆乱放 cases in the last grid of the duty officer's street: its code, their numbers."""
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    numbers = []
    try:
        with transaction(make_sessionmaker(engine)) as session:
            duty = get_user(session, "duty")
            assert duty is not None
            street = sorted(scope_of(duty).codes)[0]
            grid = session.execute(
                select(AdminUnit.code, AdminUnit.label_lon, AdminUnit.label_lat)
                .where(AdminUnit.level == "grid", AdminUnit.code.startswith(street))
                .order_by(AdminUnit.code.desc())
                .limit(1)
            ).one()
            for i in range(3):
                number = f"HOT-{uuid.uuid4().hex[:8]}"
                case = Case(
                    feed_name="browser-test", external_id=number, source="12345",
                    department_code="city_management", category_code="city.clutter", category_name="乱堆乱放",
                    title=f"{TITLE}{i + 1}", description=TITLE, address=f"测试小区{i + 1}栋",
                    status="accepted",
                    requested_at=now - timedelta(days=i + 1), accepted_at=now - timedelta(days=i + 1),
                    deadline_at=now + timedelta(days=3), lon=grid.label_lon + 0.0004 * i, lat=grid.label_lat,
                    placement="point", is_open=True,
                )  # fmt: skip
                case.set_place(grid.code)
                session.add(case)
                numbers.append(number)
            return grid.code, numbers
    finally:
        engine.dispose()


def _instructions(database_url: str, numbers: list[str]) -> int:
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(Instruction)
                    .join(Case, Case.id == Instruction.case_id)
                    .where(Case.external_id.in_(numbers))
                )
                or 0
            )
    finally:
        engine.dispose()


def test_a_hotspot_opens_to_its_cases_and_a_leader_supervises_the_class(stack, browser) -> None:
    from tests.browser.conftest import open_page

    grid, numbers = _three_cases(stack.database_url)
    key = f"grid~city.clutter~{grid}"
    page, log = open_page(browser)
    sign_in_as(page, stack, "duty")
    page.goto(f"{stack.url}duty")
    # the 类案 are a map layer: a ring with its count on the duty officer's map
    ring = page.locator(".hotspot-marker .hotspot-ring").first
    ring.wait_for(timeout=60000)
    assert int(ring.inner_text()) >= 3
    page.get_by_role("link", name="类案", exact=True).click()
    item = page.locator(f".hotspot-item[data-key='{key}']")
    item.wait_for(timeout=60000)
    assert int(item.get_attribute("data-count") or 0) >= 3
    screenshot(page, "hotspots")
    item.locator("a").click()
    page.wait_for_selector(f".hotspot-head[data-key='{key}']", timeout=30000)
    page.wait_for_selector(".hotspot-case-marker", timeout=30000)
    shown = page.locator(".hotspot-case-link").all_inner_texts()
    assert set(numbers) <= set(shown)
    assert page.locator(".hotspot-case-marker").count() >= 3
    assert page.locator(".hotspot-supervise").count() == 0  # a duty officer does not supervise
    screenshot(page, "hotspot")
    page.locator(".hotspot-case-link", has_text=numbers[0]).click()
    page.wait_for_url("**/cases/**", timeout=30000)
    log.assert_clean()
    page.context.close()

    page, log = open_page(browser)
    sign_in_as(page, stack, "leader")
    page.goto(f"{stack.url}hotspots/{key}")
    page.wait_for_selector(".hotspot-supervise", timeout=60000)
    page.fill("#hotspot-supervise-text", "一周内集中整治楼道堆物，并回复")
    page.click("#hotspot-supervise-send")
    page.wait_for_selector("#hotspot-supervise-msg:has-text('已督办')", timeout=30000)
    assert _instructions(stack.database_url, numbers) == 3
    log.assert_clean()
    page.context.close()
