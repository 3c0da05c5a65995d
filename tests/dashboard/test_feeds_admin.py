"""Pausing and resuming a feed on ``/feeds`` with sign-in required, on the real app, database and Redis:
only an admin gets the buttons and may use them; a forged callback from a duty, leader or wall session
is refused and changes nothing; without the CSRF token it is refused before any callback runs; every
change is audited; a paused feed is shown as paused, never as stale."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from data.auth import audit_rows, create_user
from data.db import transaction
from data.models import Feed, FeedHealth
from tests.dashboard.test_auth_web import ADDR, PASSWORD, page_text, route_callback, sign_in

ACTION = "feed-action"


@pytest.fixture
def web(settings, redis_url, redis_conn, engine, session_factory, grids) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from dashboard.app import create_app
    from dashboard.services import services

    with transaction(session_factory) as session:
        session.add(Feed(name="hotline", protocol="open311", url="http://127.0.0.1:1/h", interval_s=30))
        session.flush()
        # last success an hour ago with a 30 s interval: stale, until someone pauses it
        session.add(FeedHealth(feed_name="hotline", last_success_at=datetime.now(UTC) - timedelta(hours=1)))
        for name, role in (("admin", "admin"), ("duty1", "duty"), ("leader", "leader"), ("wall1", "wall")):
            create_user(session, name, PASSWORD, role, "500151")
    app = create_app(settings.model_copy(update={"redis_url": redis_url, "auth_required": True}))
    yield app
    services(app.server).close()


def client_for(web: Any, username: str) -> Any:
    client = web.server.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDR
    assert sign_in(client, username).status_code == 302
    return client


def feeds_page(client: Any) -> str:
    token = client.get_cookie("_csrf_token").value
    response = client.post(
        "/_dash-update-component", json=route_callback("/feeds"), headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def buttons(page: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ident = node.get("props", {}).get("id")
            if isinstance(ident, dict) and ident.get("type") == ACTION:
                found.append(ident)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(page))
    return found


def press(client: Any, feed: str, action: str, csrf: bool = True) -> Any:
    """The request Dash's renderer sends when the button is clicked: the click is written into the
    ``feeds-request`` store in the browser, and the server callback acts on the store (built from the
    app's own ``/_dash-dependencies``)."""
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if "feeds-message.children" in d["output"])
    outputs = []
    for part in dep["output"].strip(".").split("..."):
        ident, prop = part.rsplit(".", 1)
        outputs.append({"id": ident, "property": prop})
    wanted = {"feed": feed, "action": action, "at": 1}
    body = {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": [{"id": "feeds-request", "property": "data", "value": wanted}],
        "state": [{"id": "feeds-lang", "property": "data", "value": "zh-CN"}],
        "changedPropIds": ["feeds-request.data"],
    }
    headers = {"X-CSRFToken": client.get_cookie("_csrf_token").value} if csrf else {}
    return client.post("/_dash-update-component", json=body, headers=headers)


def paused(session_factory: Any) -> tuple[Any, Any]:
    with session_factory() as session:
        row = session.get(Feed, "hotline")
        return row.paused_at, row.paused_by


def test_only_an_admin_gets_the_buttons(web) -> None:  # type: ignore[no-untyped-def]
    admin = feeds_page(client_for(web, "admin"))
    assert buttons(admin) == [{"type": ACTION, "feed": "hotline", "action": "pause"}]
    assert "操作" in page_text_of(admin)
    for username in ("duty1", "leader", "wall1"):
        page = feeds_page(client_for(web, username))
        assert buttons(page) == [], username
        assert "feed-status fs-stale" in page  # they still see the feed's health


def page_text_of(raw: str) -> str:
    class _R:
        def get_json(self) -> Any:
            return json.loads(raw)

    return page_text(_R())


def test_admin_pauses_and_resumes_and_each_is_audited(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    client = client_for(web, "admin")
    response = press(client, "hotline", "pause")
    assert response.status_code == 200
    body = page_text(response)
    assert "已暂停 hotline" in body and "admin 暂停于" in body
    raw = response.get_data(as_text=True)
    assert "feed-status fs-paused" in raw and "fs-stale" not in raw  # paused, never shown as stale
    at, by = paused(session_factory)
    assert at is not None and by == "admin"
    assert buttons(feeds_page(client)) == [{"type": ACTION, "feed": "hotline", "action": "resume"}]

    assert "已恢复 hotline" in page_text(press(client, "hotline", "resume"))
    assert paused(session_factory) == (None, None)
    with session_factory() as session:
        rows = audit_rows(session, action="feed_change")
        assert [(r.actor, r.target, r.detail, r.remote_addr) for r in reversed(rows)] == [
            ("admin", "feed:hotline", "paused", ADDR),
            ("admin", "feed:hotline", "resumed", ADDR),
        ]
    assert "没有这个数据接入" in page_text(press(client, "nosuch", "pause"))


@pytest.mark.parametrize("username", ["duty1", "leader", "wall1"])
def test_forged_pause_from_other_roles_is_refused(web, session_factory, username: str) -> None:  # type: ignore[no-untyped-def]
    client = client_for(web, username)
    response = press(client, "hotline", "pause")  # a valid session and CSRF token, the wrong role
    assert response.status_code == 200
    assert "只有管理员可以暂停或恢复数据接入" in page_text(response)
    assert "hotline" not in page_text(response)  # no page content sent back
    assert paused(session_factory) == (None, None)
    with session_factory() as session:
        assert audit_rows(session, action="feed_change") == []


def test_pause_without_the_csrf_token_is_refused(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    client = client_for(web, "admin")
    assert press(client, "hotline", "pause", csrf=False).status_code == 403
    assert paused(session_factory) == (None, None)
    with session_factory() as session:
        assert audit_rows(session, action="feed_change") == []


def test_the_walls_banner_leaves_a_paused_feed_out(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    from data.scope import AreaScope
    from layers.wall_payload import build_feeds

    def banner() -> dict[str, Any]:
        with session_factory() as session:
            return build_feeds(session, AreaScope.district("500151"), datetime.now(UTC), 3)

    before = banner()
    assert before["total"] == 1 and [b["name"] for b in before["bad"]] == ["hotline"]  # stale
    press(client_for(web, "admin"), "hotline", "pause")
    after = banner()
    assert after["total"] == 0 and after["bad"] == []  # neither "stale" nor counted as OK
