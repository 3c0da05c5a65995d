"""What the map says of a place: units named as people do (a community by its short name, 巴川南社区, not
its committee's full name; a covered grid in an alert popup with its community, as 第1网格 alone repeats
in every one), and the point a table row is drawn at on the map."""

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


def test_table_rows_carry_the_point_the_map_draws(session_factory) -> None:  # type: ignore[no-untyped-def]
    """The duty table's rows say where the map draws each case, so selecting a row rings it there: its own
    point, else its grid's or community's label point (marked approximate); nowhere for a street-only one."""
    from data.models import AdminUnit
    from data.queries import open_cases
    from tests.layers.hierarchy import add_case, add_pointless_case

    with transaction(session_factory) as session:
        grids = build_hierarchy(session)
        own = add_case(session, grids[0], external_id="P-1").id
        by_grid = add_pointless_case(session, grids[1], external_id="G-1").id
        by_community = add_pointless_case(session, grids[2][:12], external_id="C-1", placement="address").id
        by_street = add_pointless_case(session, grids[3][:9], external_id="S-1", placement="address").id
    with session_factory() as session:
        rows = {r.id: r for r in open_cases(session, WHOLE)}
        label = {
            u.code: (u.label_lon, u.label_lat)
            for u in session.query(AdminUnit).filter(AdminUnit.code.in_([grids[1], grids[2][:12]]))
        }
    assert (rows[own].map_lon, rows[own].map_lat, rows[own].approx) == (rows[own].lon, rows[own].lat, None)
    assert (rows[by_grid].map_lon, rows[by_grid].map_lat) == label[grids[1]]
    assert rows[by_grid].approx == "grid" and rows[by_grid].lon is None
    assert (rows[by_community].map_lon, rows[by_community].map_lat) == label[grids[2][:12]]
    assert rows[by_community].approx == "community"
    assert (rows[by_street].map_lon, rows[by_street].map_lat, rows[by_street].approx) == (None, None, None)
