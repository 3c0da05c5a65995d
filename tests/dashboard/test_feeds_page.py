"""The feeds page from a real test database and the real (embedded) Redis: feed health rows, the
quarantine shown as text, the RQ queues and a real ``rq worker`` process, the refresh callback."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rq import Queue, Worker

from data.db import transaction
from data.models import Feed, FeedHealth, Quarantine
from layers import versions
from tests.dashboard.test_case_support import all_pages_app, by_class, html_sinks, render, text, texts

NOW = datetime.now(UTC)
SCRIPT = "<script>alert('q')</script>"


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def app(engine, database_url, redis_url, redis_conn, tmp_path, grids) -> Iterator[Any]:
    """The app with every page (overrides the map-only ``app`` of conftest)."""
    yield from all_pages_app(database_url, redis_url, tmp_path)


@pytest.fixture
def feeds(app, session_factory) -> None:
    """Three feeds: one healthy, one failing for 3 polls, one never polled; three quarantined records."""
    with transaction(session_factory) as session:
        for name, interval in (("hotline", 30), ("police", 600), ("weather", 60)):
            session.add(
                Feed(name=name, protocol="open311", url=f"http://127.0.0.1:1/{name}", interval_s=interval)
            )
        session.flush()
        session.add(
            FeedHealth(
                feed_name="hotline",
                last_poll_at=NOW - timedelta(seconds=10),
                last_success_at=datetime(2024, 5, 1, 2, 3, 4, tzinfo=UTC),  # 10:03:04 in Shanghai
                newest_record_at=NOW - timedelta(hours=3),
                received=120,
                new=100,
                updated=15,
                ignored=3,
                quarantined=2,
                note="stopped at the poll's budget: 100 pages; api_key=K3yS3cret",
            )
        )
        session.add(
            FeedHealth(
                feed_name="police",
                last_poll_at=NOW - timedelta(seconds=5),
                last_success_at=NOW - timedelta(seconds=40),
                last_error_at=NOW - timedelta(seconds=5),
                last_error="HTTP 500 from http://127.0.0.1:1/police <b>boom</b>",
                consecutive_failures=3,
            )
        )
        session.add(
            Quarantine(feed_name="hotline", at=NOW - timedelta(hours=2), external_id="old", reason="no id")
        )
        session.add(
            Quarantine(
                feed_name="hotline",
                at=NOW - timedelta(minutes=1),
                external_id="x1",
                reason="unparseable date 'yesterday'",
                raw='{"description": "' + SCRIPT + '"}',
            )
        )
        session.add(
            Quarantine(
                feed_name="police",
                at=NOW - timedelta(minutes=30),
                external_id="big",
                reason="too big",
                raw="A" * 6000,
            )
        )


def test_feed_health_rows(app, feeds) -> None:
    layout = render(app, "/feeds")
    rows = {r.to_plotly_json()["props"]["data-feed"]: r for r in by_class(layout, "feed-row")}
    assert set(rows) == {"hotline", "police", "weather"}
    # hotline: successful long ago with a 30 s interval → stale (数据过期); police: failing (its 600 s
    # interval keeps it fresh however long the run takes to reach this test); weather: never
    assert text(by_class(rows["hotline"], "feed-status")[0]) in ("数据过期", "正常")
    assert text(by_class(rows["police"], "feed-status")[0]) == "异常"
    assert text(by_class(rows["weather"], "feed-status")[0]) == "从未轮询"
    hotline = texts(rows["hotline"])
    assert "2024-05-01 10:03:04" in hotline  # last success in Asia/Shanghai
    # the time since the last success (what stale means), then the newest record's age (information)
    assert "天" in text(by_class(rows["hotline"], "since-success")[0])  # since 2024-05-01
    assert text(by_class(rows["hotline"], "record-age")[0]) == "3 小时"
    assert hotline[hotline.index("3 小时") + 1 : hotline.index("3 小时") + 6] == [
        "120",
        "100",
        "15",
        "3",
        "2",
    ]
    assert text(by_class(rows["weather"], "record-age")[0]) == "—"
    error = text(by_class(rows["police"], "error")[0])
    assert error.endswith("HTTP 500 from http://127.0.0.1:1/police <b>boom</b>")  # the error as text
    assert "从未" in texts(rows["weather"])
    # a poll that went well but stopped short says so where an error would be, not as an error (and a
    # key in the note is shown redacted)
    assert not by_class(rows["hotline"], "error")
    note = text(by_class(rows["hotline"], "note")[0])
    assert note.startswith("stopped at the poll's budget: 100 pages") and "K3yS3cret" not in note
    summary = text(by_class(layout, "feeds-summary")[0])
    assert summary.startswith("共 3 路接入")
    assert "异常 1" in summary and "从未轮询 1" in summary


def test_quarantine_newest_first_as_text(app, feeds) -> None:
    """With sign-in off (a closed kiosk network) the quarantine is listed, its payloads viewable masked
    (nobody may see personal data in full without signing in); payloads are text, never markup."""
    from dashboard.feeds.page import show_payload

    layout = render(app, "/feeds")
    rows = by_class(layout, "quarantine-row")
    assert [text(by_class(r, "external-id")[0]) for r in rows] == ["x1", "big", "old"]
    assert text(by_class(rows[0], "reason")[0]) == "unparseable date 'yesterday'"
    assert text(by_class(rows[0], "payload-preview")[0]) == '{"description": "' + SCRIPT + '"}'
    assert "6000" in text(by_class(rows[1], "payload-note")[0])
    assert not html_sinks(layout)
    ids = [int(r.to_plotly_json()["props"]["data-record"]) for r in rows]
    with app.server.test_request_context("/_dash-update-component"):
        panel = show_payload({"record": ids[0], "at": 1}, "zh-CN")
        big = show_payload({"record": ids[1], "at": 1}, "zh-CN")
    payload = by_class(panel, "payload")[0]
    assert type(payload).__name__ == "Pre"
    assert payload.children == '{"description": "' + SCRIPT + '"}'  # characters, not markup
    cut = by_class(big, "payload")[0].children
    assert cut.startswith("A" * 4000) and cut.endswith("…") and len(cut) == 4001
    assert "4000" in text(big)
    assert not html_sinks(panel)


def test_english(app, feeds) -> None:
    layout = render(app, "/feeds", lang="en", query={"lang": "en"})
    all_text = text(layout)
    for words in (
        "Feeds and workers",
        "Department feeds",
        "Failing",
        "Never polled",
        "Quarantined records",
        "Queues",
    ):
        assert words in all_text, words
    assert "数据接入状态" not in all_text


@pytest.fixture
def rq_worker(app, redis_url: str, redis_conn) -> Iterator[tuple[str, str]]:
    """A real ``rq worker`` process on a queue of its own; stopped (warm shutdown) afterwards."""
    queue = f"test-feeds-{uuid.uuid4().hex[:8]}"
    name = f"feeds-page-{uuid.uuid4().hex[:8]}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rq.cli",
            "worker",
            "--url",
            redis_url,
            "--name",
            name,
            "--worker-class",
            "rq.worker.SimpleWorker",
            queue,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: any(w.name == name for w in Worker.all(connection=redis_conn)), 30, "the worker")
        yield queue, name
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:  # a loaded machine's warm shutdown: not what is tested here
            proc.kill()
            proc.wait(30)


def test_queues_and_workers_from_rq(app, feeds, rq_worker, redis_conn) -> None:
    queue_name, worker_name = rq_worker
    queue = Queue(queue_name, connection=redis_conn)
    queue.enqueue("time.sleep", 2, description="sleep-a-little")
    for _ in range(3):
        queue.enqueue("os.getpid")  # wait behind the sleeping job

    def worker() -> Worker:  # a fresh view each time (RQ caches executions on the instance)
        return next(w for w in Worker.all(connection=redis_conn) if w.name == worker_name)  # type: ignore[misc]

    wait_until(lambda: worker().get_current_job_id() is not None, 30, "the job to start")

    busy = render(app, "/feeds")
    row = next(r for r in by_class(busy, "worker-row") if text(r).startswith(worker_name))
    assert "工作中" in texts(row)
    assert "sleep-a-little" in texts(row)
    qrow = next(r for r in by_class(busy, "queue-row") if texts(r)[0] == queue_name)
    assert texts(qrow) == [queue_name, "3", "1", "0"]  # queued, started, failed

    wait_until(lambda: worker().successful_job_count == 4, 60, "the four jobs")
    wait_until(lambda: worker().get_current_job_id() is None, 30, "the worker to be idle")
    done = render(app, "/feeds")
    row = next(r for r in by_class(done, "worker-row") if text(r).startswith(worker_name))
    assert texts(row)[-2:] == ["4", "0"]
    assert "空闲" in texts(row)
    qrow = next(r for r in by_class(done, "queue-row") if texts(r)[0] == queue_name)
    assert texts(qrow) == [queue_name, "0", "0", "0"]


def test_refresh_callback_rereads(app, client, feeds, session_factory, redis_conn) -> None:
    """The server callback behind the version tick, through Dash's own endpoint."""
    with transaction(session_factory) as session:
        session.add(
            Quarantine(feed_name="weather", at=NOW, external_id="fresh", reason="schema: missing area")
        )
    versions.bump(redis_conn, ["feeds"])
    body = {
        "output": "feeds-content.children",
        "outputs": {"id": "feeds-content", "property": "children"},
        "inputs": [
            {"id": "feeds-moved", "property": "data", "value": f"feeds:{versions.read(redis_conn)['feeds']}"}
        ],
        "state": [{"id": "feeds-lang", "property": "data", "value": "en"}],
        "changedPropIds": ["feeds-moved.data"],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    payload = response.get_data(as_text=True)
    assert "schema: missing area" in payload
    assert "Department feeds" in payload  # in the language of the page
