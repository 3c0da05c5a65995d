"""督办 cards by hand: a leader issues and cancels them on a case in scope; each is a timeline event
and an audit row; other roles and out-of-scope cases are refused and nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from data.auth import (
    CaseNotFound,
    NotPermitted,
    audit_rows,
    cancel_supervision,
    create_user,
    get_user,
    scope_of,
    supervise,
)
from data.db import transaction
from data.models import Case, CaseEvent
from tests.layers.hierarchy import add_case, build_hierarchy

NOW = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
PASSWORD = "correct horse 9"


@pytest.fixture
def world(session_factory):  # type: ignore[no-untyped-def]
    """A leader of street 500151001, a duty officer there, one case in each street."""
    with transaction(session_factory) as session:
        grids = build_hierarchy(session)
        create_user(session, "leader1", PASSWORD, "leader", "500151001")
        create_user(session, "duty1", PASSWORD, "duty", "500151001")
        mine = add_case(session, grids[0], external_id="mine")
        theirs = add_case(session, next(g for g in grids if g.startswith("500151002")), external_id="theirs")
        return session_factory, mine.id, theirs.id


def test_leader_issues_and_cancels_a_card(world) -> None:  # type: ignore[no-untyped-def]
    factory, mine, _ = world
    with transaction(factory) as session:
        leader = get_user(session, "leader1")
        assert leader is not None
        supervise(
            session, scope_of(leader), mine, "red", leader, NOW, remote_addr="10.1.1.1", note="限期办结"
        )
    with transaction(factory) as session:
        leader = get_user(session, "leader1")
        assert leader is not None
        cancel_supervision(session, scope_of(leader), mine, leader, NOW, remote_addr="10.1.1.1")
    with factory() as session:
        case = session.get(Case, mine)
        assert case is not None and case.supervision == "none"
        events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == mine)).all()
        assert [(e.kind, e.detail, e.actor, e.at) for e in events] == [
            ("supervision", "red", "leader1", NOW),
            ("supervision", "cancel:red", "leader1", NOW),
        ]
        rows = list(reversed(audit_rows(session, actor="leader1")))
        assert [(r.action, r.target, r.remote_addr) for r in rows] == [
            ("supervise", f"case:{mine}", "10.1.1.1"),
            ("supervise_cancel", f"case:{mine}", "10.1.1.1"),
        ]
        assert rows[0].detail == "none → red; 限期办结"


def test_case_outside_the_scope_is_not_found(world) -> None:  # type: ignore[no-untyped-def]
    factory, _, theirs = world
    with pytest.raises(CaseNotFound), transaction(factory) as session:
        leader = get_user(session, "leader1")
        assert leader is not None
        supervise(session, scope_of(leader), theirs, "yellow", leader, NOW)
    with factory() as session:
        case = session.get(Case, theirs)
        assert case is not None and case.supervision == "none"
        assert (
            session.scalars(select(CaseEvent)).all() == [] and audit_rows(session, action="supervise") == []
        )


def test_only_leaders_supervise(world) -> None:  # type: ignore[no-untyped-def]
    factory, mine, _ = world
    with pytest.raises(NotPermitted), transaction(factory) as session:
        duty = get_user(session, "duty1")
        assert duty is not None
        supervise(session, scope_of(duty), mine, "yellow", duty, NOW)
    with pytest.raises(ValueError, match="no supervision card"), transaction(factory) as session:
        leader = get_user(session, "leader1")
        assert leader is not None
        cancel_supervision(session, scope_of(leader), mine, leader, NOW)
    with pytest.raises(ValueError, match="unknown card"), transaction(factory) as session:
        leader = get_user(session, "leader1")
        assert leader is not None
        supervise(session, scope_of(leader), mine, "green", leader, NOW)
    with factory() as session:
        assert session.scalars(select(CaseEvent)).all() == []
