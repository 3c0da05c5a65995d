"""The feeds page in real Chromium against the shared demo stack: the 14 feeds, the RQ queues and the 2
workers, refreshed without a reload when the feeds version moves; English."""

from __future__ import annotations

from tests.browser.conftest import screenshot, sign_in_as

FEEDS = 14
WORKERS = 2


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
