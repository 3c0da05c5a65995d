"""超时未报到 escalates like an overdue case: an instruction left unanswered for N× its 报到 window past
its 报到 deadline raises its case one level, once, by the real deadlines job on the real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from data.db import transaction
from data.loop import actions
from data.models import Case, CaseEvent, Recipient
from layers import versions
from tests.workers.test_poll_support import make_runtime
from workers.jobs.deadlines import run_deadlines
from workers.runtime import Runtime

from .conftest import NOW, World, make_world


@pytest.fixture
def rt_world(
    database_url: str, engine: object, redis_url: str, tmp_path: Path
) -> Iterator[tuple[Runtime, World]]:
    rt = make_runtime(database_url, redis_url, tmp_path / "feeds.toml", tmp_path / "var")
    try:
        yield rt, make_world(rt.session_factory, rt.settings)
    finally:
        rt.close()


def _escalations(rt: Runtime, case_id: int) -> list[str]:
    with rt.session_factory() as session:
        return list(
            session.scalars(
                select(CaseEvent.detail)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == "escalation")
                .order_by(CaseEvent.id)
            )
        )


def _level(rt: Runtime, case_id: int) -> str:
    with rt.session_factory() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.escalation_level


def _whistle(world: World, case_id: int, user: str = "duty1", urgency: str = "urgent") -> int:
    with transaction(world.factory) as session:
        sent = actions.whistle(
            session, world.settings, world.user(session, user), case_id, "police", ["ecology"], "到场", NOW,
            urgency=urgency,
        )  # fmt: skip
        return sent.instruction.id


def test_unanswered_instruction_raises_its_case_one_level_once(rt_world: tuple[Runtime, World]) -> None:
    rt, world = rt_world
    iid = _whistle(world, world.mine)  # urgent: 报到 within 30 min; default factor 1 → raised at +60 min
    assert _level(rt, world.mine) == "community"

    assert run_deadlines(rt, NOW + timedelta(minutes=31))["loop_report_overdue"] == 2
    assert run_deadlines(rt, NOW + timedelta(minutes=59))["loop_report_escalated"] == 0
    assert _level(rt, world.mine) == "community"

    before = versions.read(rt.redis)["cases"]
    assert run_deadlines(rt, NOW + timedelta(minutes=61))["loop_report_escalated"] == 1  # one per instruction
    assert versions.read(rt.redis)["cases"] == before + 1
    assert _level(rt, world.mine) == "street"
    assert _escalations(rt, world.mine) == [f"community→street loop:{iid}:police,ecology"]

    for minutes in (62, 120, 600):  # once: never again for the same instruction
        assert run_deadlines(rt, NOW + timedelta(minutes=minutes))["loop_report_escalated"] == 0
    assert _level(rt, world.mine) == "street"
    assert _level(rt, world.theirs) == "community"  # the other street's case is untouched

    second = _whistle(world, world.mine, urgency="normal")  # another instruction: its own escalation
    assert run_deadlines(rt, NOW + timedelta(hours=4, minutes=1))["loop_report_escalated"] == 1
    assert _level(rt, world.mine) == "district"
    assert _escalations(rt, world.mine)[-1] == f"street→district loop:{second}:police,ecology"
    _whistle(world, world.mine)  # held at the district already: nothing above it
    assert run_deadlines(rt, NOW + timedelta(hours=10))["loop_report_escalated"] == 0
    assert len(_escalations(rt, world.mine)) == 2


def test_an_answer_in_time_or_a_closed_case_does_not_escalate(rt_world: tuple[Runtime, World]) -> None:
    rt, world = rt_world
    iid = _whistle(world, world.mine)
    _whistle(world, world.theirs, user="duty2")
    with transaction(world.factory) as session:
        for recipient in session.scalars(select(Recipient).where(Recipient.instruction_id == iid)):
            recipient.state = "accepted"  # both departments reported
        theirs = session.get(Case, world.theirs)
        assert theirs is not None
        theirs.is_open, theirs.status = False, "closed"
    assert run_deadlines(rt, NOW + timedelta(hours=3))["loop_report_escalated"] == 0
    assert _escalations(rt, world.mine) == [] and _escalations(rt, world.theirs) == []


def test_the_factor_is_a_setting(rt_world: tuple[Runtime, World]) -> None:
    rt, world = rt_world
    rt.settings = rt.settings.model_copy(update={"loop_report_escalate_factor": 0.0})
    _whistle(world, world.mine)
    result = run_deadlines(rt, NOW + timedelta(minutes=31))  # 超时未报到 and raised in the same run
    assert (result["loop_report_overdue"], result["loop_report_escalated"]) == (2, 1)
    assert _level(rt, world.mine) == "street"


def test_the_timeline_says_why_the_case_was_raised() -> None:
    from dashboard.components.format import event_detail

    assert event_detail("escalation", "community→street", "zh-CN") == "社区 → 镇街"
    assert event_detail("escalation", "community→street loop:7:police,ecology", "zh-CN") == (
        "社区 → 镇街（police,ecology 超时未报到）"
    )
    assert "not reported in time" in event_detail("escalation", "street→district loop:7:police", "en")
