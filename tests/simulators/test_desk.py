"""The departments' instruction desks (simulators.desk): they check gridcc's signature, deduplicate on
the idempotency key and count what they see (also over HTTP, for tests), answer like a bureau (most
报到 in time, some late, a few never, some 退回 with a reason), and misbehave on demand for a while."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from data.loop import signing
from data.loop.endpoints import load_endpoints
from simulators import SPECS
from simulators.desk import Behaviour, Desk
from simulators.faults import FaultSwitch, parse_faults
from simulators.places import District
from simulators.runner import Serving
from tests.simulators.test_support import Clock, add_district, start_sims

SECRET = "desk-secret-0123456789"


def instruction(
    key: str, report_in: timedelta = timedelta(minutes=30), secret: str = SECRET
) -> tuple[bytes, dict[str, str]]:
    doc = {"message_id": key, "report_by": (datetime.now(UTC) + report_in).isoformat(), "kind": "dispatch"}
    body = json.dumps(doc).encode()
    headers = {signing.IDEMPOTENCY_KEY: key, signing.MESSAGE_ID: key, "Content-Type": "application/json"}
    return body, headers | signing.signed_headers(secret, str(int(time.time())), body)


def test_signature_checked_and_duplicates_counted_once(tmp_path: Path) -> None:
    desk = Desk("police", SECRET)
    with Serving(desk) as base, httpx.Client(base_url=base) as client:
        url = "/loop/instructions"
        assert (
            client.post(url, content=b"{}", headers=instruction("k1", secret="wrong")[1]).status_code == 401
        )
        for _ in range(3):
            body, headers = instruction("k1")
            assert client.post(url, content=body, headers=headers).status_code == 200
        body, headers = instruction("k2")
        assert client.post(url, content=body, headers=headers).json() == {"ok": True}
        counts = client.get("/loop/_counts").json()
    assert (counts["received"], counts["unique"], counts["duplicates"], counts["bad_signatures"]) == (
        4,
        2,
        2,
        1,
    )
    assert counts["keys"] == {"k1": 3, "k2": 1} and set(desk.messages) == {"k1", "k2"}


def test_faults_for_a_while(tmp_path: Path) -> None:
    desk = Desk("police", SECRET, slow_seconds=2)
    with Serving(desk) as base, httpx.Client(base_url=base, timeout=1) as client:
        body, headers = instruction("k1")
        assert client.post("/loop/_faults", json={"mode": "refuse", "seconds": 0.5}).status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/loop/instructions", content=body, headers=headers)
        time.sleep(0.6)
        assert client.post("/loop/instructions", content=body, headers=headers).status_code == 200
        desk.set_fault("error500", seconds=5)
        assert client.post("/loop/instructions", content=body, headers=headers).status_code == 500
        desk.set_fault("slow")
        with pytest.raises(httpx.ReadTimeout):
            client.post("/loop/instructions", content=body, headers=headers)
        desk.set_fault("none")
    assert desk.counts.received == 1  # faulted requests never reached the desk's books


def test_answers_like_a_bureau() -> None:
    desk = Desk("police", SECRET, "http://127.0.0.1:9/unused", Behaviour(), rng=random.Random(11))
    now = datetime.now(UTC)
    doc = {"report_by": (now + timedelta(minutes=30)).isoformat()}
    plans = [desk.plan(doc, now) for _ in range(2000)]
    never = sum(not p for p in plans)
    refused = [p[0] for p in plans if p and p[0][1] == "refused"]
    accepted = [p[0] for p in plans if p and p[0][1] == "accepted"]
    late = [a for a in accepted if a[0] > 1800]
    assert 0.02 < never / 2000 < 0.09 and 0.05 < len(refused) / 2000 < 0.12 and 0.06 < len(late) / 2000 < 0.15
    assert len(accepted) - len(late) > 0.7 * 2000  # most 报到 within the limit
    assert all(r[2] for r in refused) and all(a[3] for a in accepted)  # a reason; a handler


def test_the_simulators_desks_and_feeds_file(engine: Engine, tmp_path: Path) -> None:
    add_district(engine)
    district = District.load(engine, "500151")
    secrets = {"police": SECRET}
    sims = start_sims(district, tmp_path / "sims.sqlite", Clock(), loop_secrets=secrets, answer_url=None)
    try:
        police = next(s.name for s in SPECS if s.department == "police")
        body, headers = instruction("k1")
        url = sims.urls[police] + "/loop/instructions"
        assert httpx.post(url, content=body, headers=headers).status_code == 200
        sims.set_fault(police, "error500:30")
        assert httpx.post(url, content=body, headers=headers).status_code == 500
        sims.set_fault(police, "refuse")
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(url, content=body, headers=headers)
        sims.write_feeds_file(tmp_path / "feeds.toml")
        endpoints = load_endpoints(tmp_path / "feeds.toml")
        assert list(endpoints) == ["police"] and endpoints["police"].url == url
        assert endpoints["police"].secret_env == "GRIDCC_LOOP_SECRET_POLICE"
        assert sims.apps[police].desk is not None and sims.apps[police].desk.counts.received == 1
    finally:
        sims.stop()


def test_faults_option_takes_a_duration() -> None:
    names = [s.name for s in SPECS]
    assert parse_faults("police=refuse:120", names) == {"police": "refuse:120"}
    with pytest.raises(ValueError, match="positive number"):
        parse_faults("police=refuse:soon", names)
    switch = FaultSwitch("error500:0.2")
    assert switch.mode == "error500"
    time.sleep(0.3)
    assert switch.mode == "none" and switch.draw() == "none"
