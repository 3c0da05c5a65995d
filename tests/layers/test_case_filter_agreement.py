"""The map and the duty table agree by construction: both restrict their query with the one
:meth:`data.case_filter.CaseFilter.clause`, so a filter by a parent category and one by its child mean the
same cases on the map (whole layer, view layer, clusters) as in the table and the export; on SQLite and
(with GRIDCC_TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from data.case_filter import CaseFilter
from data.db import transaction
from data.queries import open_cases
from data.scope import AreaScope
from layers.case_clusters import case_clusters
from layers.cases import case_features
from layers.units import BBox
from tests.data.helpers import ORIGIN, add_case, build_units

NOW = datetime.now(UTC)
EVERYWHERE = BBox(-180.0, -85.0, 180.0, 85.0)


@pytest.fixture
def world(session_factory):  # type: ignore[no-untyped-def]
    """Cases in the parent category, in two of its children, and in another parent's child."""
    with transaction(session_factory) as session:
        u = build_units(session)
        ids: dict[str, int] = {}
        for n, (name, category) in enumerate(
            (
                ("parent", "environment"),
                ("sewage", "environment.sewage"),
                ("noise", "environment.noise"),
                ("clutter", "city.clutter"),
            )
        ):
            lon, lat = ORIGIN[0] + 0.001 + n * 0.002, ORIGIN[1] + 0.005
            case = add_case(
                session, u.grids[0], NOW - timedelta(hours=5 + n), category=category, lon=lon, lat=lat
            )
            ids[name] = case.id
        district = u.district
    return AreaScope.district(district), ids


def _table(session_factory, scope: AreaScope, f: CaseFilter) -> set[int]:  # type: ignore[no-untyped-def]
    with session_factory() as session:
        return {r.id for r in open_cases(session, scope, f, now=NOW)}


def _map(session_factory, scope: AreaScope, f: CaseFilter) -> set[int]:  # type: ignore[no-untyped-def]
    with session_factory() as session:
        whole = {p["properties"]["id"] for p in case_features(session, scope, f)}
        in_view = {p["properties"]["id"] for p in case_features(session, scope, f, EVERYWHERE, cap=100)}
        clustered = case_clusters(session, scope, 3, EVERYWHERE, f)
    assert whole == in_view
    assert sum(c["properties"]["count"] for c in clustered["features"]) == len(whole)
    return whole


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("environment", {"parent", "sewage", "noise"}),  # a parent includes its children
        ("environment.sewage", {"sewage"}),  # a child is only itself
        ("city", {"clutter"}),  # a parent with no case of its own
        ("city.clutter", {"clutter"}),
    ],
)
def test_map_and_table_agree_on_parent_and_child_categories(
    session_factory,  # type: ignore[no-untyped-def]
    world: tuple[AreaScope, dict[str, int]],
    category: str,
    expected: set[str],
) -> None:
    scope, ids = world
    for f in (
        CaseFilter(category=category),
        CaseFilter(category=category, period="7d"),
        CaseFilter.from_args({"category": category, "status": "accepted"}),  # as the layer URL and export
        CaseFilter.from_query({"category": category, "status": "accepted", "period": "all"}),  # the page
    ):
        table = _table(session_factory, scope, f)
        assert table == {ids[name] for name in expected}, f
        assert _map(session_factory, scope, f) == table, f


def test_one_url_form_for_page_layers_and_export() -> None:
    f = CaseFilter(street="500151002", category="city", statuses=("in_progress",), period="7d")
    assert CaseFilter.from_args(f.as_args()) == f  # the layer URL / export reads what the page writes
    assert CaseFilter.from_query(dict(f.as_args())) == f
    assert f.search({"lang": "en", "x": "1"}) == (
        "?street=500151002&category=city&status=in_progress&period=7d&lang=en"
    )
    assert f.key == "s=500151002&c=city&st=in_progress&p=7d"
    assert (
        CaseFilter().key == "" and CaseFilter().search() == "" and CaseFilter.from_query({}) == CaseFilter()
    )
