"""The ``open311`` connector end to end: a 交办 of a case the department does not hold is filed in the
department's own Open311 system (the real simulator's ``POST requests``) by the real delivery run; the
returned service_request_id is on the ``delivered`` event; the department's feed then serves the
request and gridcc's real poll ingests it. A redelivery of the same message files nothing new; a 吹哨,
or a 交办 of a case the department holds, goes to its desk as signed JSON; a wrong api key is refused
for good."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import Engine, select

from data.auth import create_user, get_user
from data.db import make_sessionmaker, transaction
from data.loop import actions
from data.loop.endpoints import EndpointConfig, EndpointConfigError, parse_endpoints
from data.models import Case, CaseEvent, OutboxMessage, Recipient
from data.seed import seed_catalogue
from data.settings import Settings
from simulators import District, SimulatorSet
from simulators.apps import Open311App
from simulators.feedsfile import feeds_toml
from tests.simulators.test_support import DISTRICT, Clock, add_district, post, start_sims
from workers.jobs.poll import run_poll
from workers.outbox import registry
from workers.outbox.deliver import run_delivery
from workers.outbox.open311 import receipt, request_form
from workers.outbox.registry import DeliveryError
from workers.runtime import Runtime

pytestmark = pytest.mark.slow

DEPT = "city_management"
SECRET = "cm-secret-0123456789"
API_KEY = "cg-open311-key-42"
KEY_ENV, SECRET_ENV = "GRIDCC_TEST_OPEN311_KEY_CM", "GRIDCC_TEST_LOOP_SECRET_CM"


@dataclass
class World:
    sims: SimulatorSet
    runtime: Runtime

    @property
    def cg(self) -> Open311App:
        app = self.sims.apps[DEPT]
        assert isinstance(app, Open311App)
        return app

    def deliver(self) -> dict[str, object]:
        rt = self.runtime
        return run_delivery(rt.session_factory, rt.settings, rt.endpoints()).as_dict()

    def act(self, what: str, case_id: int) -> int:
        with transaction(self.runtime.session_factory) as session:
            leader = get_user(session, "leader1")
            assert leader is not None
            s, now = self.runtime.settings, datetime.now(UTC)
            if what == "dispatch":
                sent = actions.dispatch(session, s, leader, case_id, DEPT, "请核查并清理占道摊点", now)
            else:
                sent = actions.whistle(session, s, leader, case_id, DEPT, [], "请到场", now)
            return sent.instruction.id

    def events(self, case_id: int, kind: str) -> list[str]:
        with self.runtime.session_factory() as session:
            q = select(CaseEvent.detail).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
            return list(session.scalars(q.order_by(CaseEvent.id)))

    def case(self, feed: str, rid: str) -> Case:
        with self.runtime.session_factory() as session:
            return session.scalars(select(Case).where(Case.feed_name == feed, Case.external_id == rid)).one()


def endpoint_toml(url: str, open311_url: str) -> str:
    return "\n".join(
        [
            "[[endpoint]]",
            f'department = "{DEPT}"',
            f'url = "{url}/loop/instructions"',
            'signing = "open311"',
            f'secret_env = "{SECRET_ENV}"',
            f'open311_url = "{open311_url}"',
            f'api_key_env = "{KEY_ENV}"',
            'service_codes = { "city.street_vending" = "city.street_vending" }',
            "timeout = 5",
            "",
        ]
    )


@pytest.fixture
def world(
    engine: Engine, settings: Settings, redis_url: str, redis_conn: redis.Redis, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:  # fmt: skip
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        seed_catalogue(session)
        create_user(session, "leader1", "correct horse 9", "leader", DISTRICT)
    add_district(engine)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv(KEY_ENV, API_KEY)
    sims = start_sims(
        District.load(engine, DISTRICT), tmp_path / "sims.sqlite", Clock(), loop_secrets={DEPT: SECRET},
        open311_keys={DEPT: API_KEY},
    )  # fmt: skip
    try:
        feeds = settings.data_dir / "feeds.toml"
        feeds.parent.mkdir(parents=True, exist_ok=True)
        base = sims.urls[DEPT]
        feeds.write_text(
            feeds_toml(sims.urls) + endpoint_toml(base, f"{base}/requests.json"), encoding="utf-8"
        )
        s = settings.model_copy(update={"redis_url": redis_url, "feeds_file": feeds})
        yield World(sims, Runtime(s, engine, factory, redis_conn))
    finally:
        sims.stop()


def _hotline_case(w: World) -> Case:
    form = {
        "service_code": "city.street_vending",
        "lat": "29.86",
        "long": "106.03",
        "description": "占道摆摊",
    }
    url = f"{w.sims.urls['hotline12345']}/requests.json"
    status, body = post(url, urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded")
    assert status == 201
    rid = body.decode().split('"service_request_id": "')[1].split('"')[0]
    assert run_poll(w.runtime, "hotline12345")["status"] == "ok"
    return w.case("hotline12345", rid)


def test_a_dispatch_is_filed_with_open311_post_requests(world: World) -> None:
    w = world
    case = _hotline_case(w)
    assert case.feed_name == "hotline12345"  # the department does not hold it yet
    iid = w.act("dispatch", case.id)
    assert w.deliver()["delivered"] == 1
    [delivered] = w.events(case.id, "delivered")
    assert delivered.startswith(f"{DEPT}:{iid}: service_request_id=CG-")
    rid = delivered.split("service_request_id=")[1]
    assert w.cg.posts == {"filed": 1, "duplicates": 0, "refused": 0}
    assert w.cg.desk is not None and w.cg.desk.messages == {}  # filed in Open311, not sent to the desk

    record = w.sims.simulation.book.get(rid)  # type: ignore[union-attr]
    assert record is not None and record["feed"] == DEPT and record["service_code"] == "city.street_vending"
    assert "请核查并清理占道摊点" in record["description"] and record["lat"] == pytest.approx(29.86)
    assert "张三" not in record["description"]

    # the department's feed serves the request: gridcc's real poll ingests it as the department's case
    assert run_poll(w.runtime, DEPT)["status"] == "ok"
    theirs = w.case(DEPT, rid)
    assert theirs.category_code == "city.street_vending" and theirs.is_open

    # at least once, never doubled: the same message delivered again files nothing new
    with w.runtime.session_factory() as session:
        message = session.scalars(select(OutboxMessage)).one()
    endpoint = w.runtime.endpoints()[DEPT]
    again = registry.get("open311").send(endpoint, message.message_id, message.body.encode())
    assert again == f"service_request_id={rid}"
    assert w.cg.posts == {"filed": 1, "duplicates": 1, "refused": 0}

    # a 吹哨 goes to the desk as signed JSON; so does a 交办 of the case the department holds now
    w.act("whistle", case.id)
    w.act("dispatch", theirs.id)
    assert w.deliver()["delivered"] == 2
    assert sorted(m["kind"] for m in w.cg.desk.messages.values()) == ["dispatch", "whistle"]
    assert w.cg.posts["filed"] == 1 and w.cg.desk.counts.bad_signatures == 0
    assert w.events(theirs.id, "delivered") == [f"{DEPT}:{iid + 2}"]


def test_a_wrong_api_key_is_refused_for_good(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    case = _hotline_case(w)
    monkeypatch.setenv(KEY_ENV, "not-the-key")
    w.act("dispatch", case.id)
    counts = w.deliver()
    assert counts["undelivered"] == 1 and "HTTP 403" in str(counts["errors"])
    with w.runtime.session_factory() as session:
        assert session.scalars(select(Recipient.state)).one() == "undelivered"
    assert w.cg.posts == {"filed": 0, "duplicates": 0, "refused": 1}

    # nor does anyone file with the department without its key (the simulator's side)
    form = {"service_code": "city.clutter", "lat": "29.86", "long": "106.03", "api_key": "guess"}
    status, _body = post(
        f"{w.sims.urls[DEPT]}/requests.json", urllib.parse.urlencode(form).encode(),
        "application/x-www-form-urlencoded",
    )  # fmt: skip
    assert status == 403
    police = f"{w.sims.urls['police']}/requests.json"  # a department with no key takes no requests
    status, _body = post(police, urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded")
    assert status == 405


def _endpoint(**kw: object) -> EndpointConfig:
    return EndpointConfig.model_validate(
        {
            "department": DEPT,
            "url": "http://127.0.0.1:9/x",
            "secret_env": SECRET_ENV,
            "signing": "open311",
            **kw,
        }
    )


def test_the_request_form_and_its_answers() -> None:
    doc = {
        "kind": "dispatch", "instruction_id": 7, "text": "清理", "report_by": "2026-12-06T05:10:00+00:00",
        "case": {"id": 3, "title": "占道经营", "category": "city.street_vending", "lat": 29.8, "lon": 106.0,
                 "address": "巴川街道", "source_department": "hotline12345"},
    }  # fmt: skip
    mapped = _endpoint(service_codes={"city.street_vending": "CG-01"})
    form = request_form(mapped, "gc-1", doc, "k")
    assert form["service_code"] == "CG-01" and form["api_key"] == "k"
    assert (form["lat"], form["long"], form["address_string"]) == ("29.8000000", "106.0000000", "巴川街道")
    assert form["attribute[gridcc_message_id]"] == "gc-1" and form["attribute[gridcc_case_id]"] == "3"
    assert request_form(_endpoint(default_service_code="ANY"), "gc-1", doc, "k")["service_code"] == "ANY"
    nowhere = {**doc, "case": {**doc["case"], "lat": None, "lon": None, "address": ""}}
    with pytest.raises(DeliveryError) as refused:
        request_form(mapped, "gc-1", nowhere, "k")
    assert refused.value.permanent

    xml = b"<?xml version='1.0'?><service_requests><request><service_request_id>GA-9</service_request_id>"
    xml += b"</request></service_requests>"
    assert receipt(httpx.Response(201, content=xml), "http://x/requests.xml") == "service_request_id=GA-9"
    token = httpx.Response(200, content=b'[{"token": "tok-1", "service_notice": ""}]')
    assert receipt(token, "http://x/requests.json") == "token=tok-1"
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'  # defused, not expanded
    assert receipt(httpx.Response(200, content=bomb), "http://x/requests.xml") == "service_request_id=?"

    with pytest.raises(EndpointConfigError):
        parse_endpoints({"endpoint": [{**_endpoint().model_dump(), "open311_url": "file:///etc/passwd"}]})
    assert "open311" in registry.names()
