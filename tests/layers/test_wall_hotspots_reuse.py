"""The wall's figures rebuilt after a new case reuse the hotspots of the last build while those are
under ``HOTSPOTS_REUSE_S`` old (finding hotspots reads every case of 30 days: seconds at a million cases a
year), and find them again once they are older — every other figure is new at each build."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from data.db import transaction
from data.scope import AreaScope
from layers import wall_payload
from tests.data.helpers import add_case, build_units

NOW = datetime(2025, 6, 15, 4, 0, tzinfo=UTC)
TZ = "Asia/Shanghai"


def _stats(session_factory: Any, conn: Any, scope: AreaScope, version: int, now: datetime) -> dict[str, Any]:
    return wall_payload.load(
        "stats",
        sessions=session_factory,
        conn=conn,
        scope=scope,
        versions={"cases": version},
        now=now,
        tz=TZ,
        stale_after_polls=3,
    )


def test_a_new_case_reuses_recent_hotspots_then_they_are_found_again(session_factory, redis_conn) -> None:
    with transaction(session_factory) as session:
        units = build_units(session)
    scope = AreaScope.district(units.district)
    first = _stats(session_factory, redis_conn, scope, 1, NOW)
    assert first["hotspots"] == [] and first["hotspots_at"] == NOW.timestamp()

    with transaction(session_factory) as session:  # three noise cases in one grid: a hotspot
        for minutes in (50, 40, 30):
            add_case(session, units.grids[0], NOW - timedelta(minutes=minutes))
    later = NOW + timedelta(minutes=2)
    second = _stats(session_factory, redis_conn, scope, 2, later)
    assert second["today"]["received"] == 3  # the new cases are counted at once
    assert second["hotspots"] == [] and second["hotspots_at"] == NOW.timestamp()  # 2 minutes old: reused

    much_later = NOW + timedelta(seconds=wall_payload.HOTSPOTS_REUSE_S + 60)
    third = _stats(session_factory, redis_conn, scope, 3, much_later)
    assert third["hotspots_at"] == much_later.timestamp()
    assert [h["count"] for h in third["hotspots"]] == [3]


def test_without_redis_every_build_finds_them(session_factory) -> None:
    with transaction(session_factory) as session:
        units = build_units(session)
        for minutes in (50, 40, 30):
            add_case(session, units.grids[0], NOW - timedelta(minutes=minutes))
    scope = AreaScope.district(units.district)
    stats = _stats(session_factory, None, scope, 1, NOW)
    assert [h["count"] for h in stats["hotspots"]] == [3]
