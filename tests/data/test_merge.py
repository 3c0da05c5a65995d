"""合并 (data.merge): one matter reported through 12345 and the grid app is suggested as one group,
confirmed by a duty officer, counted once in 受理, undone again; every step audited; another street's
officer, a wall, a forged id or a mixed group write nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from data.auth import CaseNotFound, NotPermitted, audit_rows
from data.db import transaction
from data.merge import MergeRefused, bigrams, merge_cases, similarity, suggestions, unmerge_case
from data.models import Case, CaseEvent, CaseMerge
from data.queries import AreaScope, kpis
from data.settings import Settings
from tests.layers.hierarchy import add_case
from tests.loop.conftest import STREET_1, World, make_world


@pytest.fixture
def world(session_factory: sessionmaker[Session], settings: Settings) -> World:
    return make_world(session_factory, settings)


def _three_channels(world: World) -> tuple[int, int, int, int]:
    """楼道堆物 reported by 12345, then the grid app 40 m away an hour later, then 信访 the next morning;
    and an unrelated 12345 case of the same category in the same grid (different words)."""
    with transaction(world.factory) as session:
        mine = session.get(Case, world.mine)
        assert mine is not None and mine.grid_code and mine.lon and mine.lat
        at = mine.requested_at
        mine.feed_name, mine.title, mine.description = (
            "hotline",
            "3栋楼道堆放大量杂物",
            "3栋二单元楼道堆放杂物，堵塞通道",
        )
        grid_app = add_case(
            session, mine.grid_code, external_id="patrol-1", lon=mine.lon + 0.0004, lat=mine.lat
        )
        grid_app.feed_name, grid_app.title = "grid_patrol", "3栋二单元楼道堆放杂物堵塞"
        grid_app.requested_at = at + timedelta(hours=1)
        petition = add_case(
            session, mine.grid_code, external_id="petition-1", lon=mine.lon, lat=mine.lat + 0.0003
        )
        petition.feed_name, petition.title = "petitions", "反映3栋楼道杂物堆放堵塞通道"
        petition.requested_at = at + timedelta(hours=15)
        other = add_case(session, mine.grid_code, external_id="hotline-2", lon=mine.lon, lat=mine.lat)
        other.feed_name, other.title = "hotline", "小区门口共享单车乱停"
        for c in (grid_app, petition, other):
            c.category_code, c.department_code = mine.category_code, mine.department_code
        session.flush()
        return mine.id, grid_app.id, petition.id, other.id


def _now(world: World) -> object:
    with world.factory() as session:
        latest = session.scalar(select(func.max(Case.requested_at)))
        assert latest is not None
        return latest + timedelta(hours=1)


def test_bigram_similarity_reads_chinese_without_spaces() -> None:
    a, b = bigrams("3栋楼道堆放大量杂物"), bigrams("反映3栋楼道杂物堆放堵塞通道")
    assert similarity(a, b) >= 0.4 > similarity(a, bigrams("小区门口共享单车乱停"))
    assert similarity(a, bigrams("3栋楼道堆放")) == 1.0 and similarity(a, frozenset()) == 0.0


def test_one_matter_through_three_channels_is_suggested_merged_counted_once_and_undone(world: World) -> None:
    mine, grid_app, petition, other = _three_channels(world)
    now = _now(world)
    with world.factory() as session:
        (s,) = suggestions(session, AreaScope.of(STREET_1), now)  # type: ignore[arg-type]
        assert s.case_ids == (mine, grid_app, petition) and s.primary_id == mine
        assert s.feeds == ("grid_patrol", "hotline", "petitions") and other not in s.case_ids
        assert suggestions(session, AreaScope.of("500151002"), now) == []  # type: ignore[arg-type]
        start, end = now - timedelta(days=30), now  # type: ignore[operator]
        before = kpis(session, AreaScope.of(STREET_1), start, end, now).received  # type: ignore[arg-type]
    with transaction(world.factory) as session:
        primary, others = merge_cases(session, world.user(session, "duty1"), [petition, grid_app, mine], now)  # type: ignore[arg-type]
    assert (primary, sorted(others)) == (mine, sorted([grid_app, petition]))
    with world.factory() as session:
        assert kpis(session, AreaScope.of(STREET_1), start, end, now).received == before - 2  # type: ignore[arg-type]
        assert suggestions(session, AreaScope.of(STREET_1), now) == []  # type: ignore[arg-type]
        details = dict(
            session.execute(
                select(CaseEvent.case_id, CaseEvent.detail).where(CaseEvent.kind == "merged")
            ).all()
        )
        assert details[grid_app] == "into:mine" and details[mine].startswith("primary:")
        (row,) = audit_rows(session, action="case_merge")
        assert row.actor == "duty1" and row.target == f"case:{mine}"
    with transaction(world.factory) as session:
        assert unmerge_case(session, world.user(session, "duty1"), petition, now) == mine  # type: ignore[arg-type]
    with world.factory() as session:
        assert kpis(session, AreaScope.of(STREET_1), start, end, now).received == before - 1  # type: ignore[arg-type]
        assert len(audit_rows(session, action="case_unmerge")) == 1


def _merges(world: World) -> int:
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(CaseMerge)) or 0


@pytest.mark.parametrize(
    ("who", "ids", "error", "code"),
    [
        ("duty2", "three", CaseNotFound, None),  # another street's officer
        ("wall1", "three", NotPermitted, None),
        ("admin1", "three", NotPermitted, None),
        ("duty1", "with_theirs", CaseNotFound, None),  # a case of the other street forged in
        ("duty1", "one", MergeRefused, "merge_bad_group"),
        ("duty1", "twice", MergeRefused, "merge_bad_group"),
        ("duty1", "strings", MergeRefused, "merge_bad_group"),
        ("duty1", "missing", CaseNotFound, None),
    ],
)
def test_forged_merges_write_nothing(
    world: World, who: str, ids: str, error: type[Exception], code: str | None
) -> None:
    mine, grid_app, petition, _other = _three_channels(world)
    named: dict[str, list] = {  # type: ignore[type-arg]
        "three": [mine, grid_app, petition],
        "with_theirs": [mine, world.theirs],
        "one": [mine],
        "twice": [mine, mine],
        "strings": [str(mine), f"{grid_app} OR 1=1"],
        "missing": [mine, 10**9],
    }
    with pytest.raises(error) as refused, transaction(world.factory) as session:
        merge_cases(session, world.user(session, who), named[ids], _now(world))  # type: ignore[arg-type]
    if code:
        assert refused.value.code == code  # type: ignore[attr-defined]
    assert _merges(world) == 0


def test_a_case_merged_already_or_of_another_category_is_refused(world: World) -> None:
    mine, grid_app, petition, other = _three_channels(world)
    now = _now(world)
    with transaction(world.factory) as session:
        merge_cases(session, world.user(session, "duty1"), [mine, grid_app], now)  # type: ignore[arg-type]
    with pytest.raises(MergeRefused) as again, transaction(world.factory) as session:
        merge_cases(session, world.user(session, "duty1"), [grid_app, petition], now)  # type: ignore[arg-type]
    assert again.value.code == "merge_already"
    with transaction(world.factory) as session:
        session.get(Case, other).category_code = "city.street_vending"  # type: ignore[union-attr]
    with pytest.raises(MergeRefused) as mixed, transaction(world.factory) as session:
        merge_cases(session, world.user(session, "duty1"), [petition, other], now)  # type: ignore[arg-type]
    assert mixed.value.code == "merge_categories"
    assert _merges(world) == 1


def test_two_reports_alone_make_a_group_of_two(world: World) -> None:
    """A pair with no third case to chain through is a group (both cases, the earlier one primary)."""
    mine, grid_app, petition, _other = _three_channels(world)
    with transaction(world.factory) as session:
        session.get(Case, petition).category_code = "city.street_vending"  # type: ignore[union-attr]
    with world.factory() as session:
        (s,) = suggestions(session, AreaScope.of(STREET_1), _now(world))  # type: ignore[arg-type]
    assert (s.primary_id, s.case_ids) == (mine, (mine, grid_app))
