"""The duty page's layout and callbacks, called directly inside a request of the real app, on the real
(migrated) test database and the embedded Redis."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import shapely
from shapely.geometry import box
from sqlalchemy import func, select

from dashboard.duty import page as duty
from dashboard.duty.selection import CASE_ZOOM
from dashboard.page import PageContext
from dashboard.scope import current_scope
from dashboard.services import services
from data.case_filter import CaseFilter
from data.db import transaction
from data.models import Alert, AlertEvent
from data.seed import seed_catalogue
from layers import versions
from tests.data.helpers import add_case
from tests.layers.hierarchy import STREETS, add_alert

OTHER_STREET = "500152001"  # a street of another district (潼南区): never in this viewer's scope
OTHER_GRID = "500152001001001"


@pytest.fixture
def cases(app, session_factory, grids):  # type: ignore[no-untyped-def]
    """Cases in both streets of the hand-made district and one in another district."""
    now = datetime.now(UTC)
    with transaction(session_factory) as session:
        seed_catalogue(session)
        ids = {
            "west_noise": add_case(
                session,
                grids[0],
                now - timedelta(hours=5),
                category="environment.noise",
                lon=105.95,
                lat=29.75,
            ).id,
            "west_vending_late": add_case(
                session,
                grids[1],
                now - timedelta(days=20),
                category="city.street_vending",
                department="city_management",
                status="in_progress",
                limit_hours=24,
                supervision="red",
                escalation_level="district",
                lon=105.98,
                lat=29.76,
            ).id,
            "east_gas": add_case(
                session, grids[5], now - timedelta(days=2), category="safety.gas", department="emergency"
            ).id,
            "east_closed": add_case(session, grids[6], now - timedelta(days=3), status="closed").id,
            "other_district": add_case(session, OTHER_GRID, now - timedelta(hours=1)).id,
        }
    return ids


def _ids(rows: list[dict]) -> set[int]:
    return {int(r["id"]) for r in rows}


def test_filters_select_rows(app, cases) -> None:
    with app.server.test_request_context():
        scope = current_scope()
        everything = duty.load(CaseFilter(), scope, "zh-CN")
        assert _ids(everything.rows) == {cases["west_noise"], cases["west_vending_late"], cases["east_gas"]}
        assert everything.overdue == 1
        # overdue first, marked
        assert int(everything.rows[0]["id"]) == cases["west_vending_late"]
        late = everything.rows[0]
        assert late["overdue"] and late["late"].startswith("超期") and late["card"] == "红牌督办"
        assert late["level"] == "区县" and late["department"]

        west = duty.load(CaseFilter(street=STREETS[0]), scope, "zh-CN")
        assert _ids(west.rows) == {cases["west_noise"], cases["west_vending_late"]}
        assert {r["street"] for r in west.rows} == {"巴川街道"}
        # a top-level category includes its sub-categories
        city = duty.load(CaseFilter(category="city"), scope, "zh-CN")
        assert _ids(city.rows) == {cases["west_vending_late"]}
        assert _ids(duty.load(CaseFilter(department="emergency"), scope, "zh-CN").rows) == {cases["east_gas"]}
        assert _ids(duty.load(CaseFilter(statuses=("in_progress",)), scope, "zh-CN").rows) == {
            cases["west_vending_late"]
        }
        # received today / within 7 days: the 20-day-old case drops out
        week = duty.load(CaseFilter(period="7d"), scope, "zh-CN")
        assert _ids(week.rows) == {cases["west_noise"], cases["east_gas"]}


def test_street_outside_the_scope_never_shows(app, cases) -> None:
    with app.server.test_request_context():
        scope = current_scope()
        assert not scope.contains(OTHER_STREET)
        asked = duty.load(CaseFilter.from_query({"street": OTHER_STREET}), scope, "zh-CN")
        assert asked.view.street is None
        assert asked.notice  # the viewer is told the street was dropped
        assert cases["other_district"] not in _ids(asked.rows)
        # through the callback too: no row, and the URL no longer carries the foreign street
        out = duty.update_view(OTHER_STREET, None, None, None, None, f"?street={OTHER_STREET}", {})
        assert cases["other_district"] not in _ids(out["rows"])
        assert OTHER_STREET not in out["search"]
        assert "street" not in out["config"]["filters"]


def test_update_view_writes_the_url_and_the_map(app, cases) -> None:
    with app.server.test_request_context():
        out = duty.update_view(STREETS[1], "safety", None, "accepted", "30d", "?lang=en", {"map": "duty"})
        assert out["search"] == f"?street={STREETS[1]}&category=safety&status=accepted&period=30d&lang=en"
        # the map's case layer takes the table's filters, the period too: it shows what the table lists
        assert out["config"]["filters"] == {
            "street": STREETS[1],
            "category": "safety",
            "status": "accepted",
            "period": "30d",
        }
        assert out["config"]["map"] == "duty"
        assert out["viewport"]["transition"] == "flyToBounds"
        (south, west), (north, east) = out["viewport"]["bounds"]
        assert west < 106.05 < east and south < 29.8 < north  # the east street's box, padded
        assert [f["properties"]["code"] for f in out["outline"]["features"]] == [STREETS[1]]
        assert _ids(out["rows"]) == {cases["east_gas"]}
        assert out["rows"][0]["status"] == "Accepted"  # English labels when ?lang=en


def test_url_round_trip_and_garbage() -> None:
    view = CaseFilter.from_query(
        {"street": "500151002", "category": "city", "status": "in_progress", "period": "7d"}
    )
    assert view == CaseFilter("500151002", "city", None, ("in_progress",), "7d")
    assert CaseFilter.from_query(dict(_parse(view.search()))) == view
    junk = CaseFilter.from_query(
        {"street": "5001'; drop", "category": "<script>", "status": "gone", "period": "forever"}
    )
    assert junk == CaseFilter()
    # 已归档 is a status of the selector now (issue 13): closed cases in the table
    assert CaseFilter.from_query({"status": "closed"}).statuses == ("closed",)
    assert junk.search() == ""


def _parse(search: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(search.lstrip("?"))


def test_layout_restores_the_view_from_the_url(app, cases, settings) -> None:
    with app.server.test_request_context():
        svc = services()
        ctx = PageContext(
            settings=svc.settings,
            services=svc,
            scope=current_scope(),
            lang="zh-CN",
            query={"street": STREETS[0], "category": "city"},
        )
        page = duty.layout(ctx)
        text = json.dumps(page.to_plotly_json(), default=_plain, ensure_ascii=False)
    assert '"value": "500151001"' in text  # the street selector
    assert '"value": "city"' in text
    assert f'"street": "{STREETS[0]}"' in text  # the map's case filter
    grid = _find(page, duty.GRID_ID)
    assert _ids(grid.rowData) == {cases["west_vending_late"]}
    columns = [c["headerName"] for c in grid.columnDefs]
    assert columns == [
        "案件编号",
        "类别",
        "地址",
        "状态",
        "受理时间",
        "时限",
        "超期",
        "承办部门",
        "层级",
        "督办",
    ]
    # no HTML cell renderer anywhere: feed text is text
    assert not any("cellRenderer" in c for c in grid.columnDefs)


def _plain(obj):  # type: ignore[no-untyped-def]
    return obj.to_plotly_json() if hasattr(obj, "to_plotly_json") else str(obj)


def _find(component, id_):  # type: ignore[no-untyped-def]
    if getattr(component, "id", None) == id_:
        return component
    children = getattr(component, "children", None)
    if children is None:
        return None
    for child in children if isinstance(children, list | tuple) else [children]:
        found = _find(child, id_)
        if found is not None:
            return found
    return None


def test_acknowledge_writes_one_event_and_refuses_out_of_scope(
    app, session_factory, grids, redis_conn
) -> None:
    now = datetime.now(UTC)
    with transaction(session_factory) as session:
        inside = add_alert(session, [grids[0], grids[1]], headline="<b>暴雨</b>橙色预警").id
        area = box(106.5, 30.0, 106.6, 30.1)
        outside_alert = Alert(
            feed_name="test",
            external_id="elsewhere",
            kind="noise",
            event="噪声",
            severity="Moderate",
            colour="yellow",
            headline="别区的噪声",
            area_desc="",
            geometry=shapely.to_wkb(area),
            lon=106.55,
            lat=30.05,
            state="new",
            expires=now + timedelta(hours=2),
        )
        outside_alert.set_place(OTHER_GRID)
        session.add(outside_alert)
        session.flush()
        outside = outside_alert.id
    before = versions.read(redis_conn)["alerts"]
    with app.server.test_request_context(environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        actor = duty.actor_of_request()
        assert actor == "值班员 10.1.2.3"
        data = duty.load(CaseFilter(street=STREETS[0]), current_scope(), "zh-CN")
        assert data.alert_new == 1 and data.alert_total == 1
        card = json.dumps(data.alerts[0].to_plotly_json(), default=_plain, ensure_ascii=False)
        assert "<b>暴雨</b>橙色预警" in card and "duty-alert-new" in card  # text, flashing
        assert duty.acknowledge(inside, actor) is True
        assert duty.acknowledge(inside, actor) is False  # once
        assert duty.acknowledge(outside, actor) is False  # outside the scope
        assert duty.acknowledge(999999, actor) is False
        after = duty.load(CaseFilter(street=STREETS[0]), current_scope(), "zh-CN")
        assert after.alert_new == 0
        card = json.dumps(after.alerts[0].to_plotly_json(), default=_plain, ensure_ascii=False)
        assert "duty-alert-new" not in card and "值班员 10.1.2.3" in card
    assert versions.read(redis_conn)["alerts"] > before  # every screen reloads its alert layer
    with session_factory() as session:
        events = session.execute(select(AlertEvent.alert_id, AlertEvent.kind, AlertEvent.actor)).all()
        assert events == [(inside, "acknowledged", "值班员 10.1.2.3")]
        states = {r.id: r.state for r in session.execute(select(Alert.id, Alert.state))}
        assert states == {inside: "acknowledged", outside: "new"}
        assert session.scalar(select(func.count()).select_from(AlertEvent)) == 1


def test_selected_row_rings_the_case_and_links_it(app) -> None:
    with app.server.test_request_context():
        ring, viewport, info = duty.selected_case(
            [{"id": "7", "number": "<img src=x>", "address": "巴川", "lat": 29.8, "lon": 106.0}], ""
        )
        assert viewport["center"] == [29.8, 106.0] and viewport["zoom"] == CASE_ZOOM
        assert len(ring) == 2
        text = json.dumps(info.to_plotly_json(), default=_plain, ensure_ascii=False)
        assert "/cases/7" in text and "<img src=x>" in text  # a plain string child: Dash escapes it
        _, _, unplaced = duty.selected_case([{"id": "8", "lat": None, "lon": None}], "")
        assert "/cases/8" in json.dumps(unplaced.to_plotly_json(), default=_plain, ensure_ascii=False)
        ring, _, _ = duty.selected_case([{"id": "javascript:alert(1)"}], "")
        assert ring == []
        # a case drawn at its grid's label point: ringed there, and the officer is told it is approximate
        row = {"id": "9", "lat": 29.8, "lon": 106.0, "approx": "grid"}
        ring, viewport, info = duty.selected_case([row], "")
        assert len(ring) == 2 and viewport["center"] == [29.8, 106.0]
        assert "按网格定位" in json.dumps(info.to_plotly_json(), default=_plain, ensure_ascii=False)


def test_acknowledge_needs_the_permission_when_sign_in_is_required(
    engine, database_url, redis_url, session_factory, grids, tmp_path
) -> None:
    from dashboard.app import create_app
    from data.settings import Settings

    with transaction(session_factory) as session:
        alert_id = add_alert(session, [grids[0]]).id
    settings = Settings(
        data_dir=tmp_path / "var", database_url=database_url, redis_url=redis_url, auth_required=True
    )
    app = create_app(settings)
    try:
        with app.server.test_request_context():  # nobody signed in
            assert duty.acknowledge(alert_id, "值班员 127.0.0.1") is False
    finally:
        services(app.server).close()
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AlertEvent)) == 0
        assert session.get(Alert, alert_id).state == "new"
