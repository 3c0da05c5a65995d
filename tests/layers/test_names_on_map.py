"""The map names units as people do: a community by its short name (巴川南社区, not its committee's
full name), a covered grid in an alert popup with its community (第1网格 alone repeats in every one)."""

from __future__ import annotations

import geobuf
from sqlalchemy import update

from data.db import transaction
from data.models import AdminUnit
from data.scope import AreaScope
from layers.alerts import build_alerts
from layers.units import build_units
from tests.layers.hierarchy import DISTRICT, add_alert, build_hierarchy

WHOLE = AreaScope.district(DISTRICT)


def test_community_labels_and_alert_grids_read_as_people_say_them(session_factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        grids = build_hierarchy(session)
        session.execute(
            update(AdminUnit).where(AdminUnit.code == grids[0][:12]).values(name="巴川南社区居民委员会")
        )
        add_alert(session, grids[:2])
    with session_factory() as session:
        communities = geobuf.decode(build_units(session, WHOLE, "community"))["features"]
        alerts = build_alerts(session, WHOLE)
    names = {f["properties"]["code"]: f["properties"]["name"] for f in communities}
    assert names[grids[0][:12]] == "巴川南社区"
    assert names[grids[2][:12]] == "巴川北社区"
    (alert,) = alerts["features"]
    assert [g["name"] for g in alert["properties"]["grids"]] == ["巴川南社区 第1网格", "巴川南社区 第2网格"]
