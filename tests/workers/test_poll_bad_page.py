"""An unreadable page in the middle of a paged Open311 fetch: the pages before it go in, the cursor
stops at the last readable one, the page is quarantined once, and a page that stays broken is skipped
on the third poll that stops at it, with the records lost named on the feed and in the quarantine.

Against a real local HTTP server (``updated_after`` paging, oldest first; a page holding a "poison"
record is answered with that page's JSON cut short) and the real test database and Redis."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from data.models import Case, Feed, FeedHealth, Quarantine
from data.queries import feed_health
from data.scope import AreaScope
from gridcc.cli import main
from workers.ingest.batch import cursor_text
from workers.ingest.held import BAD_PAGE_ATTEMPTS, legible_ids
from workers.jobs.poll import run_poll
from workers.runtime import Runtime

from ._feed_helpers import serving
from .test_poll_support import make_hierarchy, make_runtime, open311_feed, request, write_feeds

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
SHANGHAI = ZoneInfo("Asia/Shanghai")
PAGE_SIZE = 5


def at(i: int) -> datetime:
    return T0 + timedelta(minutes=i)


def rid(i: int) -> str:
    return f"R{i:02d}"


def local(when: datetime) -> str:
    return when.astimezone(SHANGHAI).isoformat(timespec="seconds")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *_args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        srv = self.server
        query = parse_qs(urlsplit(self.path).query)
        after = query.get("updated_after", [None])[0]
        page = int(query.get("page", ["1"])[0])
        size = int(query.get("page_size", ["1000"])[0])
        with srv.lock:
            rows = list(srv.rows.values())
            poison = set(srv.poison)
        if after:
            rows = [
                r
                for r in rows
                if datetime.fromisoformat(r["updated_datetime"]) > datetime.fromisoformat(after)
            ]
        rows.sort(key=lambda r: (r["updated_datetime"], r["service_request_id"]), reverse=srv.newest_first)
        rows = rows[(page - 1) * size : page * size]
        body = json.dumps(rows, ensure_ascii=False).encode()
        if poison & {r["service_request_id"] for r in rows}:
            body = body[: len(body) * 6 // 10] + b"<<\xff junk"  # the department's bug: the page cut short
        self.send_response(200)  # (sends the Date header too)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.rows: dict[str, dict[str, Any]] = {}
        self.poison: set[str] = set()
        self.newest_first = False

    def put(self, *numbers: int, when: datetime | None = None) -> None:
        with self.lock:
            for i in numbers:
                self.rows[rid(i)] = request(rid(i), when or at(i))


@pytest.fixture
def feed(
    database_url: str, engine: object, redis_url: str, tmp_path: Path
) -> Iterator[tuple[Runtime, _Server]]:
    server = _Server()
    with serving(server) as base:
        feeds = write_feeds(tmp_path / "feeds.toml", [open311_feed(base, page_size=PAGE_SIZE)])
        rt = make_runtime(database_url, redis_url, feeds, tmp_path / "var")
        with rt.session_factory() as session, session.begin():
            make_hierarchy(session)
        try:
            yield rt, server
        finally:
            rt.close()


def stored(rt: Runtime) -> list[str]:
    with rt.session_factory() as session:
        return sorted(session.scalars(select(Case.external_id)))


def state(rt: Runtime) -> tuple[Feed, FeedHealth, list[Quarantine]]:
    with rt.session_factory() as session:
        row = session.get(Feed, "hotline")
        health = session.get(FeedHealth, "hotline")
        rows = list(
            session.scalars(
                select(Quarantine).where(Quarantine.feed_name == "hotline").order_by(Quarantine.id)
            )
        )
    assert row is not None and health is not None
    return row, health, rows


def ids(*numbers: int) -> list[str]:
    return [rid(i) for i in numbers]


def test_a_bad_middle_page_lets_the_pages_before_it_in_and_holds_the_cursor(
    feed: tuple[Runtime, _Server],
) -> None:
    rt, server = feed
    server.put(*range(1, 13))  # pages: R01–R05, R06–R10 (holds the poison), R11–R12
    server.poison = {rid(8)}
    result = run_poll(rt, "hotline")
    assert (result["status"], result["new"], result["quarantined"]) == ("held", 5, 1)
    assert stored(rt) == ids(1, 2, 3, 4, 5)
    row, health, rows = state(rt)
    assert row.cursor == cursor_text(at(5))  # the last readable record, not past the bad page
    assert row.etag is None
    assert (health.bad_page_cursor, health.bad_page_polls) == (cursor_text(at(5)), 1)
    assert health.consecutive_failures == 1 and health.last_success_at is None
    error = health.last_error or ""
    assert error.startswith("document rejected (") and "page=2" in error and "malformed JSON" in error
    assert f"page 2: cursor held at {local(at(5))} (attempt 1 of 3; skipped at attempt 3)" in error
    (bad,) = rows
    assert bad.external_id is None and bad.reason.startswith("malformed JSON") and rid(6) in bad.raw
    assert bad.content_hash and len(bad.content_hash) == 64


def test_the_page_fixed_on_retry_lets_everything_in(feed: tuple[Runtime, _Server]) -> None:
    rt, server = feed
    server.put(*range(1, 13))
    server.poison = {rid(8)}
    assert run_poll(rt, "hotline")["status"] == "held"
    server.poison = set()  # the department fixed its page
    result = run_poll(rt, "hotline")
    assert (result["status"], result["new"]) == ("ok", 7)
    assert stored(rt) == ids(*range(1, 13))
    row, health, rows = state(rt)
    assert row.cursor == cursor_text(at(12))
    assert (health.bad_page_cursor, health.bad_page_polls, health.consecutive_failures) == (None, 0, 0)
    assert health.last_success_at is not None
    assert len(rows) == 1  # the bad page stays in the quarantine, with its reason


def test_the_same_broken_page_is_quarantined_once(feed: tuple[Runtime, _Server]) -> None:
    rt, server = feed
    server.put(*range(1, 8))
    server.poison = {rid(2)}  # page 1 itself: every retry asks for (and gets) the very same page
    for attempt in (1, 2):
        result = run_poll(rt, "hotline")
        assert result["status"] == "held" and result["quarantined"] == (1 if attempt == 1 else 0)
    row, health, rows = state(rt)
    assert len(rows) == 1 and health.quarantined == 1
    assert row.cursor is None and (health.bad_page_cursor, health.bad_page_polls) == (None, 2)
    assert "page 1: cursor held at the feed's beginning (attempt 2 of 3" in (health.last_error or "")


def test_a_page_that_stays_broken_is_skipped_after_three_attempts(feed: tuple[Runtime, _Server]) -> None:
    rt, server = feed
    server.put(*range(1, 13))
    server.poison = {rid(8)}
    assert BAD_PAGE_ATTEMPTS == 3
    first = run_poll(rt, "hotline")  # stops at page 2 (R06–R10); the cursor moves to R05
    second = run_poll(rt, "hotline")  # asks from R05 − 5 s: page 1 is now R05–R09, still broken
    assert (first["status"], second["status"]) == ("held", "held")
    _row, health, _rows = state(rt)
    assert health.bad_page_polls == 2 and "attempt 2 of 3" in (health.last_error or "")

    third = run_poll(rt, "hotline")  # the third stop at R05: the page is passed over
    assert third["status"] == "skipped" and third["new"] == 3, third
    assert stored(rt) == ids(1, 2, 3, 4, 5, 10, 11, 12)  # R06–R09 are lost…
    row, health, rows = state(rt)
    assert row.cursor == cursor_text(at(12))
    assert (health.bad_page_cursor, health.bad_page_polls) == (None, 0)
    lost = (
        f"page 1 skipped after 3 attempts: records updated after {local(at(5))} and before "
        f"{local(at(10))} were not ingested (ids legible in it: R05, R06, R07"
    )
    error = health.last_error or ""
    assert error.startswith(lost), error  # …and the feed says so…
    assert "; document rejected (" in error and health.consecutive_failures == 3
    # …and so does the page's quarantine row: one for poll 1's page, one for polls 2 and 3 (the same
    # answer to the same question), now saying it was skipped.
    assert len(rows) == 2 and rows[0].reason.startswith("malformed JSON")
    assert rows[1].reason == error and rid(6) in rows[1].raw
    with rt.session_factory() as session:
        (health_row,) = [
            r
            for r in feed_health(session, AreaScope.district("500151"), datetime.now(UTC), 3)
            if r.name == "hotline"
        ]
    # /feeds (and the wall's banner): three failed polls and no success yet: stale, with the reason
    assert health_row.status == "stale" and health_row.last_error.startswith(lost)
    env = {
        "GRIDCC_FEEDS_FILE": str(rt.settings.effective_feeds_file),
        "GRIDCC_DATABASE_URL": rt.settings.effective_database_url,
        "GRIDCC_DATA_DIR": str(rt.settings.data_dir),
        "GRIDCC_LANGUAGE": "en",
    }
    listed = CliRunner(env=env).invoke(main, ["feeds", "list"], catch_exceptions=False)
    assert "page 1 skipped after 3" in listed.output, listed.output
    quarantined = CliRunner(env=env).invoke(main, ["feeds", "quarantine", "--feed", "hotline"])
    assert "skipped after 3 attempts" in quarantined.output

    fourth = run_poll(rt, "hotline")  # and the feed goes on as usual
    assert fourth["status"] == "ok"
    _row, health, _rows = state(rt)
    assert health.consecutive_failures == 0 and health.last_success_at is not None


def test_a_broken_last_page_is_skipped_up_to_the_servers_clock(feed: tuple[Runtime, _Server]) -> None:
    rt, server = feed
    server.put(*range(1, 8))  # pages: R01–R05, R06–R07 (broken, and the last)
    server.poison = {rid(7)}
    before = datetime.now(UTC).replace(microsecond=0)
    for _ in range(3):
        result = run_poll(rt, "hotline")
    assert result["status"] == "skipped"
    row, health, _rows = state(rt)
    assert stored(rt) == ids(1, 2, 3, 4, 5)
    # Nothing came after the page: its answer's Date (the server's clock) says where it ended.
    cursor = datetime.fromisoformat(row.cursor or "")
    assert before <= cursor <= datetime.now(UTC)
    error = health.last_error or ""
    assert f"records updated after {local(at(5))} and up to {local(cursor)} (the feed's clock)" in error
    # A record updated after that is read by the next poll.
    server.put(8, when=datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1))
    assert run_poll(rt, "hotline")["status"] == "ok"
    assert stored(rt) == ids(1, 2, 3, 4, 5, 8)


def test_a_page_is_not_skipped_when_the_next_one_is_broken_too(feed: tuple[Runtime, _Server]) -> None:
    rt, server = feed
    server.put(*range(1, 13))
    server.poison = {rid(3), rid(8)}  # pages 1 and 2
    for _ in range(3):
        result = run_poll(rt, "hotline")
    assert result["status"] == "held" and stored(rt) == []
    row, health, rows = state(rt)
    assert row.cursor is None and health.bad_page_polls == 3
    assert "not skipped: page 2, after it, could not be read either" in (health.last_error or "")
    assert len(rows) == 2  # page 1 and page 2, once each


def test_records_not_oldest_first_never_move_the_cursor_past_a_bad_page(
    feed: tuple[Runtime, _Server],
) -> None:
    rt, server = feed
    server.newest_first = True
    server.put(*range(1, 13))  # pages: R12–R08, R07–R03 (broken), R02–R01
    server.poison = {rid(5)}
    for _ in range(3):
        result = run_poll(rt, "hotline")
    assert result["status"] == "held"
    # R12–R08 are in (an upsert is harmless), but a cursor at R12 would skip R03–R07 for good.
    assert stored(rt) == ids(1, 2, 8, 9, 10, 11, 12)
    row, health, _rows = state(rt)
    assert row.cursor is None
    assert "not skipped: the feed's records do not come oldest first" in (health.last_error or "")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            '[{"service_request_id": "A1", "x": 1}, {"service_request_id": 42}, {"service_request_id": "B',
            ["A1", "42"],
        ),
        ("<service_requests><request><service_request_id> X-7 </service_request_id><desc>", ["X-7"]),
        ('[{"service_request_id": "A1"}, {"service_request_id": "A1"}', ["A1"]),
        ("<<\xff junk", []),
    ],
)
def test_legible_ids(raw: str, expected: list[str]) -> None:
    assert legible_ids(raw) == expected
