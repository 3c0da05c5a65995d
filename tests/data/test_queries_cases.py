"""The duty table's filters, the case page (scope, masking, timeline), and the selector options."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from data.case_filter import CaseFilter
from data.models import Case, CaseEvent
from data.queries import (
    AreaScope,
    Period,
    case_detail,
    category_options,
    department_options,
    open_cases,
    status_options,
    street_options,
)
from data.text import label
from tests.data.helpers import Units, add_case, build_units

NOW = datetime(2025, 6, 15, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)
SCRIPT = "<img src=x onerror=alert(1)>"


@pytest.fixture
def world(session_factory) -> Iterator[tuple[Session, Units, dict[str, int]]]:  # type: ignore[no-untyped-def]
    session = session_factory()
    u = build_units(session)
    a, b = u.grids[0], u.grids[5]
    ids = {
        "noise": add_case(session, a, NOW - 2 * H).id,
        "late": add_case(session, a, NOW - 100 * H, category="environment.sewage", status="in_progress").id,
        "clutter": add_case(
            session, a, NOW - 3 * H, category="city.clutter", department="city_management"
        ).id,
        "closed": add_case(session, a, NOW - 50 * H, status="closed", resolved_at=NOW - 40 * H).id,
        "b": add_case(session, b, NOW - 5 * H).id,
    }
    case = session.get(Case, ids["noise"])
    assert case is not None
    case.description, case.reporter_name, case.reporter_phone = SCRIPT, "王先生", "13912345678"
    session.add_all(
        [
            CaseEvent(
                case_id=ids["noise"],
                at=NOW - 2 * H,
                kind="created",
                to_status="reported",
                feed_name="hotline",
            ),
            CaseEvent(
                case_id=ids["noise"],
                at=NOW - 1 * H,
                kind="status",
                from_status="reported",
                to_status="accepted",
            ),
        ]
    )
    session.commit()
    yield session, u, ids
    session.close()


def test_open_cases_filters(world: tuple[Session, Units, dict[str, int]]) -> None:
    session, u, ids = world
    district = AreaScope.district(u.district)
    rows = open_cases(session, district, CaseFilter(street=u.streets[0]), now=NOW)
    assert [r.id for r in rows] == [ids["late"], ids["clutter"], ids["noise"]]  # overdue first, then deadline
    assert rows[0].overdue and rows[0].hours_late == pytest.approx(28.0)
    assert rows[2].street_name == "巴川街道" and rows[2].grid_name == u.names[u.grids[0]]
    assert {r.id for r in open_cases(session, district, CaseFilter(category="environment"), now=NOW)} == {
        ids["noise"],
        ids["late"],
        ids["b"],
    }
    assert [r.id for r in open_cases(session, district, CaseFilter(category="environment.sewage"))] == [
        ids["late"]
    ]
    assert [r.id for r in open_cases(session, district, CaseFilter(department="city_management"))] == [
        ids["clutter"]
    ]
    in_progress = CaseFilter(statuses=("in_progress",))
    assert [r.id for r in open_cases(session, district, in_progress)] == [ids["late"]]
    period = CaseFilter(period=Period(NOW - 4 * H, NOW))
    assert {r.id for r in open_cases(session, district, period)} == {ids["noise"], ids["clutter"]}
    assert len(open_cases(session, district, limit=2)) == 2
    assert {r.id for r in open_cases(session, AreaScope.of(u.streets[1]))} == {ids["b"]}


def test_case_detail_scope_masking_and_timeline(world: tuple[Session, Units, dict[str, int]]) -> None:
    session, u, ids = world
    assert case_detail(session, AreaScope.of(u.streets[1]), ids["noise"]) is None
    assert case_detail(session, AreaScope.district(u.district), 999_999) is None
    d = case_detail(session, AreaScope.of(u.streets[0]), ids["noise"])
    assert d is not None
    assert d.description == SCRIPT  # returned as text; the UI shows it as text
    assert d.reporter_phone == "139****5678"
    assert [(x.level, x.name) for x in d.units] == [
        ("district", "铜梁区"),
        ("street", "巴川街道"),
        ("community", u.names[u.communities[0]]),
        ("grid", u.names[u.grids[0]]),
    ]
    assert [(label("staff_role", s.role), s.name, s.phone) for s in d.staff] == [
        ("网格员", "网格员1", "138****0001"),
        ("网格长", "网格长1", "139****0001"),
    ]
    assert [(e.kind, label("status", e.to_status), e.feed_name) for e in d.events] == [
        ("created", "待受理", "hotline"),
        ("status", "已受理", None),
    ]
    assert d.grid_geometry is not None and d.grid_geometry["type"] == "Polygon"
    full = case_detail(session, AreaScope.district(u.district), ids["noise"], viewer_may_see_personal=True)
    assert full is not None
    assert full.reporter_phone == "13912345678" and full.staff[0].phone == "13800000001"


def test_options(world: tuple[Session, Units, dict[str, int]]) -> None:
    session, u, _ = world
    district = AreaScope.district(u.district)
    assert [(o.value, o.label) for o in street_options(session, district)] == [
        ("500151001", "巴川街道"),
        ("500151002", "东城街道"),
    ]
    assert [o.value for o in street_options(session, AreaScope.of(u.communities[2]))] == ["500151002"]
    cats = category_options(session, district)
    assert cats[0].value == "city" and cats[0].parent is None
    assert all(o.parent == "city" for o in cats[1:5])
    assert ("environment.noise", "噪声扰民") in {(o.value, o.label) for o in cats}
    deps = department_options(session, district)
    assert ("police", "区公安分局") in {(o.value, o.label) for o in deps}
    assert status_options() == [
        "reported", "accepted", "assigned", "in_progress", "returned", "resolved", "closed"
    ]  # codes  # fmt: skip
    assert [label("status", s) for s in status_options()] == [
        "待受理", "已受理", "已交办", "处置中", "退回", "已办结", "已归档"
    ]  # fmt: skip
