"""The duty page's search box over the real app, signed in: a duty officer finds a case by number, words
and phone (each phone search audited once, not on each refresh); a leader's and a wall's phone search is
refused with words and audited; a street's officer never finds another street's case, however asked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from data.auth import audit_rows, create_user
from data.db import transaction
from data.models import Case
from data.search import search_columns
from data.text import t
from tests.dashboard.test_access_scope import callback_body, post_callback, route
from tests.dashboard.test_auth_web import PASSWORD, page_text, sign_in
from tests.data.helpers import add_case
from tests.layers.hierarchy import STREETS

WEST, EAST = STREETS
PHONE = "13912345678"


@pytest.fixture
def web(settings, redis_url, redis_conn, engine, session_factory, grids) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from dashboard.app import create_app
    from dashboard.services import services

    app = create_app(settings.model_copy(update={"redis_url": redis_url, "auth_required": True}))
    key = services(app.server).settings.phone_search_key_bytes()
    now = datetime.now(UTC)
    with transaction(session_factory) as session:
        from data.seed import seed_catalogue

        seed_catalogue(session)
        for grid, number, texts in (
            (grids[0], "W-100", ("井盖缺失", "玉泉路口井盖缺失", "巴川街道玉泉路8号")),
            (grids[5], "E-200", ("噪声扰民", "夜间施工噪声", "东城街道龙城大道1号")),
        ):
            case: Case = add_case(session, grid, now - timedelta(hours=2), external_id=number)
            case.title, case.description, case.address = texts
            case.reporter_phone = PHONE
            for name, value in search_columns(*texts, PHONE, key).items():
                setattr(case, name, value)
        for user, role, scope in (
            ("duty_west", "duty", WEST),
            ("duty_all", "duty", "500151"),
            ("leader", "leader", "500151"),
            ("wall1", "wall", "500151"),
        ):
            create_user(session, user, PASSWORD, role, scope)
    yield app
    services(app.server).close()


def client_of(web: Any, username: str) -> Any:
    client = web.server.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def numbers(node: Any) -> set[str]:
    """The case numbers in the duty table's rows of a Dash answer (a page, or the refresh callback's)."""
    found: set[str] = set()
    if isinstance(node, dict):
        rows = node.get("rowData") if node.get("id") in ("duty-grid", None) else None
        if isinstance(rows, list):
            found |= {r["number"] for r in rows if isinstance(r, dict) and "number" in r}
        for value in node.values():
            found |= numbers(value)
    elif isinstance(node, list):
        for value in node:
            found |= numbers(value)
    return found


def duty_page(client: Any, q: str) -> tuple[set[str], str]:
    """The table's case numbers and the page's text of ``/duty?q=…``."""
    response = route(client, "/duty", f"?q={q}")
    return numbers(response.get_json()), page_text(response)


def phone_audits(session_factory: Any) -> list[tuple[str, str, str]]:
    with session_factory() as session:
        rows = audit_rows(session, action="search_phone") + audit_rows(session, action="search_phone_refused")
    return sorted((r.actor, r.action, r.detail) for r in rows)


def test_duty_finds_by_number_words_and_phone(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    client = client_of(web, "duty_all")
    assert duty_page(client, "")[0] == {"W-100", "E-200"}  # the open cases, no search
    assert duty_page(client, "W-100")[0] == {"W-100"}
    assert duty_page(client, "玉泉路")[0] == {"W-100"}
    assert phone_audits(session_factory) == []  # no phone search yet
    rows, text = duty_page(client, PHONE)
    assert rows == {"W-100", "E-200"}
    assert t("search_found", "zh-CN", q=PHONE, kind=t("search_kind_phone", "zh-CN"), n=2) in text
    assert phone_audits(session_factory) == [("duty_all", "search_phone", "139****5678; 2 found")]


def test_a_street_officer_never_finds_another_streets_case(web) -> None:  # type: ignore[no-untyped-def]
    client = client_of(web, "duty_west")
    east_community = f"{EAST}001"
    for forged in ("E-200", "龙城大道", PHONE, f"E-200&street={EAST}", f"E-200&community={east_community}"):
        assert "E-200" not in duty_page(client, forged)[0], forged
    assert duty_page(client, PHONE)[0] == {"W-100"}


@pytest.mark.parametrize("username", ["leader", "wall1"])
def test_leader_and_wall_phone_search_refused_with_words(web, session_factory, username) -> None:  # type: ignore[no-untyped-def]
    client = client_of(web, username)
    rows, text = duty_page(client, PHONE)
    assert t("search_refused_phone", "zh-CN") in text
    assert rows == set()
    assert phone_audits(session_factory) == [(username, "search_phone_refused", "139****5678")]
    assert duty_page(client, "W-100")[0] == {"W-100"}  # by number: allowed


def test_box_search_audited_once_not_on_refresh(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    client = client_of(web, "duty_all")
    route(client, "/duty")
    values = {"duty-q.value": PHONE, "gridcc-url.search": "", "duty-period.value": "all"}
    typed = post_callback(client, callback_body(client, "duty-grid.rowData", values, "duty-q.value"))
    assert typed.status_code == 200 and numbers(typed.get_json()) == {"W-100", "E-200"}
    assert f"q={PHONE}" in page_text(typed)  # the URL keeps the query
    values["gridcc-url.search"] = f"?q={PHONE}"
    ticked = post_callback(client, callback_body(client, "duty-grid.rowData", values, "duty-acked.data"))
    assert ticked.status_code == 200 and numbers(ticked.get_json()) == {"W-100", "E-200"}
    assert len(phone_audits(session_factory)) == 1
