"""The map layers and the table rows put a case at the same point: the layers' outer join
(``data.queries.case_place.with_map_place``) and the rows' ``map_lon/map_lat/approx``
(``data.queries.common.case_rows``), for each kind of case: its own point, a grid's label point, a
community's label point, and a case known only to its street (on no map, in the table without a point)."""

from __future__ import annotations

from sqlalchemy import update

from data.db import transaction
from data.models import AdminUnit
from data.queries import open_cases
from data.scope import AreaScope
from layers.cases import case_features
from tests.layers.hierarchy import DISTRICT, STREETS, add_case, add_pointless_case, build_hierarchy, grid_box

WHOLE = AreaScope.district(DISTRICT)


def test_layer_and_table_draw_each_kind_of_case_at_one_point(session_factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        grids = build_hierarchy(session)
        add_case(session, grids[0], external_id="own", title="own")
        add_pointless_case(session, grids[2], external_id="grid", title="grid")
        add_pointless_case(
            session, grids[4][:12], external_id="community", title="community", placement="address"
        )
        add_pointless_case(session, STREETS[0], external_id="street", title="street", placement="address")
        # a grid with no label point: its case is not drawn at its community's instead
        add_pointless_case(session, grids[5], external_id="unlabelled", title="unlabelled")
        session.execute(
            update(AdminUnit).where(AdminUnit.code == grids[5]).values(label_lon=None, label_lat=None)
        )
        # the grid's label point off its centre, so "at the label point" cannot pass by chance
        west, south, east, north = grid_box(grids[2]).bounds
        session.execute(
            update(AdminUnit)
            .where(AdminUnit.code == grids[2])
            .values(label_lon=west + (east - west) / 4, label_lat=south + (north - south) / 4)
        )
    with session_factory() as session:
        layer = {
            f["properties"]["title"]: (*f["geometry"]["coordinates"], f["properties"].get("approx"))
            for f in case_features(session, WHOLE)
        }
        table = {r.title: (r.map_lon, r.map_lat, r.approx) for r in open_cases(session, WHOLE)}
    assert set(table) == {"own", "grid", "community", "street", "unlabelled"}
    assert set(layer) == {"own", "grid", "community"}
    for title, place in layer.items():
        assert table[title] == place, title
    assert [table[t][2] for t in ("own", "grid", "community")] == [None, "grid", "community"]
    assert table["street"] == table["unlabelled"] == (None, None, None)
