"""The case moves on its feed after 报到: a 交办 / 吹哨 delivered to the real simulators' desks, their
报到 and 办结 answered through the real web tier, and the simulated feed the case came from showing it
in the department's hands — so gridcc's next real poll (the normal ingest) moves the case:
in_progress after 报到, closed after 办结."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, select
from werkzeug.serving import make_server

from data.auth import create_user, get_user
from data.db import make_sessionmaker, transaction
from data.loop import actions
from data.models import Case, CaseEvent, Recipient
from data.seed import seed_catalogue
from data.settings import Settings
from simulators import District, SimulatorSet
from simulators.desk import Behaviour, Desk
from simulators.feedsfile import secret_env
from tests.simulators.test_support import DISTRICT, Clock, add_district, post, start_sims
from tests.workers._rq_stack import wait_until
from workers.jobs.poll import run_poll
from workers.outbox.deliver import run_delivery
from workers.runtime import Runtime

pytestmark = pytest.mark.slow

SECRETS = {"police": "police-secret-0123456789", "city_management": "cm-secret-0123456789"}
QUICK = Behaviour(p_never=0, p_late=0, p_refuse=0, scale=0.0003, max_delay=0.3)  # 报到 within ~0.3 s
FEED = "hotline12345"


@dataclass
class Loop:
    sims: SimulatorSet
    clock: Clock
    runtime: Runtime

    def desk(self, department: str) -> Desk:
        desk = next(a.desk for a in self.sims.apps.values() if a.desk and a.desk.department == department)
        assert desk is not None
        return desk

    def deliver(self) -> None:
        run_delivery(self.runtime.session_factory, self.runtime.settings, self.runtime.endpoints())

    def poll(self) -> None:
        assert run_poll(self.runtime, FEED)["status"] == "ok"

    def case(self, rid: str) -> Case:
        with self.runtime.session_factory() as session:
            return session.scalars(select(Case).where(Case.feed_name == FEED, Case.external_id == rid)).one()

    def states(self) -> dict[str, str]:
        with self.runtime.session_factory() as session:
            return dict(session.execute(select(Recipient.department_code, Recipient.state)).all())


@pytest.fixture
def loop(
    engine: Engine, settings: Settings, redis_url: str, redis_conn: redis.Redis, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Loop]:  # fmt: skip
    from dashboard.app import create_app
    from dashboard.map.page import PAGE as MAP_PAGE
    from dashboard.page import PageRegistry
    from dashboard.services import services

    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        seed_catalogue(session)
        create_user(session, "leader1", "correct horse 9", "leader", DISTRICT)
    add_district(engine)
    for code, secret in SECRETS.items():
        monkeypatch.setenv(secret_env(code), secret)
    feeds = settings.data_dir / "feeds.toml"
    s = settings.model_copy(update={"redis_url": redis_url, "feeds_file": feeds})
    app = create_app(s, pages=PageRegistry([MAP_PAGE]))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    web = threading.Thread(target=server.serve_forever, daemon=True)
    web.start()
    clock = Clock()
    sims = start_sims(
        District.load(engine, DISTRICT), tmp_path / "sims.sqlite", clock, loop_secrets=SECRETS,
        answer_url=f"http://127.0.0.1:{server.server_port}/api/loop/answers",
    )  # fmt: skip
    try:
        sims.write_feeds_file(feeds)
        for app_ in sims.apps.values():
            if app_.desk is not None:
                app_.desk.behaviour = QUICK
        yield Loop(sims, clock, Runtime(s, engine, factory, redis_conn))
    finally:
        sims.stop()
        server.shutdown()
        web.join(5)
        services(app.server).close()


def _file_case(loop: Loop) -> str:
    form = {
        "service_code": "city.street_vending",
        "lat": "29.86",
        "long": "106.03",
        "description": "占道摆摊",
    }
    url = f"{loop.sims.urls[FEED]}/requests.json"
    status, body = post(url, urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded")
    assert status == 201
    return body.decode().split('"service_request_id": "')[1].split('"')[0]


def test_the_case_moves_on_its_feed_after_report_and_done(loop: Loop) -> None:
    rid = _file_case(loop)
    loop.poll()
    case = loop.case(rid)
    assert case.status == "reported" and case.is_open

    loop.clock.now += timedelta(minutes=1)
    with transaction(loop.runtime.session_factory) as session:
        leader = get_user(session, "leader1")
        assert leader is not None
        actions.whistle(
            session, loop.runtime.settings, leader, case.id, "police", ["city_management"], "请到场处置",
            datetime.now(UTC), urgency="urgent",
        )  # fmt: skip
    loop.deliver()
    wait_until(lambda: set(loop.states().values()) == {"accepted"}, timeout=30, what="both 报到")
    book = loop.sims.simulation.book  # type: ignore[union-attr]
    wait_until(lambda: book.get(rid)["status"] == "in_progress", timeout=10, what="the record in hand")
    police, city = loop.desk("police"), loop.desk("city_management")
    wait_until(lambda: sum(police.moved.values()) + sum(city.moved.values()) == 1, what="the record moved")
    record = book.get(rid)
    assert record is not None and record["status"] == "in_progress" and record["accepted_at"]

    loop.poll()  # the normal ingest moves the case
    case = loop.case(rid)
    assert (case.status, case.is_open) == ("in_progress", True)

    loop.clock.now += timedelta(minutes=1)
    [key] = police.messages
    police.answer(key, "done", text="已处置完毕")
    wait_until(lambda: loop.states()["police"] == "done", timeout=30, what="the police 办结")
    wait_until(lambda: book.get(rid)["status"] == "closed", timeout=10, what="the record closed")
    assert police.moved["closed"] == 1
    loop.poll()
    case = loop.case(rid)
    assert (case.status, case.is_open) == ("closed", False)
    with loop.runtime.session_factory() as session:
        changes = session.execute(
            select(CaseEvent.from_status, CaseEvent.to_status)
            .where(CaseEvent.case_id == case.id, CaseEvent.kind == "status")
            .order_by(CaseEvent.id)
        ).all()
    assert [tuple(c) for c in changes][-2:] == [("in_progress", "resolved"), ("resolved", "closed")]

    # the second desk's 办结 of a closed case moves nothing; nor does anything after
    [key] = city.messages
    city.answer(key, "done")
    wait_until(lambda: loop.states()["city_management"] == "done", timeout=30, what="the city 办结")
    assert city.moved["closed"] == 0
    row = book.get(rid)
    assert row is not None and row["status"] == "closed"


def test_only_the_named_record_of_that_feed_moves(loop: Loop) -> None:
    book = loop.sims.simulation.book  # type: ignore[union-attr]
    rid = _file_case(loop)
    now = loop.clock.now + timedelta(minutes=1)
    assert book.take_over("police", rid, "accepted", now) is None  # another feed's record
    assert book.take_over(FEED, "TL12345-1999-000001", "accepted", now) is None  # no such record
    assert book.take_over(FEED, rid, "refused", now) is None  # 退回 leaves it where it is
    assert book.take_over(FEED, rid, "progress", now) is None
    assert book.get(rid)["status"] == "reported"  # type: ignore[index]
    assert book.take_over(FEED, rid, "accepted", now) == "in_progress"
    assert book.take_over(FEED, rid, "accepted", now) is None  # once
    row = book.get(rid)
    assert row is not None and row["updated_at"].startswith(now.strftime("%Y-%m-%dT%H:%M"))
    later = now + timedelta(days=400)  # the plan's own later steps still come, in order, never back
    book.step(later)
    assert book.get(rid)["status"] in ("resolved", "closed")  # type: ignore[index]


def test_a_desk_with_no_record_of_the_case_answers_without_moving_anything(loop: Loop) -> None:
    with pytest.raises(KeyError):
        loop.desk("police").answer("gc-never-sent", "accepted", handler="王建国")
