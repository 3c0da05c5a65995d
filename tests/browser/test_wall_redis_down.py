"""An open wall while the demo's Redis is away: it says that data has stopped (not "N feeds OK" over a
frozen screen) and, once the supervisor has Redis back, returns to its feeds banner by itself.

A stack of its own: taking Redis away would disturb the shared stack's other screens. The supervisor is
paused (SIGSTOP) while Redis is killed, so that Redis stays away long enough to be seen; SIGCONT lets it
start a new one, as it does at once when not paused (tests/test_demo_faults.py).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.browser.conftest import PageLog, screenshot, wall_signed_in
from tests.stack import Demo

SHOWN = "() => { const e = document.querySelector('%s'); return !!e && e.offsetParent !== null; }"
BANNER_SHOWN = SHOWN % "#wall-banner"
DOWN_SHOWN = SHOWN % "#wall-down"


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    demo = Demo(tmp_path_factory.mktemp("redisdown") / "var")
    demo.start()
    yield demo
    try:
        if demo.proc is not None:
            demo.proc.send_signal(signal.SIGCONT)
        demo.stop()
    finally:
        demo.kill_all()


def test_wall_says_data_stopped_while_redis_is_down(
    own_stack: Demo, page_and_log: tuple[Any, PageLog]
) -> None:
    stack = own_stack
    page, log = page_and_log
    wall_signed_in(page, stack)
    page.goto(stack.url, wait_until="domcontentloaded")
    page.wait_for_selector("#wall-kpi-today-received", timeout=60000)
    # the feeds banner ("N 路数据源正常", or the feeds in trouble) once the first polls have landed
    page.wait_for_function(
        "() => /wall-banner (ok|bad)/.test(document.querySelector('#wall-banner').className)", timeout=120000
    )
    page.wait_for_selector("#wall-categories g.point", timeout=120000)  # the charts drawn
    assert page.evaluate(BANNER_SHOWN) and not page.evaluate(DOWN_SHOWN)
    banner_before = page.inner_text("#wall-banner")
    page.evaluate("window.__notReloaded = true")

    assert stack.proc is not None
    server = stack.redis_server()
    assert server is not None
    stack.proc.send_signal(signal.SIGSTOP)  # the supervisor waits: Redis stays away until SIGCONT
    try:
        server.send_signal(signal.SIGKILL)  # a zombie until the supervisor, paused, reaps it
        page.wait_for_function(DOWN_SHOWN, timeout=30000)
        assert not page.evaluate(BANNER_SHOWN)
        text = page.inner_text("#wall-down")
        assert text == "数据中断 · 画面已停止更新", text
        screenshot(page, "wall_redis_down")
    finally:
        stack.proc.send_signal(signal.SIGCONT)

    # the supervisor starts a new redis-server; the wall returns to its banner without a reload
    conn = redis.Redis.from_url(stack.redis_url, socket_timeout=5)
    deadline = time.monotonic() + 60
    while True:
        try:
            if conn.ping():
                break
        except redis.RedisError:
            pass
        assert time.monotonic() < deadline, "Redis did not come back"
        time.sleep(0.25)
    page.wait_for_function(BANNER_SHOWN, timeout=60000)
    assert not page.evaluate(DOWN_SHOWN)
    print(f"banner before: {banner_before!r}; after: {page.inner_text('#wall-banner')!r}")
    screenshot(page, "wall_redis_back")
    assert page.evaluate("window.__notReloaded") is True
    assert page.locator(".dash-fe-error__title, .dash-debug-menu").count() == 0
    # while Redis was away the browser logged the 503s of /api/versions; nothing else may be an error
    log.console_errors = [e for e in log.console_errors if "Failed to load resource" not in e]
    log.assert_clean()
