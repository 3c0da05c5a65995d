"""``GRIDCC_TRUSTED_PROXIES``: the client's address behind a reverse proxy, never a forged one.

On the real app, database and Redis: a failed sign-in writes an audit row with the address the app
believed, and the per-address sign-in limit counts by that address. With 0 trusted hops (the default) a
client's own ``X-Forwarded-For`` changes nothing; with 1 (nginx in front, appending the address it saw)
the header's last entry is the client's, and an entry the client wrote before it is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from data.auth import audit_rows, create_user
from data.db import transaction
from tests.dashboard.test_auth_web import PASSWORD, csrf_of

PROXY = "127.0.0.1"  # the test client's own address: where nginx would connect from


@pytest.fixture
def make_web(settings, redis_url, redis_conn, engine, session_factory, grids) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from dashboard.app import create_app
    from dashboard.page import PageRegistry
    from dashboard.services import services
    from dashboard.wall.page import PAGE as WALL_PAGE

    with transaction(session_factory) as session:
        create_user(session, "street1", PASSWORD, "duty", "500151001")
    made = []

    def make(hops: int) -> Any:
        app = create_app(
            settings.model_copy(
                update={"redis_url": redis_url, "auth_required": True, "trusted_proxies": hops}
            ),
            pages=PageRegistry([WALL_PAGE]),
        )
        made.append(app)
        return app.server.test_client()

    yield make
    for app in made:
        services(app.server).close()


def _wrong_password(client, forwarded_for: str | None) -> None:  # type: ignore[no-untyped-def]
    token = csrf_of(client)
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    answer = client.post(
        "/signin",
        data={"csrf_token": token, "username": "street1", "password": "wrong", "next": "/"},
        headers=headers,
    )
    assert answer.status_code in (200, 401, 429)


def _last_failed_from(session_factory) -> str:  # type: ignore[no-untyped-def]
    with session_factory() as session:
        rows = audit_rows(session, action="signin_failed", limit=1)
    assert rows
    return rows[0].remote_addr


def test_a_forged_header_is_ignored_with_no_trusted_proxy(make_web, session_factory) -> None:  # type: ignore[no-untyped-def]
    client = make_web(0)
    _wrong_password(client, "203.0.113.50")
    assert _last_failed_from(session_factory) == PROXY


def test_one_trusted_hop_takes_the_address_the_proxy_appended(make_web, session_factory) -> None:  # type: ignore[no-untyped-def]
    client = make_web(1)
    _wrong_password(client, "198.51.100.7")
    assert _last_failed_from(session_factory) == "198.51.100.7"
    # a client that sends its own header through nginx: nginx appends the address it saw; only that
    # last entry is trusted, never the forged one before it
    _wrong_password(client, "203.0.113.50, 198.51.100.8")
    assert _last_failed_from(session_factory) == "198.51.100.8"
    _wrong_password(client, None)  # no header (a request that bypassed the proxy): the connection's
    assert _last_failed_from(session_factory) == PROXY


def test_the_per_address_limit_counts_the_client_not_the_proxy(make_web, session_factory) -> None:  # type: ignore[no-untyped-def]
    """Behind one trusted proxy, 20 failures from one client lock that client out, not another client
    who reaches the app through the same proxy (with 0 hops both would be the proxy's one address)."""
    from data.auth.signin import LockoutPolicy

    client = make_web(1)
    for _ in range(LockoutPolicy().max_per_addr):
        _wrong_password(client, "198.51.100.20")
    _wrong_password(client, "198.51.100.20")
    _wrong_password(client, "198.51.100.21")
    with session_factory() as session:
        rows = audit_rows(session, action="signin_failed", limit=2)
    by_addr = {row.remote_addr: row.detail for row in rows}
    assert by_addr["198.51.100.20"] == "too many failed attempts from this address"
    assert by_addr["198.51.100.21"] != "too many failed attempts from this address"
