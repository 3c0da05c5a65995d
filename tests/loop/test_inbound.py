"""The inbound endpoint ``POST /api/loop/answers`` on the real app (sign-in on): a department's signed
answers are applied to its recipient and the case's timeline, audited; forged ones — another
department's key, a bad signature, a replay, an answer to an instruction never sent to it, a stale
timestamp, an unknown department — are refused with a clear status and JSON, audited, and change
nothing. No session and no CSRF token are needed there, and only there."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from data.auth import audit_rows
from data.db import transaction
from data.loop import actions, outbox
from data.models import Answer, CaseEvent, Instruction, OutboxMessage, Recipient
from data.settings import Settings
from layers import versions

from ._loop_helpers import ENV, SECRETS, signed_answer, write_endpoints
from .conftest import World, make_world

URL = "/api/loop/answers"


@pytest.fixture
def setup(
    engine: Any,
    session_factory: Any,
    database_url: str,
    redis_url: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Any, World, dict[str, str]]]:
    from dashboard.app import create_app
    from dashboard.map.page import PAGE as MAP_PAGE
    from dashboard.page import PageRegistry
    from dashboard.services import services

    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    settings = Settings(
        data_dir=tmp_path / "var", database_url=database_url, redis_url=redis_url,
        feeds_file=tmp_path / "feeds.toml", auth_required=True,
    )  # fmt: skip
    write_endpoints(settings.effective_feeds_file, {code: "http://127.0.0.1:9" for code in SECRETS})
    world = make_world(session_factory, settings)
    with transaction(world.factory) as session:
        sent = actions.whistle(
            session, settings, world.user(session, "duty1"), world.mine, "police", ["city_management"],
            "请到场", datetime.now(UTC),
        )  # fmt: skip
        ids = {m.department_code: m.message_id for m in sent.messages}
    app = create_app(settings, pages=PageRegistry([MAP_PAGE]))
    yield app.server.test_client(), world, ids
    services(app.server).close()


def snapshot(world: World) -> tuple[Any, ...]:
    with world.factory() as session:
        recipients = session.execute(select(Recipient.id, Recipient.state, Recipient.handler)).all()
        counted = [
            session.scalar(select(func.count()).select_from(m)) for m in (Answer, CaseEvent, Instruction)
        ]
        return (sorted(recipients), *counted)


def post(client: Any, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(URL, data=body, headers=headers)


def test_a_departments_answers_move_its_recipient_and_reach_the_timeline(setup: Any) -> None:
    client, world, ids = setup
    with transaction(world.factory) as session:  # police's message delivered; city_management's not yet
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.message_id == ids["police"])).one()
        outbox.mark_delivered(session, row.id, datetime.now(UTC))
    for department, kind, extra in [
        ("police", "accepted", {"handler": "王建国"}),
        ("police", "progress", {"text": "已到现场"}),
        ("police", "done", {"text": "已处置完毕"}),
        ("city_management", "refused", {"text": "不属于本部门职责范围"}),
    ]:
        response = post(client, *signed_answer(department, ids[department], kind, fields=extra))
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["state"] == kind
    with world.factory() as session:
        states = dict(session.execute(select(Recipient.department_code, Recipient.state)).all())
        assert states == {"police": "done", "city_management": "refused"}
        police = session.scalars(select(Recipient).where(Recipient.department_code == "police")).one()
        assert police.handler == "王建国" and police.accepted_at is not None
        events = session.execute(
            select(CaseEvent.kind, CaseEvent.detail, CaseEvent.actor)
            .where(CaseEvent.case_id == world.mine)
            .order_by(CaseEvent.id)
        ).all()
    kinds = [(k, d.split(":")[0]) for k, d, _a in events]
    assert kinds == [
        ("instruction", "whistle"),
        ("delivered", "police"),
        ("answer", "accepted"),
        ("answer", "progress"),
        ("answer", "done"),
        ("delivered", "city_management"),  # the answer proves the delivery, before it
        ("answer", "refused"),
    ]
    assert events[2].actor == "dept:police" and events[2].detail.endswith(": 王建国")
    with world.factory() as session:
        assert len(audit_rows(session, action="loop_answer")) == 4


def test_forged_answers_are_refused_audited_and_change_nothing(setup: Any) -> None:
    client, world, ids = setup
    ok_body, ok_headers = signed_answer("police", ids["police"], message_id="police-replayed-1")
    assert post(client, ok_body, ok_headers).status_code == 200
    before = snapshot(world)
    now, sent = int(time.time()), ids["police"]
    body, headers = signed_answer("police", ids["police"])
    tampered = body.replace(b"accepted", b"refused ")
    cases = {
        # city_management's own key, answering police's instruction
        "another department's key": (signed_answer("city_management", sent), 404, "not_sent"),
        # claims to be police, signed with city_management's secret
        "someone else's secret": (
            signed_answer("police", sent, "done", secret=SECRETS["city_management"]), 401, "bad_signature",
        ),
        "a bad signature": ((tampered, headers), 401, "bad_signature"),
        "a replay": ((ok_body, ok_headers), 409, "replayed"),
        "a never-sent instruction": (signed_answer("police", "gc-never-sent"), 404, "not_sent"),
        "a stale timestamp": (signed_answer("police", sent, stamp=now - 400), 401, "stale_timestamp"),
        "a future timestamp": (signed_answer("police", sent, stamp=now + 400), 401, "stale_timestamp"),
        "an unknown department": (signed_answer("nobody", sent, secret="x"), 401, "unknown_department"),
        "no handler on a 报到": (
            signed_answer("police", sent, fields={"handler": ""}), 400, "bad_request",
        ),
    }  # fmt: skip
    for what, ((body, headers), status, code) in cases.items():
        response = post(client, body, headers)
        assert (response.status_code, response.get_json()["error"]) == (status, code), what
        assert response.is_json and response.headers["Cache-Control"] == "no-store"
    assert snapshot(world) == before
    with world.factory() as session:
        refused = audit_rows(session, action="loop_answer_refused")
        assert sorted(r.detail.split(":")[0] for r in refused) == sorted(c[2] for c in cases.values())
        assert all(r.target == "api:loop/answers" for r in refused)


def test_no_session_or_csrf_is_needed_there_and_only_there(setup: Any) -> None:
    client, _world, ids = setup
    assert post(client, *signed_answer("police", ids["police"])).status_code == 200  # no cookie at all
    assert client.post("/api/loop/other", data=b"{}").status_code == 401  # elsewhere: sign in first


def test_an_answer_bumps_the_loop_version_a_forged_one_does_not(setup: Any, redis_conn: Any) -> None:
    client, _world, ids = setup
    before = versions.read(redis_conn)["loop"]
    forged = post(client, *signed_answer("police", ids["police"], secret="not-the-secret"))
    assert forged.status_code == 401 and versions.read(redis_conn)["loop"] == before
    answer = post(client, *signed_answer("police", ids["police"], fields={"handler": "王建国"}))
    assert answer.status_code == 200 and versions.read(redis_conn)["loop"] == before + 1
