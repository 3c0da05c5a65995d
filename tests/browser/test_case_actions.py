"""The action panel in real Chromium against the demo stack (its real workers, Redis and the simulators'
department desks): a duty officer whistles (吹哨) from /duty to a lead and a helper department; the
wall's 吹哨 count rises by one, the case page's timeline shows the instruction and then 已送达 for both,
then their 报到 (on the timeline, and on the wall's 报到率 and mean 报到 time); a leader's 督办 with
text lands on the case's timeline and in /audit."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from data.auth import get_user, scope_of
from data.db import make_engine, make_sessionmaker
from data.loop import signing
from data.models import Case, OutboxMessage, Recipient
from tests.browser.conftest import screenshot, sign_in_as
from tests.browser.test_access import _fresh_case, _wait_for_cases
from tests.stack import Demo

REPORTED = ("accepted", "progress", "done")  # a recipient that 报到'd (and may have moved on)
TEXT = "请公安、城管即刻到场联合处置占道经营，处置后回复"
SUPERVISE_TEXT = "请于今日下班前办结并回复处置结果"


def _duty_case_ids(stack: Demo, timeout: float = 30) -> set[int]:
    """Open cases in the duty officer's street."""
    engine = make_engine(stack.database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with make_sessionmaker(engine)() as session:
                duty = get_user(session, "duty")
                found = (
                    set(
                        session.scalars(
                            select(Case.id).where(Case.is_open.is_(True), scope_of(duty).clause(Case))
                        )
                    )
                    if duty is not None
                    else set()
                )
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError("no open case in the duty officer's street")
            time.sleep(2)
    finally:
        engine.dispose()


def _wall_figure(page: Any, stack: Demo, key: str, period: str = "today") -> str:
    """The figure the viewer's wall shows in its loop band (``—`` when there is none yet)."""
    page.goto(stack.url, wait_until="domcontentloaded")
    page.wait_for_selector(f"#wall-loop-{period}-{key}", timeout=60000)
    return str(page.inner_text(f"#wall-loop-{period}-{key}")).strip()


def _count(text: str) -> int:
    digits = text.replace(",", "")
    return int(digits) if digits.isdigit() else 0


def _recipients(stack: Demo, case_id: int) -> list[tuple[str, str, str]]:
    """(department, state, message id sent to it) of each recipient of the case's instructions."""
    engine = make_engine(stack.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            rows = session.execute(
                select(Recipient.department_code, Recipient.state, OutboxMessage.message_id)
                .join(OutboxMessage, OutboxMessage.recipient_id == Recipient.id)
                .where(Recipient.case_id == case_id)
                .order_by(Recipient.id)
            ).all()
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]
    finally:
        engine.dispose()


def _report_as(stack: Demo, department: str, in_reply_to: str) -> None:
    """报到 the way a department does when its own desk has not (yet): a signed answer to gridcc's
    inbound endpoint with the department's secret (the demo's, in ``loop-secrets.json``)."""
    secrets = json.loads((stack.data_dir / "loop-secrets.json").read_text())
    secret = secrets[f"GRIDCC_LOOP_SECRET_{department.upper()}"]
    body = json.dumps(
        {"message_id": f"test-{uuid.uuid4().hex}", "in_reply_to": in_reply_to, "kind": "accepted",
         "handler": "值班测试员", "text": ""},
        ensure_ascii=False,
    ).encode()  # fmt: skip
    ts = str(int(time.time()))
    headers = {"Content-Type": "application/json", signing.DEPARTMENT: department}
    headers |= signing.signed_headers(secret, ts, body)
    answer = httpx.post(f"{stack.url}api/loop/answers", content=body, headers=headers, timeout=10)
    # 409: the desk answered in the meantime (then its answer stands)
    assert answer.status_code in (200, 409), (answer.status_code, answer.text)


def _choose(page: Any, field: str, option: str) -> None:
    page.click(field)
    page.get_by_role("option", name=option, exact=True).click()


def test_duty_officer_whistles_from_duty_and_the_case_shows_delivery(stack, page_and_log) -> None:
    page, log = page_and_log
    _wait_for_cases(stack)  # files one through the 12345 simulator when the street has none yet
    sign_in_as(page, stack, "duty")
    whistles_before = _count(_wall_figure(page, stack, "whistle"))
    page.goto(f"{stack.url}duty")
    page.wait_for_selector(".ag-row", timeout=60000)
    row = page.locator(".ag-center-cols-container .ag-row").first
    case_id = int(row.get_attribute("row-id") or 0)
    assert case_id in _duty_case_ids(stack)  # a case of the officer's own street
    row.click()
    page.wait_for_selector("#duty-selected .duty-act-buttons", timeout=30000)
    buttons = page.locator("#duty-selected .duty-act-buttons button").all_inner_texts()
    assert buttons == ["交办", "转办", "吹哨", "上报", "下派"]  # a duty officer: no 督办
    page.locator("#duty-selected button.act-open-whistle").click()
    page.wait_for_selector(".act-modal.is-open #act-lead", timeout=30000)
    assert page.locator(".act-modal .act-case-no").inner_text().startswith(f"案件 {case_id}")
    _choose(page, "#act-lead", "区公安分局")
    _choose(page, "#act-helpers", "区城市管理局")
    page.keyboard.press("Escape")
    page.locator(".act-urgency-choice").get_by_text("紧急", exact=True).click()
    page.fill("#act-text", TEXT)
    page.click("#act-submit")
    page.wait_for_function(
        "() => document.querySelector('#act-msg').textContent === '已吹哨，正在送达。'", timeout=30000
    )
    page.click("#act-close")
    page.wait_for_selector(".act-modal.is-closed", state="attached", timeout=10000)
    log.assert_clean()

    # the wall (the officer's own, of its street): the 吹哨 counted, by the loop's version alone
    _wall_figure(page, stack, "whistle")
    page.wait_for_function(
        "n => parseInt(document.querySelector('#wall-loop-today-whistle').textContent.replace(/,/g, '')) > n",
        arg=whistles_before,
        timeout=60000,
    )
    assert _count(page.inner_text("#wall-loop-today-whistle")) == whistles_before + 1

    # the case page: the instruction at once, then 已送达 for both (the page reads the loop every 5 s)
    page.goto(f"{stack.url}cases/{case_id}")
    page.wait_for_selector(".case-event[data-kind='instruction']", timeout=30000)
    line = page.locator(".case-event[data-kind='instruction']").last
    assert line.locator(".kind").inner_text() == "吹哨"
    detail = line.locator(".detail").inner_text()
    assert "→ 区公安分局（牵头）、区城市管理局（协办）" in detail and TEXT in detail, detail
    assert line.locator(".actor").inner_text() == "duty"
    page.wait_for_function(
        """() => {
            const rows = [...document.querySelectorAll(".case-event[data-kind='delivered'] .detail")];
            const said = rows.map(r => r.textContent);
            return said.some(s => s.startsWith('区公安分局')) && said.some(s => s.startsWith('区城市管理局'));
        }""",
        timeout=120000,
    )
    kinds = page.locator(".case-event[data-kind='delivered'] .kind").all_inner_texts()
    assert set(kinds) == {"已送达"}
    states = page.locator(".case-loop .loop-recipient").evaluate_all("rs => rs.map(r => r.dataset.state)")
    assert len(states) == 2 and "pending" not in states, states
    # wait for the departments' 报到 (the desks answer most within a minute; one may not, or refuse)
    try:
        page.wait_for_function(
            "() => document.querySelectorAll(\".case-event[data-kind='answer']\").length >= 2", timeout=150000
        )
    except Exception:  # noqa: BLE001 - a desk may answer late, never or refuse: the screenshot shows it
        page.wait_for_selector(".case-event[data-kind='answer']", timeout=60000)
    assert "accepted:" not in page.locator(".case-timeline").inner_text()  # words, not the raw detail
    # at least one 报到 (the lead's, signed by hand as the police would if its desk refused or never
    # answered): then the wall shows it — a 报到率 and a mean 报到 time for today, not "—"
    recipients = _recipients(stack, case_id)
    if not any(state in REPORTED for _d, state, _m in recipients):
        waiting = [(d, m) for d, state, m in recipients if state in ("pending", "delivered", "overdue")]
        assert waiting, recipients  # both refused (退回): a 1-in-150 chance with the desks' odds
        _report_as(stack, *waiting[0])
        page.wait_for_function(
            "() => document.querySelectorAll(\".case-event[data-kind='answer']\").length >= 1", timeout=30000
        )
    recipients = _recipients(stack, case_id)
    assert any(state in REPORTED for _d, state, _m in recipients), recipients
    case_page = page.url
    _wall_figure(page, stack, "report_rate")
    page.wait_for_function(
        "() => document.querySelector('#wall-loop-today-report_rate').textContent.trim() !== '—'",
        timeout=30000,
    )
    rate = page.inner_text("#wall-loop-today-report_rate").strip()
    assert rate.endswith("%") and float(rate.rstrip("%")) > 0, (rate, recipients)
    mean = page.inner_text("#wall-loop-today-mean_report_minutes").strip()
    assert mean != "—" and float(mean) >= 0, mean
    page.goto(case_page)
    page.wait_for_selector(".case-loop", timeout=30000)
    page.locator(".case-loop").scroll_into_view_if_needed()
    page.evaluate("document.querySelector('.case-loop').scrollIntoView({block: 'start'})")
    page.wait_for_timeout(800)
    screenshot(page, "case-loop")
    # the top bar's 查找 field beside a long title (number, category, three chips) keeps its width
    box = page.locator(".top-search input[name=q]").bounding_box()
    assert box is not None and box["width"] >= 200, box
    log.assert_clean()


def test_leader_supervises_with_text_on_the_timeline_and_in_audit(stack, page_and_log) -> None:
    page, log = page_and_log
    case_id = _fresh_case(stack)
    sign_in_as(page, stack, "leader")
    page.goto(f"{stack.url}cases/{case_id}#act")
    page.wait_for_selector("#act .act-kinds", timeout=30000)
    assert page.locator("#case-card-yellow").is_visible()  # the card buttons are still there
    page.locator("#act .act-kinds").get_by_text("督办", exact=True).click()
    page.wait_for_selector("#act-form.kind-supervise", timeout=10000)
    page.locator(".act-reply-choice").get_by_text("8 小时", exact=True).click()
    page.fill("#act-text", SUPERVISE_TEXT)
    page.click("#act-submit")
    page.wait_for_function(
        "() => document.querySelector('#act-msg').textContent === '已督办，正在送达。'", timeout=30000
    )
    # the timeline refreshes after the action: the 督办 and its text, by the leader
    page.wait_for_function(
        f"""() => [...document.querySelectorAll(".case-event[data-kind='instruction'] .detail")]
            .some(d => d.textContent.includes('{SUPERVISE_TEXT}'))""",
        timeout=30000,
    )
    line = page.locator(".case-event[data-kind='instruction']").last
    assert line.locator(".kind").inner_text() == "督办"
    assert "区城市管理局（承办）" in line.locator(".detail").inner_text()
    assert line.locator(".actor").inner_text() == "leader"
    assert SUPERVISE_TEXT in page.locator(".case-loop").inner_text()
    log.assert_clean()

    sign_in_as(page, stack, "admin")  # the administrator (view_audit) reads it in /audit
    page.goto(f"{stack.url}audit?actor=leader")
    page.wait_for_selector(".audit-table", timeout=30000)
    rows = page.locator(f".audit-row:has(td.target:text-is('case:{case_id}'))")
    assert rows.locator("td.action").all_inner_texts() == ["督办指令"]
    assert SUPERVISE_TEXT in rows.locator("td.detail").inner_text()
    log.assert_clean()
