"""``authenticate`` on the real test database: right and wrong passwords, the lock-out (the tenth wrong
password in a minute is refused even with the right one), disabled accounts, per-address slow-down,
wall sign-in links, and an audit row (who, when, from where) for every attempt."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from data.auth import (
    LockoutPolicy,
    UserError,
    audit_rows,
    authenticate,
    create_user,
    disable_user,
    make_wall_link,
    revoke_wall_link,
    set_password,
    set_role,
    user_for_link,
)
from data.auth.users import get_user
from data.db import transaction

NOW = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)  # after the accounts were made
PASSWORD = "correct horse 9"
ADDR = "192.0.2.7"
SECRET = "test-secret-key"


@pytest.fixture
def factory(session_factory):  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        create_user(session, "duty1", PASSWORD, "duty", "500151001")
        create_user(session, "wall1", PASSWORD, "wall", "500151")
    return session_factory


def attempt(factory, username: str, password: str, at: datetime, addr: str = ADDR) -> bool:  # type: ignore[no-untyped-def]
    return authenticate(factory, username, password, addr, at) is not None


def test_sign_in_and_failures_are_audited(factory) -> None:  # type: ignore[no-untyped-def]
    assert attempt(factory, "duty1", PASSWORD, NOW)
    assert not attempt(factory, "duty1", "wrong password", NOW + timedelta(seconds=1))
    assert not attempt(factory, "nobody", PASSWORD, NOW + timedelta(seconds=2), addr="198.51.100.1")
    with factory() as session:
        ok, wrong, unknown = reversed(audit_rows(session, limit=3))
        assert (ok.action, ok.actor, ok.target, ok.remote_addr, ok.at) == (
            "signin", "duty1", "user:duty1", ADDR, NOW
        )  # fmt: skip
        assert (wrong.action, wrong.actor, wrong.detail, wrong.remote_addr) == (
            "signin_failed", "duty1", "wrong password", ADDR
        )  # fmt: skip
        assert wrong.at == NOW + timedelta(seconds=1)
        assert (unknown.action, unknown.actor, unknown.detail, unknown.remote_addr) == (
            "signin_failed", "nobody", "unknown user", "198.51.100.1"
        )  # fmt: skip
        user = get_user(session, "duty1")
        assert user is not None and user.last_sign_in_at == NOW and user.failed_count == 1
        assert all(PASSWORD not in r.detail and "wrong password" != r.actor for r in audit_rows(session))


def test_tenth_wrong_password_in_a_minute_is_refused_even_with_the_right_one(factory) -> None:  # type: ignore[no-untyped-def]
    for i in range(10):
        assert not attempt(factory, "duty1", f"guess {i:02d}xx", NOW + timedelta(seconds=5 * i))
    assert not attempt(factory, "duty1", PASSWORD, NOW + timedelta(seconds=55))
    with factory() as session:
        details = [r.detail for r in reversed(audit_rows(session, action="signin_failed"))]
        assert details[:4] == ["wrong password"] * 4
        assert details[4] == "wrong password (account now locked)"
        assert all(d.startswith("locked until ") for d in details[5:]) and len(details) == 11
    # the lock lasts a few minutes, then the right password works and the counters are cleared
    assert not attempt(factory, "duty1", PASSWORD, NOW + timedelta(minutes=4))
    assert attempt(factory, "duty1", PASSWORD, NOW + timedelta(minutes=6))
    with factory() as session:
        user = get_user(session, "duty1")
        assert user is not None and (user.failed_count, user.locked_until) == (0, None)


def test_failures_spread_over_more_than_a_minute_do_not_lock(factory) -> None:  # type: ignore[no-untyped-def]
    for i in range(8):
        assert not attempt(factory, "duty1", "wrong password", NOW + timedelta(seconds=40 * i))
    assert attempt(factory, "duty1", PASSWORD, NOW + timedelta(seconds=40 * 8))


def test_admin_lifts_a_lock_by_setting_a_password(factory) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        attempt(factory, "duty1", "wrong password", NOW + timedelta(seconds=i))
    assert not attempt(factory, "duty1", PASSWORD, NOW + timedelta(seconds=10))
    with transaction(factory) as session:
        set_password(session, "duty1", "brand new pw 1", actor="admin")
    assert attempt(factory, "duty1", "brand new pw 1", NOW + timedelta(seconds=20))


def test_one_address_trying_many_names_is_slowed(factory) -> None:  # type: ignore[no-untyped-def]
    policy = LockoutPolicy(max_per_addr=3)
    for i in range(3):
        assert authenticate(factory, f"guess{i}", "x" * 10, ADDR, NOW, policy) is None
    assert authenticate(factory, "duty1", PASSWORD, ADDR, NOW + timedelta(seconds=1), policy) is None
    assert authenticate(factory, "duty1", PASSWORD, "203.0.113.5", NOW + timedelta(seconds=1), policy)
    with factory() as session:
        assert (
            audit_rows(session, action="signin_failed")[0].detail
            == "too many failed attempts from this address"
        )


def test_disabled_account_cannot_sign_in(factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        disable_user(session, "duty1", actor="admin")
    assert not attempt(factory, "duty1", PASSWORD, NOW)
    with factory() as session:
        assert audit_rows(session, action="signin_failed")[0].detail == "account disabled"
    with transaction(factory) as session:
        disable_user(session, "duty1", actor="admin", enable=True)
    assert attempt(factory, "duty1", PASSWORD, NOW + timedelta(seconds=1))


def test_wall_links_are_signed_and_revocable(factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        first = make_wall_link(session, "wall1", SECRET, actor="admin")
    with transaction(factory) as session:
        second = make_wall_link(session, "wall1", SECRET, actor="admin")
    with factory() as session:
        user = user_for_link(session, second, SECRET)
        assert user is not None and user.username == "wall1"
        assert user_for_link(session, first, SECRET) is None  # replaced
        assert user_for_link(session, second, "another secret") is None  # signed with our key only
        uid, nonce, sig = second.split(".")
        assert user_for_link(session, f"{int(uid) - 1}.{nonce}.{sig}", SECRET) is None
        assert user_for_link(session, "garbage", SECRET) is None
        assert [r.action for r in audit_rows(session, actor="admin")] == ["wall_link", "wall_link"]
    with transaction(factory) as session:
        revoke_wall_link(session, "wall1", actor="admin")
    with factory() as session:
        assert user_for_link(session, second, SECRET) is None
    with pytest.raises(UserError, match="only wall accounts"), transaction(factory) as session:
        make_wall_link(session, "duty1", SECRET)
    with transaction(factory) as session:
        third = make_wall_link(session, "wall1", SECRET)
        set_role(session, "wall1", "duty")  # no longer a wall: its link goes
    with factory() as session:
        assert user_for_link(session, third, SECRET) is None


def test_server_side_sessions_open_close_and_prune(factory) -> None:  # type: ignore[no-untyped-def]
    from data.auth import close_session, close_sessions, open_session, renew_session, session_alive
    from data.models import UserSession

    with transaction(factory) as session:
        duty, wall = get_user(session, "duty1"), get_user(session, "wall1")
        assert duty is not None and wall is not None
        a = open_session(session, duty, "password", NOW)
        b = open_session(session, duty, "password", NOW)
        link = open_session(session, wall, "link", NOW)
        typed = open_session(session, wall, "password", NOW)
    with factory() as session:
        assert session.get(UserSession, a) is None  # only the key's hash is stored
        assert session.get(UserSession, hashlib.sha256(a.encode()).hexdigest()) is not None
        assert session_alive(session, a, duty.id) and session_alive(session, b, duty.id)
        assert not session_alive(session, a, wall.id)  # a key is one account's
        assert not session_alive(session, "forged", duty.id) and not session_alive(session, None, duty.id)
    with transaction(factory) as session:
        close_session(session, a)
        assert close_sessions(session, wall, via="link") == 1
    with factory() as session:
        assert not session_alive(session, a, duty.id) and session_alive(session, b, duty.id)
        assert not session_alive(session, link, wall.id) and session_alive(session, typed, wall.id)
    # rows not renewed within a wall's 30 days go when a session starts; a renewed one stays
    with transaction(factory) as session:
        renew_session(session, typed, NOW + timedelta(days=20))
    with transaction(factory) as session:
        open_session(session, duty, "password", NOW + timedelta(days=31))
    with factory() as session:
        assert not session_alive(session, b, duty.id) and session_alive(session, typed, wall.id)
