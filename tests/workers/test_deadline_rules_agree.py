"""The deadline rule written in Python (``data.deadlines.evaluate``) and in SQL (the job's
``due_for_change``) agree: the database picks a case exactly when the Python rule moves its facts,
on a table of (accepted, deadline, now) cases around and exactly at each boundary (50 %, 80 %, 100 %
and 150 % of the limit), for the facts a case may hold when the job looks at it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from data.deadlines import (
    DUE_SOON_FRACTION,
    ESCALATE_TO_STREET_FRACTION,
    RED_CARD_EXTRA_FRACTION,
    Clock,
    evaluate,
)
from data.models import Case
from workers.ingest.clock import Facts, advance
from workers.jobs.deadlines import due_for_change

FRESH = Facts(False, False, "none", "community")
LIMITS_H = (0.5, 7, 24, 100, 120, 360)  # whole-second boundaries at every fraction
BOUNDARIES = (ESCALATE_TO_STREET_FRACTION, DUE_SOON_FRACTION, 1.0, 1.0 + RED_CARD_EXTRA_FRACTION)
OFFSETS_S = (-1, 0, 1)


def _table() -> list[tuple[datetime, datetime, datetime]]:
    cases = []
    for i, hours in enumerate(LIMITS_H):
        accepted = datetime(2026, 5, 1, 3, 7, 11, tzinfo=UTC) + timedelta(minutes=97 * i, seconds=13 * i)
        limit = timedelta(hours=hours)
        for fraction in BOUNDARIES:
            for offset in OFFSETS_S:
                cases.append(
                    (accepted, accepted + limit, accepted + limit * fraction + timedelta(seconds=offset))
                )
    return cases


def test_sql_picks_exactly_the_cases_the_python_rule_moves(engine: Engine) -> None:
    table = _table()
    checked = 0
    with Session(engine) as session:
        for n, (accepted, deadline, now) in enumerate(table):
            # the facts a case may hold: never looked at, as one second ago, as now
            held = {FRESH, advance(FRESH, _clock(accepted, deadline, now - timedelta(seconds=1)))[0]}
            held.add(advance(FRESH, _clock(accepted, deadline, now))[0])
            expected: dict[str, bool] = {}
            for k, facts in enumerate(sorted(held, key=repr)):
                external_id = f"R{n}-{k}"
                session.add(
                    Case(
                        feed_name="rules", external_id=external_id, status="in_progress",
                        requested_at=accepted, accepted_at=accepted, deadline_at=deadline, is_open=True,
                        due_soon=facts.due_soon, overdue=facts.overdue, supervision=facts.supervision,
                        escalation_level=facts.escalation_level,
                    )
                )  # fmt: skip
                expected[external_id] = advance(facts, _clock(accepted, deadline, now))[0] != facts
            session.flush()
            conn = session.connection()
            picked = set(
                conn.scalars(
                    select(Case.external_id).where(
                        Case.external_id.in_(list(expected)), due_for_change(conn, now)
                    )
                )
            )
            want = {e for e, moves in expected.items() if moves}
            assert picked == want, (accepted, deadline, now, (now - accepted) / (deadline - accepted))
            checked += len(expected)
        session.rollback()
    assert checked >= 2 * len(table)


def _clock(accepted: datetime, deadline: datetime, now: datetime) -> Clock:
    limit_h = (deadline - accepted).total_seconds() / 3600
    return evaluate(accepted, limit_h, now, True)
