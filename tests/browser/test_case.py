"""The case page in real Chromium against the shared demo stack: a real case from the stack's database,
its timeline, its small map with the grid outlined, English, not-found — signed in as the district's
leader (who sees phones masked)."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from data.db import make_engine
from data.models import Case, CaseEvent
from tests.browser.conftest import screenshot, sign_in_as


def busiest_case(database_url: str, timeout: float = 120) -> int:
    """An open case placed in a grid with the longest timeline (waits for the feeds to bring some)."""
    engine = make_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as conn:
                found = conn.execute(
                    select(Case.id)
                    .join(CaseEvent, CaseEvent.case_id == Case.id)
                    .where(Case.grid_code.is_not(None), Case.lon.is_not(None), Case.is_open.is_(True))
                    .group_by(Case.id)
                    .having(func.count(CaseEvent.id) >= 2)
                    .order_by(Case.overdue.desc(), func.count(CaseEvent.id).desc(), Case.id)
                    .limit(1)
                ).scalar()
            if found is not None:
                return int(found)
            if time.monotonic() > deadline:
                raise AssertionError("no case with a timeline in the stack's database")
            time.sleep(1)
    finally:
        engine.dispose()


def test_case_page(stack, page_and_log) -> None:
    page, log = page_and_log
    case_id = busiest_case(stack.database_url)
    sign_in_as(page, stack, "leader")
    page.goto(f"{stack.url}cases/{case_id}")
    page.wait_for_selector(".case-event", timeout=30000)
    assert page.locator(".case-event").count() >= 2
    assert page.locator(".case-event .kind").first.inner_text() == "创建"
    assert page.locator(".page-title .case-no").inner_text() == f"案件 {case_id}"
    # the small map: the grid outlined and the case's marker
    page.wait_for_selector(".case-map .leaflet-container path.leaflet-interactive", timeout=30000)
    assert page.locator(".case-map path.leaflet-interactive").count() >= 2
    assert page.locator(".case-path .unit-link").count() == 4
    assert page.locator(".case-path .unit-link").first.get_attribute("href") == "/overdue?unit=500151"
    phones = [p for p in page.locator(".case-staff .phone").all_inner_texts() if p]
    assert phones and all("****" in p for p in phones), phones
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.wait_for_timeout(800)
    screenshot(page, "case")
    log.assert_clean()


def test_case_page_in_english(stack, page_and_log) -> None:
    page, log = page_and_log
    case_id = busiest_case(stack.database_url)
    sign_in_as(page, stack, "leader")
    page.goto(f"{stack.url}cases/{case_id}")
    page.wait_for_selector(".case-event", timeout=30000)
    page.locator(".page-lang-switch a", has_text="English").click()
    page.wait_for_url(f"**/cases/{case_id}?lang=en", timeout=10000)
    page.wait_for_selector("text=Timeline", timeout=30000)
    assert page.locator(".case-event .kind").first.inner_text() == "Created"
    assert page.locator(".page-title .case-no").inner_text() == f"Case {case_id}"
    assert "办理过程" not in page.locator("body").inner_text()
    log.assert_clean()


def test_unknown_case_is_not_found(stack, page_and_log) -> None:
    page, log = page_and_log
    sign_in_as(page, stack, "leader")
    page.goto(f"{stack.url}cases/987654321")
    page.wait_for_selector(".case-not-found", timeout=30000)
    assert "未找到该案件" in page.locator("body").inner_text()
    log.assert_clean()
