"""督办 a 类案 as one item (data.loop.class_supervise): every open case of the hotspot with a department
gets the leader's 督办, in one transaction, with one class audit row; anyone else, another street's
leader, a forged or stale key get nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from data.auth import CaseNotFound, NotPermitted, audit_rows, create_user
from data.db import transaction
from data.loop.actions import ActionError
from data.loop.class_supervise import supervise_class
from data.models import Case, Instruction, OutboxMessage
from data.queries import AreaScope, hotspots
from tests.layers.hierarchy import add_case

from .conftest import PASSWORD, STREET_1, STREET_2, World

NOW = datetime.now(UTC)  # the cases are two days old (tests.layers.hierarchy): within the 30 days


def _hotspot(world: World) -> tuple[str, list[int]]:
    """Four 乱堆乱放 cases in street 1's first grid (one closed, one without a department): a hotspot."""
    with transaction(world.factory) as session:
        grid = session.scalar(select(Case.grid_code).where(Case.id == world.mine))
        assert grid is not None
        ids = []
        for i in range(3):
            case = add_case(session, grid, external_id=f"clutter-{i}")
            case.category_code, case.department_code = "city.clutter", "city_management"
            ids.append(case.id)
        session.get(Case, ids[0]).is_open = False  # type: ignore[union-attr]
        session.get(Case, ids[0]).status = "closed"  # type: ignore[union-attr]
        session.get(Case, ids[1]).department_code = None  # type: ignore[union-attr]
        create_user(session, "leader_s2", PASSWORD, "leader", STREET_2)
    with world.factory() as session:
        (spot,) = hotspots(session, AreaScope.of(STREET_1), NOW)
        assert spot.count == 4 and spot.kind == "grid"
        return spot.key, [world.mine, *ids]


def _written(world: World) -> tuple[int, int]:
    with world.factory() as session:
        return (
            session.scalar(select(func.count()).select_from(Instruction)) or 0,
            session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
        )


def test_a_leader_supervises_every_open_case_of_the_class_at_once(world: World) -> None:
    key, (mine, closed, no_dept, last) = _hotspot(world)
    with transaction(world.factory) as session:
        done = supervise_class(
            session, world.settings, world.user(session, "leader1"), key, "一周内集中整治",
            NOW + timedelta(hours=24), NOW,
        )  # fmt: skip
    assert sorted(s.instruction.case_id for s in done.sent) == sorted([mine, last])
    assert (done.no_department, done.closed) == ([no_dept], 1)
    assert _written(world) == (2, 2)  # one 督办 and one message per case sent
    with world.factory() as session:
        (row,) = audit_rows(session, action="loop_supervise_class")
        assert row.actor == "leader1" and row.target == f"hotspot:{key}" and "2 sent, 1 without" in row.detail
        assert len(audit_rows(session, action="loop_supervise")) == 2


@pytest.mark.parametrize(
    ("who", "error"), [("duty1", NotPermitted), ("wall1", NotPermitted), ("leader_s2", CaseNotFound)]
)
def test_no_one_else_supervises_the_class(world: World, who: str, error: type[Exception]) -> None:
    key, _ids = _hotspot(world)
    with pytest.raises(error), transaction(world.factory) as session:
        supervise_class(
            session, world.settings, world.user(session, who), key, "x", NOW + timedelta(hours=4), NOW
        )
    assert _written(world) == (0, 0)


@pytest.mark.parametrize(
    "key",
    [
        "grid~city.clutter~500151002001001",  # a grid of the other street (no hotspot there)
        "grid~city.noise~{grid}",  # another category in the same grid
        "near~city.clutter~-~1",
        "grid~city.clutter",
        "grid~city.clutter~{grid}~7",
        "grid~city.clutter~{grid}' OR 1=1 --",
        "../../etc/passwd",
        "x" * 5000,
    ],
)
def test_a_forged_or_stale_key_finds_nothing(world: World, key: str) -> None:
    real, _ids = _hotspot(world)
    grid = real.split("~")[2]
    with pytest.raises(CaseNotFound), transaction(world.factory) as session:
        supervise_class(
            session, world.settings, world.user(session, "leader1"), key.format(grid=grid), "x",
            NOW + timedelta(hours=4), NOW,
        )  # fmt: skip
    assert _written(world) == (0, 0)


def test_a_class_with_nothing_open_to_send_is_refused_in_words(world: World) -> None:
    key, ids = _hotspot(world)
    with transaction(world.factory) as session:
        for cid in ids:
            session.get(Case, cid).department_code = None  # type: ignore[union-attr]
    with pytest.raises(ActionError) as refused, transaction(world.factory) as session:
        supervise_class(
            session, world.settings, world.user(session, "leader1"), key, "x", NOW + timedelta(hours=4), NOW
        )
    assert refused.value.code == "hotspot_nothing_to_supervise"
    assert _written(world) == (0, 0)
