"""A resident's phone and ID number in a case's text, end to end (issue 9, finding 7): filed through the
12345 simulator's Open311 POST, polled in by the real workers, then opened in Chromium — on the wall the
case page shows placeholders and nothing the browser received holds the numbers, full or masked; the
street's duty officer sees them in full."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import select

from data.db import make_engine
from data.models import AdminUnit, Case
from tests.browser.conftest import file_case, sign_in_as, wall_signed_in
from tests.browser.test_feeds_privacy import received, shot
from tests.leaks import find_leaks
from tests.stack import Demo

STREET = "500151001"  # the demo's duty account: the district's first street
PHONE, ID_NUMBER = "13923456789", "50010119920202234X"


def _filed_case(stack: Demo, token: str, timeout: float = 120) -> int:
    """File a case with a phone and an ID number in its text in the first street; its id once polled in."""
    engine = make_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            lon, lat = conn.execute(
                select(AdminUnit.label_lon, AdminUnit.label_lat)
                .where(AdminUnit.level == "grid", AdminUnit.code.startswith(STREET))
                .order_by(AdminUnit.code)
                .limit(1)
            ).one()
        file_case(
            stack, f"{token} 楼道堆物，联系电话{PHONE}，身份证{ID_NUMBER}", f"{token} 巴川街道", lon, lat
        )
        deadline = time.monotonic() + timeout
        while True:
            with engine.connect() as conn:
                found = conn.scalar(select(Case.id).where(Case.description.contains(token)))
            if found is not None:
                return int(found)
            assert time.monotonic() < deadline, "the filed case was not polled in"
            time.sleep(1)
    finally:
        engine.dispose()


def test_a_phone_in_a_filed_case_reaches_no_wall(
    stack: Demo, page_and_log: tuple[Any, Any], browser, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    page, log = page_and_log
    token = f"隐私测试-{uuid.uuid4().hex[:6]}"
    case_id = _filed_case(stack, token)
    bodies = received(page)
    wall_signed_in(page, stack)
    page.goto(f"{stack.url}cases/{case_id}")
    description = page.locator(".case-description")
    description.wait_for(timeout=60000)
    assert description.inner_text() == f"{token} 楼道堆物，联系电话[电话]，身份证[身份证号]"
    shot(page, "case_wall_placeholders", tmp_path)
    page.goto(stack.url)  # the wall itself: its layers and /api/wall carry the case's title too
    page.wait_for_selector(".case-cluster, path.case-marker", timeout=90000)
    found = {i: f for i, b in enumerate(bodies) if (f := find_leaks(b, (PHONE, ID_NUMBER)))}
    assert found == {}
    log.assert_clean()

    duty = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN").new_page()
    try:
        sign_in_as(duty, stack, "duty")
        duty.goto(f"{stack.url}cases/{case_id}")
        shown = duty.locator(".case-description")
        shown.wait_for(timeout=60000)
        assert shown.inner_text() == f"{token} 楼道堆物，联系电话{PHONE}，身份证{ID_NUMBER}"
    finally:
        duty.context.close()
