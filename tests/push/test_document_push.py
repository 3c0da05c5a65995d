"""CAP push and sensor push (issue #12, item 2) on the real app with a real ``rq worker``: the same
parser, schema check and entity defences as a poll; each record its own unit of failure; a record
that arrives by push and by poll is stored once; the poll's cursor is the poll's."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rq import Queue, Worker
from sqlalchemy import select

from data.models import Alert, Feed
from tests.workers._rq_stack import wait_until
from tests.workers.test_poll_support import POINT_A, cap_alert
from workers.jobs.poll import run_poll
from workers.queues import FEEDS_QUEUE

from .conftest import PushWorld

CAP_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "cap"


def push(w: PushWorld, path: str, body: bytes, key: str, ctype: str = "application/xml") -> Any:
    return w.client.post(path, data=body, content_type=ctype, headers={"X-Api-Key": w.tokens[key]})


def alarm(alarm_id: str, **extra: Any) -> dict[str, Any]:
    rec = {
        "alarm_id": alarm_id, "family": "fence", "device_id": "TL-FENCE-017",
        "occurred_at": "2025-07-01T02:14:05+08:00", "lon": POINT_A[0], "lat": POINT_A[1], "level": 3,
        "status": "active", "address": "铜梁区巴川街道", "fence_id": "F-1", "zone": "水库一级保护区",
        "intrusion_at": "2025-07-01T02:13:58+08:00",
    }  # fmt: skip
    rec.update(extra)
    return rec


def test_a_pushed_cap_alert_is_stored_with_its_id(push_world: PushWorld) -> None:
    w = push_world
    sent = datetime.now(UTC) - timedelta(minutes=5)
    response = push(w, "/api/push/cap", cap_alert("qx-push-1", sent), "weather")
    assert response.status_code == 200, response.data
    answer = response.get_json()
    assert [(s["kind"], s["external_id"]) for s in answer["stored"]] == [("alert", "qx-push-1")]
    with w.runtime.session_factory() as session:
        alert = session.get(Alert, answer["stored"][0]["id"])
        assert alert is not None and alert.external_id == "qx-push-1" and alert.severity == "Severe"
    for name in ("australia.cap", "canada.cap", "earthquake-iso8859-1.cap", "wcatwc-warning.cap"):
        ok = push(w, "/api/push/cap", (CAP_DIR / name).read_bytes(), "weather")
        assert ok.status_code == 200 and ok.get_json()["stored"], (name, ok.data)


def test_cap_attacks_and_broken_documents_are_refused_and_quarantined(push_world: PushWorld) -> None:
    w = push_world
    for name, words in (("xee.cap", "DTD"), ("invalid.cap", "schema")):
        response = push(w, "/api/push/cap", (CAP_DIR / name).read_bytes(), "weather")
        assert response.status_code == 400, (name, response.data)
        reasons = " ".join(q["reason"] for q in response.get_json()["quarantined"])
        assert words.lower() in reasons.lower(), (name, reasons)
    billion = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol2;</identifier></alert>'
    )
    assert push(w, "/api/push/cap", billion, "weather").status_code == 400
    assert w.counts()[1] == 0 and len(w.quarantine()) == 3
    assert b"root:" not in b"".join(q.raw.encode() for q in w.quarantine())


def test_a_key_pushes_only_its_own_protocol(push_world: PushWorld) -> None:
    w = push_world
    body = json.dumps({"alarms": [alarm("A-1")]}).encode()
    assert push(w, "/api/push/sensor", body, "weather", "application/json").status_code == 403
    assert push(w, "/api/push/cap", cap_alert("x", datetime.now(UTC)), "sensors").status_code == 403
    assert push(w, "/api/push/cap", cap_alert("x", datetime.now(UTC)), "revoked").status_code == 403
    assert w.counts() == (0, 0, 3)  # nothing stored; each refused push its quarantine row
    assert sorted(q.feed_name for q in w.quarantine()) == ["push", "sensors", "weather"]


def test_the_poison_alarm_is_quarantined_and_the_good_one_behind_it_goes_in(push_world: PushWorld) -> None:
    w = push_world
    poison = alarm("A-BAD", level=9, message="<script>alert(1)</script>")
    body = json.dumps({"alarms": [poison, alarm("A-GOOD", message="<script>x</script>")]}).encode()
    response = push(w, "/api/push/sensor", body, "sensors", "application/json")
    assert response.status_code == 200, response.data
    answer = response.get_json()
    assert [s["external_id"] for s in answer["stored"]] == ["A-GOOD"]
    assert [q["external_id"] for q in answer["quarantined"]] == ["A-BAD"]
    assert w.counts()[1:] == (1, 1)
    garbage = push(w, "/api/push/sensor", b'{"alarms": [', "sensors", "application/json")
    assert garbage.status_code == 400 and w.counts()[1:] == (1, 2)


def test_a_record_pushed_and_polled_is_stored_once(push_world: PushWorld) -> None:
    w = push_world
    sent = datetime.now(UTC) - timedelta(minutes=1)
    body = cap_alert("qx-both-1", sent)
    w.cap_state.put_cap("qx-both-1", sent, body)
    w.stack.worker("push-2")  # two workers: the poll and the push can run at the same time
    wait_until(lambda: len(Worker.all(connection=w.runtime.redis)) >= 2, 30, "two workers")
    # the poll and the push at the same moment: the push waits for the poll's lock, or the reverse
    poll = Queue(FEEDS_QUEUE, connection=w.runtime.redis).enqueue("workers.jobs.poll.poll_feed", "weather")
    pushed = push(w, "/api/push/cap", body, "weather")
    assert pushed.status_code == 200, pushed.data
    wait_until(lambda: poll.get_status(refresh=True) in ("finished", "failed"), 60, "the poll")
    assert poll.get_status() == "finished", poll.exc_info
    run_poll(w.runtime, "weather")  # and once more, after both
    assert push(w, "/api/push/cap", body, "weather").status_code == 200  # and pushed again
    with w.runtime.session_factory() as session:
        rows = session.scalars(select(Alert).where(Alert.external_id == "qx-both-1")).all()
        assert len(rows) == 1
        feed = session.get(Feed, "weather")
        assert feed is not None


def test_a_push_does_not_move_the_polls_cursor(push_world: PushWorld) -> None:
    w = push_world
    with w.runtime.session_factory() as session, session.begin():
        run_poll(w.runtime, "weather")
    with w.runtime.session_factory() as session:
        feed = session.get(Feed, "weather")
        assert feed is not None
        before = (feed.cursor, feed.etag, feed.last_modified)
    sent = datetime.now(UTC)
    assert push(w, "/api/push/cap", cap_alert("qx-later", sent), "weather").status_code == 200
    with w.runtime.session_factory() as session:
        feed = session.get(Feed, "weather")
        assert feed is not None and (feed.cursor, feed.etag, feed.last_modified) == before


def test_no_worker_answers_within_the_wait_503_and_nothing_is_left_queued(
    push_world: PushWorld, monkeypatch: Any
) -> None:
    w = push_world
    w.stack.stop()
    from dashboard.push import gate

    monkeypatch.setattr(gate, "WAIT_SECONDS", 0.4)
    started = time.monotonic()
    response = push(w, "/api/push/cap", cap_alert("qx-none", datetime.now(UTC)), "weather")
    assert response.status_code == 503
    assert response.get_json()["error"] == "no gridcc worker took the push within 0 s; nothing was stored"
    assert time.monotonic() - started < 5
    assert Queue("gridcc-push", connection=w.runtime.redis).count == 0


def test_a_push_given_up_before_a_worker_took_it_is_never_stored(push_world: PushWorld) -> None:
    """RQ runs a job cancelled between a worker's dequeue and its start: the push's fate key decides
    instead. A job whose web request gave up (fate "abandoned") stores nothing when a worker runs it; one
    a worker took first (fate "taken") can no longer be given up."""
    from data.push.queue import FATE_KEY, INGEST_JOB, PUSH_QUEUE

    w = push_world
    queue = Queue(PUSH_QUEUE, connection=w.runtime.redis)
    body = cap_alert("qx-abandoned", datetime.now(UTC))
    w.runtime.redis.set(FATE_KEY.format(job_id="push-given-up"), "abandoned", ex=60)
    given_up = queue.enqueue(
        INGEST_JOB, args=("weather", body, "application/xml", "weather"), job_id="push-given-up"
    )
    kept = queue.enqueue(
        INGEST_JOB, args=("weather", cap_alert("qx-kept", datetime.now(UTC)), "application/xml", "weather")
    )
    for job in (given_up, kept):
        wait_until(lambda job=job: job.get_status(refresh=True) in ("finished", "failed"), 60, "the push job")
    assert given_up.return_value()["status"] == "abandoned"
    assert kept.return_value()["status"] == "ok"
    assert w.runtime.redis.get(FATE_KEY.format(job_id=kept.id)) == b"taken"
    with w.runtime.session_factory() as session:
        assert session.scalars(select(Alert.external_id)).all() == ["qx-kept"]
