"""A budget per poll (issue 9, finding 4): a server that ignores ``page`` made one poll fetch 1,000
pages. Now a page that repeats an earlier page of the same poll stops the paging, and the poll's pages,
bytes and records are bounded (``GRIDCC_FEED_POLL_MAX_*``). A poll stopped that way is a success with a
note on the feed's health; the next poll goes on from the cursor — unless the feed's records are not
oldest first, when the cursor stays (the unread pages may hold older records).

Against a real local Open311 server in a thread."""

from __future__ import annotations

import json
import threading
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from data.models import Case, Feed, FeedHealth
from data.settings import Settings
from workers.feeds.config import FeedConfig
from workers.feeds.fetch import Cursor, fetch
from workers.jobs.poll import run_poll
from workers.runtime import Runtime

from ._feed_helpers import serving
from .test_poll_support import make_hierarchy, open311_feed, request, write_feeds

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
PAGE_SIZE = 3


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *_args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        srv = self.server
        query = parse_qs(urlsplit(self.path).query)
        page = 1 if srv.ignore_page else int(query.get("page", ["1"])[0])
        size = int(query.get("page_size", ["1000"])[0])
        after = query.get("updated_after", [None])[0]
        rows = srv.rows
        if after:
            cut = datetime.fromisoformat(after)
            rows = [r for r in rows if datetime.fromisoformat(r["updated_datetime"]) > cut]
        rows = sorted(rows, key=lambda r: r["updated_datetime"], reverse=srv.newest_first)
        body = json.dumps(rows[(page - 1) * size : page * size], ensure_ascii=False).encode()
        with srv.lock:
            srv.requests += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, rows: int, ignore_page: bool = False, newest_first: bool = False, pad: int = 0
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.rows = [
            request(
                f"B{i:03d}", T0 + timedelta(minutes=i), description="x" * pad if pad else f"堆放 B{i:03d}"
            )
            for i in range(1, rows + 1)
        ]
        self.ignore_page, self.newest_first = ignore_page, newest_first
        self.requests = 0
        self.lock = threading.Lock()


def test_a_server_ignoring_page_stops_at_the_repeat_with_memory_bounded() -> None:
    """Every page is page 1 again (about 32 KiB each): the fetch stops at page 2 and holds one page,
    where before it read 1,000 of them (32 MiB held at once)."""
    srv = _Server(rows=PAGE_SIZE, ignore_page=True, pad=10_000)
    with serving(srv) as base:
        config = FeedConfig.model_validate(open311_feed(base, page_size=PAGE_SIZE))
        tracemalloc.start()
        try:
            result = fetch(config, Cursor(), lambda page: PAGE_SIZE, max_bytes=1 << 20)
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert (srv.requests, len(result.pages)) == (2, 1)
    assert result.short == "page 2 repeats page 1 (the server seems to ignore 'page'): paging stopped"
    page = len(result.pages[0].body)
    assert page > 30_000
    assert peak < 20 * page, f"peak {peak} bytes for pages of {page}"


@pytest.fixture
def make_runtime(database_url: str, engine: object, redis_url: str, tmp_path: Path) -> Iterator[Any]:
    built: list[Runtime] = []

    def make(base: str, **budget: int) -> Runtime:
        feeds = write_feeds(tmp_path / "feeds.toml", [open311_feed(base, page_size=PAGE_SIZE)])
        settings = Settings(
            data_dir=tmp_path / "var",
            database_url=database_url,
            redis_url=redis_url,
            feeds_file=feeds,
        ).model_copy(update=budget)
        rt = Runtime.build(settings)
        if not built:
            with rt.session_factory() as session, session.begin():
                make_hierarchy(session)
        built.append(rt)
        return rt

    yield make
    for rt in built:
        rt.close()


def _state(rt: Runtime) -> tuple[list[str], str | None, FeedHealth]:
    with rt.session_factory() as session:
        ids = sorted(session.scalars(select(Case.external_id)))
        feed = session.get(Feed, "hotline")
        health = session.get(FeedHealth, "hotline")
        assert feed is not None and health is not None
        session.expunge(health)
        return ids, feed.cursor, health


def test_a_server_ignoring_page_is_a_short_successful_poll(make_runtime: Any) -> None:
    srv = _Server(rows=10, ignore_page=True)
    with serving(srv) as base:
        rt = make_runtime(base)
        summary = run_poll(rt, "hotline")
        assert srv.requests == 2
    assert (summary["status"], summary["new"], summary["requests"]) == ("ok", PAGE_SIZE, 2)
    ids, cursor, health = _state(rt)
    assert ids == ["B001", "B002", "B003"]
    assert health.consecutive_failures == 0 and health.last_success_at is not None
    assert health.note == "page 2 repeats page 1 (the server seems to ignore 'page'): paging stopped"
    assert cursor is not None and cursor.startswith(
        (T0 + timedelta(minutes=3)).astimezone(UTC).isoformat()[:16]
    )


def test_a_page_budget_stops_the_poll_and_the_next_one_goes_on(make_runtime: Any) -> None:
    srv = _Server(rows=10)
    with serving(srv) as base:
        rt = make_runtime(base, feed_poll_max_pages=2)
        first = run_poll(rt, "hotline")
        assert (first["status"], first["new"], srv.requests) == ("ok", 6, 2)
        ids, _cursor, health = _state(rt)
        assert len(ids) == 6 and health.note == "poll budget of 2 pages reached; the next poll goes on"
        assert health.consecutive_failures == 0
        second = run_poll(rt, "hotline")  # B007…B010: a full page and a short one, within the budget
        assert second["new"] == 4
    ids, _cursor, health = _state(rt)
    assert ids == [f"B{i:03d}" for i in range(1, 11)]
    assert health.note is None  # the poll read everything


def test_a_record_budget_stops_the_poll(make_runtime: Any) -> None:
    srv = _Server(rows=10)
    with serving(srv) as base:
        summary = run_poll(make_runtime(base, feed_poll_max_records=4), "hotline")
    assert (summary["new"], srv.requests) == (6, 2)
    assert summary["short"] == "poll budget of 4 records reached; the next poll goes on"


def test_a_byte_budget_stops_the_poll(make_runtime: Any) -> None:
    srv = _Server(rows=10, pad=2000)  # pages of about 6.5 KB
    with serving(srv) as base:
        rt = make_runtime(base, feed_poll_max_bytes=10_000)
        summary = run_poll(rt, "hotline")
    assert summary["new"] == 3  # page 1 read whole; page 2 would pass 10,000 bytes
    assert summary["short"] == "poll budget of 10000 bytes reached at page 2; the next poll goes on"
    _ids, _cursor, health = _state(rt)
    assert health.note == summary["short"]


def test_an_unordered_feed_stopped_short_keeps_its_cursor(make_runtime: Any) -> None:
    """Newest first: the unread pages hold older records, so the cursor must not pass them."""
    srv = _Server(rows=10, newest_first=True)
    with serving(srv) as base:
        rt = make_runtime(base, feed_poll_max_pages=2)
        summary = run_poll(rt, "hotline")
        assert (summary["new"], summary["short"]) == (
            6,
            "poll budget of 2 pages reached; the next poll goes on",
        )
        ids, cursor, health = _state(rt)
        assert ids == [f"B{i:03d}" for i in range(5, 11)] and cursor is None
        assert health.note is not None and health.note.endswith(
            "; records not oldest first, so the cursor stayed (raise GRIDCC_FEED_POLL_MAX_*)"
        )
        complete = make_runtime(base)  # the default budget: the whole window in one poll
        assert run_poll(complete, "hotline")["new"] == 4
    ids, cursor, health = _state(rt)
    assert len(ids) == 10 and cursor is not None and health.note is None
