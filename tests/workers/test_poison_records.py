"""Every record is its own unit of failure: a record that cannot be stored (text the database refuses,
a time out of range or in the future, a field too long, a record too deeply nested to read) is
quarantined with its reason, and the GOOD record behind it on the same page is stored.

Each poison shape is served by a real local HTTP server and polled with ``run_poll`` into the real
test database (SQLite, and PostgreSQL when GRIDCC_TEST_DATABASE_URL is set) and Redis."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from data.deadlines import evaluate
from data.models import Alert, Case, Feed, FeedHealth, Quarantine
from data.queries import feed_health
from data.scope import AreaScope
from gridcc.cli import main
from gridcc.cli.feeds_parse import parse as parse_command
from workers.ingest import store
from workers.ingest.batch import cursor_text, parse_cursor
from workers.jobs.poll import run_poll
from workers.runtime import Runtime

from ._feed_helpers import serving
from .test_poll_support import CST, make_hierarchy, make_runtime, open311_feed, request, write_feeds

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(hours=1)
DEEP = 50_000
CLOCK_SKEW = timedelta(minutes=5)  # workers.feeds._times.CLOCK_SKEW


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *_args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        srv = self.server
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        with srv.lock:
            srv.asked.append(query)
            body, ctype = srv.body, srv.ctype
            records = list(srv.records)
        if body is None:  # the records, filtered by updated_after and paged (ensure_ascii: "\ud800" as sent)
            after = query.get("updated_after", [None])[0]
            if after:
                cut = datetime.fromisoformat(after)
                records = [r for r in records if datetime.fromisoformat(r["updated_datetime"]) > cut]
            page = int(query.get("page", ["1"])[0])
            size = int(query.get("page_size", ["1000"])[0])
            body = json.dumps(records[(page - 1) * size : page * size]).encode()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.body: bytes | None = None  # a fixed answer; else the records below
        self.ctype = "application/json; charset=utf-8"
        self.records: list[dict[str, Any]] = []
        self.asked: list[dict[str, list[str]]] = []


@pytest.fixture
def feed(
    database_url: str, engine: object, redis_url: str, tmp_path: Path
) -> Iterator[tuple[Runtime, _Server]]:
    server = _Server()
    with serving(server) as base:
        feeds = write_feeds(
            tmp_path / "feeds.toml",
            [
                open311_feed(base),
                {"name": "alarms", "department": "emergency", "protocol": "sensor", "url": f"{base}/alarms",
                 "interval": 1, "timeout": 5},
            ],
        )  # fmt: skip
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


def quarantined(rt: Runtime, feed_name: str = "hotline") -> list[Quarantine]:
    with rt.session_factory() as session:
        stmt = select(Quarantine).where(Quarantine.feed_name == feed_name).order_by(Quarantine.id)
        return list(session.scalars(stmt))


def feed_state(rt: Runtime, name: str = "hotline") -> tuple[Feed, FeedHealth]:
    with rt.session_factory() as session:
        row, health = session.get(Feed, name), session.get(FeedHealth, name)
    assert row is not None and health is not None
    return row, health


def good(rid: str = "GOOD1", when: datetime | None = None) -> dict[str, Any]:
    return request(rid, when or T0 + timedelta(minutes=30))


def deep_json() -> str:
    return "[" * DEEP + "]" * DEEP


# (name, the poison record as JSON text, a word its quarantine reason holds)
POISON: list[tuple[str, str, str]] = [
    ("surrogate", json.dumps(request("P1", T0, description="漏水\ud800")), "lone surrogate (U+D800)"),
    ("nul", json.dumps(request("P1", T0, description="漏水\x00")), "NUL character"),
    (
        "year 9999",
        json.dumps(request("P1", T0) | {"requested_datetime": "9999-12-31T23:59:59Z"}),
        "requested_datetime 9999-12-31T23:59:59+00:00 is in the future",
    ),
    (
        "year 2099",
        json.dumps(request("P1", T0) | {"updated_datetime": "2099-01-01T00:00:00+08:00"}),
        "updated_datetime 2099-01-01T00:00:00+08:00 is in the future (poll clock",
    ),
    (
        "naive year 1",
        json.dumps(request("P1", T0, expected_datetime="0001-01-01T00:00:00")),
        "expected_datetime 0001-01-01T00:00:00 is out of range",
    ),
    (
        "before 1970",
        json.dumps(request("P1", T0) | {"requested_datetime": "1960-01-01T00:00:00+08:00"}),
        "requested_datetime 1960-01-01T00:00:00+08:00 is before 1970",
    ),
    (
        "deadline 50 years ahead",
        json.dumps(request("P1", T0, expected_datetime="2080-01-01T00:00:00+08:00")),
        "expected_datetime 2080-01-01T00:00:00+08:00 is more than ten years ahead",
    ),
    (
        "deep nesting",
        json.dumps(request("P1", T0)).replace('"description": ', f'"description": {deep_json()}, "x": '),
        "nested too deeply",
    ),
    (
        "long external_id",
        json.dumps(request("P" * 121, T0)),
        "service_request_id is 121 characters long: case.external_id holds at most 120",
    ),
    (
        "long category_name",
        json.dumps(request("P1", T0, service_name="类" * 101)),
        "service_name is 101 characters long: case.category_name holds at most 100",
    ),
    (
        "long source_status",
        json.dumps(request("P1", T0, status="s" * 61)),
        "status is 61 characters long: case.source_status holds at most 60",
    ),
]


PARSER_REJECTS = ("naive year 1", "deep nesting")  # rejected by the parser (as before, not named on health)


@pytest.mark.parametrize(("shape", "poison", "reason"), POISON, ids=[p[0] for p in POISON])
def test_a_poison_record_is_quarantined_alone_and_the_good_one_behind_it_is_stored(
    feed: tuple[Runtime, _Server], shape: str, poison: str, reason: str
) -> None:
    rt, server = feed
    server.body = f"[{poison}, {json.dumps(good())}]".encode()
    result = run_poll(rt, "hotline")
    assert result["status"] == "ok", result
    assert stored(rt) == ["GOOD1"]
    (row,) = quarantined(rt)
    assert reason in row.reason, row.reason
    assert row.raw  # the record as the feed sent it (what no database can store replaced by U+FFFD)
    if shape != "deep nesting":
        assert row.external_id in ("P1", "P" * 121)
    feed_row, health = feed_state(rt)
    assert parse_cursor(feed_row.cursor) == T0 + timedelta(minutes=30)  # the good record's, not the poison's
    assert health.consecutive_failures == 0 and health.quarantined == 1
    if shape not in PARSER_REJECTS:  # a record that cannot be stored is named on the feed's health
        named = f"1 record(s) quarantined, not storable: {row.external_id}: {row.reason}"
        assert health.last_error == named


def test_an_xml_description_nested_50000_deep_costs_only_its_record(feed: tuple[Runtime, _Server]) -> None:
    rt, server = feed
    deep = "<b>" * DEEP + "x" + "</b>" * DEEP
    when = (T0 + timedelta(minutes=30)).astimezone(CST).isoformat()
    server.body = (
        "<service_requests>"
        f"<request><service_request_id>P1</service_request_id><requested_datetime>{when}"
        f"</requested_datetime><description>{deep}</description></request>"
        f"<request><service_request_id>GOOD1</service_request_id><requested_datetime>{when}"
        "</requested_datetime><description>路灯不亮</description></request>"
        "</service_requests>"
    ).encode()
    server.ctype = "text/xml"
    assert run_poll(rt, "hotline")["status"] == "ok"
    assert stored(rt) == ["GOOD1"]
    (row,) = quarantined(rt)
    assert "nested too deeply" in row.reason and "P1" in row.raw


def test_a_sensor_alarm_stamped_2099_is_quarantined_and_the_current_one_stored(
    feed: tuple[Runtime, _Server],
) -> None:
    rt, server = feed

    def alarm(alarm_id: str, when: str) -> dict[str, Any]:
        return {
            "alarm_id": alarm_id, "device_id": "SD-1", "occurred_at": when, "lon": 106.005, "lat": 29.805,
            "level": 3, "status": "active", "family": "smoke", "detector_id": "D1", "building": "3 栋",
            "smoke_density": 12.5,
        }  # fmt: skip

    deep = json.dumps(alarm("DEEP", "2026-01-01T00:00:00+08:00")).replace('"message"', '"x"')
    deep = deep[:-1] + f', "message": {deep_json()}}}'
    alarms = [
        alarm("FUTURE", "2099-01-01T00:00:00+08:00"),
        alarm("NOW", (NOW - timedelta(minutes=1)).isoformat()),
    ]
    server.body = ('{"alarms": [' + deep + ", " + ", ".join(json.dumps(a) for a in alarms) + "]}").encode()
    assert run_poll(rt, "alarms")["status"] == "ok"
    with rt.session_factory() as session:
        assert list(session.scalars(select(Alert.external_id))) == ["NOW"]
    reasons = sorted(q.reason for q in quarantined(rt, "alarms"))
    assert len(reasons) == 2
    assert reasons[0].startswith("alarm nested too deeply")
    assert reasons[1].startswith("sent 2099-01-01T00:00:00+08:00 is in the future")
    feed_row, _health = feed_state(rt, "alarms")
    cursor = parse_cursor(feed_row.cursor)
    assert cursor is not None and cursor <= NOW + CLOCK_SKEW


def test_a_cursor_left_in_the_future_is_reset_and_the_feed_recovers(feed: tuple[Runtime, _Server]) -> None:
    rt, server = feed
    server.records = [good("GOOD1")]
    assert run_poll(rt, "hotline")["new"] == 1
    with rt.session_factory() as session, session.begin():  # what a 2099 record did before the fix
        row = session.get(Feed, "hotline")
        health = session.get(FeedHealth, "hotline")
        assert row is not None and health is not None
        row.cursor = cursor_text(datetime(2098, 12, 31, 16, tzinfo=UTC))
        health.newest_record_at = datetime(2098, 12, 31, 16, tzinfo=UTC)
    server.records.append(good("GOOD2", NOW - timedelta(minutes=1)))
    result = run_poll(rt, "hotline")
    assert result["new"] == 1, result
    assert stored(rt) == ["GOOD1", "GOOD2"]
    after = server.asked[-1]["updated_after"][0]
    assert datetime.fromisoformat(after) < NOW  # asked from the newest record stored, not from 2098
    row, health = feed_state(rt)
    assert parse_cursor(row.cursor) == NOW - timedelta(minutes=1)
    assert health.newest_record_at == NOW - timedelta(minutes=1)


def test_what_the_screen_misses_the_database_refusal_isolates(
    feed: tuple[Runtime, _Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit's safety net: with the screen switched off, the record the driver refuses (a lone
    surrogate) is found by bisecting the batch in savepoints and quarantined with the driver's words;
    the records around it go in."""
    import workers.feeds.storable

    monkeypatch.setattr(workers.feeds.storable, "screen", lambda result, clock: 0)
    rt, server = feed
    records = [request(f"G{i}", T0 + timedelta(minutes=i)) for i in range(1, 8)]
    records.insert(3, request("P1", T0, description="漏水\ud800"))
    server.body = json.dumps(records).encode()
    result = run_poll(rt, "hotline")
    assert (result["status"], result["new"], result["quarantined"]) == ("ok", 7, 1)
    assert stored(rt) == [f"G{i}" for i in range(1, 8)]
    (row,) = quarantined(rt)
    assert row.external_id == "P1"
    assert row.reason.startswith("the database refused the record: UnicodeEncodeError")
    assert "\ufffd" in row.raw or "\\ud800" in row.raw


def test_what_the_screen_misses_postgresql_refuses_and_the_savepoints_isolate(
    feed: tuple[Runtime, _Server], monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """PostgreSQL aborts the transaction on a refused value (too long, NUL): the savepoint rolled back
    keeps the rest of the batch, and the poll's own rows, committable."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite enforces neither lengths nor NUL")
    import workers.feeds.storable

    monkeypatch.setattr(workers.feeds.storable, "screen", lambda result, clock: 0)
    rt, server = feed
    records = [request(f"G{i}", T0 + timedelta(minutes=i)) for i in range(1, 6)]
    records.insert(1, request("X" * 121, T0))
    records.insert(4, request("NUL", T0, description="路灯\x00不亮"))
    server.body = json.dumps(records).encode()
    result = run_poll(rt, "hotline")
    assert (result["status"], result["new"], result["quarantined"]) == ("ok", 5, 2)
    assert stored(rt) == [f"G{i}" for i in range(1, 6)]
    reasons = {q.external_id: q.reason for q in quarantined(rt)}
    assert reasons["X" * 121].startswith("the database refused the record: StringDataRightTruncation")
    assert reasons["NUL"].startswith("the database refused the record: DataError: PostgreSQL text fields")
    feed_row, health = feed_state(rt)
    assert parse_cursor(feed_row.cursor) == T0 + timedelta(minutes=5)
    assert (health.last_error or "").startswith("2 record(s) quarantined, not storable")


def test_a_commit_that_still_fails_is_on_the_feed_health_and_raised(
    feed: tuple[Runtime, _Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    rt, server = feed
    server.body = json.dumps([good()]).encode()

    def locked(*_args: object, **_kwargs: object) -> int:
        raise OperationalError("INSERT INTO quarantine …", {}, Exception("database is locked"))

    monkeypatch.setattr(store, "quarantine", locked)  # the store step the poll and the push share
    with pytest.raises(OperationalError):
        run_poll(rt, "hotline")
    _row, health = feed_state(rt)
    assert health.last_error == "commit failed: Exception: database is locked"
    assert health.consecutive_failures == 1 and health.last_error_at is not None
    assert stored(rt) == []
    with rt.session_factory() as session:  # /feeds: failing, with the reason
        rows = feed_health(session, AreaScope.district("500151"), datetime.now(UTC), 3)
    (listed_row,) = [r for r in rows if r.name == "hotline"]
    assert listed_row.status == "failing" and listed_row.last_error == health.last_error
    env = {
        "GRIDCC_FEEDS_FILE": str(rt.settings.effective_feeds_file),
        "GRIDCC_DATABASE_URL": rt.settings.effective_database_url,
        "GRIDCC_DATA_DIR": str(rt.settings.data_dir),
        "GRIDCC_LANGUAGE": "en",
    }
    listed = CliRunner(env=env).invoke(main, ["feeds", "list"], catch_exceptions=False)
    assert "commit failed" in listed.output and "database is locked" in listed.output, listed.output


def test_deadlines_of_extreme_dates_do_not_overflow() -> None:
    end = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    clock = evaluate(end, 72, NOW, True)
    assert clock.deadline_at == datetime.max.replace(tzinfo=UTC)
    assert (clock.overdue, clock.supervision) == (False, "none")
    start = evaluate(datetime(1, 1, 1, tzinfo=UTC), 72, NOW, True)
    assert (start.overdue, start.supervision, start.escalation_level) == (True, "red", "district")


def test_feeds_parse_prints_a_lone_surrogate_as_its_escape_and_rejects_it(tmp_path: Path) -> None:
    path = tmp_path / "page.json"
    path.write_text(json.dumps([request("P1", T0, description="漏水\ud800"), good()]), encoding="ascii")
    result = CliRunner().invoke(parse_command, ["--protocol", "open311", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    (case,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert case["external_id"] == "GOOD1"
    (rejection,) = [json.loads(line) for line in result.stderr.splitlines()]
    assert rejection["external_id"] == "P1" and "lone surrogate" in rejection["reason"]


def test_feeds_parse_prints_a_lone_surrogate_in_an_error_document_as_its_json_escape(tmp_path: Path) -> None:
    path = tmp_path / "errors.json"
    path.write_text(json.dumps([{"code": 400, "description": "参数错误\ud800"}]), encoding="ascii")
    result = CliRunner().invoke(parse_command, ["--protocol", "open311", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert "\\ud800" in line and json.loads(line) == {"feed_error": "400: 参数错误\ud800"}


def test_load_records_reads_a_too_deep_document_record_by_record() -> None:
    from workers.feeds._json import TooDeep, load_records

    deep = deep_json()
    tricky = {"service_request_id": "G1", "description": 'brackets in text: [{"]}, \\ \\"'}
    body = f'{{"other": [1, {{"x": "]"}}], "service_requests": [{deep}, {json.dumps(tricky)}, 7]}}'
    doc = load_records(body.encode(), "service_requests")
    first, second, third = doc["service_requests"]
    assert isinstance(first, TooDeep) and first.raw.startswith("[[[")
    assert (second, third) == (tricky, 7)
    (alone,) = load_records(f"[{deep}]".encode())
    assert isinstance(alone, TooDeep)


def test_a_malformed_link_in_a_cap_index_costs_only_itself() -> None:
    from workers.feeds.cap_index import parse_index

    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="http://[bad/x.xml"/></entry>'
        b'<entry><link href="http://ok.example/a.xml"/></entry></feed>'
    )
    assert parse_index(body) == ["http://ok.example/a.xml"]
