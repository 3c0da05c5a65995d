"""Secrets never enter an error text (issue 9, finding 5): a feed's Open311 ``api_key`` was stored in
``feed_health.last_error`` (``…&api_key=…&page=1``) and printed by ``gridcc feeds list``.

A feed whose key is sent on every request, against a real local server that fails in the ways that put
the URL into a text — an HTTP error whose body echoes the request, an unreadable page, a redirect
elsewhere — and whose configured URL carries a token of its own (kept in the feed row and the audit log of
the feeds file's changes): afterwards the key and the token are
in no row of any table, in no output of ``gridcc feeds list`` / ``gridcc feeds quarantine``, in no
error's text or traceback and in no log line."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from data.models import Base, FeedHealth
from data.settings import Settings
from gridcc.cli import main
from workers.feeds.fetch import FetchError
from workers.jobs.poll import run_poll
from workers.runtime import Runtime

from ._feed_helpers import QuietHandler, serving
from .test_poll_support import make_hierarchy, open311_feed, request, write_feeds

KEY = "K3y-9f8e7d6c-SECRET"
TOKEN = "t0ken-in-the-url-4242"
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


class _Handler(QuietHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        mode = self.server.mode
        page = int(parse_qs(urlsplit(self.path).query).get("page", ["1"])[0])
        if mode == "error":
            return self._send(500, f"bad request {self.path}".encode(), {"Content-Type": "text/plain"})
        if mode == "redirect":
            return self._send(302, b"", {"Location": f"http://169.254.169.254/latest{self.path}"})
        if mode == "garbage" and page == 2:
            return self._send(200, b"[{not json", {"Content-Type": "application/json"})
        rows = [request(f"R{i}", T0 + timedelta(minutes=i)) for i in range(1, 4)] if page == 1 else []
        return self._send(200, json.dumps(rows).encode(), {"Content-Type": "application/json"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"


@pytest.fixture
def setup(
    database_url: str, engine: object, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Runtime, _Server]]:
    monkeypatch.setenv("LEAKY_API_KEY", KEY)
    srv = _Server()
    with serving(srv) as base:
        feed = open311_feed(
            base,
            name="leaky",
            url=f"{base}/requests.json?token={TOKEN}",
            page_size=3,
            api_key_env="LEAKY_API_KEY",
        )
        feeds = write_feeds(tmp_path / "feeds.toml", [feed])
        settings = Settings(
            data_dir=tmp_path / "var", database_url=database_url, redis_url=redis_url, feeds_file=feeds
        )
        rt = Runtime.build(settings)
        with rt.session_factory() as session, session.begin():
            make_hierarchy(session)
        yield rt, srv
        rt.close()


def _every_value(rt: Runtime) -> str:
    """Every value of every row of every table, as one text."""
    out: list[str] = []
    with rt.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(table.select()):
                out.extend(repr(v) for v in row)
        out.extend(repr(r) for r in conn.execute(text("SELECT * FROM feed_health")))
    return "\n".join(out)


def _cli(rt: Runtime, *args: str) -> str:
    result = CliRunner(
        env={
            "GRIDCC_FEEDS_FILE": str(rt.settings.effective_feeds_file),
            "GRIDCC_DATABASE_URL": rt.settings.effective_database_url,
            "GRIDCC_DATA_DIR": str(rt.settings.data_dir),
            "GRIDCC_LANGUAGE": "en",
        }
    ).invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_api_key_is_in_no_row_no_output_and_no_log(
    setup: tuple[Runtime, _Server], caplog: pytest.LogCaptureFixture
) -> None:
    rt, srv = setup
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    for mode in ("error", "redirect"):
        srv.mode = mode
        with pytest.raises(FetchError) as caught:
            run_poll(rt, "leaky")
        errors.append("".join(traceback.format_exception(caught.value)))
        with rt.session_factory() as session:
            health = session.get(FeedHealth, "leaky")
            assert health is not None and health.last_error
            shown = health.last_error
        assert KEY not in shown and ("api_key=***" in shown or mode == "redirect"), shown
    # the hop to another host dropped the key before it was checked (and refused)
    assert shown.startswith("refused http://169.254.169.254/latest/requests.json?page_size=3&page=1: ")
    srv.mode = "garbage"  # page 1 fine, page 2 unreadable: quarantined, the reason names its URL
    summary = run_poll(rt, "leaky")
    assert summary["new"] == 3 and summary["quarantined"] == 1
    listed = _cli(rt, "feeds", "list")
    quarantined = _cli(rt, "feeds", "quarantine")
    assert "leaky" in quarantined and "(1)" in quarantined

    stored = _every_value(rt)
    for secret in (KEY, TOKEN):
        assert secret not in stored
        assert secret not in listed and secret not in quarantined
        assert all(secret not in e for e in errors)
        assert secret not in caplog.text
    assert "leaky" in listed and "HTTP" in caplog.text  # the log did name the requests
    with rt.session_factory() as session:
        # the unreadable page is named, by its URL, in the feed's health
        error = session.scalar(select(FeedHealth.last_error).where(FeedHealth.feed_name == "leaky"))
        assert error and "requests.json?page_size=3&api_key=***&page=2" in error, error
