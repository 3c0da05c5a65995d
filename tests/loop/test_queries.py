"""The loop's queries (data.queries.loop): figures for a period (sent by kind, 报到率, mean 报到 time,
超时未报到 and 未送达 now), the unanswered list, departments by 报到 time and a case's loop — each
through the viewer's area scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from data.db import transaction
from data.loop import actions, answers, outbox
from data.loop.clock import mark_overdue
from data.models import OutboxMessage
from data.queries.loop import case_loop, department_report_times, loop_figures, unanswered
from data.scope import AreaScope

from .conftest import NOW, STREET_1, STREET_2, World

DISTRICT = AreaScope.of("500151")


def _answer(world: World, message_id: str, minutes: int, kind: str = "accepted") -> None:
    parsed = answers.Parsed(
        f"ans-{message_id}-{kind}", message_id, kind, "王建国", "理由" if kind == "refused" else ""
    )
    with transaction(world.factory) as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.message_id == message_id)).one()
        department = row.department_code
        answers._apply(session, department, parsed, NOW, NOW + timedelta(minutes=minutes))


def test_figures_lists_and_case_loop_through_the_scope(world: World) -> None:
    with transaction(world.factory) as session:
        duty1, duty2 = world.user(session, "duty1"), world.user(session, "duty2")
        w = actions.whistle(
            session,
            world.settings,
            duty1,
            world.mine,
            "police",
            ["city_management"],
            "到场",
            NOW,
            urgency="urgent",
        )
        d = actions.dispatch(
            session, world.settings, duty2, world.theirs, "ecology", "核查", NOW, urgency="urgent"
        )
        ids = {m.department_code: m.message_id for m in [*w.messages, *d.messages]}
        outbox.mark_failed(session, d.messages[0].id, NOW, "HTTP 500", 8, 5.0, final=True)  # ecology: 未送达
    _answer(world, ids["police"], 10)  # 报到 after 10 min
    _answer(world, ids["police"], 20, "progress")
    with world.factory() as session, session.begin():
        assert mark_overdue(session.connection(), NOW + timedelta(minutes=40)) == 1  # city_management
    later = NOW + timedelta(minutes=41)
    start, end = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
    with world.factory() as session:
        everything = loop_figures(session, DISTRICT, start, end, later)
        assert everything.sent == {"whistle": 1, "dispatch": 1}
        assert (everything.recipients, everything.due, everything.reported) == (3, 3, 1)
        assert everything.report_rate == 1 / 3 and everything.mean_report_minutes == pytest.approx(10.0)
        assert (everything.overdue_now, everything.undelivered_now) == (1, 1)
        street2 = loop_figures(session, AreaScope.of(STREET_2), start, end, later)
        assert street2.sent == {"dispatch": 1} and street2.overdue_now == 0 and street2.report_rate == 0.0

        [late] = unanswered(session, DISTRICT, later)
        assert (late.department_code, late.kind, late.role, late.case_id) == (
            "city_management",
            "whistle",
            "helper",
            world.mine,
        )
        assert late.late_minutes == pytest.approx(11.0)
        assert unanswered(session, AreaScope.of(STREET_2), later) == []

        ranking = department_report_times(session, DISTRICT, start, end)
        assert [(r.department_code, r.reported) for r in ranking] == [
            ("police", 1), ("city_management", 0), ("ecology", 0),
        ]  # fmt: skip
        assert (
            ranking[0].mean_report_minutes == pytest.approx(10.0) and ranking[1].mean_report_minutes is None
        )

        [view] = case_loop(session, AreaScope.of(STREET_1), world.mine)
        assert view.instruction.kind == "whistle"
        assert [(r.department_code, r.state) for r in view.recipients] == [
            ("police", "progress"), ("city_management", "overdue"),
        ]  # fmt: skip
        assert [a.kind for a in view.recipients[0].answers] == ["accepted", "progress"]
        assert view.recipients[0].handler == "王建国" and view.recipients[0].message_id == ids["police"]
        assert case_loop(session, AreaScope.of(STREET_2), world.mine) == []  # not in that scope
