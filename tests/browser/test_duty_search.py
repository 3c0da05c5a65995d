"""The case search in real Chromium against the shared demo stack (issue 13, item 1): a duty officer
files a case at the desk with a caller's phone (the real path: the server hashes it with its key), then
finds it from /duty's search box by its number, by a word of its address and by the phone (the phone
search audited); a leader's phone search from the top bar of /overdue lands on /duty and is refused with
words, as is the wall's; a search for the case by number still works for the leader."""

from __future__ import annotations

import random
import uuid
from typing import Any

from sqlalchemy import select

from data.db import make_engine
from data.models import AuditLog, Case
from data.text import t
from tests.browser.conftest import screenshot, sign_in_as, wall_signed_in
from tests.browser.test_desk import _pick

RARE = "檩椽桁榫卯斗拱藻井"  # characters no simulator writes: a unique address word


def _rows(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(
        "() => { const a = dash_ag_grid.getApi('duty-grid'); const rows = [];"
        " a.forEachNode(n => rows.push(n.data)); return rows; }"
    )


def _search(page: Any, query: str) -> list[dict[str, Any]]:
    """Type ``query`` into /duty's box and press Enter; the rows once the URL holds it."""
    box = page.locator("#duty-q")
    box.fill(query)
    box.press("Enter")
    page.wait_for_function(
        "q => new URLSearchParams(location.search).get('q') === q", arg=query, timeout=30000
    )
    page.wait_for_function(
        "q => (document.querySelector('#duty-notice') || {}).textContent.includes(q)",
        arg=query,
        timeout=30000,
    )
    return _rows(page)


def _file(page: Any, stack: Any, word: str, phone: str) -> str:
    """登记 a case at the desk; its number."""
    page.goto(f"{stack.url}duty")
    page.wait_for_selector("#desk-file-open", state="visible", timeout=60000)
    page.click("#desk-file-open")
    page.wait_for_selector("#desk-file-dialog .desk-dialog", state="visible", timeout=30000)
    _pick(page, "#desk-file-category", "乱堆乱放")
    _pick(page, "#desk-file-street")
    _pick(page, "#desk-file-community")
    page.fill("#desk-file-title", "来电反映：楼道堆放杂物")
    page.fill("#desk-file-description", f"{word}路口楼道长期堆放杂物，堵塞消防通道。")
    page.fill("#desk-file-address", f"{word}路18号")
    page.fill("#desk-file-reporter", "王先生")
    page.fill("#desk-file-phone", phone)
    page.click("#desk-file-submit")
    filed = page.locator("#desk-result .desk-filed")
    filed.wait_for(timeout=30000)
    return filed.inner_text().split()[-1]


def test_duty_finds_by_number_word_and_phone(stack, page_and_log) -> None:  # type: ignore[no-untyped-def]
    page, log = page_and_log
    rng = random.Random(uuid.uuid4().int)
    word = "".join(rng.sample(RARE, 3))
    phone = f"139{rng.randrange(10**8):08d}"
    sign_in_as(page, stack, "duty")
    number = _file(page, stack, word, phone)
    assert number.startswith("DESK-")

    found = _search(page, number)
    assert [r["number"] for r in found] == [number]
    found = _search(page, word)
    assert [r["number"] for r in found] == [number]
    assert word in found[0]["address"]
    found = _search(page, phone)
    assert [r["number"] for r in found] == [number]
    kind = t("search_kind_phone", "zh-CN")
    assert (
        page.locator("#duty-notice")
        .inner_text()
        .endswith(t("search_found", "zh-CN", q=phone, kind=kind, n=1))
    )
    # a word search that finds several cases, for the screenshot (the demo's cases and the filed one)
    many = _search(page, "楼道")
    assert number in {r["number"] for r in many}
    page.wait_for_timeout(800)
    screenshot(page, "duty-search")
    log.assert_clean()

    engine = make_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            audits = conn.execute(
                select(AuditLog.actor, AuditLog.detail).where(AuditLog.action == "search_phone")
            ).all()
            stored = conn.execute(
                select(Case.reporter_phone, Case.phone_hash).where(Case.external_id == number)
            ).one()
    finally:
        engine.dispose()
    assert ("duty", f"{phone[:3]}****{phone[-4:]}; 1 found") in [tuple(a) for a in audits]
    assert stored.reporter_phone == phone and stored.phone_hash and phone not in stored.phone_hash


def _any_number(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return str(conn.scalar(select(Case.external_id).order_by(Case.id.desc()).limit(1)))
    finally:
        engine.dispose()


def test_leader_and_wall_phone_search_refused_with_words(stack, browser) -> None:  # type: ignore[no-untyped-def]
    refused = t("search_refused_phone", "zh-CN")
    phone = "13912345678"
    number = _any_number(stack.database_url)
    leader = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    try:
        lp = leader.new_page()
        sign_in_as(lp, stack, "leader")
        lp.goto(f"{stack.url}overdue")
        lp.locator(".top-search input[name=q]").fill(phone)
        lp.locator(".top-search input[name=q]").press("Enter")  # the top bar's form: GET /duty?q=…
        lp.wait_for_url("**/duty?q=*", timeout=30000)
        lp.wait_for_selector("#duty-notice", timeout=60000)
        lp.wait_for_function(
            "t => document.querySelector('#duty-notice').textContent.includes(t)", arg=refused
        )
        lp.wait_for_selector(".ag-root", timeout=30000)
        assert _rows(lp) == []
        assert [r["number"] for r in _search(lp, number)] == [number]  # by number: allowed
    finally:
        leader.close()

    wall = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    try:
        wp = wall.new_page()
        wall_signed_in(wp, stack)
        wp.goto(f"{stack.url}duty?q={phone}")
        wp.wait_for_selector("#duty-notice", timeout=60000)
        wp.wait_for_function(
            "t => document.querySelector('#duty-notice').textContent.includes(t)", arg=refused
        )
        wp.wait_for_selector(".ag-root", timeout=30000)
        assert _rows(wp) == []
    finally:
        wall.close()
