"""End to end with the real department simulators: the whole ``gridcc demo`` stack (embedded Redis,
real ``rq worker`` processes, ``rq cron``, the simulators, the web server) in a subprocess, driven
over HTTP as a citizen or a misbehaving department would, and checked in its database.

One stack for the module; every test leaves each simulator's fault mode at ``none``. Waits have
deadlines (generous: the machine is shared), never fixed sleeps.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from data.db import make_engine, make_sessionmaker
from data.models import AdminUnit, Case, CaseEvent, FeedHealth, Quarantine
from data.seed import load_catalogue
from data.states import STATES
from tests.stack import Demo

pytestmark = pytest.mark.slow

HOTLINE = "hotline12345"  # polled every 5 s; takes Open311 POST requests.json
HEALTHY = "grid_patrol"  # polled every 5 s; left alone
BROKEN = "police"  # polled every 10 s
POLL_WAIT = 60.0  # seconds allowed for one more completed poll of a 5–10 s feed on a loaded machine
T = TypeVar("T")


@dataclass
class Stack:
    demo: Demo
    sessions: sessionmaker[Session]
    feeds: dict[str, str]  # feed name → its simulator's base URL


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = POLL_WAIT) -> T:
    """The first truthy answer of ``probe()``; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    demo = Demo(tmp_path_factory.mktemp("e2e") / "var")
    engine = None
    try:
        demo.start()
        doc = tomllib.loads((demo.data_dir / "feeds.toml").read_text(encoding="utf-8"))
        feeds = {f["name"]: "{0.scheme}://{0.netloc}".format(urlsplit(f["url"])) for f in doc["feed"]}
        engine = make_engine(demo.database_url)
        st = Stack(demo, make_sessionmaker(engine), feeds)
        # the first polls bring in the simulators' history of the year: wait until every feed has one
        wait_for(lambda: polled(st) >= set(feeds), "a first successful poll of every feed", timeout=240)
        yield st
    finally:
        if engine is not None:
            engine.dispose()
        try:
            if demo.proc is not None and demo.proc.poll() is None:
                demo.stop()
        finally:
            demo.kill_all()


@pytest.fixture(autouse=True)
def faults_off(stack: Stack) -> Iterator[None]:
    yield
    for name in stack.feeds:
        set_fault(stack, name, "none")


# -- talking to the stack ------------------------------------------------------------------------


def set_fault(stack: Stack, name: str, mode: str) -> None:
    answer = httpx.post(f"{stack.feeds[name]}/_control/faults", json={"mode": mode}, timeout=10)
    assert answer.status_code == 200 and answer.json()["mode"] == mode, answer.text


def fastest_category() -> str:
    """The leaf category with the shortest urgent time limit: its live cases move on within seconds."""
    rows = load_catalogue()["category"]
    parents = {r.get("parent") for r in rows}
    return min((r for r in rows if r["code"] not in parents), key=lambda r: r["limits"][0])["code"]


def file_case(
    stack: Stack, lon: float, lat: float, description: str, service_code: str, priority: str = "normal"
) -> str:
    """File a case through the 12345 simulator's Open311 ``POST requests.json``; its request id."""
    answer = httpx.post(
        f"{stack.feeds[HOTLINE]}/requests.json",
        data={
            "service_code": service_code,
            "description": description,
            "lat": f"{lat:.7f}",
            "long": f"{lon:.7f}",
            "priority": priority,
        },
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()[0]["service_request_id"])


def served(stack: Stack, name: str, since: datetime) -> list[dict[str, Any]]:
    """What the simulator answers a poll for records updated since ``since`` (faults included)."""
    answer = httpx.get(
        f"{stack.feeds[name]}/requests.json",
        params={"updated_after": since.isoformat(), "page_size": 1000},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()
    return rows


def health(stack: Stack, name: str) -> FeedHealth:
    with stack.sessions() as session:
        row = session.get(FeedHealth, name)
        assert row is not None, f"no health row for feed {name}"
        return row


def polled(stack: Stack) -> set[str]:
    """The feeds that have completed a poll (a feed's health row appears with its first poll)."""
    with stack.sessions() as session:
        stmt = select(FeedHealth.feed_name).where(FeedHealth.last_success_at.is_not(None))
        return set(session.scalars(stmt))


def find_case(stack: Stack, external_id: str, feed: str = HOTLINE) -> Case | None:
    with stack.sessions() as session:
        return session.scalars(
            select(Case).where(Case.feed_name == feed, Case.external_id == external_id)
        ).one_or_none()


def timeline(stack: Stack, case_id: int) -> list[CaseEvent]:
    with stack.sessions() as session:
        return list(
            session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
        )


def succeeds_after(stack: Stack, name: str, after: datetime | None) -> datetime:
    """Wait for a poll of ``name`` completed after ``after``; its time."""

    def probe() -> datetime | None:
        at = health(stack, name).last_success_at
        return at if at is not None and (after is None or at > after) else None

    return wait_for(probe, f"a completed poll of {name}")


def a_grid(stack: Stack, offset: int) -> AdminUnit:
    with stack.sessions() as session:
        return session.scalars(
            select(AdminUnit)
            .where(AdminUnit.level == "grid")
            .order_by(AdminUnit.code)
            .offset(offset)
            .limit(1)
        ).one()


# -- the tests -----------------------------------------------------------------------------------


def test_a_filed_case_is_stored_in_the_grid_it_was_filed_in(stack: Stack) -> None:
    grid = a_grid(stack, 123)
    assert grid.label_lon is not None and grid.label_lat is not None
    marker = f"e2e 楼道堆物 {time.time_ns()}"
    rid = file_case(stack, grid.label_lon, grid.label_lat, marker, fastest_category())
    case = wait_for(lambda: find_case(stack, rid), f"case {rid} in the database")
    assert (case.grid_code, case.placement) == (grid.code, "point")
    assert case.description == marker and case.source == HOTLINE
    events = timeline(stack, case.id)
    assert (events[0].kind, events[0].feed_name, events[0].to_status) == ("created", HOTLINE, "reported")


def test_failing_feeds_do_not_hold_up_the_others_and_recover(stack: Stack) -> None:
    set_fault(stack, BROKEN, "error500")
    set_fault(stack, HOTLINE, "malformed")
    switched = now()
    # A new case on the hotline: its next answer is new (not a 304), so it is served garbled.
    grid = a_grid(stack, 321)
    assert grid.label_lon is not None and grid.label_lat is not None
    rid = file_case(stack, grid.label_lon, grid.label_lat, f"e2e 噪声 {time.time_ns()}", fastest_category())

    def failed(name: str) -> FeedHealth | None:
        h = health(stack, name)
        return h if h.last_error_at and h.last_error_at > switched and h.consecutive_failures else None

    broken = wait_for(lambda: failed(BROKEN), f"{BROKEN} to record its 500s")
    assert "HTTP 500" in (broken.last_error or "")
    garbled = wait_for(lambda: failed(HOTLINE), f"{HOTLINE} to record its malformed documents")
    assert "document rejected" in (garbled.last_error or "")
    with stack.sessions() as session:
        reasons = list(
            session.scalars(
                select(Quarantine.reason).where(Quarantine.feed_name == HOTLINE, Quarantine.at > switched)
            )
        )
    assert reasons and all(r.strip() for r in reasons), reasons
    assert find_case(stack, rid) is None  # nothing half-read went in

    # Meanwhile the healthy feed goes on completing its polls, one after another.
    last = health(stack, HEALTHY).last_success_at
    for _ in range(2):
        last = succeeds_after(stack, HEALTHY, last)
    assert health(stack, HEALTHY).consecutive_failures == 0
    still = health(stack, BROKEN)
    assert still.last_success_at is None or still.last_success_at <= switched

    # Switched off, both recover, and the case held back by the garbled feed arrives.
    set_fault(stack, BROKEN, "none")
    set_fault(stack, HOTLINE, "none")
    off = now()
    succeeds_after(stack, BROKEN, off)
    succeeds_after(stack, HOTLINE, off)
    assert health(stack, BROKEN).consecutive_failures == 0
    assert health(stack, HOTLINE).consecutive_failures == 0
    case = wait_for(lambda: find_case(stack, rid), f"case {rid} after the feed recovered")
    assert case.grid_code == grid.code


def test_repeats_and_out_of_order_updates_change_nothing_they_should_not(stack: Stack) -> None:
    code = fastest_category()
    ignored_before = health(stack, HOTLINE).ignored or 0
    started = now() - timedelta(seconds=2)
    set_fault(stack, HOTLINE, "repeat")
    grids = [a_grid(stack, 500 + 37 * i) for i in range(3)]
    rids = [
        file_case(stack, g.label_lon or 0, g.label_lat or 0, f"e2e 重复 {i} {time.time_ns()}", code, "urgent")
        for i, g in enumerate(grids)
    ]
    ids = [r["service_request_id"] for r in served(stack, HOTLINE, started)]
    assert all(ids.count(rid) == 2 for rid in rids), ids  # the simulator really sends each twice
    wait_for(lambda: all(find_case(stack, rid) for rid in rids), "the repeated cases in the database")

    # Out of order: once a case has moved on, the simulator sends its older version after the newer.
    set_fault(stack, HOTLINE, "out_of_order")

    def stale_sent() -> bool:
        statuses: dict[str, set[str]] = {}
        for row in served(stack, HOTLINE, started):
            statuses.setdefault(row["service_request_id"], set()).add(row["status"])
        return any(len(statuses.get(rid, ())) > 1 for rid in rids)

    wait_for(stale_sent, "a stale version served after a newer one", timeout=90)
    last = health(stack, HOTLINE).last_success_at
    for _ in range(2):
        last = succeeds_after(stack, HOTLINE, last)
    set_fault(stack, HOTLINE, "none")
    succeeds_after(stack, HOTLINE, now())

    with stack.sessions() as session:
        total, distinct = session.execute(
            select(func.count(), func.count(func.distinct(Case.external_id))).where(Case.feed_name == HOTLINE)
        ).one()
    assert total == distinct
    assert (health(stack, HOTLINE).ignored or 0) > ignored_before  # the doubles and stale versions
    order = STATES[:6]  # reported … closed; "returned" cannot come this soon after filing
    for rid in rids:
        case = find_case(stack, rid)
        assert case is not None and case.source_updated_at is not None
        (truth,) = httpx.get(f"{stack.feeds[HOTLINE]}/requests/{rid}.json", timeout=10).json()
        truth_at = datetime.fromisoformat(truth["updated_datetime"])
        assert case.source_updated_at <= truth_at
        if case.source_updated_at == truth_at:
            assert case.status == truth["status"]
        events = timeline(stack, case.id)
        assert not [e for e in events if e.kind == "illegal_transition"]
        visited = [e.to_status or "" for e in events if e.kind in ("created", "status")]
        assert all(s in order for s in visited), visited
        ranks = [order.index(s) for s in visited]
        assert ranks == sorted(ranks), visited  # never a step back
        assert visited[-1] == case.status
