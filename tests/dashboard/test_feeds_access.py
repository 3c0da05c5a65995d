"""Issue 9, finding 5: ``/feeds`` by role and scope, on the real app with sign-in required, the test
database and Redis (a real RQ worker registration), through Flask's test client.

A wall and a one-street duty officer: the health of their area's feeds only, no quarantine, no worker
names, no key, no phone or ID number (full or masked) anywhere in the page, its refresh or a forged
payload request. A duty officer of the whole deployment views a payload raw, and that view is audited
(``personal_view``, ``quarantine:<id>``); an admin views it masked, keys redacted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rq import Worker

from data.auth import audit_rows, create_user
from data.db import transaction
from data.models import Feed, FeedHealth, Quarantine
from layers import versions
from tests.dashboard import test_access_scope as scoped
from tests.dashboard.test_auth_web import PASSWORD, page_text, sign_in
from tests.layers.hierarchy import add_case
from tests.leaks import leaks

web = scoped.web  # the fixture: the real app, sign-in required, a street's accounts
KEY = "SECRETKEY123"
PHONE, ID_NUMBER = "13912345678", "50010119900101123X"
RAW = json.dumps(
    {"service_request_id": "e9", "description": f"东边居民电话{PHONE}，身份证{ID_NUMBER}", "api_key": KEY},
    ensure_ascii=False,
)
WORKER = "gridcc-worker-host7.4242"


@pytest.fixture
def feeds(web, session_factory, grids, redis_conn) -> Iterator[dict[str, int]]:  # type: ignore[no-untyped-def]
    """A west feed and an east feed (each with a case in its street); the east one failing with its key
    and a phone in the error; a quarantined east record holding a phone, an ID number and the key; a
    registered RQ worker; a duty officer of the whole deployment."""
    now = datetime.now(UTC)
    with transaction(session_factory) as session:
        for name in ("westfeed", "eastfeed"):
            session.add(Feed(name=name, protocol="open311", url=f"http://127.0.0.1:1/{name}", interval_s=60))
        session.flush()
        west = add_case(session, grids[0], external_id="w-feed")
        west.feed_name = "westfeed"
        east = add_case(session, grids[4], external_id="e-feed")
        east.feed_name = "eastfeed"
        session.add(FeedHealth(feed_name="westfeed", last_success_at=now, last_poll_at=now))
        session.add(
            FeedHealth(
                feed_name="eastfeed",
                last_poll_at=now,
                last_success_at=now - timedelta(hours=1),
                last_error_at=now,
                last_error=f"HTTP 500 from http://127.0.0.1:1/eastfeed?api_key={KEY}&page=1 "
                f"(record e9: 联系电话{PHONE})",
                consecutive_failures=3,
            )
        )
        record = Quarantine(
            feed_name="eastfeed", at=now, external_id="e9", reason=f"bad date; caller {PHONE}", raw=RAW
        )
        session.add(record)
        create_user(session, "dutyall", PASSWORD, "duty", "500151")
        session.flush()
        ids = {"record": record.id}
    versions.bump(redis_conn, ["feeds", "cases"])
    worker = Worker(["gridcc-feeds"], connection=redis_conn, name=WORKER)
    worker.register_birth()
    try:
        yield ids
    finally:
        worker.register_death()


def _client(web: Any, username: str) -> Any:
    client = web.server.test_client()
    client.environ_base["REMOTE_ADDR"] = scoped.ADDR
    assert sign_in(client, username).status_code == 302
    return client


def _callback(client: Any, output: str, inputs: list[dict[str, Any]], changed: str) -> Any:
    body = {
        "output": output,
        "outputs": {"id": output.split(".")[0], "property": output.split(".")[1]},
        "inputs": inputs,
        "state": [{"id": "feeds-lang", "property": "data", "value": "zh-CN"}],
        "changedPropIds": [changed],
    }
    response = client.post(
        "/_dash-update-component", json=body, headers={"X-CSRFToken": scoped.token(client)}
    )
    assert response.status_code in (200, 204), response.status_code
    return response


def bodies_of(client: Any, record: int) -> dict[str, str]:
    """Everything ``/feeds`` sends this viewer: the page, its refresh, and a (forged) payload request."""
    page = scoped.route(client, "/feeds")
    refresh = _callback(
        client,
        "feeds-content.children",
        [{"id": "feeds-moved", "property": "data", "value": "feeds:99"}],
        "feeds-moved.data",
    )
    return {"page": page.get_data(as_text=True), "refresh": refresh.get_data(as_text=True)}


def view_payload(client: Any, record: int) -> Any:
    return _callback(
        client,
        "feeds-payload.children",
        [{"id": "feeds-payload-request", "property": "data", "value": {"record": record, "at": 1}}],
        "feeds-payload-request.data",
    )


@pytest.mark.parametrize("username", ["wall1", "street1"])
def test_a_wall_and_a_one_street_officer_see_their_areas_health_only(
    web, feeds, session_factory, username: str
) -> None:  # type: ignore[no-untyped-def]
    client = _client(web, username)
    bodies = bodies_of(client, feeds["record"])
    assert leaks(bodies, secrets=(KEY, PHONE, ID_NUMBER, WORKER)) == {}
    bodies["payload"] = view_payload(client, feeds["record"]).get_data(as_text=True)  # forged
    assert leaks(bodies, secrets=(KEY, PHONE, ID_NUMBER, WORKER)) == {}
    page = bodies["page"]
    if username == "street1":  # the west street: the east feed does not concern it
        assert "westfeed" in page and "eastfeed" not in page
    else:  # the wall covers the district: both feeds' health, the east one's error redacted, no phone
        assert "westfeed" in page and "eastfeed" in page
        shown = page_text(scoped.route(client, "/feeds"))
        assert "api_key=***" in shown and "联系电话[电话]" in shown
    for body in bodies.values():
        assert "quarantine-row" not in body and "worker-row" not in body and "bad date" not in body
    assert "无权查看隔离数据" in page_text(view_payload(client, feeds["record"]))
    with session_factory() as session:
        assert audit_rows(session, action="personal_view") == []


def test_a_whole_deployment_duty_officer_views_a_payload_raw_and_it_is_audited(
    web, feeds, session_factory
) -> None:  # type: ignore[no-untyped-def]
    client = _client(web, "dutyall")
    page = scoped.route(client, "/feeds").get_data(as_text=True)
    assert "quarantine-row" in page and "worker-row" not in page  # the quarantine; no worker names
    assert PHONE not in page and KEY not in page  # the list itself: masked, redacted
    shown = page_text(view_payload(client, feeds["record"]))
    assert f"东边居民电话{PHONE}，身份证{ID_NUMBER}" in shown  # as it came …
    assert KEY not in shown  # … but never a key
    with session_factory() as session:
        rows = audit_rows(session, action="personal_view")
    assert [(r.actor, r.target, r.remote_addr) for r in rows] == [
        ("dutyall", f"quarantine:{feeds['record']}", scoped.ADDR)
    ]


def test_an_admin_sees_workers_and_the_quarantine_masked(web, feeds, session_factory) -> None:  # type: ignore[no-untyped-def]
    client = _client(web, "admin")
    page = scoped.route(client, "/feeds").get_data(as_text=True)
    assert WORKER in page and "quarantine-row" in page and "eastfeed" in page
    shown = page_text(view_payload(client, feeds["record"]))
    assert "东边居民电话139****5678，身份证500101********123X" in shown
    assert PHONE not in shown and ID_NUMBER not in shown and KEY not in shown
    with session_factory() as session:
        assert audit_rows(session, action="personal_view") == []  # nothing in full went out


def test_a_number_cut_by_the_preview_shows_none_of_its_digits() -> None:
    from dashboard.feeds.access import FeedsAccess, without_cut_number

    assert without_cut_number("居民电话1391234…") == "居民电话…"
    assert without_cut_number("身份证5001011990…") == "身份证…"
    assert without_cut_number("电话1391234") == "电话1391234"  # not cut: left to the masking
    masked = FeedsAccess("masked", True, False, True, True, False, True)
    assert masked.text("电话13912345678 又 1391234…") == "电话139****5678 又…"
