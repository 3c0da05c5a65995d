"""The feeds page in real Chromium against the shared demo stack: the 14 feeds, the RQ queues and the
demo's workers (two on every queue, one push-only), refreshed without a reload when the feeds version
moves; English."""

from __future__ import annotations

from data.settings import Settings
from gridcc.cli.serve import DEMO_PUSH_WORKERS
from tests.browser.conftest import screenshot, sign_in_as

FEEDS = 14
WORKERS = Settings().workers + DEMO_PUSH_WORKERS


def test_feeds_page(stack, page_and_log) -> None:
    page, log = page_and_log
    sign_in_as(page, stack, "admin")
    page.goto(f"{stack.url}feeds")
    page.wait_for_function(f"document.querySelectorAll('.feed-row').length == {FEEDS}", timeout=60000)
    page.wait_for_function(f"document.querySelectorAll('.worker-row').length == {WORKERS}", timeout=60000)
    queues = page.locator(".queue-row .name").all_inner_texts()
    assert "gridcc-feeds" in queues, queues
    assert page.locator(".feeds-summary").inner_text().startswith(f"共 {FEEDS} 路接入")
    # polls keep landing: the page re-reads on a new feeds version, without a reload
    page.evaluate("window.__same_page = true")
    before = page.locator(".feeds-as-of").inner_text()
    page.wait_for_function(
        "t => document.querySelector('.feeds-as-of').textContent !== t", arg=before, timeout=90000
    )
    assert page.evaluate("window.__same_page === true")
    page.wait_for_function(
        "document.querySelectorAll('.feed-row .feed-status.fs-ok').length > 0", timeout=90000
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "feeds")
    log.assert_clean()


def test_feeds_page_in_english(stack, page_and_log) -> None:
    page, log = page_and_log
    sign_in_as(page, stack, "admin")
    page.goto(f"{stack.url}feeds?lang=en")
    page.wait_for_function(f"document.querySelectorAll('.feed-row').length == {FEEDS}", timeout=60000)
    body = page.locator("body").inner_text()
    for words in ("Feeds and workers", "Department feeds", "Queues", "Workers", "Quarantined records"):
        assert words in body, words
    assert "数据接入状态" not in body
    log.assert_clean()


def test_admin_pauses_and_resumes_a_feed(stack, page_and_log) -> None:
    """The 暂停 button pauses the feed (its row shows 已暂停 with who paused it), 恢复 resumes it; both are
    in the audit log. The feed is resumed at the end: the shared stack's other tests want it polled."""
    page, log = page_and_log
    sign_in_as(page, stack, "admin")
    page.goto(f"{stack.url}feeds")
    row = page.locator(".feed-row[data-feed='justice']")
    row.wait_for(timeout=60000)
    try:
        row.locator("button.feed-pause").click()
        page.wait_for_function(
            "() => document.querySelector(\".feed-row[data-feed='justice'] .fs-paused\")", timeout=30000
        )
        assert "admin 暂停于" in row.inner_text()
        # the 1 s tick may redraw the table (the feeds version moved) before the button's answer lands
        page.wait_for_function(
            "m => document.querySelector('#feeds-message').textContent === m",
            arg="已暂停 justice：不再轮询，直到恢复。",
            timeout=30000,
        )
        screenshot(page, "feeds_paused")
    finally:
        row.locator("button.feed-resume").click()
    page.wait_for_function(
        "() => !document.querySelector(\".feed-row[data-feed='justice'] .fs-paused\")", timeout=30000
    )
    page.wait_for_function(
        "() => document.querySelector('#feeds-message').textContent.startsWith('已恢复 justice')",
        timeout=30000,
    )
    page.goto(f"{stack.url}audit?action=feed_change&actor=admin")
    page.wait_for_selector(".audit-row", timeout=30000)
    details = page.locator(".audit-row .detail").all_inner_texts()
    assert details[:2] == ["resumed", "paused"]
    log.assert_clean()
