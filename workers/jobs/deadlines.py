"""``check_deadlines()``: every minute, move the deadline facts of open cases and escalate alerts.

Set-based: the database picks the open cases whose facts must change at this moment (one filter on
``accepted_at``/``deadline_at`` arithmetic, so 100,000 open cases cost one scan, not 100,000 ORM
objects); only those rows are read, updated (``executemany``) and given their events (see
:mod:`workers.ingest.clock` for the kinds). Then: unacknowledged Severe/Extreme alerts older than
``settings.alert_escalate_minutes`` (counted from the last raise of their severity, else from their
creation) get one ``escalated`` event; alerts past ``expires`` become ``expired``; loop recipients not
answered by their 报到 deadline become 超时未报到 (:func:`data.loop.clock.mark_overdue`), and those
still unanswered long after it raise their case one level, once per instruction
(:func:`data.loop.clock.escalate_unanswered`). Last, 预警叫应's safety net: every warning's calls
are synced with it (:func:`data.loop.calls.sync_alerts`: an expired warning ends its calling, a grid
whose worker was put on the roster after the warning came is called) and new messages are delivered at
once. The versions of the layers that changed are bumped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    and_,
    bindparam,
    cast,
    func,
    insert,
    or_,
    select,
    update,
)

from data.deadlines import evaluate, moments
from data.loop.calls import sync_alerts
from data.loop.clock import escalate_unanswered, mark_overdue
from data.models import Alert, AlertEvent, Case, CaseEvent, utcnow
from layers import versions

from ..ingest.clock import Facts, advance
from ..queues import enqueue_delivery
from ..runtime import Runtime, get_runtime

BATCH = 2000
ESCALATE_SEVERITIES = ("Severe", "Extreme")


def check_deadlines() -> dict[str, int]:
    """The RQ job (scheduled every 60 s by ``rq cron``)."""
    return run_deadlines(get_runtime())


def run_deadlines(rt: Runtime, now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    with rt.engine.begin() as conn:
        cases = _cases(conn, now)
    with rt.engine.begin() as conn:
        unanswered = mark_overdue(conn, now)  # 超时未报到: instructions not answered in time
        raised = escalate_unanswered(conn, now, rt.settings.loop_report_escalate_factor)
    with rt.engine.begin() as conn:
        escalated = _escalate_alerts(conn, now, rt.settings.alert_escalate_minutes)
        expired = _expire_alerts(conn, now)
    with rt.session_factory() as session, session.begin():
        synced = sync_alerts(session, now)
    calls = len(synced.messages)
    if calls:
        enqueue_delivery(rt.redis)
    layers = set()
    if synced.changed:
        layers.add("alerts")  # the wall's 叫应 chip and the map's called grids
    if cases or unanswered or raised:
        layers |= {"cases", "kpis"}
    if unanswered:
        layers.add("loop")  # 超时未报到: the wall's loop figures and ticker
    if escalated or expired:
        layers |= {"alerts", "kpis"}
    if layers:
        versions.bump(rt.redis, layers)
    return {
        "cases": cases,
        "alerts_escalated": escalated,
        "alerts_expired": expired,
        "loop_report_overdue": unanswered,
        "loop_report_escalated": raised,
        "calls_written": calls,
    }


def _epoch(conn: Connection, column: Any) -> ColumnElement[float]:
    """Seconds since 1970 of a UTC datetime column, on SQLite and PostgreSQL. SQLite's ``julianday`` is
    a fraction of a day, whole milliseconds inside but not exact as a float: rounded back to them, so a
    case exactly at a boundary is picked in the same run the Python rule moves it."""
    if conn.dialect.name == "sqlite":
        return func.round((func.julianday(column) - 2440587.5) * 86400.0, 3)
    return cast(func.extract("epoch", column), Float)


def due_for_change(conn: Connection, now: datetime) -> ColumnElement[bool]:
    """Open cases whose due-soon / overdue / card / escalation facts must move up at ``now`` (the moments
    of :func:`data.deadlines.moments`, the fractions :func:`data.deadlines.evaluate` uses)."""
    at = moments(_epoch(conn, Case.accepted_at), _epoch(conn, Case.deadline_at))
    t = now.timestamp()
    return and_(
        Case.is_open.is_(True),
        Case.deadline_at.is_not(None),
        Case.accepted_at.is_not(None),
        or_(
            and_(Case.due_soon.is_(False), Case.overdue.is_(False), at.due_soon <= t, at.overdue >= t),
            and_(Case.overdue.is_(False), at.overdue < t),
            and_(Case.supervision == "none", at.overdue < t),
            and_(Case.supervision != "red", at.red < t),
            and_(Case.escalation_level == "community", at.street <= t),
            and_(Case.escalation_level != "district", at.overdue < t),
        ),
    )


def _cases(conn: Connection, now: datetime) -> int:
    stmt = (
        select(
            Case.id,
            Case.accepted_at,
            Case.deadline_at,
            Case.due_soon,
            Case.overdue,
            Case.supervision,
            Case.escalation_level,
        )  # fmt: skip
        .where(due_for_change(conn, now))
        .order_by(Case.id)
    )
    rows = conn.execute(stmt).all()
    touched = 0
    for start in range(0, len(rows), BATCH):
        updates: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for row in rows[start : start + BATCH]:
            limit_h = (row.deadline_at - row.accepted_at).total_seconds() / 3600
            clock = evaluate(row.accepted_at, limit_h, now, True)
            old = Facts(row.due_soon, row.overdue, row.supervision, row.escalation_level)
            facts, moves = advance(old, clock)
            if facts == old:
                continue
            updates.append(
                {
                    "b_id": row.id,
                    "b_due_soon": facts.due_soon,
                    "b_overdue": facts.overdue,
                    "b_supervision": facts.supervision,
                    "b_level": facts.escalation_level,
                    "b_now": now,
                }
            )
            events.extend(
                {"case_id": row.id, "at": now, "kind": kind, "detail": detail, "actor": "system"}
                for kind, detail in moves
            )
        if updates:
            conn.execute(
                update(Case)
                .where(Case.id == bindparam("b_id"))
                .values(
                    due_soon=bindparam("b_due_soon"),
                    overdue=bindparam("b_overdue"),
                    supervision=bindparam("b_supervision"),
                    escalation_level=bindparam("b_level"),
                    modified_at=bindparam("b_now"),
                )
                .execution_options(synchronize_session=False),
                updates,
            )
            touched += len(updates)
        if events:
            conn.execute(insert(CaseEvent), events)
    return touched


def _escalate_alerts(conn: Connection, now: datetime, minutes: int) -> int:
    cutoff = now - timedelta(minutes=minutes)
    ids = list(
        conn.scalars(
            select(Alert.id).where(
                Alert.state == "new",
                Alert.severity.in_(ESCALATE_SEVERITIES),
                Alert.escalated_at.is_(None),
                func.coalesce(Alert.raised_at, Alert.created_at) <= cutoff,
            )
        )
    )
    if not ids:
        return 0
    conn.execute(update(Alert).where(Alert.id.in_(ids)).values(escalated_at=now, modified_at=now))
    detail = f"unacknowledged for more than {minutes} min"
    conn.execute(
        insert(AlertEvent),
        [{"alert_id": i, "at": now, "kind": "escalated", "detail": detail, "actor": "system"} for i in ids],
    )
    return len(ids)


def _expire_alerts(conn: Connection, now: datetime) -> int:
    ids = list(
        conn.scalars(
            select(Alert.id).where(
                Alert.state.in_(("new", "acknowledged")),
                Alert.expires.is_not(None),
                Alert.expires < now,
            )
        )
    )
    if not ids:
        return 0
    conn.execute(update(Alert).where(Alert.id.in_(ids)).values(state="expired", modified_at=now))
    conn.execute(
        insert(AlertEvent),
        [{"alert_id": i, "at": now, "kind": "expired", "detail": "", "actor": "system"} for i in ids],
    )
    return len(ids)


__all__ = ["check_deadlines", "due_for_change", "run_deadlines"]
