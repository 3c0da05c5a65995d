"""The duty desk in real Chromium against the shared demo stack, signed in as the first street's duty
officer: 登记 a case from /duty (the form's selects offer the officer's own street), open it — its
page shows the reporter in full to the duty officer and masked to a leader, and the timeline's
``created`` event by that officer — and turn an alert into a case, linked both ways."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from data.db import make_engine
from data.models import Alert, AlertEvent, AuditLog, Case
from tests.browser.conftest import open_page, screenshot, sign_in_as
from tests.browser.test_duty import _new_alert

PHONE = "13912345678"


def _pick(page: Any, selector: str, text: str | None = None) -> None:
    """Choose in a Mantine select: the option holding ``text``, else the first."""
    page.click(selector)
    options = page.get_by_role("option")
    if text is not None:
        options = options.filter(has_text=text)
    options.first.wait_for(timeout=15000)
    options.first.click()


def _one(database_url: str, query: Any) -> Any:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(query).all()
    finally:
        engine.dispose()


def test_a_duty_officer_files_a_case_and_opens_it(stack, page_and_log, browser) -> None:  # type: ignore[no-untyped-def]
    page, log = page_and_log
    sign_in_as(page, stack, "duty")
    page.goto(f"{stack.url}duty")
    page.wait_for_selector("#desk-file-open", state="visible", timeout=60000)
    page.click("#desk-file-open")
    page.wait_for_selector("#desk-file-dialog .desk-dialog", state="visible", timeout=30000)
    _pick(page, "#desk-file-category", "占道经营")
    _pick(page, "#desk-file-priority", "紧急")
    _pick(page, "#desk-file-street")  # the officer's own street: the only one offered
    assert page.get_by_role("option").count() == 0  # the list closed on the choice
    _pick(page, "#desk-file-community")
    mark = uuid.uuid4().hex[:6]
    title = f"来电反映：夜市占道 <script>alert(1)</script> {mark}"
    page.fill("#desk-file-title", title)
    page.fill("#desk-file-description", "中兴路夜市摊位占用盲道，晚上十点后仍未收摊。")
    page.fill("#desk-file-address", "中兴路12号")
    page.fill("#desk-file-reporter", "李女士")
    page.fill("#desk-file-phone", PHONE)
    assert page.locator("#desk-file-title").get_attribute("maxlength") == "200"
    page.wait_for_timeout(300)
    screenshot(page, "duty-file")
    page.click("#desk-file-submit")
    link = page.locator("#desk-result a.desk-open-case")
    link.wait_for(timeout=30000)
    assert page.locator("#desk-file-dialog").is_hidden()
    assert page.locator("#desk-result .desk-filed").inner_text().startswith("已登记 DESK-")
    href = link.get_attribute("href")
    ((case_id, number, stored, street),) = _one(
        stack.database_url,
        select(Case.id, Case.external_id, Case.title, Case.street_code).where(Case.title.contains(mark)),
    )
    assert href == f"/cases/{case_id}" and stored == title and street == "500151001"
    # the case is listed on /duty at once (the page refreshed on the answer)
    page.wait_for_function(
        "id => { const a = dash_ag_grid.getApi('duty-grid'); let found = false;"
        " a.forEachNode(n => { if (String(n.data.id) === String(id)) found = true; }); return found; }",
        arg=case_id,
        timeout=30000,
    )
    link.click()
    page.wait_for_selector(".case-facts", timeout=30000)
    assert page.locator(".case-reporter").inner_text() == f"李女士 {PHONE}"  # a duty officer: in full
    assert number in page.locator(".case-facts").inner_text()
    assert "值班台登记" in page.locator(".case-facts").inner_text()
    created = page.locator(".case-event[data-kind='created']")
    assert created.count() == 1 and created.locator(".actor").inner_text() == "duty"
    assert page.locator("script", has_text="alert(1)").count() == 0  # the title stayed text
    # a leader sees the same case with the phone masked
    leader_page, leader_log = open_page(browser)
    try:
        sign_in_as(leader_page, stack, "leader")
        leader_page.goto(f"{stack.url}cases/{case_id}")
        leader_page.wait_for_selector(".case-reporter", timeout=30000)
        assert leader_page.locator(".case-reporter").inner_text() == "李女士 139****5678"
        leader_log.assert_clean()
    finally:
        leader_page.context.close()
    log.assert_clean()


def test_a_duty_officer_turns_an_alert_into_a_case(stack, page_and_log) -> None:  # type: ignore[no-untyped-def]
    page, log = page_and_log
    alert_id, headline = _new_alert(stack.database_url, stack.redis_url)
    sign_in_as(page, stack, "duty")
    page.goto(f"{stack.url}duty")
    card = page.locator(f".duty-alert[data-alert='{alert_id}']")
    card.wait_for(timeout=60000)
    card.locator("button.desk-convert").click()
    page.wait_for_selector("#desk-convert-dialog .desk-dialog", state="visible", timeout=30000)
    assert page.locator("#desk-convert-head").inner_text() == headline
    _pick(page, "#desk-convert-category", "噪声")
    page.click("#desk-convert-submit")
    linked = card.locator("a.desk-linked-case")
    linked.wait_for(timeout=30000)
    assert card.locator("button.desk-convert").count() == 0
    ((state, case_id),) = _one(
        stack.database_url, select(Alert.state, Alert.case_id).where(Alert.id == alert_id)
    )
    assert state == "linked" and case_id is not None
    events = _one(
        stack.database_url,
        select(AlertEvent.kind, AlertEvent.actor, AlertEvent.detail).where(AlertEvent.alert_id == alert_id),
    )
    assert [(k, a) for k, a, _ in events] == [("linked", "duty")] and events[0][2].startswith(
        f"case:{case_id} "
    )
    audited = _one(
        stack.database_url,
        select(AuditLog.actor).where(
            AuditLog.action == "desk_alert_case", AuditLog.target == f"alert:{alert_id}"
        ),
    )
    assert audited == [("duty",)]
    linked.click()
    page.wait_for_selector(".case-alerts", timeout=30000)
    assert f"#{alert_id}" in page.locator(".case-alerts").inner_text()
    assert page.locator(".case-alert-headline").inner_text() == headline
    assert f"由预警 #{alert_id} 转立" in page.locator(".case-event[data-kind='created']").inner_text()
    log.assert_clean()
