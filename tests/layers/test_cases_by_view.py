"""Open cases by view (city-sized scopes): the cases of a bbox, late first under a cap, and the
clusters the server makes below the grid zooms. The fixture holds, beside cases with their own point,
cases without one: placed by grid or by community (drawn at that unit's label point, approximate) and by
street only (off the map); the whole layer, the bbox layer and the clusters all count them alike."""

from __future__ import annotations

import math

import geobuf
import pytest
from shapely.geometry import Point
from sqlalchemy import select, update

from data.case_filter import CaseFilter
from data.db import transaction
from data.models import AdminUnit, Case
from data.scope import AreaScope
from layers.case_clusters import case_clusters, cell_degrees, whole_cells
from layers.cases import build_cases, case_features, open_case_count
from layers.units import BBox, lod_plan
from tests.layers.hierarchy import DISTRICT, STREETS, add_case, add_pointless_case, build_hierarchy, grid_box

WHOLE = AreaScope.district(DISTRICT)
WEST_STREET = AreaScope.of(STREETS[0])
EVERYWHERE = BBox(105.0, 29.0, 107.0, 31.0)


@pytest.fixture
def grids(session_factory):  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        grid_codes = build_hierarchy(session)
        add_case(session, grid_codes[0], external_id="a", overdue=True)  # west street, south-west grid
        add_case(session, grid_codes[0], external_id="b")
        add_case(session, grid_codes[3], external_id="c")  # west street, north community
        add_case(session, grid_codes[5], external_id="d", overdue=True)  # east street, south community
        add_case(session, grid_codes[6], external_id="e")  # east street, north community
        add_case(session, grid_codes[1], external_id="f", is_open=False, status="closed")
        # without a point: grid code only (west street, north community), an address matched to a
        # community (east street, south), an address known only to its street (stays off the map)
        add_pointless_case(session, grid_codes[2], external_id="g", title="g", overdue=True)
        add_pointless_case(session, grid_codes[4][:12], external_id="m", title="m", placement="address")
        add_pointless_case(session, STREETS[0], external_id="s", title="s", placement="address")
        add_pointless_case(session, grid_codes[3], external_id="x", title="x", is_open=False, status="closed")
        # the grid's label point off its centre, so "at the label point" cannot pass by chance
        west, south, east, north = grid_box(grid_codes[2]).bounds
        session.execute(
            update(AdminUnit)
            .where(AdminUnit.code == grid_codes[2])
            .values(label_lon=west + (east - west) / 4, label_lat=south + (north - south) / 4)
        )
        return grid_codes


def _ids(features: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return sorted(f["properties"]["title"] for f in features)


def _box_of(grid: str) -> BBox:
    west, south, east, north = grid_box(grid).bounds
    return BBox(west, south, east, north)


def _label(session, code: str) -> list[float]:  # type: ignore[no-untyped-def]
    row = session.execute(
        select(AdminUnit.label_lon, AdminUnit.label_lat).where(AdminUnit.code == code)
    ).one()
    return [row.label_lon, row.label_lat]


def _by_title(features: list[dict]) -> dict[str, dict]:  # type: ignore[type-arg]
    return {f["properties"]["title"]: f for f in features}


def test_cases_in_bbox_only(session_factory, grids) -> None:
    with session_factory() as session:
        everything = case_features(session, WHOLE)
        assert len(everything) == 7
        in_first = case_features(session, WHOLE, bbox=_box_of(grids[0]))
        points = [f["geometry"]["coordinates"] for f in in_first]
        assert len(in_first) == 2
        assert all(grid_box(grids[0]).covers(Point(*p)) for p in points)
        # the bbox never widens the scope: the east street's grid seen from the west street's scope
        assert case_features(session, WEST_STREET, bbox=_box_of(grids[5])) == []
        assert len(case_features(session, WEST_STREET, bbox=EVERYWHERE)) == 4
        # geobuf round trip, filters apply too
        body = build_cases(session, WHOLE, CaseFilter(street=STREETS[1]), EVERYWHERE)
        decoded = geobuf.decode(body)
        assert len(decoded["features"]) == 3
        assert open_case_count(session, WHOLE) == 7
        assert open_case_count(session, WEST_STREET) == 4


def test_pointless_cases_at_their_units_label_point(session_factory, grids) -> None:
    with session_factory() as session:
        got = _by_title(case_features(session, WHOLE))
        # by grid: at the grid's label point, approximate at grid level; by community: at the community's
        assert got["g"]["geometry"]["coordinates"] == _label(session, grids[2])
        assert got["g"]["properties"]["approx"] == "grid"
        assert got["g"]["properties"]["overdue"] is True
        assert got["m"]["geometry"]["coordinates"] == _label(session, grids[4][:12])
        assert got["m"]["properties"]["approx"] == "community"
        # known only to its street: too vague to point at; closed: not open
        assert "s" not in got and "x" not in got
        # a case with its own point is drawn there and is not marked approximate
        assert all("approx" not in f["properties"] for t, f in got.items() if t not in ("g", "m"))
        # geobuf keeps the mark
        decoded = _by_title(geobuf.decode(build_cases(session, WHOLE))["features"])
        assert decoded["g"]["properties"]["approx"] == "grid"
        assert decoded["m"]["properties"]["approx"] == "community"
        assert "approx" not in decoded["占道经营"]["properties"]
        # decided at query time: nothing invented is written into the case
        stored = session.execute(select(Case.lon, Case.lat).where(Case.external_id.in_(["g", "m"]))).all()
        assert stored == [(None, None), (None, None)]


def test_pointless_cases_in_the_bbox_of_their_label_point(session_factory, grids) -> None:
    with session_factory() as session:
        lon, lat = _label(session, grids[2])
        tiny = BBox(lon - 1e-4, lat - 1e-4, lon + 1e-4, lat + 1e-4)
        assert _ids(case_features(session, WHOLE, bbox=tiny)) == ["g"]
        assert _ids(case_features(session, WHOLE, bbox=tiny, cap=10)) == ["g"]
        # the grid's box holds its approximate case; the grid beside it does not
        assert "g" in _ids(case_features(session, WHOLE, bbox=_box_of(grids[2])))
        assert "g" not in _ids(case_features(session, WHOLE, bbox=_box_of(grids[3])))
        lon, lat = _label(session, grids[4][:12])
        near = BBox(lon - 1e-4, lat - 1e-4, lon + 1e-4, lat + 1e-4)
        assert _ids(case_features(session, WHOLE, bbox=near)) == ["m"]
        # the scope and the filters hold for them as for any case
        assert case_features(session, WEST_STREET, bbox=near) == []
        assert _ids(case_features(session, WHOLE, CaseFilter(street=STREETS[0]), near)) == []
        assert "m" in _ids(case_features(session, WHOLE, CaseFilter(street=STREETS[1])))


@pytest.mark.parametrize("zoom", [5, 9, 12, 16])
def test_whole_bbox_and_clusters_agree(session_factory, grids, zoom) -> None:
    with session_factory() as session:
        for scope in (WHOLE, WEST_STREET):
            whole = case_features(session, scope)
            by_bbox = case_features(session, scope, bbox=EVERYWHERE, cap=10_000)
            clusters = _cells(case_clusters(session, scope, zoom, EVERYWHERE))
            assert sorted(f["properties"]["id"] for f in by_bbox) == sorted(
                f["properties"]["id"] for f in whole
            )
            assert sum(n for n, _ in clusters.values()) == len(whole) == open_case_count(session, scope)
            assert sum(late for _, late in clusters.values()) == sum(
                f["properties"]["overdue"] for f in whole
            )
            assert clusters == _expected_cells(whole, zoom)


def test_cap_keeps_the_late_ones(session_factory, grids) -> None:
    with session_factory() as session:
        capped = case_features(session, WHOLE, bbox=EVERYWHERE, cap=2)
        assert len(capped) == 2
        assert all(f["properties"]["overdue"] for f in capped)
        uncapped = case_features(session, WHOLE, bbox=EVERYWHERE, cap=10)
        assert len(uncapped) == 7
        # the late ones first, the approximate among them
        late = case_features(session, WHOLE, bbox=EVERYWHERE, cap=3)
        assert _ids(late) == ["g", "占道经营", "占道经营"]
        assert all(f["properties"]["overdue"] for f in late)


def _expected_cells(features: list[dict], zoom: int) -> dict[str, tuple[int, int]]:  # type: ignore[type-arg]
    """The grouping computed here, in Python, from the case points: cell -> (count, overdue)."""
    cell = cell_degrees(zoom)
    out: dict[str, tuple[int, int]] = {}
    for f in features:
        lon, lat = f["geometry"]["coordinates"]
        key = f"{math.floor((lon + 180) / cell)}:{math.floor((lat + 90) / cell)}"
        n, late = out.get(key, (0, 0))
        out[key] = (n + 1, late + int(f["properties"]["overdue"]))
    return out


def _cells(collection: dict) -> dict[str, tuple[int, int]]:  # type: ignore[type-arg]
    return {
        f["properties"]["cell"]: (f["properties"]["count"], f["properties"]["overdue"])
        for f in collection["features"]
    }


@pytest.mark.parametrize("zoom", [6, 9, 11, 13])
def test_server_clusters_group_like_cells(session_factory, grids, zoom) -> None:
    with session_factory() as session:
        everything = case_features(session, WHOLE)
        got = case_clusters(session, WHOLE, zoom, EVERYWHERE)
        assert _cells(got) == _expected_cells(everything, zoom)
        assert sum(n for n, _ in _cells(got).values()) == 7
        assert sum(late for _, late in _cells(got).values()) == 3
        # each bubble sits at the mean of its cell's points, inside the cell
        cell = cell_degrees(zoom)
        for f in got["features"]:
            x, y = (int(v) for v in f["properties"]["cell"].split(":"))
            lon, lat = f["geometry"]["coordinates"]
            assert x * cell - 180 <= lon <= (x + 1) * cell - 180
            assert y * cell - 90 <= lat <= (y + 1) * cell - 90


def test_server_clusters_hold_to_scope_view_and_filters(session_factory, grids) -> None:
    with session_factory() as session:
        zoom = 13
        # the scope holds: the west street's officer never counts the east street's cases
        west = case_clusters(session, WEST_STREET, zoom, EVERYWHERE)
        assert sum(n for n, _ in _cells(west).values()) == 4
        assert _cells(west) == _expected_cells(case_features(session, WEST_STREET), zoom)
        # a view inside one cell gets that whole cell (never a part of it), and nothing else
        a = case_features(session, WHOLE, bbox=_box_of(grids[0]))[0]["geometry"]["coordinates"]
        tiny = BBox(a[0] - 1e-4, a[1] - 1e-4, a[0] + 1e-4, a[1] + 1e-4)
        near = _cells(case_clusters(session, WHOLE, zoom, tiny))
        everywhere = _expected_cells(case_features(session, WHOLE), zoom)
        assert len(near) == 1
        key = next(iter(near))
        assert near[key] == everywhere[key]
        assert whole_cells(tiny, cell_degrees(zoom)).west <= tiny.west
        # filters: the east street only
        east = case_clusters(session, WHOLE, 6, EVERYWHERE, CaseFilter(street=STREETS[1]))
        assert sum(n for n, _ in _cells(east).values()) == 3
        for bad in (-1, 21):
            with pytest.raises(ValueError, match="zoom"):
                case_clusters(session, WHOLE, bad, EVERYWHERE)


def test_lod_plan_decides_cases_by_view() -> None:
    district = {"district": 1, "street": 28, "community": 333, "grid": 2331}
    city = {"district": 38, "street": 1031, "community": 11270, "grid": 78890}
    assert lod_plan(district, open_cases=50)["cases_by_view"] is False
    assert lod_plan(district, open_cases=5001)["cases_by_view"] is True
    assert lod_plan(district, open_cases=10, cases_limit=5)["cases_by_view"] is True
    assert lod_plan(city, open_cases=0)["cases_by_view"] is True


def test_period_filter_as_the_duty_table(session_factory, grids) -> None:
    with session_factory() as session:  # the hierarchy's cases were received two days ago
        assert case_features(session, WHOLE, CaseFilter(period="today")) == []
        assert len(case_features(session, WHOLE, CaseFilter(period="7d"))) == 7
        assert len(case_features(session, WHOLE, CaseFilter(period="30d"), bbox=EVERYWHERE, cap=10)) == 7
        assert case_clusters(session, WHOLE, 9, EVERYWHERE, CaseFilter(period="today"))["features"] == []
    assert CaseFilter.from_args({"period": "7d"}).key == "p=7d"
    with pytest.raises(ValueError, match="period"):
        CaseFilter(period="1h")


def test_filters_round_trip_through_the_url() -> None:
    filters = CaseFilter(
        street=STREETS[0], category="city", department="d1", statuses=("accepted", "assigned"), period="7d"
    )
    assert CaseFilter.from_args(filters.as_args()) == filters
    assert filters.as_args()["status"] == "accepted,assigned"
    assert CaseFilter().as_args() == {}
