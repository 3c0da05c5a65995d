"""The whole loop end to end: real ``rq worker`` processes deliver a duty officer's 吹哨 to two
department desks (``simulators.desk``), which 报到 through the real web tier's inbound endpoint; the
case's timeline shows send → delivered → 报到 for each, in order. A leader's 督办 reaches its
department and the reply shows on the case. The deadlines job marks an unanswered recipient
超时未报到."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from data.db import transaction
from data.loop import actions
from data.models import CaseEvent, Recipient
from data.settings import Settings
from tests.workers._rq_stack import finished, wait_until
from workers.jobs.deadlines import run_deadlines
from workers.queues import enqueue_delivery

from ._loop_helpers import ENV, desks, write_endpoints
from .conftest import RqWorld

pytestmark = pytest.mark.slow


@pytest.fixture
def web(rq_world: RqWorld, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The real app (sign-in on) served on 127.0.0.1: its inbound endpoint's URL."""
    from dashboard.app import create_app
    from dashboard.map.page import PAGE as MAP_PAGE
    from dashboard.page import PageRegistry
    from dashboard.services import services

    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    s = rq_world.runtime.settings
    settings = Settings(
        data_dir=s.data_dir, database_url=s.database_url, redis_url=s.redis_url, feeds_file=s.feeds_file
    )
    app = create_app(settings, pages=PageRegistry([MAP_PAGE]))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/loop/answers"
    finally:
        server.shutdown()
        thread.join(5)
        services(app.server).close()


def _states(rw: RqWorld) -> dict[str, str]:
    with rw.runtime.session_factory() as session:
        return dict(session.execute(select(Recipient.department_code, Recipient.state)).all())


def _deliver_until(rw: RqWorld, predicate: object, what: str) -> None:
    def step() -> bool:
        if predicate():  # type: ignore[operator]
            return True
        job = enqueue_delivery(rw.runtime.redis)
        wait_until(lambda: finished(job), timeout=60, what="a delivery job")
        return bool(predicate())  # type: ignore[operator]

    wait_until(step, timeout=60, what=what)


def test_whistle_to_two_departments_delivered_and_both_report(rq_world: RqWorld, web: str) -> None:
    rw, world = rq_world, rq_world.world
    with desks(answer_url=web) as (found, urls):
        write_endpoints(rw.runtime.settings.effective_feeds_file, urls)
        with transaction(world.factory) as session:
            actions.whistle(
                session, world.settings, world.user(session, "duty1"), world.mine, "police",
                ["city_management"], "请公安、城管到场联合处置", datetime.now(UTC), urgency="urgent",
            )  # fmt: skip
        rw.stack.worker("w1")
        _deliver_until(rw, lambda: set(_states(rw).values()) == {"accepted"}, "both departments' 报到")
        assert all(len(d.messages) == 1 for d in found.values())  # each acted on the whistle once
        wait_until(lambda: all(d.counts.answers_sent == 1 for d in found.values()), what="the desks' counts")

        reply_by = datetime.now(UTC) + timedelta(hours=4)
        with transaction(world.factory) as session:
            actions.supervise(
                session, world.settings, world.user(session, "leader1"), world.mine, "限今日内办结并回复",
                reply_by, datetime.now(UTC), department="police",
            )  # fmt: skip
        _deliver_until(rw, lambda: len(found["police"].messages) == 2, "the 督办 at the police desk")
        [supervision] = [m for m in found["police"].messages.values() if m["kind"] == "supervise"]
        assert supervision["text"] == "限今日内办结并回复" and supervision["reply_by"] == reply_by.isoformat()
        wait_until(lambda: found["police"].counts.answers_sent == 2, timeout=30, what="the reply to the 督办")

    with rw.runtime.session_factory() as session:
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == world.mine).order_by(CaseEvent.id)
        ).all()
    lines = [(e.kind, e.detail.split(":")[0]) for e in events]
    assert [k for k, _d in lines if k == "instruction"] == ["instruction", "instruction"]
    for department in ("police", "city_management"):
        mine = [
            (e.kind, e.detail, e.at)
            for e in events
            if e.kind == "instruction" or e.detail.split(":")[1 if e.kind == "answer" else 0] == department
        ]
        kinds = [k for k, _d, _t in mine]
        assert [t for _k, _d, t in mine] == sorted(t for _k, _d, t in mine)  # each department's in time order
        first = kinds.index("instruction")
        assert kinds[first : first + 3] == ["instruction", "delivered", "answer"], (department, mine)
        assert mine[first + 2][1].startswith(f"accepted:{department}:")
    police_answers = [e.detail for e in events if e.kind == "answer" and ":police:" in e.detail]
    assert len(police_answers) == 2  # the 报到 to the whistle, and the reply to the 督办


def test_the_deadlines_job_marks_unanswered_recipients(rq_world: RqWorld) -> None:
    rw, world = rq_world, rq_world.world
    sent_at = datetime.now(UTC)
    with transaction(world.factory) as session:
        actions.dispatch(
            session, world.settings, world.user(session, "duty1"), world.mine, "police", "x", sent_at,
            urgency="urgent",
        )  # fmt: skip
    assert run_deadlines(rw.runtime, sent_at + timedelta(minutes=29))["loop_report_overdue"] == 0
    assert run_deadlines(rw.runtime, sent_at + timedelta(minutes=31))["loop_report_overdue"] == 1
    assert _states(rw) == {"police": "overdue"}
