"""The loop on ``/overdue`` and ``/feeds``, on the real app (sign-in on), database and Redis:

- ``/overdue`` lists the instructions 超时未报到 beside the overdue cases, at every level of the
  drill-down, through the viewer's scope: a street's duty officer never sees another street's;
- ``/feeds`` shows the messages 未送达 per department (attempts, the last error redacted and short);
  an admin's 重新发送 (one message, or a department's) sends them again as ``gridcc loop resend`` does
  (same message id), audited, and asks the workers to deliver; a duty officer gets no button, and a
  forged request from one is refused and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rq import Queue
from sqlalchemy import select

from dashboard.loop_delivery import DEFAULT_QUEUE, DELIVER_JOB
from data.auth import audit_rows
from data.db import transaction
from data.loop import actions, outbox
from data.loop.clock import mark_overdue
from data.models import OutboxMessage, Recipient
from layers import versions
from tests.dashboard.test_auth_web import ADDR, page_text, route_callback, sign_in

from .conftest import STREET_1, STREET_2, World, case_of, make_world

RESEND = "loop-resend"


@dataclass
class Web:
    app: Any
    world: World
    messages: dict[str, str]  # street ("s1", "s2") → the message id of its 交办 未送达

    @property
    def server(self) -> Any:
        return self.app.server


@pytest.fixture
def web(settings: Any, redis_url: str, redis_conn: Any, engine: Any, session_factory: Any) -> Iterator[Web]:
    """The app, and the world: a 吹哨 on each street's case (late: 超时未报到), and a 交办 on each
    street's case 未送达 (its last error holding a token and a phone)."""
    from dashboard.app import create_app
    from dashboard.services import services

    world = make_world(session_factory, settings)
    now = datetime.now(UTC)
    sent_at = now - timedelta(hours=3)
    ids: dict[str, str] = {}
    with transaction(session_factory) as session:
        for user, case_id, street in (("duty1", world.mine, "s1"), ("duty2", world.theirs, "s2")):
            case_of(session, case_id).external_id = f"CASE-{street}"
            actor = world.user(session, user)
            actions.whistle(
                session, settings, actor, case_id, "police", ["city_management"], "请到场", sent_at,
                urgency="urgent",
            )  # fmt: skip
            d = actions.dispatch(session, settings, actor, case_id, "ecology", "核查", sent_at)
            error = "HTTP 503 from https://eco.example/x?token=s3cr3t-t0ken 联系 13912345678 " + "x" * 400
            outbox.mark_failed(session, d.messages[0].id, sent_at, error, 8, 5.0, final=True)
            ids[street] = d.messages[0].message_id
    with session_factory() as session, session.begin():
        assert mark_overdue(session.connection(), now) == 4  # both whistles' two departments
    app = create_app(settings.model_copy(update={"redis_url": redis_url, "auth_required": True}))
    yield Web(app, world, ids)
    services(app.server).close()


def client_for(web: Any, username: str) -> Any:
    client = web.server.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDR
    assert sign_in(client, username).status_code == 302
    return client


def render(client: Any, pathname: str, search: str = "") -> Any:
    body = route_callback(pathname)
    body["state"][0]["value"] = search
    token = client.get_cookie("_csrf_token").value
    response = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    return response


def rows_of(response: Any, cls: str, attr: str) -> list[str]:
    """The ``attr`` data attribute of every component with class ``cls`` in a callback's answer."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("props", {})
            if isinstance(props, dict) and cls in str(props.get("className", "")).split() and attr in props:
                found.append(props[attr])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(response.get_json())
    return found


# ---------------------------------------------------------------- /overdue


def test_overdue_lists_the_unanswered_instructions_of_the_viewers_scope(web: Any) -> None:
    world: World = web.world
    leader = render(client_for(web, "leader1"), "/overdue")
    cases = rows_of(leader, "overdue-loop-row", "data-case")
    assert sorted(cases) == sorted([str(world.mine)] * 2 + [str(world.theirs)] * 2)  # lead and helper
    text = page_text(leader)
    for word in ("超时未报到", "CASE-s1", "CASE-s2", "吹哨", "牵头", "协办"):
        assert word in text, word
    assert "请到场" not in text  # the instruction's text is not the list's business
    # the row links to the case page (the one URL builder)
    assert f'"href": "/cases/{world.mine}"' in json.dumps(leader.get_json())

    # the street's duty officer: only its street's, at the top and when it asks for the other street
    duty1 = client_for(web, "duty1")
    mine = render(duty1, "/overdue")
    assert set(rows_of(mine, "overdue-loop-row", "data-case")) == {str(world.mine)}
    assert "CASE-s2" not in page_text(mine)
    forged = render(duty1, "/overdue", f"?unit={STREET_2}")
    assert rows_of(forged, "overdue-loop-row", "data-case") == [] and "CASE-s2" not in page_text(forged)
    # the leader drilled down to street 2: only street 2's
    street2 = render(client_for(web, "leader1"), "/overdue", f"?unit={STREET_2}")
    assert set(rows_of(street2, "overdue-loop-row", "data-case")) == {str(world.theirs)}
    # and to a grid of street 1 with the case: still listed
    with web.world.factory() as session:
        grid = str(case_of(session, world.mine).grid_code)
    at_grid = render(duty1, "/overdue", f"?unit={grid}")
    assert set(rows_of(at_grid, "overdue-loop-row", "data-case")) == {str(world.mine)}
    assert STREET_1 in grid


# ---------------------------------------------------------------- /feeds


def buttons(response: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ident = node.get("props", {}).get("id") if isinstance(node.get("props"), dict) else None
            if isinstance(ident, dict) and ident.get("type") == RESEND:
                found.append(ident)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(response.get_json())
    return found


def press(client: Any, wanted: dict[str, str], store: str = "feeds-loop-request", csrf: bool = True) -> Any:
    """What Dash's renderer posts when a 重新发送 button is clicked: the click becomes a request in a
    store in the browser, and the server callback acts on the store (from ``/_dash-dependencies``)."""
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(
        d for d in deps if any(i["id"] == store for i in d["inputs"]) and "feeds-message" in d["output"]
    )
    outputs = []
    for part in dep["output"].strip(".").split("..."):
        ident, prop = part.rsplit(".", 1)
        outputs.append({"id": ident, "property": prop})
    body = {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": [{"id": store, "property": "data", "value": {**wanted, "at": 1}}],
        "state": [{"id": "feeds-lang", "property": "data", "value": "zh-CN"}],
        "changedPropIds": [f"{store}.data"],
    }
    headers = {"X-CSRFToken": client.get_cookie("_csrf_token").value} if csrf else {}
    return client.post("/_dash-update-component", json=body, headers=headers)


def state_of(web: Any, message_id: str) -> tuple[str, int]:
    with web.world.factory() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.message_id == message_id)).one()
        return row.state, row.attempts


def resend_audits(web: Any) -> list[Any]:
    with web.world.factory() as session:
        return [r for r in audit_rows(session, limit=500) if r.action == "loop_resend"]


def test_feeds_lists_the_undelivered_redacted_and_only_an_admin_gets_buttons(web: Any) -> None:
    admin = render(client_for(web, "admin1"), "/feeds")
    assert sorted(rows_of(admin, "feeds-loop-row", "data-message")) == sorted(web.messages.values())
    assert rows_of(admin, "feeds-loop-block", "data-department") == ["ecology"]
    text = page_text(admin)
    assert "未送达的指令 · 2 条" in text and "CASE-s1" in text
    assert "s3cr3t-t0ken" not in text and "13912345678" not in text  # redacted, masked
    errors = [line for line in text.splitlines() if line.startswith("HTTP 503")]
    assert errors and all(len(e) <= 130 for e in errors)  # short
    assert sorted(map(json.dumps, buttons(admin))) == sorted(
        json.dumps(b)
        for b in [
            {"type": RESEND, "department": "ecology"},
            *({"type": RESEND, "message": m} for m in web.messages.values()),
        ]
    )
    # a duty officer sees its street's list, without buttons
    duty = render(client_for(web, "duty1"), "/feeds")
    assert rows_of(duty, "feeds-loop-row", "data-message") == [web.messages["s1"]]
    assert buttons(duty) == []


def test_admin_resends_a_message_audited_and_delivery_asked(web: Any, redis_conn: Any) -> None:
    message = web.messages["s1"]
    queue = Queue(DEFAULT_QUEUE, connection=redis_conn)
    queue.empty()
    before = versions.read(redis_conn)
    response = press(client_for(web, "admin1"), {"message": message})
    assert response.status_code == 200
    assert "已重新发送 1 条" in page_text(response)
    assert state_of(web, message) == ("pending", 0)  # due now, fresh attempts, same message id
    assert state_of(web, web.messages["s2"])[0] == "undelivered"  # only the one named
    [row] = resend_audits(web)
    assert (row.actor, row.target, row.remote_addr) == ("admin1", f"message:{message}", ADDR)
    with web.world.factory() as session:
        recipient = session.scalars(
            select(Recipient).join(OutboxMessage, OutboxMessage.recipient_id == Recipient.id)
            .where(OutboxMessage.message_id == message)
        ).one()  # fmt: skip
        assert recipient.state == "pending"
    after = versions.read(redis_conn)
    assert after["feeds"] > before["feeds"] and after["loop"] > before["loop"]
    assert [j.func_name for j in queue.get_jobs()] == [DELIVER_JOB]  # the workers deliver now
    queue.empty()
    # the same again: nothing undelivered by that id any more
    again = press(client_for(web, "admin1"), {"message": message})
    assert "没有可重新发送的未送达指令" in page_text(again) and len(resend_audits(web)) == 1


def test_admin_resends_a_departments_messages(web: Any) -> None:
    response = press(client_for(web, "admin1"), {"department": "ecology"}, "feeds-loop-request-department")
    assert "已重新发送 2 条" in page_text(response)
    assert {state_of(web, m)[0] for m in web.messages.values()} == {"pending"}
    assert sorted(r.target for r in resend_audits(web)) == sorted(
        f"message:{m}" for m in web.messages.values()
    )


@pytest.mark.parametrize("username", ["duty1", "leader1", "wall1"])
def test_a_forged_resend_from_another_role_is_refused(web: Any, username: str) -> None:
    client = client_for(web, username)
    for wanted, store in (
        ({"message": web.messages["s1"]}, "feeds-loop-request"),
        ({"department": "ecology"}, "feeds-loop-request-department"),
    ):
        response = press(client, wanted, store)
        assert response.status_code == 200
        assert "无权重新发送" in page_text(response)
    assert {state_of(web, m)[0] for m in web.messages.values()} == {"undelivered"}
    assert resend_audits(web) == []


def test_resend_without_csrf_token_or_with_bad_input_changes_nothing(web: Any) -> None:
    admin = client_for(web, "admin1")
    assert press(admin, {"message": web.messages["s1"]}, csrf=False).status_code in (400, 403)
    for wanted in ({"message": "gc-nope"}, {"department": "police"}, {"message": ""}, {"other": "x"}):
        response = press(admin, wanted)
        assert response.status_code in (200, 204)
    assert {state_of(web, m)[0] for m in web.messages.values()} == {"undelivered"}
    assert resend_audits(web) == []


# ---------------------------------------------------------------- the case page follows the versions


def case_refresh(client: Any, case_id: int, moved: str) -> Any:
    """The case page's refresh, as the browser sends it when the ``cases``/``loop`` versions moved."""
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if any(i["id"] == "case-moved" for i in d["inputs"]))
    outputs = []
    for part in dep["output"].strip(".").split("..."):
        ident, prop = part.rsplit(".", 1)
        outputs.append({"id": ident, "property": prop.split("@")[0]})
    values = {"act-done": None, "case-moved": moved}
    state = {"case-page-case": case_id, "case-loop-seen": "an older signature", "gridcc-url": ""}
    body = {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": [{**i, "value": values[i["id"]]} for i in dep["inputs"]],
        "state": [{**s, "value": state[s["id"]]} for s in dep["state"]],
        "changedPropIds": ["case-moved.data"],
    }
    token = client.get_cookie("_csrf_token").value
    return client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})


def test_the_case_page_reads_its_loop_when_the_versions_move_and_only_in_scope(
    web: Any, redis_conn: Any
) -> None:
    world: World = web.world
    duty1 = client_for(web, "duty1")
    page = json.dumps(render(duty1, f"/cases/{world.mine}").get_json())
    # the page follows the cases and loop versions through the long poll, not a 5 s re-read
    assert '"id": "case-versions"' in page and '"url": "/api/versions"' in page
    assert '"id": "case-moved"' in page and "case-tick" in page
    versions.bump(redis_conn, ["loop"])
    moved = ",".join(f"{k}:{v}" for k, v in versions.read(redis_conn).items() if k in ("cases", "loop"))
    answer = case_refresh(duty1, world.mine, moved)
    assert answer.status_code == 200
    body = json.dumps(answer.get_json(), ensure_ascii=False)
    assert "吹哨" in body and "区公安分局" in body  # the timeline and the card, read again
    # another street's case, whatever the request says: nothing
    theirs = case_refresh(duty1, world.theirs, moved)
    assert theirs.status_code == 204 or "吹哨" not in json.dumps(theirs.get_json(), ensure_ascii=False)
