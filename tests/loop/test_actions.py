"""The loop's actions on a case (data.loop.actions): each writes its instruction, timeline event,
recipients and outbox rows in the caller's one transaction, audited; role and area scope are checked
against the acting account, whatever the request names."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from data.auth import CaseNotFound, NotPermitted, audit_rows
from data.db import transaction
from data.loop import actions
from data.loop.clock import mark_overdue, report_deadline
from data.models import CaseEvent, Instruction, OutboxMessage, Recipient

from .conftest import NOW, World, case_of


def counts(world: World) -> tuple[int, ...]:
    with world.factory() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Instruction, Recipient, OutboxMessage, CaseEvent)
        )


def test_whistle_writes_instruction_event_recipients_and_outbox_together(world: World) -> None:
    with transaction(world.factory) as session:
        duty = world.user(session, "duty1")
        sent = actions.whistle(
            session, world.settings, duty, world.mine, "city_management", ["police"], "请立即到场处置",
            NOW, urgency="urgent", remote_addr="10.0.0.5",
        )  # fmt: skip
        message_ids = [m.message_id for m in sent.messages]
    with world.factory() as session:
        recipients = session.scalars(select(Recipient).order_by(Recipient.id)).all()
        assert [(r.department_code, r.role, r.state) for r in recipients] == [
            ("city_management", "lead", "pending"),
            ("police", "helper", "pending"),
        ]
        assert all(r.report_by == NOW + timedelta(minutes=30) for r in recipients)
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [r.message_id for r in rows] == message_ids and len(set(message_ids)) == 2
        body = json.loads(rows[0].body)
        assert (body["kind"], body["role"], body["text"], body["case"]["id"]) == (
            "whistle", "lead", "请立即到场处置", world.mine,
        )  # fmt: skip
        assert "13812345678" not in rows[0].body and "张三" not in rows[0].body  # no reporter leaves
        event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == world.mine)).one()
        assert (event.kind, event.actor, event.at) == ("instruction", "duty1", NOW)
        assert "city_management(lead), police(helper)" in event.detail and "请立即到场处置" in event.detail
        [row] = audit_rows(session, action="loop_whistle")
        assert (row.actor, row.target, row.remote_addr) == ("duty1", f"case:{world.mine}", "10.0.0.5")


def test_a_rolled_back_action_leaves_no_outbox_row(world: World) -> None:
    before = counts(world)
    with pytest.raises(RuntimeError), transaction(world.factory) as session:
        actions.dispatch(
            session, world.settings, world.user(session, "duty1"), world.mine, "police", "x", NOW
        )
        raise RuntimeError("the request failed after the action")
    assert counts(world) == before


def test_a_street_officer_cannot_act_on_another_streets_case(world: World) -> None:
    before = counts(world)
    calls = [
        lambda s, u: actions.dispatch(s, world.settings, u, world.theirs, "police", "x", NOW),
        lambda s, u: actions.redispatch(s, world.settings, u, world.theirs, "police", "why", NOW),
        lambda s, u: actions.whistle(s, world.settings, u, world.theirs, "police", [], "x", NOW),
        lambda s, u: actions.report_up(s, world.settings, u, world.theirs, "why", NOW),
    ]
    for call in calls:
        with pytest.raises(CaseNotFound), transaction(world.factory) as session:
            call(session, world.user(session, "duty1"))
    assert counts(world) == before


def test_a_wall_account_cannot_act_at_all(world: World) -> None:
    before = counts(world)
    reply_by = NOW + timedelta(days=1)
    calls = [
        lambda s, u: actions.dispatch(s, world.settings, u, world.mine, "police", "x", NOW),
        lambda s, u: actions.redispatch(s, world.settings, u, world.mine, "police", "why", NOW),
        lambda s, u: actions.whistle(s, world.settings, u, world.mine, "police", [], "x", NOW),
        lambda s, u: actions.report_up(s, world.settings, u, world.mine, "why", NOW),
        lambda s, u: actions.send_down(s, world.settings, u, world.mine, "why", NOW),
        lambda s, u: actions.supervise(s, world.settings, u, world.mine, "x", reply_by, NOW),
    ]
    for name in ("wall1", "admin1"):
        for call in calls:
            with pytest.raises(NotPermitted), transaction(world.factory) as session:
                call(session, world.user(session, name))
    assert counts(world) == before


def test_only_a_leader_supervises_and_the_reply_deadline_is_the_report_deadline(world: World) -> None:
    reply_by = NOW + timedelta(hours=6)
    with pytest.raises(NotPermitted), transaction(world.factory) as session:
        actions.supervise(
            session, world.settings, world.user(session, "duty1"), world.mine, "x", reply_by, NOW
        )
    with transaction(world.factory) as session:
        leader = world.user(session, "leader1")
        sent = actions.supervise(
            session, world.settings, leader, world.theirs, "限三日内办结并回复", reply_by, NOW
        )
        assert [(r.department_code, r.report_by) for r in sent.recipients] == [("city_management", reply_by)]
        assert json.loads(sent.messages[0].body)["reply_by"] == reply_by.isoformat()
        assert sent.instruction.from_code == "500151"
    with world.factory() as session:
        assert [r.actor for r in audit_rows(session, action="loop_supervise")] == ["leader1"]


def test_report_up_and_send_down_move_the_level(world: World) -> None:
    with transaction(world.factory) as session:
        duty = world.user(session, "duty1")
        actions.report_up(session, world.settings, duty, world.mine, "社区无法协调", NOW)
        assert case_of(session, world.mine).escalation_level == "street"
        actions.report_up(session, world.settings, duty, world.mine, "街道无法协调", NOW)
        assert case_of(session, world.mine).escalation_level == "district"
        with pytest.raises(actions.ActionError) as top:
            actions.report_up(session, world.settings, duty, world.mine, "again", NOW)
        assert top.value.code == "act_no_level_above"
        actions.send_down(session, world.settings, duty, world.mine, "由街道办理", NOW)
        assert case_of(session, world.mine).escalation_level == "street"
        with pytest.raises(actions.ActionError) as no_reason:
            actions.report_up(session, world.settings, duty, world.mine, "  ", NOW)  # a reason is required
        assert no_reason.value.code == "act_need_reason"
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # nothing leaves
        kinds = session.scalars(select(Instruction.to_level).order_by(Instruction.id)).all()
        assert kinds == ["street", "district", "street"]


def test_dispatch_takes_the_categorys_limit_and_checks_the_department(world: World) -> None:
    with transaction(world.factory) as session:
        duty = world.user(session, "duty1")
        sent = actions.dispatch(session, world.settings, duty, world.mine, "city_management", "请核查", NOW)
        assert sent.instruction.limit_hours == 72  # city.clutter, normal
        with pytest.raises(actions.ActionError) as unknown:
            actions.dispatch(session, world.settings, duty, world.mine, "nobody", "x", NOW)
        assert unknown.value.code == "act_unknown_department"
        with pytest.raises(actions.ActionError) as twice:
            actions.whistle(session, world.settings, duty, world.mine, "police", ["police"], "x", NOW)
        assert twice.value.code == "act_lead_is_helper"


def test_every_refusal_of_an_action_has_words_in_both_languages() -> None:
    """An ActionError carries the catalogue key of what the page shows (not English words to match)."""
    import inspect
    import re

    from data import text

    source = inspect.getsource(actions)
    codes = set(re.findall(r'ActionError\(\s*f?"(act_[a-z_{}]+)"', source))
    codes |= set(re.findall(r'missing="(act_[a-z_]+)"', source))
    codes |= set(re.findall(r'missing: str = "(act_[a-z_]+)"', source))
    expanded = {c.replace("{direction}", d) for c in codes for d in ("above", "below")}
    assert {"act_too_long", "act_need_reason", "act_no_level_above", "act_no_level_below"} <= expanded
    for code in expanded:
        assert text.t(code) != text.t(code, "en"), code


def test_report_deadlines_by_urgency(world: World) -> None:
    s = world.settings
    friday = datetime(2025, 3, 7, 8, 0, tzinfo=UTC)  # Friday 16:00 in Shanghai
    assert report_deadline(s, "urgent", friday) == friday + timedelta(minutes=30)
    assert report_deadline(s, "normal", friday) == friday + timedelta(hours=2)
    assert report_deadline(s, "complex", friday) == datetime(2025, 3, 10, 8, 0, tzinfo=UTC)  # Monday
    assert report_deadline(s, "complex", NOW) == NOW + timedelta(days=1)
    custom = s.model_copy(update={"loop_report_urgent_minutes": 10})
    assert report_deadline(custom, "urgent", friday) == friday + timedelta(minutes=10)


def test_recipients_not_answered_in_time_are_marked_overdue_once(world: World) -> None:
    with transaction(world.factory) as session:
        duty = world.user(session, "duty1")
        actions.whistle(
            session, world.settings, duty, world.mine, "police", ["ecology"], "x", NOW, urgency="urgent"
        )
    later = NOW + timedelta(minutes=31)
    with world.factory() as session, session.begin():
        conn = session.connection()
        assert mark_overdue(conn, NOW + timedelta(minutes=29)) == 0
        assert mark_overdue(conn, later) == 2
        assert mark_overdue(conn, later) == 0
    with world.factory() as session:
        assert set(session.scalars(select(Recipient.state))) == {"overdue"}
        events = session.scalars(select(CaseEvent.detail).where(CaseEvent.kind == "report_overdue")).all()
        assert sorted(e.split(":")[0] for e in events) == ["ecology", "police"]


def test_every_loop_code_has_a_label_in_both_languages() -> None:
    from data.models.loop import INSTRUCTION_KINDS, RECIPIENT_ROLES, RECIPIENT_STATES
    from data.queries.labels import label

    for kind, codes in (
        ("instruction_kind", INSTRUCTION_KINDS),
        ("recipient_state", RECIPIENT_STATES),
        ("recipient_role", RECIPIENT_ROLES),
        ("loop_event", ("instruction", "delivered", "undelivered", "resend", "answer", "report_overdue")),
    ):
        for code in codes:
            assert label(kind, code) != code and label(kind, code, "en") != code, (kind, code)
    assert (
        label("recipient_state", "overdue") == "超时未报到" and label("instruction_kind", "whistle") == "吹哨"
    )


def test_every_loop_audit_action_has_a_label() -> None:
    from data.auth import ACTIONS
    from data.queries.labels import label

    loop_actions = [a for a in ACTIONS if a.startswith("loop_")]
    assert len(loop_actions) == 10
    assert all(label("audit_action", a) != a and label("audit_action", a, "en") != a for a in loop_actions)
