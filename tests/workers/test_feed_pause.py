"""Pausing a feed: a real ``rq worker`` skips its polls (no request reaches the feed), its status is
"paused" and never "stale", resuming polls it again; ``gridcc feeds disable|enable`` on the console,
each change audited."""

from __future__ import annotations

import getpass
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from data import text
from data.auth import audit_rows
from data.auth.feed_admin import FeedNotFound, set_feed_paused
from data.models import Feed, FeedHealth
from data.queries import feed_health
from data.scope import AreaScope
from gridcc.cli import main
from workers.queues import enqueue_poll
from workers.runtime import Runtime

from ._rq_stack import Stack, finished, wait_until
from .test_poll_support import (
    feed_server,
    open311_feed,
    request,
    write_feeds,
)

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

pytestmark = pytest.mark.slow


def poll_through_worker(rt: Runtime) -> dict[str, Any]:
    job = enqueue_poll(rt.redis, "hotline")
    wait_until(lambda: finished(job), what="the poll job")
    assert job.get_status() == "finished"
    return dict(job.return_value() or {})


def status_of(rt: Runtime, name: str, now: datetime) -> str:
    with rt.session_factory() as session:
        rows = {r.name: r for r in feed_health(session, AreaScope.district("500151"), now, 3)}
    return rows[name].status


def test_a_real_worker_skips_a_paused_feed(rq_runtime: Runtime, rq_stack: Stack) -> None:
    with feed_server() as (base, state):
        write_feeds(rq_runtime.settings.effective_feeds_file, [open311_feed(base)])
        state.put(request("P1", T0))
        rq_stack.worker("w1")
        assert poll_through_worker(rq_runtime)["status"] == "ok"
        asked = dict(state.hits)
        assert asked.get("/requests.json", 0) >= 1

        with rq_runtime.session_factory() as session, session.begin():
            assert set_feed_paused(session, "hotline", True, actor="admin", remote_addr="203.0.113.9")
            health = session.get(FeedHealth, "hotline")
            assert health is not None
            polled_at = health.last_poll_at
            # its last success long ago: a stale feed, were it not paused
            health.last_success_at = datetime.now(UTC) - timedelta(hours=5)
        state.put(request("P2", T0 + timedelta(seconds=5)))
        assert poll_through_worker(rq_runtime) == {"feed": "hotline", "status": "paused"}
        assert state.hits == asked  # no request reached the feed
        with rq_runtime.session_factory() as session:
            assert session.get(FeedHealth, "hotline").last_poll_at == polled_at  # type: ignore[union-attr]
        assert status_of(rq_runtime, "hotline", datetime.now(UTC)) == "paused"

        with rq_runtime.session_factory() as session, session.begin():
            assert set_feed_paused(session, "hotline", False, actor="admin")
            assert not set_feed_paused(session, "hotline", False, actor="admin")  # already running
        assert poll_through_worker(rq_runtime)["status"] == "ok"
        assert state.hits.get("/requests.json", 0) > asked["/requests.json"]
        assert status_of(rq_runtime, "hotline", datetime.now(UTC)) == "ok"
    with rq_runtime.session_factory() as session:
        rows = audit_rows(session, action="feed_change", actor="admin")
        assert [(r.target, r.detail) for r in reversed(rows)] == [
            ("feed:hotline", "paused"),
            ("feed:hotline", "resumed"),
        ]
        assert rows[-1].remote_addr == "203.0.113.9"


def test_the_feeds_file_sync_leaves_a_pause_alone(rq_runtime: Runtime) -> None:
    from workers.feeds.config import load_feeds, sync_feeds

    path = write_feeds(rq_runtime.settings.effective_feeds_file, [open311_feed("http://127.0.0.1:9")])
    with rq_runtime.session_factory() as session, session.begin():
        sync_feeds(session, load_feeds(path))
        set_feed_paused(session, "hotline", True, actor="admin")
    write_feeds(path, [open311_feed("http://127.0.0.1:9", interval=3)])
    with rq_runtime.session_factory() as session, session.begin():
        sync_feeds(session, load_feeds(path))
    with rq_runtime.session_factory() as session:
        row = session.get(Feed, "hotline")
        assert row is not None and row.interval_s == 3 and row.paused_by == "admin" and row.paused_at
    with rq_runtime.session_factory() as session, session.begin(), pytest.raises(FeedNotFound):
        set_feed_paused(session, "nosuch", True, actor="admin")


def _cli(rq_runtime: Runtime, tmp_path: Path) -> CliRunner:
    s = rq_runtime.settings
    return CliRunner(
        env={
            "GRIDCC_FEEDS_FILE": str(s.effective_feeds_file),
            "GRIDCC_DATABASE_URL": s.effective_database_url,
            "GRIDCC_DATA_DIR": str(tmp_path / "cli-var"),
            "GRIDCC_LANGUAGE": "en",  # the English words asserted below
        }
    )


def test_console_disable_and_enable(rq_runtime: Runtime, tmp_path: Path) -> None:
    write_feeds(
        rq_runtime.settings.effective_feeds_file,
        [open311_feed("http://127.0.0.1:9"), open311_feed("http://127.0.0.1:9", name="other")],
    )
    runner = _cli(rq_runtime, tmp_path)
    # never polled, so no row yet: the file's rows are synced first, then the pause
    result = runner.invoke(main, ["feeds", "disable", "hotline"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "paused hotline" in result.output
    assert "already paused" in runner.invoke(main, ["feeds", "disable", "hotline"]).output
    listing = runner.invoke(main, ["feeds", "list"], catch_exceptions=False).output
    hotline = next(line for line in listing.splitlines() if "hotline" in line)
    assert text.label("feed_status", "paused", "en") in hotline
    assert text.label("feed_status", "stale", "en") not in hotline

    # even with its last success long ago, the row reads "paused"
    with rq_runtime.session_factory() as session, session.begin():
        session.add(FeedHealth(feed_name="hotline", last_success_at=datetime.now(UTC) - timedelta(hours=9)))
    assert status_of(rq_runtime, "hotline", datetime.now(UTC)) == "paused"

    missing = runner.invoke(main, ["feeds", "disable", "nosuch"])
    assert missing.exit_code != 0 and "no feed named 'nosuch'" in missing.output

    result = runner.invoke(main, ["feeds", "enable", "hotline"], catch_exceptions=False)
    assert result.exit_code == 0 and "resumed hotline" in result.output
    with rq_runtime.session_factory() as session:
        row = session.get(Feed, "hotline")
        assert row is not None and row.paused_at is None
        rows = [r for r in audit_rows(session, action="feed_change") if r.detail in ("paused", "resumed")]
    who = f"console:{getpass.getuser()}"
    assert [(r.actor, r.target, r.detail) for r in reversed(rows)] == [
        (who, "feed:hotline", "paused"),
        (who, "feed:hotline", "resumed"),
    ]
    assert rows[0].remote_addr == f"console@{socket.gethostname()}"[:60]


def test_paused_status_and_label() -> None:
    from data.feed_status import feed_status, label

    class _Feed:
        interval_s = 10

    now = datetime.now(UTC)
    old = FeedHealth(last_success_at=now - timedelta(hours=1), consecutive_failures=4)
    assert feed_status(old, _Feed(), now) == "stale"
    assert feed_status(old, _Feed(), now, paused=True) == "paused"
    assert feed_status(None, _Feed(), now, paused=True) == "paused"
    assert feed_status(old, _Feed(), now, enabled=False, paused=True) == "disabled"  # the file wins
    assert (label("paused"), label("paused", "en")) == ("已暂停", "Paused")
