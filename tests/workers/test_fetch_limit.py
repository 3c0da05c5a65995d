"""A feed's answer is read up to ``feed_max_bytes`` and no further: a larger ``Content-Length`` is
refused before the body is read, a body streamed past the cap (chunked, close-delimited or gzipped) is
cut off there. The poll then fails like any fetch error: the error on the feed, nothing ingested, the
cursor where it was, the other feeds untouched; ``gridcc feeds list`` and the /feeds query show it.

Against a real local HTTP server that really sends the oversize bodies."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from data.models import Case, Feed, FeedHealth
from data.queries import feed_health
from data.scope import AreaScope
from data.settings import Settings
from gridcc.cli import main
from workers.feeds.config import FeedConfig
from workers.feeds.fetch import Cursor, FetchError, fetch, size_text
from workers.jobs.poll import run_poll
from workers.runtime import Runtime

from ._feed_helpers import serving
from .test_poll_support import make_hierarchy, open311_feed, request, write_feeds

CAP = 64 * 1024  # the tests' feed_max_bytes
HUGE = 256 * 1024 * 1024  # what an oversize answer would send if nobody stopped reading
CHUNK = 64 * 1024
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
PAGE_SIZE = 3


@dataclass
class Sent:
    """What the server wrote of its oversize answers (until the client hung up)."""

    bytes: dict[str, int] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args: Any) -> None:
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up on a kept-alive connection

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        page = int(query.get("page", ["1"])[0])
        if url.path == "/ok/requests.json" or page == 1:
            rows = self.server.rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
            return self._small(json.dumps(rows, ensure_ascii=False).encode())
        mode = url.path.strip("/").split("/")[0]  # /<mode>/requests.json: page 2 is oversize
        try:
            if mode == "declared":
                self._declared()
            elif mode == "chunked":
                self._chunked()
            elif mode == "close":
                self._close_delimited()
            elif mode == "gzip":
                self._gzip_bomb()
            else:
                self._small(b"[]")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: what we want
        finally:
            self.server.sent.done.set()

    def _small(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, mode: str, write: Any) -> None:
        sent = self.server.sent.bytes
        sent[mode] = 0
        junk = b"[" + b" " * (CHUNK - 1)
        while sent[mode] < HUGE:
            write(junk)
            sent[mode] += len(junk)

    def _declared(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(HUGE))
        self.end_headers()
        self._stream("declared", self.wfile.write)

    def _chunked(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def write(data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

        self._stream("chunked", write)

    def _close_delimited(self) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        self._stream("close", self.wfile.write)

    def _gzip_bomb(self) -> None:
        body = gzip.compress(b"[" + b" " * (16 * 1024 * 1024))  # 16 MiB of JSON in about 16 KiB
        self.server.sent.bytes["gzip"] = len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.rows = [request(f"S{i}", T0 + timedelta(minutes=i)) for i in range(1, 6)]
        self.sent = Sent()


@pytest.fixture
def server() -> Iterator[tuple[str, _Server]]:
    srv = _Server()
    with serving(srv) as base:
        yield base, srv


def _config(base: str, mode: str) -> FeedConfig:
    return FeedConfig.model_validate(
        open311_feed(base, name=mode, url=f"{base}/{mode}/requests.json", page_size=3)
    )


def test_size_text() -> None:
    assert (size_text(32 * 1024 * 1024), size_text(64 * 1024), size_text(1000)) == (
        "32 MiB",
        "64 KiB",
        "1000 bytes",
    )
    assert Settings().feed_max_bytes == 32 * 1024 * 1024


@pytest.mark.parametrize("mode", ["declared", "chunked", "close", "gzip"])
def test_an_oversize_answer_is_refused_without_reading_it_all(server: tuple[str, _Server], mode: str) -> None:
    base, srv = server
    with pytest.raises(FetchError) as caught:
        fetch(_config(base, mode), Cursor(), lambda page: PAGE_SIZE, max_bytes=CAP)
    assert caught.value.reason.startswith("response larger than 64 KiB from ")
    assert f"/{mode}/requests.json" in caught.value.reason
    if mode == "declared":
        assert f"Content-Length {HUGE} bytes; not read" in caught.value.reason
    else:
        assert "stopped reading after" in caught.value.reason
    assert srv.sent.done.wait(10)
    # The server could send only what the socket buffers held before the client hung up.
    assert srv.sent.bytes[mode] < HUGE // 4


def test_an_answer_within_the_cap_is_read_whole(server: tuple[str, _Server]) -> None:
    base, _srv = server
    result = fetch(_config(base, "ok"), Cursor(), lambda page: len(json.loads(page.body)), max_bytes=CAP)
    assert [len(json.loads(p.body)) for p in result.pages] == [3, 2]
    exact = len(result.pages[0].body)  # the cap is inclusive: a body of exactly max_bytes is fine
    again = fetch(_config(base, "ok"), Cursor(), lambda page: 0, max_bytes=exact)
    assert again.pages[0].body == result.pages[0].body
    with pytest.raises(FetchError, match=f"response larger than {exact - 1} bytes"):
        fetch(_config(base, "ok"), Cursor(), lambda page: 0, max_bytes=exact - 1)


@pytest.fixture
def runtime(
    database_url: str, engine: object, redis_url: str, tmp_path: Path, server: tuple[str, _Server]
) -> Iterator[Runtime]:
    base, _srv = server
    feeds = write_feeds(
        tmp_path / "feeds.toml",
        [
            open311_feed(base, name="big", url=f"{base}/chunked/requests.json", page_size=PAGE_SIZE),
            open311_feed(base, name="fine", url=f"{base}/ok/requests.json", page_size=PAGE_SIZE),
        ],
    )
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        redis_url=redis_url,
        feeds_file=feeds,
        feed_max_bytes=CAP,
    )
    rt = Runtime.build(settings)
    with rt.session_factory() as session, session.begin():
        make_hierarchy(session)
    yield rt
    rt.close()


def test_an_oversize_page_fails_the_poll_and_ingests_nothing(runtime: Runtime) -> None:
    # Page 1 of "big" is fine (3 records); page 2 streams without end.
    with pytest.raises(FetchError, match="response larger than 64 KiB"):
        run_poll(runtime, "big")
    fine = run_poll(runtime, "fine")  # the other feed, on the same server, is not held up
    assert (fine["status"], fine["new"]) == ("ok", 5)

    with runtime.session_factory() as session:
        feeds = {
            c: n for c, n in session.execute(select(Case.feed_name, func.count()).group_by(Case.feed_name))
        }
        assert feeds == {"fine": 5}  # nothing of "big", not even its good first page
        big = session.get(Feed, "big")
        health = session.get(FeedHealth, "big")
        assert big is not None and health is not None
        assert big.cursor is None and big.etag is None
        assert health.consecutive_failures == 1 and health.last_success_at is None
        assert (health.last_error or "").startswith("response larger than 64 KiB from ")
        rows = {r.name: r for r in feed_health(session, AreaScope.district("500151"), datetime.now(UTC), 3)}
    assert rows["big"].status == "failing" and rows["big"].last_error.startswith(
        "response larger than 64 KiB"
    )
    assert rows["fine"].status == "ok"

    cli = CliRunner(
        env={
            "GRIDCC_FEEDS_FILE": str(runtime.settings.effective_feeds_file),
            "GRIDCC_DATABASE_URL": runtime.settings.effective_database_url,
            "GRIDCC_DATA_DIR": str(runtime.settings.data_dir),
            "GRIDCC_LANGUAGE": "en",
        }
    ).invoke(main, ["feeds", "list"], catch_exceptions=False)
    assert cli.exit_code == 0, cli.output
    flat = " ".join(cli.output.split())
    assert "response larger than 64 KiB" in flat
