"""Real-world CAP and Open311 shapes through a real poll (local HTTP feed, real database and Redis):
several same-language ``<info>`` blocks, an empty ``<polygon/>``, an exercise, an Update whose urgency
is ``Past``, Open311 ``0,0`` and far-away points, naive times (gridcc issue 9, 14–17)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from data.models import Alert, AlertEvent, AlertGrid, Case, FeedHealth, Quarantine
from workers.jobs.poll import run_poll
from workers.runtime import Runtime, set_runtime

from ._feed_helpers import feed
from .test_poll_support import (
    GRID_A,
    GRID_B,
    cap_alert,
    feed_server,
    make_hierarchy,
    make_runtime,
    open311_feed,
    request,
    write_feeds,
)

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


@pytest.fixture
def server() -> Iterator[tuple[str, object]]:
    with feed_server() as srv:
        yield srv


@pytest.fixture
def runtime(
    database_url: str, engine: object, redis_url: str, tmp_path: Path, server: tuple[str, object]
) -> Iterator[Runtime]:
    base, _state = server
    weather = {"name": "weather", "department": "weather", "protocol": "cap", "url": f"{base}/cap/index.atom"}
    feeds = write_feeds(tmp_path / "feeds.toml", [open311_feed(base), {**weather, "interval": 1}])
    rt = make_runtime(database_url, redis_url, feeds, tmp_path / "var")
    with rt.session_factory() as session, session.begin():
        make_hierarchy(session)
    set_runtime(rt)
    yield rt
    set_runtime(None)
    rt.close()


def test_same_language_infos_cover_every_grid_they_name(runtime: Runtime, server) -> None:
    _base, state = server
    state.put_cap("CQ-TL-SL-20250705-0001", T0, feed("cap_multi_info.xml"))
    result = run_poll(runtime, "weather")
    assert (result["new"], result["quarantined"]) == (1, 0), result
    with runtime.session_factory() as session:
        alert = session.scalars(select(Alert)).one()
        assert (alert.severity, alert.colour) == ("Severe", "orange")
        assert alert.area_desc == "巴川街道; 东城街道; 南城街道"
        # the first zh-CN block covers grid A, the second grid B: both are under the warning
        assert sorted(session.scalars(select(AlertGrid.grid_code))) == [GRID_A, GRID_B]


def test_an_empty_polygon_does_not_lose_the_alert(runtime: Runtime, server) -> None:
    _base, state = server
    state.put_cap("CQ-TL-QX-20250706-0001", T0, feed("cap_empty_polygon.xml"))
    result = run_poll(runtime, "weather")
    assert (result["new"], result["quarantined"]) == (1, 0), result
    with runtime.session_factory() as session:
        alert = session.scalars(select(Alert)).one()
        assert alert.area_desc == "南城街道; 巴川街道"
        assert list(session.scalars(select(AlertGrid.grid_code))) == [GRID_A]
        assert session.scalars(select(Quarantine)).all() == []


@pytest.mark.parametrize("status", ["Test", "Exercise"])
def test_a_test_or_exercise_never_becomes_an_alert(runtime: Runtime, server, status: str) -> None:
    _base, state = server
    sent = datetime.now(UTC) - timedelta(minutes=5)
    body = cap_alert("X1", sent, severity="Extreme").replace(
        b"<status>Actual</status>", f"<status>{status}</status>".encode()
    )
    state.put_cap("X1", sent, body)
    state.put_cap("W1", sent, cap_alert("W1", sent))
    result = run_poll(runtime, "weather")
    assert (result["status"], result["new"], result["quarantined"]) == ("ok", 1, 1), result
    with runtime.session_factory() as session:
        assert list(session.scalars(select(Alert.external_id))) == ["W1"]
        (note,) = session.scalars(select(Quarantine))
        assert (note.external_id, note.reason) == ("X1", f"status {status}: not a real alert")
        health = session.get(FeedHealth, "weather")
        # a note, not an error: the feed is healthy
        assert health is not None and health.consecutive_failures == 0 and health.last_error is None


def test_an_update_with_past_urgency_is_an_all_clear(runtime: Runtime, server) -> None:
    _base, state = server
    sent = datetime.now(UTC) - timedelta(minutes=5)
    state.put_cap("W1", sent, cap_alert("W1", sent))
    run_poll(runtime, "weather")
    later = sent + timedelta(minutes=1)
    clear = cap_alert("W2", later, "Update", ("W1",), "Minor", headline="铜梁区气象台解除暴雨橙色预警信号")
    state.put_cap("W2", later, clear.replace(b"<urgency>Expected</urgency>", b"<urgency>Past</urgency>"))
    result = run_poll(runtime, "weather")
    assert (result["new"], result["updated"]) == (0, 1), result
    with runtime.session_factory() as session:
        alert = session.scalars(select(Alert)).one()
        assert (alert.state, alert.msg_type, alert.references) == ("cancelled", "Update", "W2")
        assert alert.headline == "铜梁区气象台解除暴雨橙色预警信号"  # the all-clear's own words are kept
        kinds = list(session.scalars(select(AlertEvent.kind).order_by(AlertEvent.id)))
        assert kinds == ["created", "cancelled"]


def test_an_all_clear_for_an_unknown_alert_is_stored_ended(runtime: Runtime, server) -> None:
    _base, state = server
    sent = datetime.now(UTC) - timedelta(minutes=5)
    clear = cap_alert("W9", sent, "Update", ("W8",)).replace(
        b"<urgency>Expected</urgency>", b"<urgency>Past</urgency>"
    )
    state.put_cap("W9", sent, clear)
    run_poll(runtime, "weather")
    with runtime.session_factory() as session:
        alert = session.scalars(select(Alert)).one()
        assert (alert.external_id, alert.state) == ("W9", "cancelled")


def test_open311_zero_zero_and_far_away_points_are_placed_by_grid(runtime: Runtime, server) -> None:
    _base, state = server
    state.put(
        request("Z1", T0, point=(0.0, 0.0), grid_code=GRID_B),
        request("Z2", T0, point=None, lat="0.000000", long="0.000000", grid_code=GRID_A),
        request("Z3", T0, point=(-122.4651145, 37.762221815), grid_code=GRID_B),  # San Francisco
    )
    result = run_poll(runtime, "hotline")
    assert (result["new"], result["quarantined"]) == (3, 0), result
    with runtime.session_factory() as session:
        stored = {c.external_id: c for c in session.scalars(select(Case))}
    for rid, grid in (("Z1", GRID_B), ("Z2", GRID_A), ("Z3", GRID_B)):
        case = stored[rid]
        assert (case.lon, case.lat) == (None, None), rid
        assert (case.grid_code, case.placement) == (grid, "code"), rid


def test_open311_naive_times_are_china_time(runtime: Runtime, server) -> None:
    _base, state = server
    rec = request("N1", T0)
    rec["requested_datetime"] = "2025-03-05 09:20:00"
    rec["updated_datetime"] = "2025-03-05T09:30:00"
    state.put(rec)
    run_poll(runtime, "hotline")
    with runtime.session_factory() as session:
        case = session.scalars(select(Case)).one()
        assert case.requested_at.replace(tzinfo=UTC) == datetime(2025, 3, 5, 1, 20, tzinfo=UTC)
        assert case.source_updated_at is not None
        assert case.source_updated_at.replace(tzinfo=UTC) == datetime(2025, 3, 5, 1, 30, tzinfo=UTC)
