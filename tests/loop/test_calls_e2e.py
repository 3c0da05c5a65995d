"""预警叫应 end to end: a real CAP feed (local HTTP) polled by real ``rq worker`` processes, the real
grid patrol desk (``simulators.desk``) receiving the calls and answering through the real web tier's
inbound endpoint, each answer signed with its grid's own key.

A 橙色 warning over street 1's four grids → four calls delivered → answers arrive → the wall's counts
rise → 再叫应 reaches only the silent grids → an Update raising the level calls every grid again → a
Cancel ends it. Forged answers (another grid's key, the app's own secret, a call never sent) are
refused and change nothing; a duty officer of another street sees no call and calls no one."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from data.db import transaction
from data.loop import signing
from data.loop.calls import CallsNotFound, grid_key, recall
from data.models import AlertCall, Answer, AuditLog, OutboxMessage
from data.queries.calls import alert_calls, call_counts
from data.scope import AreaScope
from data.settings import Settings
from layers.wall_payload import build_ticker
from simulators.desk import Behaviour, CallBehaviour, Desk
from simulators.runner import Serving
from tests.workers._rq_stack import finished, wait_until
from tests.workers.test_poll_support import cap_alert, feed_server
from workers.queues import enqueue_delivery, enqueue_poll

from ._loop_helpers import ENV
from .conftest import STREET_1, STREET_2, RqWorld

pytestmark = pytest.mark.slow

SECRET = "grid-patrol-secret-0123456789"
SECRET_ENV = "GRIDCC_TEST_LOOP_SECRET_GRID_PATROL"
# street 1 is the west half of the test district (105.90–106.05 E, 29.70–29.95 N): its four grids
STREET_1_POLYGON = "29.71,105.91 29.71,106.04 29.94,106.04 29.94,105.91 29.71,105.91"
SILENT_DESK = CallBehaviour(p_never=1.0, p_recall_answers=0.0)  # the test answers by hand, grid by grid


@pytest.fixture
def web(rq_world: RqWorld, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The real app served on 127.0.0.1: its inbound endpoint's URL."""
    from dashboard.app import create_app
    from dashboard.map.page import PAGE as MAP_PAGE
    from dashboard.page import PageRegistry
    from dashboard.services import services

    for name, value in {**ENV, SECRET_ENV: SECRET}.items():
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


def _feeds_file(cap_base: str, desk_url: str) -> str:
    return "\n".join(
        [
            "[[feed]]", 'name = "weather"', 'department = "weather"', 'protocol = "cap"',
            f'url = "{cap_base}/cap/index.atom"', "interval = 60", "",
            "[[endpoint]]", 'department = "grid_patrol"', f'url = "{desk_url}/loop/instructions"',
            'signing = "signed-json"', f'secret_env = "{SECRET_ENV}"', "timeout = 5", "",
        ]
    )  # fmt: skip


def _poll(rw: RqWorld) -> None:
    job = enqueue_poll(rw.runtime.redis, "weather")
    wait_until(lambda: finished(job), timeout=90, what="the CAP poll")


def _deliver_until(rw: RqWorld, predicate: object, what: str) -> None:
    def step() -> bool:
        if predicate():  # type: ignore[operator]
            return True
        job = enqueue_delivery(rw.runtime.redis)
        wait_until(lambda: finished(job), timeout=60, what="a delivery job")
        return bool(predicate())  # type: ignore[operator]

    wait_until(step, timeout=90, what=what)


def _calls_by_grid(desk: Desk, kind: str = "call") -> dict[str, list[dict[str, object]]]:
    """The messages the desk received (each key once), by grid, in the order received."""
    out: dict[str, list[dict[str, object]]] = {}
    with desk._lock:
        docs = list(desk.messages.values())
    for doc in docs:
        if doc.get("type") == kind:
            out.setdefault(doc["grid"]["code"], []).append(doc)  # type: ignore[index]
    return out


def _counts(rw: RqWorld, scope: str = STREET_1) -> tuple[int, int]:
    with rw.runtime.session_factory() as session:
        found = call_counts(session, AreaScope.of(scope))
    return (found[0].answered, found[0].total) if found else (0, 0)


def _post(url: str, grid: str | None, key: str, doc: dict[str, object]) -> httpx.Response:
    body = json.dumps(doc, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", signing.DEPARTMENT: "grid_patrol"}
    headers.update(signing.signed_headers(key, stamp, body))
    if grid:
        headers["X-Gridcc-Grid"] = grid
    return httpx.post(url, content=body, headers=headers, timeout=10)


def _answer_doc(in_reply_to: str, kind: str = "received", **extra: object) -> dict[str, object]:
    return {"message_id": f"forged-{uuid.uuid4().hex}", "in_reply_to": in_reply_to, "kind": kind, **extra}


def test_a_warning_calls_its_grids_answers_count_recall_reaches_the_silent_raise_and_cancel(
    rq_world: RqWorld, web: str
) -> None:
    rw, world = rq_world, rq_world.world
    rw.stack.env[SECRET_ENV] = SECRET
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    with ExitStack() as stack:
        cap_base, cap = stack.enter_context(feed_server())
        desk = Desk("grid_patrol", SECRET, web, Behaviour(), calls=SILENT_DESK, slow_seconds=5).start()
        stack.callback(desk.stop)
        desk_url = stack.enter_context(Serving(desk))
        rw.runtime.settings.effective_feeds_file.write_text(_feeds_file(cap_base, desk_url), encoding="utf-8")
        rw.stack.worker("w1")

        # a 橙色 warning (Severe) over street 1 → one call to each of its four grids, delivered
        cap.put_cap("W1", sent, cap_alert("W1", sent, severity="Severe", polygon=STREET_1_POLYGON))
        _poll(rw)
        _deliver_until(rw, lambda: len(_calls_by_grid(desk)) == 4, "a call at each of the four grids")
        calls = _calls_by_grid(desk)
        assert all(g.startswith(STREET_1) for g in calls) and all(len(v) == 1 for v in calls.values())
        first = {grid: str(docs[0]["message_id"]) for grid, docs in calls.items()}
        assert {d[0]["level"] for d in calls.values()} == {"Severe"}
        assert all("phone" not in json.dumps(d[0]) for d in calls.values())  # the worker's name, no phone
        wait_until(lambda: _delivered(rw) == 4, what="the four deliveries recorded")
        assert _counts(rw) == (0, 4)

        # answers arrive, each signed with its own grid's key: the counts rise
        grids = sorted(first)
        desk.call_answer(first[grids[0]], "received")
        desk.call_answer(first[grids[0]], "evacuated", count=12, delay=0.2)
        desk.call_answer(first[grids[1]], "support", text="低洼处积水，需要抽水设备")
        wait_until(lambda: _counts(rw) == (2, 4), what="two grids answered")
        with rw.runtime.session_factory() as session:
            ticker = build_ticker(session, AreaScope.of("500151"), datetime.now(UTC))
        assert ticker["calls"][0]["answered"] == 2 and ticker["calls"][0]["total"] == 4
        wait_until(lambda: _state(rw, grids[0]) == ("evacuated", 12), what="已转移 12 人")
        assert ticker["calls"][0]["support"] == 1

        # forgeries change nothing
        before = _answer_count(rw)
        other_key = grid_key(SECRET, grids[3])
        refused = [
            _post(web, grids[3], other_key, _answer_doc(first[grids[2]])),  # another grid's key and call
            _post(web, grids[2], other_key, _answer_doc(first[grids[2]])),  # grid 2 named, grid 3's key
            _post(web, None, SECRET, _answer_doc(first[grids[2]])),  # the app's secret, no grid
            _post(web, grids[2], grid_key(SECRET, grids[2]), _answer_doc("gc-call-never-sent")),
            _post(web, grids[2], grid_key(SECRET, grids[2]), _answer_doc(first[grids[2]], "evacuated")),
        ]
        assert [(r.status_code, r.json()["error"]) for r in refused] == [
            (404, "not_sent"), (401, "bad_signature"), (404, "not_sent"), (404, "not_sent"),
            (400, "bad_request"),
        ]  # fmt: skip
        assert _answer_count(rw) == before and _counts(rw) == (2, 4)

        # a duty officer of the other street sees no call and calls no one
        with transaction(world.factory) as session:
            assert alert_calls(session, AreaScope.of(STREET_2), _alert_id(rw)) == []
            with pytest.raises(CallsNotFound):
                recall(session, world.user(session, "duty2"), _alert_id(rw), datetime.now(UTC))
        # 再叫应 by street 1's duty officer: only the two silent grids get a new call
        with transaction(world.factory) as session:
            again = recall(session, world.user(session, "duty1"), _alert_id(rw), datetime.now(UTC))
        assert len(again) == 2
        _deliver_until(rw, lambda: sum(len(v) for v in _calls_by_grid(desk).values()) == 6, "the two 再叫应")
        calls = _calls_by_grid(desk)
        assert sorted(g for g, docs in calls.items() if len(docs) == 2) == grids[2:]
        assert all(docs[-1]["recall"] for docs in calls.values() if len(docs) == 2)
        with rw.runtime.session_factory() as session:
            assert session.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.action == "call_recall")
            )

        # an Update that raises the level (橙 → 红) calls every grid again; earlier answers no longer count
        later = sent + timedelta(minutes=1)
        cap.put_cap(
            "W2", later, cap_alert("W2", later, "Update", ("W1",), "Extreme", polygon=STREET_1_POLYGON)
        )
        _poll(rw)
        _deliver_until(
            rw, lambda: sum(len(v) for v in _calls_by_grid(desk).values()) == 10, "the calls again"
        )
        calls = _calls_by_grid(desk)
        assert {docs[-1]["level"] for docs in calls.values()} == {"Extreme"}
        assert {docs[-1]["round"] for docs in calls.values()} == {2}
        assert _counts(rw) == (0, 4)
        desk.call_answer(first[grids[3]], "received")  # to the first round's call: received, not counted
        latest = {g: str(docs[-1]["message_id"]) for g, docs in calls.items()}
        desk.call_answer(latest[grids[3]], "patrolled", delay=0.3)
        wait_until(lambda: _counts(rw) == (1, 4), what="one grid answered the new round")

        # a Cancel ends the calling: the grids are told, nothing more counts
        end = later + timedelta(minutes=1)
        cap.put_cap("W3", end, cap_alert("W3", end, "Cancel", ("W1",), polygon=STREET_1_POLYGON))
        _poll(rw)
        _deliver_until(rw, lambda: len(_calls_by_grid(desk, "call_ended")) == 4, "the grids told it ended")
        assert _counts(rw) == (0, 0)
        late = _post(web, grids[0], grid_key(SECRET, grids[0]), _answer_doc(latest[grids[0]], "patrolled"))
        assert (late.status_code, late.json()["error"]) == (409, "conflict")
        with rw.runtime.session_factory() as session:
            assert set(session.scalars(select(AlertCall.end_reason))) == {"cancelled"}
            assert session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == "pending")
            ) == 0  # fmt: skip


def _alert_id(rw: RqWorld) -> int:
    with rw.runtime.session_factory() as session:
        return int(session.scalars(select(AlertCall.alert_id)).first() or 0)


def _delivered(rw: RqWorld) -> int:
    with rw.runtime.session_factory() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(AlertCall).where(AlertCall.delivered_at.is_not(None))
            )
            or 0
        )


def _answer_count(rw: RqWorld) -> int:
    with rw.runtime.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Answer)) or 0)


def _state(rw: RqWorld, grid: str) -> tuple[str, int]:
    with rw.runtime.session_factory() as session:
        call = session.scalars(select(AlertCall).where(AlertCall.grid_code == grid)).one()
        return call.state, call.evacuated
