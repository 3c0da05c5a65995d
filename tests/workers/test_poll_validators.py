"""A garbled answer's ETag / Last-Modified are not kept: once the feed answers properly again, the
next poll gets the document (not a 304 to the garbled one's validators) and nothing waits for the
feed's next change. Against a real local HTTP server that honours conditional requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from data.models import Case, Feed, FeedHealth
from workers.jobs.poll import run_poll
from workers.runtime import Runtime

from ._feed_helpers import serving
from .test_poll_support import make_hierarchy, make_runtime, open311_feed, request, write_feeds

CHANGED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
VALIDATORS = {"ETag": '"v1"', "Last-Modified": format_datetime(CHANGED, usegmt=True)}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *_args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        srv = self.server
        srv.requests.append(dict(self.headers))
        asked = self.headers.get("If-None-Match") == VALIDATORS["ETag"] or (
            self.headers.get("If-Modified-Since") == VALIDATORS["Last-Modified"]
        )
        if asked:  # the feed has not changed since those validators
            status, body = 304, b""
        elif srv.garbled:
            status, body = 200, json.dumps(srv.rows).encode()[:25] + b"<<\xff"
        else:
            status, body = 200, json.dumps(srv.rows, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in VALIDATORS.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.rows = rows
        self.garbled = True
        self.requests: list[dict[str, str]] = []


@pytest.fixture
def feed(
    database_url: str, engine: object, redis_url: str, tmp_path: Path
) -> Iterator[tuple[Runtime, _Server]]:
    server = _Server([request("V1", CHANGED)])
    with serving(server) as base:
        feeds = write_feeds(tmp_path / "feeds.toml", [open311_feed(base)])
        rt = make_runtime(database_url, redis_url, feeds, tmp_path / "var")
        with rt.session_factory() as session, session.begin():
            make_hierarchy(session)
        try:
            yield rt, server
        finally:
            rt.close()


def test_a_garbled_answer_leaves_the_validators_as_they_were(feed: tuple[Runtime, _Server]) -> None:
    rt, server = feed
    garbled = run_poll(rt, "hotline")
    assert garbled["quarantined"] == 1 and garbled["new"] == 0
    with rt.session_factory() as session:
        row = session.get(Feed, "hotline")
        assert row is not None and (row.etag, row.last_modified, row.cursor) == (None, None, None)

    server.garbled = False  # the same content, now readable: the server has not "changed" since
    good = run_poll(rt, "hotline")
    assert good["not_modified"] is False and good["new"] == 1
    assert "If-None-Match" not in server.requests[-1] and "If-Modified-Since" not in server.requests[-1]
    with rt.session_factory() as session:
        assert session.scalars(select(Case.external_id)).all() == ["V1"]
        row = session.get(Feed, "hotline")
        health = session.get(FeedHealth, "hotline")
        assert row is not None and row.etag == VALIDATORS["ETag"]
        assert health is not None and health.consecutive_failures == 0

    again = run_poll(rt, "hotline")  # the good answer's validators are kept and used
    assert again["not_modified"] is True
