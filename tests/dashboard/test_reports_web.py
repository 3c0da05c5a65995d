"""``/reports`` and its downloads on the real app (sign-in required), database and Redis, through Flask's
test client: a street officer's forged area of another street (or the district above) refused and
audited, a wall refused, the XLSX opened with openpyxl (figures, native charts), the print view plain
HTML with print CSS, and the page rendered through the Dash routing callback."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from data.auth import audit_rows, create_user
from data.db import transaction
from data.seed import seed_catalogue
from data.text import t
from tests.dashboard.test_access_scope import route
from tests.dashboard.test_auth_web import ADDR, PASSWORD, page_text, sign_in
from tests.layers.hierarchy import STREETS, add_case

WEST, EAST = STREETS


@pytest.fixture
def web(settings, redis_url, redis_conn, engine, session_factory, grids) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from dashboard.app import create_app
    from dashboard.services import services

    with transaction(session_factory) as session:
        seed_catalogue(session)
        add_case(session, grids[0], external_id="west", title="西边的案件")
        add_case(session, grids[4], external_id="east", title="东边的案件")
        add_case(session, grids[5], external_id="east2", title="东边另一件", status="in_progress")
        create_user(session, "street1", PASSWORD, "duty", WEST)
        create_user(session, "leader", PASSWORD, "leader", "500151")
        create_user(session, "wall1", PASSWORD, "wall", "500151")
    app = create_app(settings.model_copy(update={"redis_url": redis_url, "auth_required": True}))
    yield app
    services(app.server).close()


@pytest.fixture
def client(web):  # type: ignore[no-untyped-def]
    client = web.server.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDR
    return client


def _week_query(area: str) -> str:
    """The last seven days, custom (the cases were received two days ago), whatever day the test runs."""
    today = (datetime.now(UTC) + timedelta(hours=8)).date()
    return f"area={area}&period=custom&first={today - timedelta(days=6)}&last={today}"


def test_a_street_officer_cannot_forge_another_streets_area(client, session_factory) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "street1").status_code == 302
    own = client.get(f"/reports/report.xlsx?{_week_query(WEST)}")
    assert own.status_code == 200
    for forged in (EAST, "500151", EAST + "001"):
        answer = client.get(f"/reports/report.xlsx?{_week_query(forged)}")
        assert answer.status_code == 403, forged
        assert t("report_refused_area", "zh-CN") in answer.get_data(as_text=True)
        assert client.get(f"/reports/print?{_week_query(forged)}").status_code == 403
    with session_factory() as session:
        refused = [r for r in audit_rows(session, actor="street1") if r.action == "export_refused"]
    assert len(refused) == 6 and all("area outside scope" in r.detail for r in refused)
    assert client.get("/reports/report.xlsx?area=x&period=week").status_code == 400
    assert client.get(f"/reports/report.xlsx?area={WEST}&period=fortnight").status_code == 400


def test_a_wall_gets_no_report(client) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "wall1").status_code == 302
    answer = client.get(f"/reports/report.xlsx?{_week_query('500151')}")
    assert answer.status_code == 403
    assert t("report_refused_role", "zh-CN") in answer.get_data(as_text=True)
    assert client.get(f"/reports/print?{_week_query('500151')}").status_code == 403


def test_the_leaders_workbook_has_the_figures_and_native_charts(client) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "leader").status_code == 302
    answer = client.get(f"/reports/report.xlsx?{_week_query('500151')}")
    assert answer.status_code == 200
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="gridcc-report-500151-custom-')
    book = load_workbook(io.BytesIO(answer.get_data()))
    summary = book[t("report_sheet_summary", "zh-CN")]
    rows = {r[0]: r[1:] for r in summary.iter_rows(values_only=True) if r and r[0]}
    assert rows[t("report_kpi_received", "zh-CN")][0] == 3
    assert rows[t("report_kpi_closed", "zh-CN")][0] == 0
    assert rows[t("report_kpi_closure_rate", "zh-CN")][0] == 0.0
    assert rows[t("report_kpi_satisfaction_rate", "zh-CN")][0] == "—"  # nothing rated: no division by zero
    assert len(summary._charts) == 0  # nothing resolved: no pie of nothing
    streets = book.worksheets[1]
    names = [r[1] for r in streets.iter_rows(min_row=2, values_only=True)]
    assert names == sorted(STREETS)
    assert len(streets._charts) == 1 and len(book[t("report_sheet_trend", "zh-CN")]._charts) == 1


def test_the_print_view_is_plain_html_for_a4(client) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "leader").status_code == 302
    answer = client.get(f"/reports/print?{_week_query('500151')}")
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    html = answer.get_data(as_text=True)
    assert "@page { size: A4" in html and "<svg" in html
    assert 'data-key="received" data-value="3.0"' in html
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert client.get("/reports/print.js").status_code == 200
    english = client.get(f"/reports/print?{_week_query('500151')}&lang=en").get_data(as_text=True)
    assert t("report_kpis_title", "en") in english and t("report_kpis_title", "zh-CN") not in english
    assert "Period: " in english and 'lang="en"' in english


def test_the_page_renders_for_a_leader_and_refuses_a_wall(client) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "leader").status_code == 302
    page = page_text(route(client, "/reports", f"?{_week_query('500151')}"))
    assert "report-kpis" in page and "/reports/report.xlsx?area=500151&period=custom" in page
    wall = client.application.test_client()
    wall.environ_base["REMOTE_ADDR"] = ADDR
    assert sign_in(wall, "wall1").status_code == 302
    refused = page_text(route(wall, "/reports", ""))
    assert t("report_refused_role", "zh-CN") in refused and "report-kpis" not in refused


def test_names_are_text_and_bad_parameters_a_400(client, session_factory) -> None:  # type: ignore[no-untyped-def]
    from data.models import AdminUnit

    with transaction(session_factory) as session:
        session.get(AdminUnit, WEST).name = '<img src=x onerror="alert(1)">街道'  # type: ignore[union-attr]
    assert sign_in(client, "leader").status_code == 302
    html = client.get(f"/reports/print?{_week_query('500151')}").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;街道" in html
    for query in (
        "area=500151&period=day&date=2026-13-01",
        "area=500151&period=custom&first=2020-01-01&last=2026-01-01",  # more than three years
        "area=500151&period=custom&first=2026-02-01",
        "area=500151%27--&period=week",
        "area=５００１５１&period=week",  # full-width digits
    ):
        answer = client.get(f"/reports/report.xlsx?{query}")
        assert answer.status_code == 400, (query, answer.status_code)
