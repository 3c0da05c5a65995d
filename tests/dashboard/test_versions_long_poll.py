"""``/api/versions?since=…&wait=…``: the long poll is answered when a bump moves the versions (woken
through Redis pub/sub), not before; past the process's slots it is answered at once; the listener
comes back after its Redis connection is cut."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from data.settings import Settings
from layers import versions


def _get_later(client, url: str) -> tuple[threading.Thread, dict]:  # type: ignore[no-untyped-def]
    out: dict = {}

    def run() -> None:
        response = client.get(url)
        out.update(
            status=response.status_code, body=response.get_json(), how=response.headers.get("X-Gridcc-Wait")
        )

    t = threading.Thread(target=run)
    t.start()
    return t, out


def _since(redis_conn) -> str:  # type: ignore[no-untyped-def]
    return versions.token(versions.read(redis_conn))


@pytest.fixture(autouse=True)
def _no_recheck(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A waiter re-reads the versions only when woken: a "changed" answer then proves the message."""
    from dashboard import version_watch

    monkeypatch.setattr(version_watch, "RECHECK_S", 300.0)


def test_held_until_a_bump_then_answered_with_it(app, redis_conn) -> None:
    client = app.server.test_client()
    since = _since(redis_conn)
    t, out = _get_later(client, f"/api/versions?wait=10&since={since}")
    time.sleep(0.6)
    assert out == {}  # still held: nothing moved
    versions.bump(redis_conn, ["cases"])
    t.join(10)
    assert out["status"] == 200
    assert out["how"] == "changed"
    assert out["body"] == versions.read(redis_conn)
    assert out["body"]["cases"] == int(since.split("cases:")[1].split(",")[0]) + 1


def test_an_old_since_is_answered_at_once(client, redis_conn) -> None:
    since = _since(redis_conn)
    versions.bump(redis_conn, ["alerts"])
    response = client.get(f"/api/versions?wait=10&since={since}")
    assert response.status_code == 200
    assert response.headers["X-Gridcc-Wait"] == "changed"
    assert response.get_json() == versions.read(redis_conn)


def test_times_out_with_the_same_versions(client, redis_conn) -> None:
    since = _since(redis_conn)
    response = client.get(f"/api/versions?wait=0.5&since={since}")
    assert response.headers["X-Gridcc-Wait"] == "timeout"
    assert versions.token(response.get_json()) == since


@pytest.mark.parametrize("wait", ["abc", "-1", "nan", "1e9"])
def test_a_bad_wait_is_a_400(client, redis_conn, wait: str) -> None:
    response = client.get(f"/api/versions?wait={wait}&since={_since(redis_conn)}")
    assert response.status_code == 400


def test_past_the_slots_answered_at_once(
    engine, database_url: str, redis_url: str, redis_conn, tmp_path: Path, grids
) -> None:  # type: ignore[no-untyped-def]
    from dashboard.app import create_app
    from dashboard.map.page import PAGE as MAP_PAGE
    from dashboard.page import PageRegistry
    from dashboard.services import services

    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        redis_url=redis_url,
        auth_required=False,
        long_poll_slots=1,
    )
    app = create_app(settings, pages=PageRegistry([MAP_PAGE]))
    try:
        client = app.server.test_client()
        since = _since(redis_conn)
        t, held = _get_later(client, f"/api/versions?wait=10&since={since}")
        time.sleep(0.5)
        second = client.get(f"/api/versions?wait=10&since={since}")
        assert second.headers["X-Gridcc-Wait"] == "full"  # the tick's answer, at once
        assert versions.token(second.get_json()) == since
        versions.bump(redis_conn, ["risks"])
        t.join(10)
        assert held["how"] == "changed"
    finally:
        services(app.server).close()


def test_listener_comes_back_after_its_connection_is_cut(app, redis_conn) -> None:
    """Redis dropping every client (as on a restart): the listener subscribes again by itself and a
    later bump wakes a waiter at once."""
    from dashboard.services import services

    client = app.server.test_client()
    since = _since(redis_conn)
    t, out = _get_later(client, f"/api/versions?wait=0.5&since={since}")  # starts the listener
    t.join(5)
    watch = services(app.server).watch
    deadline = time.monotonic() + 5
    while not watch.listening and time.monotonic() < deadline:
        time.sleep(0.05)
    assert watch.listening
    redis_conn.client_kill_filter(_type="pubsub")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # lost, then back
        time.sleep(0.1)
        if watch.listening and redis_conn.pubsub_numsub(versions.CHANNEL)[0][1] >= 1:
            break
    assert redis_conn.pubsub_numsub(versions.CHANNEL)[0][1] >= 1
    since = _since(redis_conn)
    t, out = _get_later(client, f"/api/versions?wait=20&since={since}")
    time.sleep(0.3)
    versions.bump(redis_conn, ["feeds"])
    t.join(20)
    assert out["how"] == "changed"  # woken by the message (no recheck before the 20 s timeout)


def test_signed_out_long_poll_is_refused_at_once_and_holds_no_slot(  # type: ignore[no-untyped-def]
    engine, database_url: str, redis_url: str, redis_conn, tmp_path: Path, grids
) -> None:
    """An attacker without a session asking to wait (to use up the slots, or to learn when cases
    arrive): 401 at once, before any wait, and no slot is taken."""
    from dashboard.app import create_app
    from dashboard.services import services

    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        redis_url=redis_url,
        auth_required=True,
        long_poll_slots=1,
    )
    app = create_app(settings)
    try:
        client = app.server.test_client()
        since = _since(redis_conn)
        answers = [client.get(f"/api/versions?wait=25&since={since}") for _ in range(3)]
        assert [a.status_code for a in answers] == [401, 401, 401]
        assert all("X-Gridcc-Wait" not in a.headers for a in answers)
        assert services(app.server).watch.held == 0
    finally:
        services(app.server).close()
