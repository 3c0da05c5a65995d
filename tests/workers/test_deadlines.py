"""check_deadlines against the real test database: each event exactly once, at the right moment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from data.models import Alert, AlertEvent, Case, CaseEvent
from layers import versions
from workers.jobs.deadlines import run_deadlines
from workers.runtime import Runtime

from .test_poll_support import make_hierarchy, make_runtime

ACCEPTED = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
LIMIT_H = 100


@pytest.fixture
def runtime(database_url: str, engine: object, redis_url: str, tmp_path: Path) -> Iterator[Runtime]:
    rt = make_runtime(database_url, redis_url, tmp_path / "feeds.toml", tmp_path / "var")
    with rt.session_factory() as session, session.begin():
        make_hierarchy(session)
        case = Case(
            feed_name="hotline", external_id="K1", status="in_progress", requested_at=ACCEPTED,
            accepted_at=ACCEPTED, deadline_at=ACCEPTED + timedelta(hours=LIMIT_H), is_open=True,
        )  # fmt: skip
        done = Case(
            feed_name="hotline", external_id="K2", status="closed", requested_at=ACCEPTED,
            accepted_at=ACCEPTED, deadline_at=ACCEPTED + timedelta(hours=LIMIT_H), is_open=False,
        )  # fmt: skip
        session.add_all([case, done])
    yield rt
    rt.close()


def case_events(rt: Runtime) -> list[tuple[str, str]]:
    with rt.session_factory() as session:
        rows = session.execute(select(CaseEvent.kind, CaseEvent.detail).order_by(CaseEvent.id)).all()
    return [(k, d) for k, d in rows]


def at(hours: float) -> datetime:
    return ACCEPTED + timedelta(hours=hours)


def test_case_clock_events_exactly_once(runtime: Runtime) -> None:
    assert run_deadlines(runtime, at(10))["cases"] == 0
    assert case_events(runtime) == []

    assert run_deadlines(runtime, at(50))["cases"] == 1  # 50 %: the street holds it
    assert case_events(runtime) == [("escalation", "community→street")]
    assert run_deadlines(runtime, at(60))["cases"] == 0  # nothing new: no row touched

    run_deadlines(runtime, at(80))  # 80 %: due soon
    run_deadlines(runtime, at(90))
    assert [k for k, _ in case_events(runtime)] == ["escalation", "due_soon"]

    before = versions.read(runtime.redis)["cases"]
    run_deadlines(runtime, at(100.5))  # overdue: yellow card, the district holds it
    assert versions.read(runtime.redis)["cases"] == before + 1
    run_deadlines(runtime, at(120))
    run_deadlines(runtime, at(151))  # overdue by more than half the limit again: red card
    run_deadlines(runtime, at(400))
    assert case_events(runtime)[2:] == [
        ("overdue", "deadline 2026-05-05T04:00:00Z"),
        ("supervision", "yellow"),
        ("escalation", "street→district"),
        ("supervision", "red"),
    ]
    with runtime.session_factory() as session:
        case = session.scalars(select(Case).where(Case.external_id == "K1")).one()
        assert (case.due_soon, case.overdue, case.supervision, case.escalation_level) == (
            False, True, "red", "district",
        )  # fmt: skip
        closed = session.scalars(select(Case).where(Case.external_id == "K2")).one()
        assert (closed.overdue, closed.supervision) == (False, "none")


def test_a_late_case_gets_every_step_in_one_run(runtime: Runtime) -> None:
    run_deadlines(runtime, at(200))
    assert [k for k, _ in case_events(runtime)] == [
        "overdue", "supervision", "supervision", "escalation", "escalation",
    ]  # fmt: skip
    run_deadlines(runtime, at(201))
    assert len(case_events(runtime)) == 5


def test_alert_escalation_and_expiry_once(runtime: Runtime) -> None:
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    with runtime.session_factory() as session, session.begin():
        session.add_all(
            [
                Alert(feed_name="w", external_id="severe", kind="weather", severity="Severe",
                      created_at=now - timedelta(minutes=20), expires=now + timedelta(hours=1)),
                Alert(feed_name="w", external_id="minor", kind="weather", severity="Minor",
                      created_at=now - timedelta(minutes=20), expires=now + timedelta(hours=1)),
                Alert(feed_name="w", external_id="young", kind="weather", severity="Extreme",
                      created_at=now - timedelta(minutes=5), expires=now + timedelta(hours=1)),
                Alert(feed_name="w", external_id="acked", kind="weather", severity="Extreme",
                      state="acknowledged", created_at=now - timedelta(minutes=60),
                      expires=now - timedelta(minutes=1)),
            ]
        )  # fmt: skip
    first = run_deadlines(runtime, now)
    assert (first["alerts_escalated"], first["alerts_expired"]) == (1, 1)
    second = run_deadlines(runtime, now + timedelta(minutes=11))
    assert (second["alerts_escalated"], second["alerts_expired"]) == (1, 0)  # "young" is 16 min old now
    third = run_deadlines(runtime, now + timedelta(minutes=12))
    assert (third["alerts_escalated"], third["alerts_expired"]) == (0, 0)
    with runtime.session_factory() as session:
        rows = session.execute(
            select(Alert.external_id, AlertEvent.kind).join(AlertEvent).order_by(AlertEvent.id)
        ).all()
        assert [tuple(r) for r in rows] == [
            ("severe", "escalated"),
            ("acked", "expired"),
            ("young", "escalated"),
        ]
        states = dict(session.execute(select(Alert.external_id, Alert.state)).all())
        assert states == {"severe": "new", "minor": "new", "young": "new", "acked": "expired"}
