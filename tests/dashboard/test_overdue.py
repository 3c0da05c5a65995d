"""The overdue drill-down's layout and callback, called directly inside a request of the real app, on
the real (migrated) test database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from dashboard.overdue import page as overdue
from dashboard.page import PageContext
from dashboard.scope import current_scope
from dashboard.services import services
from data.db import transaction
from data.seed import seed_catalogue
from tests.data.helpers import add_case
from tests.layers.hierarchy import DISTRICT, STREETS

OTHER_GRID = "500152001001001"


@pytest.fixture
def late(app, session_factory, grids):  # type: ignore[no-untyped-def]
    """Overdue cases: two in the west street's first grid (one much later), one in the east street;
    one on time; one overdue case in another district."""
    now = datetime.now(UTC)
    with transaction(session_factory) as session:
        seed_catalogue(session)
        ids = {
            "very_late": add_case(
                session,
                grids[0],
                now - timedelta(days=10),
                limit_hours=24,
                supervision="red",
                escalation_level="district",
                department="city_management",
            ).id,
            "a_bit_late": add_case(
                session, grids[0], now - timedelta(hours=30), limit_hours=24, supervision="yellow"
            ).id,
            "east_late": add_case(session, grids[5], now - timedelta(days=3), limit_hours=48).id,
            "on_time": add_case(session, grids[1], now - timedelta(hours=1), limit_hours=72).id,
            "elsewhere": add_case(session, OTHER_GRID, now - timedelta(days=9), limit_hours=24).id,
        }
    return ids


def _text(component) -> str:  # type: ignore[no-untyped-def]
    return json.dumps(component, default=lambda o: o.to_plotly_json(), ensure_ascii=False)


def test_district_level_counts_children_and_cases(app, late, grids) -> None:
    with app.server.test_request_context():
        level = overdue.drill(current_scope(), None)
    assert level is not None
    assert level.code == DISTRICT and level.path == [(DISTRICT, "铜梁区")]
    assert (level.overdue, level.open) == (3, 4)
    assert [(c.code, c.overdue) for c in level.children] == [(STREETS[0], 2), (STREETS[1], 1)]
    # most late first; the other district's case is not there
    assert [c.id for c in level.cases] == [late["very_late"], late["east_late"], late["a_bit_late"]]


def test_drill_down_to_a_grid(app, late, grids) -> None:
    community = grids[0][:12]
    with app.server.test_request_context():
        street = overdue.drill(current_scope(), STREETS[0])
        assert street is not None and street.level == "street"
        assert street.children[0].code == community and street.children[0].overdue == 2
        grid = overdue.drill(current_scope(), grids[0])
    assert grid is not None and grid.level == "grid" and grid.children == []
    assert [code for code, _ in grid.path] == [DISTRICT, STREETS[0], community, grids[0]]
    assert (grid.overdue, grid.open) == (2, 2)
    assert [c.id for c in grid.cases] == [late["very_late"], late["a_bit_late"]]


def test_unknown_or_foreign_unit_shows_nothing(app, late) -> None:
    with app.server.test_request_context():
        scope = current_scope()
        for unit in ("500152", "500152001", OTHER_GRID, "123", "abc", "500151999"):
            assert overdue.drill(scope, unit) is None, unit
            page = _text(overdue.body(scope, unit, "zh-CN"))
            assert "该单位不存在或不在管辖范围内" in page
            assert "/cases/" not in page


def test_layout_and_callback_render_links(app, late, grids) -> None:
    with app.server.test_request_context():
        svc = services()
        ctx = PageContext(settings=svc.settings, services=svc, scope=current_scope(), lang="zh-CN", query={})
        page = _text(overdue.layout(ctx))
        # one click down per child, one click to each case, red/yellow cards, the levels
        assert f"/overdue?unit={STREETS[0]}" in page and f"/overdue?unit={STREETS[1]}" in page
        assert f"/cases/{late['very_late']}" in page
        assert "红牌" in page and "黄牌" in page and '"区"' in page and '"社区"' in page
        assert "10天" in page or "9天" in page  # how late, in days and hours
        down = _text(overdue.on_search(f"?unit={grids[0][:12]}", "/overdue"))
        assert f"/overdue?unit={grids[0]}" in down  # the grid, one more click down
        assert f"/overdue?unit={STREETS[0]}" in down  # the breadcrumb back up
        assert f"/cases/{late['east_late']}" not in down
        assert overdue.on_search("?unit=1", "/cases/4") is overdue.no_update  # another page: untouched
        english = _text(overdue.on_search(f"?unit={STREETS[0]}&lang=en", "/overdue"))
        assert "Red card" in english and "lang=en" in english
