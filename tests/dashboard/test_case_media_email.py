"""Issue #12: a pushed case's ``media_url`` and the reporter's ``email`` on the case page. The email is
personal data, shown as the reporter's phone is (in full to a duty officer, audited; masked to a leader
or an admin; not at all to a wall); the photo link goes to the accounts that act on cases (duty officer,
leader), never to a wall or an admin, and never as anything but an http(s) link. The real app with
sign-in required, through Flask's test client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from data.auth import audit_rows
from data.db import transaction
from data.masking import mask_email
from data.models import Case
from tests.dashboard import test_access_scope as scoped
from tests.dashboard.test_auth_web import page_text, sign_in
from tests.layers.hierarchy import add_case

web, client = scoped.web, scoped.client  # the fixtures: the real app, sign-in required, and accounts
route = scoped.route

EMAIL = "zhang.san@example.org"
PHOTO = "https://example.org/photos/井盖-1.jpg?size=large"


@pytest.fixture
def cases(web, session_factory) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        grid = session.scalar(select(Case.grid_code).where(Case.external_id == "west"))
        case = add_case(session, grid, external_id="photo", title="井盖缺失")
        case.reporter_name, case.reporter_phone, case.reporter_email = "张三", "13912345678", EMAIL
        case.media_url = PHOTO
        bad = add_case(session, grid, external_id="js-photo", title="井盖缺失")
        bad.media_url = "javascript:alert(1)"  # (no path stores one; the page must not link it anyway)
        session.flush()
        return {"photo": case.id, "bad": bad.id}


def _hrefs(response: Any) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("href"), str):
                found.append(node["href"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(response.get_json())
    return found


def test_mask_email() -> None:
    assert mask_email(EMAIL) == "z***@example.org"
    assert mask_email("no-at-sign") == "***" and mask_email("") == "" and mask_email(None) == ""


def test_a_duty_officer_sees_the_email_in_full_audited_and_the_photo_link(
    web, cases, session_factory
) -> None:  # type: ignore[no-untyped-def]
    browser = web.server.test_client()
    sign_in(browser, "street1")
    answer = route(browser, f"/cases/{cases['photo']}")
    shown = page_text(answer)
    assert EMAIL in shown and "13912345678" in shown
    assert PHOTO in _hrefs(answer)
    body = answer.get_json()
    link = json.dumps(body, ensure_ascii=False)
    assert '"rel": "noopener noreferrer nofollow"' in link and '"target": "_blank"' in link
    with session_factory() as session:
        rows = audit_rows(session, action="personal_view")
    assert any(
        r.actor == "street1" and r.target == f"case:{cases['photo']}" and "reporter" in r.detail for r in rows
    )


@pytest.mark.parametrize(("username", "photo"), [("leader", True), ("admin", False)])
def test_a_leader_or_admin_sees_the_email_masked(web, cases, username: str, photo: bool) -> None:  # type: ignore[no-untyped-def]
    browser = web.server.test_client()
    sign_in(browser, username)
    answer = route(browser, f"/cases/{cases['photo']}")
    shown = page_text(answer)
    assert EMAIL not in shown and "z***@example.org" in shown
    assert (PHOTO in _hrefs(answer)) is photo
    assert (PHOTO in json.dumps(answer.get_json(), ensure_ascii=False)) is photo  # (not even as a title)


def test_a_wall_gets_neither_the_email_nor_the_photo(web, cases) -> None:  # type: ignore[no-untyped-def]
    browser = web.server.test_client()
    sign_in(browser, "wall1")
    body = json.dumps(route(browser, f"/cases/{cases['photo']}").get_json(), ensure_ascii=False)
    assert "example.org" not in body and "z***" not in body


def test_a_link_that_is_not_http_is_never_an_href(web, cases) -> None:  # type: ignore[no-untyped-def]
    browser = web.server.test_client()
    sign_in(browser, "street1")
    answer = route(browser, f"/cases/{cases['bad']}")
    assert not any(h.lower().startswith("javascript") for h in _hrefs(answer))
    assert "javascript:alert(1)" not in json.dumps(answer.get_json(), ensure_ascii=False)
