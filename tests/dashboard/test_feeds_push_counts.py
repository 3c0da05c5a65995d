"""``/feeds`` shows, per push key, its accepted requests and its refusals (rate, size, bad) as counted
by the push endpoints in Redis (issue #12, item 3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from data.db import transaction
from data.push import limits
from data.push.keys import create_key
from tests.dashboard.test_case_support import all_pages_app, by_class, render, texts


@pytest.fixture
def app(engine, database_url, redis_url, redis_conn, tmp_path, grids) -> Iterator[Any]:
    yield from all_pages_app(database_url, redis_url, tmp_path)


def test_each_keys_refusals_are_counted_on_feeds(app, session_factory, redis_conn) -> None:
    redis_conn.delete(limits.COUNTS_KEY)
    with transaction(session_factory) as session:
        create_key(session, "noisy_app", "app", "noisy_app", "hotline", ("open311",), actor="test")
        create_key(session, "quiet", "department", "police", "police", ("open311",), actor="test")
    for outcome, n in (("accepted", 5), ("rate", 7), ("size", 2), ("bad", 1)):
        for _ in range(n):
            limits.count(redis_conn, "noisy_app", outcome)
    layout = render(app, "/feeds")
    rows = {texts(r)[0]: texts(r) for r in by_class(layout, "feeds-push-row")}
    assert rows["noisy_app"][:7] == ["noisy_app", "noisy_app", "hotline", "5", "7", "2", "1"]
    assert rows["quiet"][:7] == ["quiet", "police", "police", "0", "0", "0", "0"]
    assert "推送密钥：各密钥请求" in texts(layout)
