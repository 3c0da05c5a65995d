"""Feed protocols as adapters: one registry serves the config, the parser, the CLI and the poll job; an
unknown protocol is an error everywhere (never a fall-through); a new protocol is one module and one
registry line, polled by the real poll job from a real local server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from data.models import Alert, Feed, FeedHealth, Quarantine
from gridcc.cli.feeds_parse import parse as parse_command
from workers.feeds import registry
from workers.feeds.config import FeedConfig, FeedConfigError, load_feeds
from workers.feeds.fetch import Cursor, fetch
from workers.feeds.parsers import parse
from workers.jobs.poll import run_poll
from workers.protocols.base import FeedProtocol, adapter_for

from ._feed_helpers import serving
from ._toy_protocol import Toy
from .test_poll_support import make_hierarchy, make_runtime, write_feeds

WORKERS = Path(__file__).resolve().parents[2] / "workers"
SENT = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
def toy() -> Iterator[type[Toy]]:
    registry.register(Toy)  # the one registry line a new protocol needs
    try:
        yield Toy
    finally:
        registry.unregister("toy")


def toy_feed(base: str) -> dict[str, Any]:
    return {"name": "toys", "department": "police", "protocol": "toy", "url": f"{base}/alarms.txt",
            "interval": 1, "timeout": 5}  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *_args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.paths.append(self.path)
        body = "\n".join(self.server.lines).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, lines: list[str]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lines = lines
        self.paths: list[str] = []


def test_builtins_are_registered_like_any_other() -> None:
    assert registry.names()[:3] == ("open311", "cap", "sensor")
    for name in ("open311", "cap", "sensor"):
        adapter = adapter_for(name)
        assert isinstance(adapter, FeedProtocol) and adapter.name == name and adapter.summary


def test_an_unknown_protocol_is_an_error_not_a_fall_through(tmp_path: Path) -> None:
    config = FeedConfig.model_construct(
        name="odd", department="police", protocol="rss", url="http://127.0.0.1:9/feed", interval=1,
        timeout=1.0, page_size=10, allow_hosts=(),
    )  # fmt: skip
    # before the registry, fetch() read any protocol it did not know as a sensor feed
    with pytest.raises(registry.UnknownProtocol, match="unknown feed protocol 'rss'"):
        fetch(config, Cursor(), lambda _page: 0, max_bytes=1024)
    with pytest.raises(ValueError, match="unknown feed protocol 'rss'"):
        parse("rss", b"<rss/>")
    with pytest.raises(registry.UnknownProtocol):
        adapter_for("rss")
    feeds = write_feeds(tmp_path / "feeds.toml", [toy_feed("http://127.0.0.1:9")])
    with pytest.raises(FeedConfigError, match="field 'protocol': .*unknown protocol 'toy'"):
        load_feeds(feeds)


def test_no_protocol_is_named_outside_the_registry_and_its_adapters() -> None:
    named = [
        f"{path.relative_to(WORKERS.parent)}:{n}"
        for path in WORKERS.rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"protocol\s*==", line)
    ]
    assert named == []


def test_a_registered_protocol_is_known_to_the_config_parser_and_cli(toy: type[Toy], tmp_path: Path) -> None:
    feeds = write_feeds(tmp_path / "feeds.toml", [toy_feed("http://127.0.0.1:9")])
    assert [c.protocol for c in load_feeds(feeds)] == ["toy"]
    doc = tmp_path / "alarms.txt"
    doc.write_text(f"T-1,3,106.005,29.805,{SENT.isoformat()}\nT-2,9,0,0,{SENT.isoformat()}\n")
    result = CliRunner().invoke(parse_command, ["--protocol", "toy", str(doc)])
    assert result.exit_code == 1  # T-2's level is no level: rejected
    assert '"external_id": "T-1"' in result.stdout and '"external_id": "T-2"' in result.stderr
    shown = " ".join(CliRunner().invoke(parse_command, ["--help"]).output.split())
    assert "[open311|cap|sensor|toy]" in shown
    assert "open311: Open311 GeoReport v2" in shown and "toy: a toy: one alarm a line" in shown


def test_a_toy_protocol_polled_by_the_real_poll_job(
    toy: type[Toy], database_url: str, engine: object, redis_url: str, tmp_path: Path
) -> None:
    later = SENT + timedelta(minutes=5)
    server = _Server(
        [f"T-1,3,106.005,29.805,{SENT.isoformat()}", f"T-2,1,106.006,29.806,{later.isoformat()}", "T-3,x"]
    )
    with serving(server) as base:
        rt = make_runtime(
            database_url, redis_url, write_feeds(tmp_path / "f.toml", [toy_feed(base)]), tmp_path
        )
        try:
            with rt.session_factory() as session, session.begin():
                make_hierarchy(session)
            first = run_poll(rt, "toys")
            second = run_poll(rt, "toys")
            with rt.session_factory() as session:
                alerts = {
                    a.external_id: a for a in session.scalars(select(Alert).where(Alert.feed_name == "toys"))
                }
                feed = session.get(Feed, "toys")
                health = session.get(FeedHealth, "toys")
                quarantined = session.scalars(select(Quarantine.external_id)).all()
                assert feed is not None and health is not None
                cursor, protocol, failures = feed.cursor, feed.protocol, health.consecutive_failures
        finally:
            rt.close()
    assert first["status"] == "ok" and (first["new"], first["quarantined"]) == (2, 1)
    assert (second["new"], second["ignored"]) == (0, 2)
    assert sorted(alerts) == ["T-1", "T-2"] and alerts["T-1"].severity == "Severe"
    assert (alerts["T-1"].lon, alerts["T-1"].lat, alerts["T-1"].sent_at) == (106.005, 29.805, SENT)
    assert quarantined == ["T-3"]
    assert protocol == "toy" and failures == 0
    assert cursor is not None and datetime.fromisoformat(cursor) == later
    assert server.paths[0] == "/alarms.txt"
    assert server.paths[1].startswith("/alarms.txt?after=")  # its cursor, asked for its own way
