"""The loop in ``gridcc demo``: one secret per department, shared by the simulators' desks, the
workers and the web server; a 吹哨 written to the demo's database is delivered by its real workers (the
cron's delivery job) to the simulators' desks; the web server checks answers with the same secrets."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from data.auth import get_user, scope_of
from data.db import make_engine, make_sessionmaker, transaction
from data.desk.filing import CaseForm, file_case
from data.loop import actions
from data.loop.endpoints import load_endpoints
from data.models import Recipient
from data.settings import Settings
from tests.loop._loop_helpers import signed_answer
from tests.stack import Demo
from tests.workers._rq_stack import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = Demo(tmp_path / "var")
    yield d
    d.kill_all()


def test_the_demo_delivers_a_whistle_to_the_simulators_desks(demo: Demo) -> None:
    demo.start()
    secrets_file = demo.data_dir / "loop-secrets.json"
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    secrets = json.loads(secrets_file.read_text())
    endpoints = load_endpoints(demo.data_dir / "feeds.toml")
    assert {"police", "city_management"} <= set(endpoints)
    assert (
        endpoints["police"].secret_env == "GRIDCC_LOOP_SECRET_POLICE" and secrets["GRIDCC_LOOP_SECRET_POLICE"]
    )

    settings = Settings(data_dir=demo.data_dir)
    engine = make_engine(settings)
    factory = make_sessionmaker(engine)
    try:
        # the duty officer files a case at the desk (登记), in its own street: the feeds' year of history
        # may take minutes to reach the duty officer's street on a loaded machine, and this test is about
        # the loop's secrets and delivery, not the polls (tests/test_demo.py waits for those)
        with transaction(factory) as session:
            duty = get_user(session, "duty")
            assert duty is not None
            place = sorted(scope_of(duty).codes)[0]
            filed = file_case(
                session, duty,
                CaseForm(category="city.street_vending", title="占道经营，来电反映", priority="urgent",
                         place=place, address="中兴路12号"),
                datetime.now(UTC),
            )  # fmt: skip
        case_id = filed.case_id
        with transaction(factory) as session:
            duty = get_user(session, "duty")
            assert duty is not None
            sent = actions.whistle(
                session, settings, duty, case_id, "police", ["city_management"], "请到场处置",
                datetime.now(UTC), urgency="urgent",
            )  # fmt: skip
            keys = {m.department_code: m.message_id for m in sent.messages}

        def delivered() -> bool:
            with factory() as session:
                return set(session.scalars(select(Recipient.delivered_at))) - {None} != set() and all(
                    r.delivered_at is not None for r in session.scalars(select(Recipient))
                )

        wait_until(delivered, timeout=180, what="the whistle delivered by the demo's workers")
    finally:
        engine.dispose()
    for code, key in keys.items():
        base = endpoints[code].url.rsplit("/loop/", 1)[0]
        counts = httpx.get(f"{base}/loop/_counts", timeout=10).json()
        assert counts["keys"].get(key) and counts["bad_signatures"] == 0
    # the web server knows the same secrets: a signed answer to a never-sent instruction is "not sent",
    # one signed with another secret is refused before that
    url = f"http://127.0.0.1:{demo.port}/api/loop/answers"
    secret = secrets["GRIDCC_LOOP_SECRET_POLICE"]
    body, headers = signed_answer("police", "gc-never-sent", secret=secret, stamp=int(time.time()))
    assert httpx.post(url, content=body, headers=headers, timeout=10).json()["error"] == "not_sent"
    body, headers = signed_answer("police", "gc-never-sent", secret="guess")
    assert httpx.post(url, content=body, headers=headers, timeout=10).json()["error"] == "bad_signature"
    assert demo.stop() == 0
