"""poll_feed in-process against a real local HTTP feed and the real test database and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from data.models import Alert, AlertEvent, AlertGrid, Case, CaseEvent, Feed, FeedHealth, Quarantine
from data.queries import AreaScope, acknowledge_alert, active_alerts, alert_history, escalated_alerts, ticker
from data.text import label
from layers import versions
from workers.jobs.deadlines import run_deadlines
from workers.jobs.poll import run_poll
from workers.runtime import Runtime, set_runtime

from .test_poll_support import (
    GRID_A,
    GRID_B,
    POINT_B,
    STREET,
    cap_alert,
    feed_server,
    iso,
    make_hierarchy,
    make_runtime,
    open311_feed,
    request,
    write_feeds,
)

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)  # recent: nothing is due yet


@pytest.fixture
def server() -> Iterator[tuple[str, object]]:
    with feed_server() as srv:
        yield srv


@pytest.fixture
def runtime(
    database_url: str, engine: object, redis_url: str, tmp_path: Path, server: tuple[str, object]
) -> Iterator[Runtime]:
    base, _state = server
    feeds = write_feeds(
        tmp_path / "feeds.toml",
        [
            open311_feed(base),
            {
                "name": "weather",
                "department": "weather",
                "protocol": "cap",
                "url": f"{base}/cap/index.atom",
                "interval": 1,
            },
        ],  # fmt: skip
    )
    rt = make_runtime(database_url, redis_url, feeds, tmp_path / "var")
    with rt.session_factory() as session, session.begin():
        make_hierarchy(session)
    set_runtime(rt)
    yield rt
    set_runtime(None)
    rt.close()


def cases(factory: sessionmaker[Session]) -> dict[str, Case]:
    with factory() as session:
        return {c.external_id: c for c in session.scalars(select(Case))}


def events(factory: sessionmaker[Session], external_id: str) -> list[tuple[str, str | None, str | None]]:
    with factory() as session:
        rows = session.execute(
            select(CaseEvent.kind, CaseEvent.from_status, CaseEvent.to_status)
            .join(Case)
            .where(Case.external_id == external_id)
            .order_by(CaseEvent.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_new_updated_ignored_counts_and_conditional_get(runtime: Runtime, server) -> None:
    _base, state = server
    state.put(*(request(f"R{i}", T0 + timedelta(minutes=i)) for i in range(1, 4)))
    first = run_poll(runtime, "hotline")
    assert first["status"] == "ok"
    assert (first["received"], first["new"], first["updated"], first["ignored"]) == (3, 3, 0, 0)

    # Nothing new: the cursor makes the server answer an empty page.
    again = run_poll(runtime, "hotline")
    assert (again["received"], again["new"], again["updated"]) == (0, 0, 0)

    state.put(
        request("R2", T0 + timedelta(hours=1), status="in_progress"), request("R4", T0 + timedelta(hours=1))
    )
    third = run_poll(runtime, "hotline")
    assert (third["received"], third["new"], third["updated"], third["ignored"]) == (2, 1, 1, 0)

    stored = cases(runtime.session_factory)
    assert sorted(stored) == ["R1", "R2", "R3", "R4"]
    assert stored["R2"].status == "in_progress"
    # accepted → in_progress implies accepted → assigned → in_progress: one event per step.
    assert events(runtime.session_factory, "R2") == [
        ("created", None, "accepted"),
        ("status", "accepted", "assigned"),
        ("status", "assigned", "in_progress"),
    ]
    with runtime.session_factory() as session:
        health = session.get(FeedHealth, "hotline")
        feed = session.get(Feed, "hotline")
        assert health is not None and feed is not None
        assert (health.received, health.new, health.updated, health.ignored) == (5, 4, 1, 0)
        assert health.consecutive_failures == 0 and health.last_success_at is not None
        assert feed.cursor == (T0 + timedelta(hours=1)).isoformat()
        # the newest record's own time (its age is shown as information), not the poll's time
        assert health.newest_record_at == T0 + timedelta(hours=1)
        assert (health.bad_page_polls, health.bad_page_cursor) == (0, None)
    assert versions.read(runtime.redis)["cases"] >= 2


def test_etag_304_changes_nothing(runtime: Runtime, server) -> None:
    _base, state = server
    state.put(request("R1", T0))
    run_poll(runtime, "hotline")
    with runtime.session_factory() as session, session.begin():
        feed = session.get(Feed, "hotline")
        assert feed is not None and feed.etag
        feed.cursor = None  # same URL as the first poll: the server's ETag matches
    result = run_poll(runtime, "hotline")
    assert result["not_modified"] is True and result["received"] == 0


def test_duplicates_and_out_of_order_updates(runtime: Runtime, server) -> None:
    _base, state = server
    state.put(request("D1", T0, status="assigned"))
    run_poll(runtime, "hotline")
    # The same id three times in one document: the newest wins, the others are ignored.
    newest = request("D1", T0 + timedelta(minutes=30), status="in_progress", description="最新")
    older = request("D1", T0 + timedelta(minutes=10), status="reported", description="旧")
    state.records.clear()
    body_rows = [older, newest, request("D1", T0 + timedelta(minutes=20), status="assigned")]
    state.requests_page = lambda _q: body_rows  # type: ignore[method-assign]
    result = run_poll(runtime, "hotline")
    assert (result["received"], result["new"], result["updated"], result["ignored"]) == (3, 0, 1, 2)
    stored = cases(runtime.session_factory)["D1"]
    assert stored.status == "in_progress" and stored.description == "最新"

    # An update older than what is stored (ignored), and the stored one again (an echo of the cursor's
    # overlap: not counted): nothing changes.
    body_rows[:] = [older, newest]
    result = run_poll(runtime, "hotline")
    assert (result["received"], result["updated"], result["ignored"]) == (1, 0, 1)
    again = cases(runtime.session_factory)["D1"]
    assert (again.status, again.description, again.source_updated_at) == (
        "in_progress", "最新", stored.source_updated_at,
    )  # fmt: skip
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1


def test_illegal_transition_is_logged_not_applied(runtime: Runtime, server) -> None:
    _base, state = server
    state.put(request("X1", T0, status="closed", satisfaction="satisfied"))
    run_poll(runtime, "hotline")
    state.put(request("X1", T0 + timedelta(minutes=5), status="in_progress", satisfaction="satisfied"))
    result = run_poll(runtime, "hotline")
    assert result["updated"] == 0
    stored = cases(runtime.session_factory)["X1"]
    assert stored.status == "closed" and stored.is_open is False
    assert events(runtime.session_factory, "X1")[-1] == ("illegal_transition", "closed", "in_progress")
    # The same record again is not logged twice.
    run_poll(runtime, "hotline")
    state.put(request("X1", T0 + timedelta(minutes=5), status="in_progress", satisfaction="satisfied"))
    run_poll(runtime, "hotline")
    kinds = [e[0] for e in events(runtime.session_factory, "X1")]
    assert kinds.count("illegal_transition") == 1


def test_quarantined_record_kept_with_reason(runtime: Runtime, server) -> None:
    _base, state = server
    bad = request("Q1", T0)
    bad["requested_datetime"] = "2026-02-30T10:00:00+08:00"
    state.put(request("G1", T0), bad)
    result = run_poll(runtime, "hotline")
    assert (result["new"], result["quarantined"]) == (1, 1)
    with runtime.session_factory() as session:
        (row,) = session.scalars(select(Quarantine))
        assert row.feed_name == "hotline" and row.external_id == "Q1"
        assert "2026-02-30" in row.reason or "date" in row.reason.lower()
        assert "Q1" in row.raw
        health = session.get(FeedHealth, "hotline")
        assert health is not None and health.quarantined == 1 and health.consecutive_failures == 0


def test_garbage_document_is_quarantined_and_marks_the_feed_failing(runtime: Runtime, server) -> None:
    _base, state = server
    state.mode = "garbage"
    result = run_poll(runtime, "hotline")
    assert result["quarantined"] == 1 and result["new"] == 0
    with runtime.session_factory() as session:
        health = session.get(FeedHealth, "hotline")
        feed = session.get(Feed, "hotline")
        assert health is not None and feed is not None
        assert health.consecutive_failures == 1 and "document rejected" in (health.last_error or "")
        assert feed.cursor is None


def test_placement_point_code_address_unplaced(runtime: Runtime, server) -> None:
    _base, state = server
    state.put(
        request("P1", T0, point=POINT_B),
        request("P2", T0, point=None, grid_code=GRID_A),
        request("P3", T0, point=None, address="重庆市铜梁区巴川街道某路1号"),
        request("P4", T0, point=(120.0, 31.0), address="无法识别的地址"),
    )
    run_poll(runtime, "hotline")
    stored = cases(runtime.session_factory)
    assert (stored["P1"].grid_code, stored["P1"].placement) == (GRID_B, "point")
    assert (stored["P2"].grid_code, stored["P2"].placement) == (GRID_A, "code")
    assert (stored["P3"].street_code, stored["P3"].placement) == (STREET, "address")
    assert (stored["P4"].district_code, stored["P4"].placement) == (None, "unplaced")
    assert stored["P1"].street_code == STREET and stored["P1"].district_code == "500151"


def test_case_category_and_deadline(runtime: Runtime, server) -> None:
    _base, state = server
    accepted = datetime.now(UTC) - timedelta(hours=100)
    state.put(
        request("C1", datetime.now(UTC), requested=accepted, accepted_datetime=accepted.isoformat()),
        request("C2", datetime.now(UTC), service_code="X99", service_name="其他事项"),
    )
    run_poll(runtime, "hotline")
    stored = cases(runtime.session_factory)
    # city.clutter, normal priority: 72 h. Accepted 100 h ago: overdue, yellow card, held by the district.
    c1 = stored["C1"]
    assert c1.category_code == "city.clutter" and c1.department_code == "city_management"
    assert c1.deadline_at is not None and abs((c1.deadline_at - accepted).total_seconds() - 72 * 3600) < 1
    assert (c1.overdue, c1.supervision, c1.escalation_level) == (True, "yellow", "district")
    kinds = [e[0] for e in events(runtime.session_factory, "C1")]
    assert kinds == ["created", "overdue", "supervision", "escalation", "escalation"]
    c2 = stored["C2"]
    assert (
        c2.category_code is None and c2.category_name == "其他事项" and c2.department_code == "hotline12345"
    )


def test_cap_alert_update_cancel_and_grids(runtime: Runtime, server) -> None:
    _base, state = server
    sent = datetime.now(UTC) - timedelta(minutes=5)
    state.put_cap("W1", sent, cap_alert("W1", sent))
    result = run_poll(runtime, "weather")
    assert (result["new"], result["quarantined"]) == (1, 0), result
    with runtime.session_factory() as session:
        alert = session.scalars(select(Alert)).one()
        assert (alert.state, alert.colour, alert.grid_code) == ("new", "orange", GRID_A)
        assert sorted(session.scalars(select(AlertGrid.grid_code))) == [GRID_A]

    # An Update widens the area over both grids; the index still lists W1, which is not fetched again.
    wide = "29.801,106.001 29.801,106.019 29.809,106.019 29.809,106.001 29.801,106.001"
    later = sent + timedelta(minutes=1)
    state.put_cap("W2", later, cap_alert("W2", later, "Update", ("W1",), "Extreme", wide))
    hits_before = state.hits.get("/cap/alerts/W1.xml", 0)
    result = run_poll(runtime, "weather")
    assert (result["new"], result["updated"]) == (0, 1)
    assert state.hits.get("/cap/alerts/W1.xml", 0) == hits_before
    with runtime.session_factory() as session:
        alert = session.scalars(select(Alert)).one()
        assert (alert.severity, alert.colour, alert.state) == ("Extreme", "red", "new")
        assert sorted(session.scalars(select(AlertGrid.grid_code))) == [GRID_A, GRID_B]

    last = sent + timedelta(minutes=2)
    state.put_cap("W3", last, cap_alert("W3", last, "Cancel", ("W1",)))
    run_poll(runtime, "weather")
    run_poll(runtime, "weather")  # nothing new: applied messages are not fetched or applied twice
    with runtime.session_factory() as session:
        alert = session.scalars(select(Alert)).one()
        assert alert.state == "cancelled"
        kinds = list(session.scalars(select(AlertEvent.kind).order_by(AlertEvent.id)))
        assert kinds == ["created", "updated", "raised", "cancelled"]  # Severe→Extreme is a raise


def _ack(runtime: Runtime, actor: str) -> None:
    with runtime.session_factory() as session, session.begin():
        alert_id = session.scalars(select(Alert.id)).one()
        assert acknowledge_alert(session, AreaScope.district(STREET[:6]), alert_id, actor, datetime.now(UTC))


def _wall(runtime: Runtime) -> tuple[str, str, bool, bool]:
    """What the wall shows of the one alert: state, colour, flashing in the list and in the ticker."""
    scope, now = AreaScope.district(STREET[:6]), datetime.now(UTC)
    with runtime.session_factory() as session:
        (row,) = active_alerts(session, scope, now)
        (item,) = ticker(session, scope, now)
    return row.state, row.colour, row.unacknowledged, item.unacknowledged


def _loud(runtime: Runtime) -> tuple[bool, list[str]]:
    """Whether the wall's ticker payload marks the one alert as raised, and the badges its chip shows."""
    from dash import html

    from dashboard.wall.ticker import alarm_badges
    from layers.wall_payload import build_ticker

    with runtime.session_factory() as session:
        (item,) = build_ticker(session, AreaScope.district(STREET[:6]), datetime.now(UTC))["items"]
    badges = alarm_badges(item, "zh-CN")
    return bool(item["raised"]), [b.children for b in badges if isinstance(b, html.Span)]


def test_cap_update_raising_the_level_makes_an_acknowledged_alert_new_again(runtime: Runtime, server) -> None:
    """An acknowledged 黄色 warning updated to 橙色 flashes again until acknowledged at 橙色; an update
    back down to 黄色 keeps that acknowledgement."""
    _base, state = server
    sent = datetime.now(UTC) - timedelta(minutes=10)
    state.put_cap("Y1", sent, cap_alert("Y1", sent, severity="Moderate", headline="暴雨黄色预警"))
    run_poll(runtime, "weather")
    assert _wall(runtime) == ("new", "yellow", True, True)
    _ack(runtime, "duty1")
    assert _wall(runtime) == ("acknowledged", "yellow", False, False)

    up = sent + timedelta(minutes=1)
    state.put_cap("Y2", up, cap_alert("Y2", up, "Update", ("Y1",), "Severe", headline="暴雨橙色预警"))
    assert run_poll(runtime, "weather")["updated"] == 1
    assert _wall(runtime) == ("new", "orange", True, True)
    assert _loud(runtime) == (True, ["升级"])  # the wall's ticker and the duty card say why
    with runtime.session_factory() as session:
        alert = session.scalars(select(Alert)).one()
        assert (alert.acknowledged_by, alert.raised_at is not None) == (None, True)
        events = session.execute(select(AlertEvent.kind, AlertEvent.detail).order_by(AlertEvent.id)).all()
        assert [tuple(e) for e in events][1:] == [
            ("acknowledged", "duty1 确认"),
            ("updated", "Y2"),
            ("raised", "yellow→orange"),
        ]
        (row,) = active_alerts(session, AreaScope.district(STREET[:6]), datetime.now(UTC))
        assert row.raised_detail == "yellow→orange"

    _ack(runtime, "duty2")  # acknowledged at the new level
    assert _wall(runtime) == ("acknowledged", "orange", False, False)
    assert _loud(runtime) == (False, [])
    down = sent + timedelta(minutes=2)
    state.put_cap("Y3", down, cap_alert("Y3", down, "Update", ("Y1",), "Moderate", headline="暴雨黄色预警"))
    assert run_poll(runtime, "weather")["updated"] == 1
    assert _wall(runtime) == ("acknowledged", "yellow", False, False)
    same = sent + timedelta(minutes=3)
    state.put_cap(
        "Y4", same, cap_alert("Y4", same, "Update", ("Y1",), "Moderate", headline="暴雨黄色预警更新")
    )
    assert run_poll(runtime, "weather")["updated"] == 1
    assert _wall(runtime) == ("acknowledged", "yellow", False, False)
    with runtime.session_factory() as session:
        kinds = list(session.scalars(select(AlertEvent.kind).order_by(AlertEvent.id)))
        assert kinds.count("raised") == 1
        page = alert_history(
            session, AreaScope.district(STREET[:6]), sent - timedelta(hours=1), sent + timedelta(hours=1)
        )
        assert page.total == 1
        assert [a.actor for a in page.rows[0].acknowledgements] == ["duty1", "duty2"]
        # the query gives the event's code; the screens label it (data.text: alert_event.<kind>)
        timeline = [
            (label("alert_event", e.kind), e.detail) for e in page.rows[0].timeline if e.kind != "updated"
        ]
        assert timeline == [
            ("发布", "暴雨黄色预警"),
            ("已确认", "duty1 确认"),
            ("级别升高", "yellow→orange"),
            ("已确认", "duty2 确认"),
        ]


def test_a_sensor_alarm_resent_at_a_higher_level_is_new_again(runtime: Runtime) -> None:
    """A sensor alarm re-sent under its own id with a higher level (the Alert path, not an Update) is
    loud again too; re-sent lower, it keeps its acknowledgement."""
    from workers.feeds.records import AlertRecord
    from workers.ingest.alerts import AlertIngest
    from workers.ingest.placement import cached_placer

    point = {"type": "Point", "coordinates": list(POINT_B)}

    def send(severity: str, colour: str) -> None:
        now = datetime.now(UTC)
        record = AlertRecord(
            "S1", "Alert", "landslide", "地灾监测位移超限", severity, colour, sent=now, geometry=point
        )
        with runtime.session_factory() as session, session.begin():
            placer = cached_placer(runtime.cache, session, runtime.redis)
            AlertIngest(session, "sensors", placer, now).run([record])

    send("Moderate", "yellow")
    _ack(runtime, "duty1")
    send("Severe", "orange")
    assert _wall(runtime)[:3] == ("new", "orange", True)
    _ack(runtime, "duty1")
    send("Minor", "blue")
    assert _wall(runtime)[:3] == ("acknowledged", "blue", False)


def test_escalation_restarts_from_a_raise_and_is_readable(runtime: Runtime, server) -> None:
    """An unacknowledged severe alert escalates after the limit; a raise restarts that clock and the
    escalation shows on the alert rows the screens read."""
    _base, state = server
    minutes = runtime.settings.alert_escalate_minutes
    sent = datetime.now(UTC) - timedelta(minutes=5)
    state.put_cap("E1", sent, cap_alert("E1", sent, severity="Severe"))
    run_poll(runtime, "weather")
    scope = AreaScope.district(STREET[:6])
    later = datetime.now(UTC) + timedelta(minutes=minutes + 1)
    assert run_deadlines(runtime, later)["alerts_escalated"] == 1
    with runtime.session_factory() as session:
        (row,) = escalated_alerts(session, scope, later)
        assert row.escalated and row.escalated_at == later and row.escalation_detail
        (item,) = ticker(session, scope, later)
        assert item.escalated and not item.raised  # the wall's chip says 超时未确认
    from dashboard.duty.alerts import loud_again

    (badges,) = loud_again(row, "zh-CN", "Asia/Shanghai")
    assert badges.children[0].children.startswith("超时未确认，已上报")  # and so does the duty card

    up = sent + timedelta(minutes=1)
    state.put_cap("E2", up, cap_alert("E2", up, "Update", ("E1",), "Extreme"))
    run_poll(runtime, "weather")  # raised now: escalated again only a full limit after the raise
    with runtime.session_factory() as session:
        assert escalated_alerts(session, scope, later) == []
    assert run_deadlines(runtime, datetime.now(UTC) + timedelta(minutes=minutes - 1))["alerts_escalated"] == 0
    assert run_deadlines(runtime, later + timedelta(minutes=2))["alerts_escalated"] == 1
    with runtime.session_factory() as session:
        (row,) = escalated_alerts(session, scope, later + timedelta(minutes=2))
        assert row.colour == "red"


def test_resolved_time_is_the_feeds_not_when_the_poll_saw_it(runtime: Runtime, server) -> None:
    """按期办结 is judged on the feed's 办结时间: a case first seen closed a day after it was resolved on
    time counts as resolved on time; a case seen moving to resolved later takes the feed's time too."""
    _base, state = server
    accepted = T0 - timedelta(hours=70)
    resolved = accepted + timedelta(hours=20)  # within the 72 h of city.clutter (normal)
    state.put(
        request(
            "R1",
            resolved + timedelta(hours=30),  # closed (return visit) 30 h after it was resolved
            status="closed",
            requested=accepted,
            accepted_datetime=iso(accepted),
            resolved_datetime=iso(resolved),
        ),
        request("R2", T0, status="in_progress", requested=accepted, accepted_datetime=iso(accepted)),
    )
    run_poll(runtime, "hotline")
    later = T0 + timedelta(minutes=5)
    state.put(
        request(
            "R2",
            later,
            status="resolved",
            requested=accepted,
            accepted_datetime=iso(accepted),
            resolved_datetime=iso(T0 + timedelta(minutes=1)),
        )
    )
    run_poll(runtime, "hotline")
    got = cases(runtime.session_factory)
    assert got["R1"].resolved_at == resolved
    assert got["R1"].closed_at == resolved + timedelta(hours=30)
    assert got["R1"].resolved_at <= got["R1"].deadline_at  # on time by the feed's own times
    assert got["R2"].resolved_at == T0 + timedelta(minutes=1)
