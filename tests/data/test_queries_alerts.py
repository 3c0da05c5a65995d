"""Alerts in scope with their covered grids and workers, acknowledgement, the ticker; feeds; risks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Alert, AlertEvent, AlertGrid, Case, Feed, FeedHealth, Quarantine, Risk
from data.queries import (
    AreaScope,
    acknowledge_alert,
    active_alerts,
    alert_history,
    feed_health,
    overdue_risks,
    quarantined,
    risks,
    ticker,
)
from tests.data.helpers import Units, build_units

NOW = datetime(2025, 6, 15, 2, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def _alert(session: Session, place: str, grids: list[str], **kw: object) -> int:
    alert = Alert(feed_name="wx", external_id=f"a{len(grids)}-{place}-{kw.get('event', '')}", **kw)
    alert.set_place(place)
    session.add(alert)
    session.flush()
    session.add_all(AlertGrid(alert_id=alert.id, grid_code=g) for g in grids)
    session.flush()
    return alert.id


@pytest.fixture
def world(session_factory) -> Iterator[tuple[Session, Units, dict[str, int]]]:  # type: ignore[no-untyped-def]
    session = session_factory()
    u = build_units(session)
    ids = {
        # a rain warning centred in street B, covering one grid of A and two of B
        "rain": _alert(
            session,
            u.grids[5],
            [u.grids[3], u.grids[4], u.grids[5]],
            kind="weather",
            event="暴雨",
            severity="Severe",
            colour="orange",
            headline="暴雨橙色预警",
            sent_at=NOW - 30 * M,
            expires=NOW + 300 * M,
        ),
        "smoke": _alert(
            session,
            u.grids[0],
            [u.grids[0]],
            kind="smoke",
            event="烟感报警",
            severity="Moderate",
            colour="yellow",
            headline="<b>烟感</b>报警",
            sent_at=NOW - 5 * M,
        ),
        "old": _alert(
            session,
            u.grids[1],
            [u.grids[1]],
            kind="noise",
            event="噪声超标",
            severity="Minor",
            colour="blue",
            sent_at=NOW - 300 * M,
            expires=NOW - 60 * M,
        ),
        "b_only": _alert(
            session,
            u.grids[6],
            [u.grids[6]],
            kind="fence",
            event="电子围栏入侵",
            severity="Moderate",
            colour="yellow",
            state="acknowledged",
            sent_at=NOW - 10 * M,
        ),
    }
    session.commit()
    yield session, u, ids
    session.close()


def test_active_alerts_in_scope_with_their_grids_and_workers(
    world: tuple[Session, Units, dict[str, int]],
) -> None:
    session, u, ids = world
    rows = active_alerts(session, AreaScope.of(u.streets[0]), NOW)
    assert [r.id for r in rows] == [ids["rain"], ids["smoke"]]  # severe before moderate; expired left out
    rain = rows[0]
    assert [(g.code, g.name) for g in rain.grids] == [(u.grids[3], u.names[u.grids[3]])]
    assert [(w.name, w.phone) for w in rain.grids[0].workers] == [("网格员4", "138****0004")]
    assert (rain.colour_label, rain.kind_label, rain.state_label, rain.unacknowledged) == (
        "橙色",
        "气象预警",
        "未确认",
        True,
    )
    district = active_alerts(session, AreaScope.district(u.district), NOW)
    assert [r.id for r in district] == [ids["rain"], ids["smoke"], ids["b_only"]]  # unacknowledged first
    assert len(district[0].grids) == 3
    assert active_alerts(session, AreaScope.of(u.communities[3]), NOW)[0].id == ids["b_only"]


def test_acknowledge_writes_who_and_when_once(world: tuple[Session, Units, dict[str, int]]) -> None:
    session, u, ids = world
    street_b = AreaScope.of(u.streets[1])
    assert acknowledge_alert(session, street_b, ids["smoke"], "值班员李", NOW) is False  # out of scope
    assert acknowledge_alert(session, street_b, ids["b_only"], "值班员李", NOW) is False  # not new
    assert acknowledge_alert(session, street_b, 999, "值班员李", NOW) is False
    assert acknowledge_alert(session, street_b, ids["rain"], "值班员李", NOW) is True
    session.commit()
    assert acknowledge_alert(session, street_b, ids["rain"], "值班员王", NOW + M) is False
    session.commit()
    alert = session.get(Alert, ids["rain"])
    assert alert is not None
    session.refresh(alert)
    assert (alert.state, alert.acknowledged_by, alert.acknowledged_at) == ("acknowledged", "值班员李", NOW)
    events = session.execute(select(AlertEvent.kind, AlertEvent.actor, AlertEvent.at)).all()
    assert [tuple(e) for e in events] == [("acknowledged", "值班员李", NOW)]


def test_alert_history_paged_in_scope_with_acknowledgements_and_case(
    world: tuple[Session, Units, dict[str, int]],
) -> None:
    session, u, ids = world
    case = Case(feed_name="f", external_id="12345-0001", title="烟感报警核查", requested_at=NOW - 5 * M)
    session.add(case)
    session.flush()
    smoke = session.get(Alert, ids["smoke"])
    assert smoke is not None
    smoke.case_id = case.id
    session.flush()
    assert acknowledge_alert(session, AreaScope.of(u.streets[0]), ids["smoke"], "值班员李", NOW)
    session.commit()
    session.refresh(smoke)
    assert smoke.state == "linked"  # a linked alert acknowledged (after a raise) is linked again
    district = AreaScope.district(u.district)
    whole = alert_history(session, district, NOW - 600 * M, NOW + M)
    assert whole.total == 4
    assert [r.id for r in whole.rows] == [
        ids["smoke"],
        ids["b_only"],
        ids["rain"],
        ids["old"],
    ]  # newest first
    first = whole.rows[0]
    assert (first.case_number, first.case_title, first.state_label) == (
        "12345-0001",
        "烟感报警核查",
        "已关联案件",
    )
    assert [(a.actor, a.at) for a in first.acknowledgements] == [("值班员李", NOW)]
    page2 = alert_history(session, district, NOW - 600 * M, NOW + M, page=2, page_size=3)
    assert (page2.total, [r.id for r in page2.rows]) == (4, [ids["old"]])
    street_b = alert_history(session, AreaScope.of(u.streets[1]), NOW - 600 * M, NOW + M)
    assert [r.id for r in street_b.rows] == [ids["b_only"], ids["rain"]]
    assert alert_history(session, district, NOW - 20 * M, NOW).total == 2  # the period bounds it


def test_ticker_newest_first(world: tuple[Session, Units, dict[str, int]]) -> None:
    session, u, ids = world
    items = ticker(session, AreaScope.district(u.district), NOW)
    assert [(i.id, i.unacknowledged, i.colour) for i in items] == [
        (ids["smoke"], True, "yellow"),
        (ids["b_only"], False, "yellow"),
        (ids["rain"], True, "orange"),
    ]
    assert items[0].text == "【烟感火警】<b>烟感</b>报警"  # plain text, the UI escapes it
    assert items[2].text == "【暴雨橙色预警】暴雨橙色预警"


def test_feed_health_statuses(session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as session:
        for name, enabled in (
            ("ok", True),
            ("stale", True),
            ("failing", True),
            ("never", True),
            ("off", False),
        ):
            session.add(
                Feed(
                    name=name,
                    department_code=None,
                    protocol="open311",
                    url="http://x",
                    interval_s=60,
                    enabled=enabled,
                )
            )
        session.flush()
        session.add_all(
            [
                FeedHealth(  # polled fine a minute ago, nothing new for five hours: a quiet feed, not stale
                    feed_name="ok",
                    last_poll_at=NOW - M,
                    last_success_at=NOW - M,
                    received=10,
                    newest_record_at=NOW - timedelta(hours=5),
                ),
                FeedHealth(
                    feed_name="stale",
                    last_poll_at=NOW - M,
                    last_success_at=NOW - 3 * M - timedelta(seconds=1),
                ),
                FeedHealth(
                    feed_name="failing",
                    last_poll_at=NOW - M,
                    last_success_at=NOW - 2 * M,
                    last_error="HTTP 500",
                    consecutive_failures=1,
                ),
            ]
        )
        session.commit()
        rows = feed_health(session, AreaScope.district("500151"), NOW, stale_after_polls=3)
        assert [(r.name, r.status, r.status_label, r.stale) for r in rows] == [
            ("stale", "stale", "数据过期", True),
            ("failing", "failing", "出错", False),
            ("never", "never", "未接入", False),
            ("ok", "ok", "正常", False),
            ("off", "disabled", "已停用", False),
        ]
        assert rows[1].last_error == "HTTP 500" and rows[3].received == 10
        assert (rows[3].since_success_s, rows[3].record_age_s) == (60.0, 5 * 3600.0)
        assert rows[0].since_success_s == 3 * 60 + 1 and rows[0].record_age_s is None
        assert (rows[2].since_success_s, rows[2].record_age_s) == (None, None)


def test_quarantine_newest_first_and_truncated(session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as session:
        session.add(Quarantine(feed_name="f", at=NOW - M, external_id="1", reason="no id", raw="x" * 600))
        session.add(
            Quarantine(feed_name="f", at=NOW, external_id=None, reason="bad date", raw="<script>1</script>")
        )
        session.commit()
        rows = quarantined(session, AreaScope.district("500151"), raw_chars=500)
        assert [(r.reason, r.external_id) for r in rows] == [("bad date", ""), ("no id", "1")]
        assert rows[0].raw == "<script>1</script>" and not rows[0].truncated
        assert rows[1].raw == "x" * 500 + "…" and rows[1].truncated and rows[1].raw_length == 600


def test_risks_in_scope_overdue_first(world: tuple[Session, Units, dict[str, int]]) -> None:
    session, u, _ = world
    for title, grid, due, closed, level in (
        ("燃气管道老化", u.grids[0], NOW + timedelta(days=10), None, "high"),
        ("夜市治安", u.grids[1], NOW - timedelta(days=2), None, "low"),
        ("已销号", u.grids[1], NOW - timedelta(days=5), NOW - timedelta(days=6), "high"),
        ("B街道风险", u.grids[5], NOW - timedelta(days=1), None, "high"),
    ):
        risk = Risk(
            kind="public_safety", level=level, title=title, due_at=due, closed_at=closed, owner="张网格长"
        )
        risk.set_place(grid)
        session.add(risk)
    session.commit()
    rows = risks(session, AreaScope.of(u.streets[0]), NOW)
    assert [(r.title, r.overdue, r.kind_label, r.level_label) for r in rows] == [
        ("夜市治安", True, "公共安全", "低"),
        ("燃气管道老化", False, "公共安全", "高"),
    ]
    assert rows[0].days_left == pytest.approx(-2.0) and rows[0].grid_name == u.names[u.grids[1]]
    assert [r.title for r in risks(session, AreaScope.of(u.streets[0]), NOW, include_closed=True)][
        -1
    ] == "已销号"
    assert [r.title for r in overdue_risks(session, AreaScope.district(u.district), NOW)] == [
        "B街道风险",
        "夜市治安",
    ]
