"""The ingest writes the case search's terms in the poll's own transaction, and the full-text index
follows (issue 13): a real poll of a local Open311 feed into the real test database (SQLite FTS5 /
PostgreSQL GIN), a changed description found by its new words and no longer by its old ones."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from data.scope import AreaScope
from data.search import search_cases
from workers.jobs.poll import run_poll
from workers.runtime import Runtime, set_runtime

from .test_poll_support import feed_server, make_hierarchy, make_runtime, open311_feed, request, write_feeds

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
M = timedelta(minutes=1)


@pytest.fixture
def server() -> Iterator[tuple[str, object]]:
    with feed_server() as srv:
        yield srv


@pytest.fixture
def runtime(
    database_url: str, engine: object, redis_url: str, tmp_path: Path, server: tuple[str, object]
) -> Iterator[Runtime]:
    base, _state = server
    feeds = write_feeds(tmp_path / "feeds.toml", [open311_feed(base)])
    rt = make_runtime(database_url, redis_url, feeds, tmp_path / "var")
    with rt.session_factory() as session, session.begin():
        make_hierarchy(session)
    set_runtime(rt)
    yield rt
    set_runtime(None)
    rt.close()


def found(runtime: Runtime, query: str) -> list[str]:
    with runtime.session_factory() as session:
        scope = AreaScope.of(["500151"])
        result = search_cases(
            session, scope, query, may_search_phone=True, phone_key=runtime.phone_search_key()
        )
        return [r.external_id for r in result.rows]


def test_polled_cases_are_found_by_words_and_number_and_follow_updates(runtime: Runtime, server) -> None:
    _base, state = server
    state.put(  # type: ignore[attr-defined]
        request("A1", T0, description="玄天湖路口井盖缺失，联系电话13912345678"),
        request("B1", T0, description="夜间施工噪声扰民"),
    )
    assert run_poll(runtime, "hotline")["status"] == "ok"
    assert found(runtime, "井盖") == ["A1"]
    assert found(runtime, "噪声扰民") == ["B1"]
    assert found(runtime, "A1") == ["A1"]
    assert set(found(runtime, "玄天湖社区")) == {"A1", "B1"}  # the address
    assert found(runtime, "13912345678") == []  # a phone in the text is not in the words index
    state.put(request("A1", T0 + 30 * M, description="化粪池满溢"))  # type: ignore[attr-defined]
    assert run_poll(runtime, "hotline")["status"] == "ok"
    assert found(runtime, "化粪池") == ["A1"]
    assert found(runtime, "井盖") == []
