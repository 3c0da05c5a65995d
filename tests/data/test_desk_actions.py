"""The duty desk's actions (data.desk) on the real database, SQLite and PostgreSQL: 登记 a case, turn an
alert into a case, dismiss an alert — and every attack refused with nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from data.auth import NotPermitted, create_user, get_user
from data.db import transaction
from data.desk import AlertNotFound, CaseForm, DeskRefused, alert_to_case, dismiss_alert, file_case
from data.desk.options import place_options
from data.models import Alert, AlertEvent, AuditLog, Case, CaseEvent, Category
from data.queries import active_alerts
from data.scope import AreaScope
from data.seed import seed_catalogue
from tests.layers.hierarchy import STREETS, add_alert, build_hierarchy, grid_box

WEST, EAST = STREETS
PASSWORD = "correct horse battery"
NOW = datetime(2026, 12, 6, 2, 30, tzinfo=UTC)  # 10:30 in Chongqing


@pytest.fixture
def desk(session_factory: sessionmaker[Session]) -> dict[str, Any]:
    with transaction(session_factory) as session:
        grids = build_hierarchy(session)
        seed_catalogue(session)
        create_user(session, "west1", PASSWORD, "duty", WEST)
        create_user(session, "east1", PASSWORD, "duty", EAST)
        create_user(session, "leader", PASSWORD, "leader", "500151")
        create_user(session, "wall1", PASSWORD, "wall", "500151")
        create_user(session, "admin", PASSWORD, "admin", "500151")
        west_alert = add_alert(session, grids[:2], headline="巴川暴雨预警")
        east_alert = add_alert(session, grids[4:6], headline="东城暴雨预警")
        for alert in (west_alert, east_alert):
            alert.expires = NOW + timedelta(hours=6)
        return {"grids": grids, "west_alert": west_alert.id, "east_alert": east_alert.id}


def form(**values: Any) -> CaseForm:
    base: dict[str, Any] = {
        "category": "city.street_vending",
        "title": "占道经营，来电反映",
        "description": "巷口夜市占道",
        "priority": "urgent",
        "place": WEST + "001",
        "address": "巴川街道中兴路12号",
        "reporter_name": "李女士",
        "reporter_phone": "13912345678",
    }
    base.update(values)
    return CaseForm(**base)


def counts(session_factory: sessionmaker[Session]) -> tuple[int, ...]:
    with session_factory() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Case, CaseEvent, Alert, AlertEvent, AuditLog)
        ) + (session.scalar(select(func.count()).select_from(Alert).where(Alert.state != "new")) or 0,)


def act(session_factory: sessionmaker[Session], user: str, do: Callable[[Session, Any], Any]) -> Any:
    with transaction(session_factory) as session:
        return do(session, get_user(session, user))


def test_a_duty_officer_files_a_case(session_factory, desk) -> None:
    filed = act(session_factory, "west1", lambda s, u: file_case(s, u, form(), NOW, remote_addr="10.0.0.7"))
    again = act(session_factory, "west1", lambda s, u: file_case(s, u, form(priority="normal"), NOW))
    assert (filed.external_id, again.external_id) == ("DESK-20261206-0001", "DESK-20261206-0002")
    assert set(filed.layers) >= {"cases", "kpis"}
    with session_factory() as session:
        case = session.get(Case, filed.case_id)
        assert case is not None
        assert (case.feed_name, case.source, case.status, case.is_open) == ("desk", "desk", "reported", True)
        assert (case.category_code, case.priority, case.department_code) == (
            "city.street_vending",
            "urgent",
            "city_management",
        )
        assert (case.street_code, case.community_code, case.grid_code, case.placement) == (
            WEST,
            WEST + "001",
            None,
            "code",
        )
        assert (case.reporter_name, case.reporter_phone) == ("李女士", "13912345678")
        limit = session.get(Category, "city.street_vending").limit_hours("urgent")  # type: ignore[union-attr]
        assert case.deadline_at == NOW + timedelta(hours=limit)
        events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
        assert [(e.kind, e.to_status, e.actor, e.feed_name) for e in events] == [
            ("created", "reported", "west1", "desk")
        ]
        row = session.scalars(select(AuditLog).where(AuditLog.action == "desk_file")).first()
        assert row is not None and (row.actor, row.target, row.remote_addr) == (
            "west1",
            f"case:{case.id}",
            "10.0.0.7",
        )
        assert "DESK-20261206-0001" in row.detail


def test_a_leader_files_by_point_and_an_officer_by_address(session_factory, desk) -> None:
    grid = desk["grids"][5]  # an east grid: in the district leader's scope
    point = grid_box(grid).centroid
    by_point = act(
        session_factory, "leader", lambda s, u: file_case(s, u, form(place="", lon=point.x, lat=point.y), NOW)
    )
    by_address = act(
        session_factory,
        "west1",
        lambda s, u: file_case(s, u, form(place=None, address="巴川北社区菜市场门口"), NOW),
    )
    with session_factory() as session:
        a, b = session.get(Case, by_point.case_id), session.get(Case, by_address.case_id)
        assert a is not None and (a.grid_code, a.placement, a.lon) == (grid, "point", point.x)
        assert b is not None and (b.community_code, b.placement) == (WEST + "002", "address")


def test_script_tags_stay_text_and_invisible_characters_go(session_factory, desk) -> None:
    dirty = form(
        title="<script>alert('x')</script>\u202e占道\u200b经营",
        description="第一行\r\n<img src=x onerror=alert(1)>\u2066电话139\u200b1234\u20605678\u2069\x07",
        reporter_name="\ufeff王\u200d先生",
    )
    filed = act(session_factory, "west1", lambda s, u: file_case(s, u, dirty, NOW))
    with session_factory() as session:
        case = session.get(Case, filed.case_id)
        assert case is not None
        assert case.title == "<script>alert('x')</script>占道经营"
        assert case.description == "第一行\n<img src=x onerror=alert(1)>电话13912345678"
        assert case.reporter_name == "王先生"


ATTACKS: list[tuple[str, str, dict[str, Any], type[Exception], str]] = [
    ("another street", "west1", {"place": EAST + "001"}, DeskRefused, "place_out_of_scope"),
    ("another street's grid", "west1", {"place": EAST + "001002"}, DeskRefused, "place_out_of_scope"),
    ("another district", "west1", {"place": "500152001"}, DeskRefused, "place_out_of_scope"),
    (
        "a point in another street",
        "west1",
        {"place": "", "lon": 106.15, "lat": 29.8},
        DeskRefused,
        "point_out_of_scope",
    ),
    (
        "a point outside the chosen unit",
        "west1",
        {"place": WEST + "002", "lon": 105.93, "lat": 29.72},
        DeskRefused,
        "point_outside_place",
    ),
    ("no place at all", "west1", {"place": "", "address": "某处"}, DeskRefused, "no_place"),
    ("a forged code", "west1", {"place": "5001510019' OR 1=1"}, DeskRefused, "bad_place"),
    ("a wall account", "wall1", {}, NotPermitted, ""),
    ("an admin", "admin", {}, NotPermitted, ""),
    ("a 10,000-character title", "west1", {"title": "长" * 10_000}, DeskRefused, "too_long"),
    ("a 301-character address", "west1", {"address": "路" * 301}, DeskRefused, "too_long"),
    ("an impossible category", "west1", {"category": "no.such.category"}, DeskRefused, "bad_category"),
    ("a category that is not text", "west1", {"category": {"$ne": 1}}, DeskRefused, "bad_category"),
    ("an unknown priority", "west1", {"priority": "immediately"}, DeskRefused, "bad_priority"),
    ("an unknown department", "west1", {"department": "cia"}, DeskRefused, "bad_department"),
    ("a phone that is not one", "west1", {"reporter_phone": "<b>call me</b>"}, DeskRefused, "bad_phone"),
    ("a NUL in the description", "west1", {"description": "a\x00b"}, DeskRefused, "unstorable"),
    ("an empty title", "west1", {"title": " \u200b "}, DeskRefused, "required"),
    ("a title that is a list", "west1", {"title": ["a", "b"]}, DeskRefused, "not_text"),
]


@pytest.mark.parametrize(("what", "user", "values", "error", "code"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_filing_attacks_are_refused_and_write_nothing(
    session_factory, desk, what: str, user: str, values: dict[str, Any], error: type[Exception], code: str
) -> None:
    before = counts(session_factory)
    with pytest.raises(error) as raised:
        act(session_factory, user, lambda s, u: file_case(s, u, form(**values), NOW))
    if code:
        assert getattr(raised.value, "code", None) == code, (what, raised.value)
    assert str(raised.value)  # a clear message
    assert counts(session_factory) == before


def test_an_alert_becomes_a_linked_case(session_factory, desk) -> None:
    alert_id = desk["west_alert"]
    filed = act(
        session_factory,
        "west1",
        lambda s, u: alert_to_case(
            s, u, str(alert_id), CaseForm(category="safety.gas", priority="urgent"), NOW
        ),
    )
    assert set(filed.layers) >= {"cases", "alerts"}
    with session_factory() as session:
        alert = session.get(Alert, alert_id)
        case = session.get(Case, filed.case_id)
        assert alert is not None and case is not None
        assert (alert.state, alert.case_id, alert.acknowledged_by) == ("linked", case.id, "west1")
        assert (case.title, case.grid_code, case.category_code) == (
            "巴川暴雨预警",
            desk["grids"][0],
            "safety.gas",
        )
        created = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).one()
        assert (created.kind, created.detail, created.actor) == ("created", f"alert:{alert_id}", "west1")
        linked = session.scalars(
            select(AlertEvent).where(AlertEvent.alert_id == alert_id, AlertEvent.kind == "linked")
        ).one()
        assert (linked.detail, linked.actor) == (f"case:{case.id} {case.external_id}", "west1")
        assert session.scalars(select(AuditLog).where(AuditLog.action == "desk_alert_case")).one().target == (
            f"alert:{alert_id}"
        )
        # still on the duty officer's list, with its case
        rows = {r.id: r for r in active_alerts(session, AreaScope.of(WEST), NOW)}
        assert (rows[alert_id].case_id, rows[alert_id].case_number) == (case.id, case.external_id)
    # converted once: a second conversion, and a dismissal, find no open alert
    before = counts(session_factory)
    with pytest.raises(AlertNotFound):
        act(
            session_factory,
            "west1",
            lambda s, u: alert_to_case(s, u, alert_id, CaseForm(category="safety"), NOW),
        )
    with pytest.raises(AlertNotFound):
        act(session_factory, "west1", lambda s, u: dismiss_alert(s, u, alert_id, "false_alarm", "", NOW))
    assert counts(session_factory) == before


def test_an_alert_of_another_street_is_placed_in_the_officer_s_own_grid(session_factory, desk) -> None:
    """A district leader converts the east alert: placed in its own grid; an east officer the same."""
    filed = act(
        session_factory,
        "east1",
        lambda s, u: alert_to_case(s, u, desk["east_alert"], CaseForm(category="safety"), NOW),
    )
    with session_factory() as session:
        case = session.get(Case, filed.case_id)
        assert case is not None and case.street_code == EAST


ALERT_ATTACKS: list[tuple[str, str, Any, type[Exception]]] = [
    ("another street's alert", "west1", "east_alert", AlertNotFound),
    ("a forged id", "west1", 999_999, AlertNotFound),
    ("an id that is no number", "west1", "1 OR 1=1", AlertNotFound),
    ("a superscript digit (isdigit, but no int)", "west1", "1²", AlertNotFound),
    ("a wall account", "wall1", "west_alert", NotPermitted),
    ("an admin", "admin", "west_alert", NotPermitted),
]


@pytest.mark.parametrize(("what", "user", "alert", "error"), ALERT_ATTACKS, ids=[a[0] for a in ALERT_ATTACKS])
def test_alert_attacks_are_refused_and_write_nothing(
    session_factory, desk, what: str, user: str, alert: Any, error: type[Exception]
) -> None:
    alert_id = desk.get(alert, alert) if isinstance(alert, str) else alert
    before = counts(session_factory)
    with pytest.raises(error):
        act(
            session_factory,
            user,
            lambda s, u: alert_to_case(s, u, alert_id, CaseForm(category="safety"), NOW),
        )
    with pytest.raises(error):
        act(session_factory, user, lambda s, u: dismiss_alert(s, u, alert_id, "false_alarm", "误报", NOW))
    assert counts(session_factory) == before


def test_converting_checks_the_form_too(session_factory, desk) -> None:
    before = counts(session_factory)
    for values, code in (
        ({"category": "nonsense"}, "bad_category"),
        ({"category": "safety", "title": "x" * 10_000}, "too_long"),
        ({"category": "safety", "place": EAST}, "place_out_of_scope"),
    ):
        with pytest.raises(DeskRefused) as raised:
            act(
                session_factory,
                "west1",
                lambda s, u, v=values: alert_to_case(s, u, desk["west_alert"], CaseForm(**v), NOW),
            )
        assert raised.value.code == code
    assert counts(session_factory) == before


def test_a_dismissed_alert_leaves_the_lists(session_factory, desk) -> None:
    alert_id = desk["west_alert"]
    before = counts(session_factory)
    for reason, note, code in (
        ("", "", "bad_reason"),
        ("whatever", "x", "bad_reason"),
        ("other", " ", "required"),
    ):
        with pytest.raises(DeskRefused) as raised:
            act(
                session_factory,
                "west1",
                lambda s, u, r=reason, n=note: dismiss_alert(s, u, alert_id, r, n, NOW),
            )
        assert raised.value.code == code
    with pytest.raises(NotPermitted):  # a leader may not acknowledge, so may not dismiss
        act(session_factory, "leader", lambda s, u: dismiss_alert(s, u, alert_id, "false_alarm", "", NOW))
    assert counts(session_factory) == before
    done = act(
        session_factory,
        "west1",
        lambda s, u: dismiss_alert(
            s, u, alert_id, "false_alarm", "现场核实\u202e无积水<script>", NOW, "10.0.0.7"
        ),
    )
    assert done.note == "现场核实无积水<script>"
    with session_factory() as session:
        assert session.get(Alert, alert_id).state == "dismissed"  # type: ignore[union-attr]
        assert alert_id not in {r.id for r in active_alerts(session, AreaScope.of(WEST), NOW)}
        event = session.scalars(
            select(AlertEvent).where(AlertEvent.alert_id == alert_id, AlertEvent.kind == "dismissed")
        ).one()
        assert (event.actor, event.detail) == ("west1", "false_alarm: 现场核实无积水<script>")
        row = session.scalars(select(AuditLog).where(AuditLog.action == "desk_alert_dismiss")).one()
        assert (row.actor, row.target, row.remote_addr) == ("west1", f"alert:{alert_id}", "10.0.0.7")


def test_place_options_stay_in_scope(session_factory, desk) -> None:
    with session_factory() as session:
        west = AreaScope.of(WEST)
        assert [o.code for o in place_options(session, west)] == [WEST]
        assert [o.code for o in place_options(session, west, WEST)] == [WEST + "001", WEST + "002"]
        assert place_options(session, west, EAST) == []
        community = AreaScope.of(WEST + "002")
        streets = place_options(session, community)
        assert [(o.code, o.selectable) for o in streets] == [(WEST, False)]
        assert [o.code for o in place_options(session, community, WEST)] == [WEST + "002"]


def test_desks_filing_at_once_get_one_number_each(session_factory, desk) -> None:
    """Six officers press 登记 at the same moment: six cases, six numbers (a clash on the number is taken
    back to a savepoint and the next number tried)."""
    import threading

    barrier = threading.Barrier(6)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            filed = act(
                session_factory, "leader", lambda s, u: file_case(s, u, form(title=f"同时登记 {i}"), NOW)
            )
            numbers.append(filed.external_id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(numbers) == [f"DESK-20261206-{n:04d}" for n in range(1, 7)]
