"""Accounts on the real test database: argon2 hashes (rehashed on sign-in), roles and permissions, area
scopes checked against the stored hierarchy, every change audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from data.auth import (
    Permission,
    Role,
    UserError,
    WeakPassword,
    audit_rows,
    authenticate,
    create_user,
    disable_user,
    get_user,
    list_users,
    may,
    may_see_personal,
    scope_of,
    session_lifetime,
    set_password,
    set_role,
    set_scope,
    verify_password,
)
from data.db import transaction
from data.models import AuditLog, UserAccount
from data.scope import AreaScope
from tests.layers.hierarchy import build_hierarchy

NOW = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
PASSWORD = "correct horse 9"


@pytest.fixture
def factory(session_factory):  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        build_hierarchy(session)
    return session_factory


def test_roles_table() -> None:
    assert may(Role.WALL, Permission.READ) and not may(Role.WALL, Permission.ACK_ALERT)
    assert not may_see_personal(Role.WALL) and not may_see_personal("leader")
    assert may_see_personal("duty")
    assert may("duty", "ack_alert") and may("duty", "annotate_case") and not may("duty", "supervise")
    assert may("leader", "supervise") and not may("leader", "manage_users")
    assert all(may("admin", p) for p in ("manage_users", "manage_feeds", "manage_geodata", "view_audit"))
    assert not may("admin", "supervise")
    assert not may("root", "read") and not may("admin", "fly")
    assert session_lifetime("wall").days == 30
    assert session_lifetime("duty").total_seconds() == 12 * 3600
    assert session_lifetime("nonsense").total_seconds() == 12 * 3600


def test_create_user_hashes_with_argon2_and_audits(factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        create_user(session, "zhang.san", PASSWORD, "duty", "500151001", display_name="张三", actor="root",
                    remote_addr="10.0.0.9", now=NOW)  # fmt: skip
    with factory() as session:
        user = get_user(session, "zhang.san")
        assert user is not None
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert (user.role, user.scope_codes, user.display_name, user.disabled) == (
            "duty",
            "500151001",
            "张三",
            False,
        )
        assert scope_of(user) == AreaScope.of("500151001")
        row = session.scalars(select(AuditLog).where(AuditLog.action == "user_add")).one()
        assert (row.actor, row.target, row.remote_addr, row.at) == ("root", "user:zhang.san", "10.0.0.9", NOW)
        assert "500151001" in row.detail and PASSWORD not in row.detail
        assert [u.username for u in list_users(session)] == ["zhang.san"]


@pytest.mark.parametrize(
    ("username", "password", "role", "codes", "message"),
    [
        ("a", PASSWORD, "duty", "500151", "bad user name"),
        ("li si", PASSWORD, "duty", "500151", "bad user name"),
        ("lisi", "short", "duty", "500151", "too short"),
        ("lisi", PASSWORD, "king", "500151", "unknown role"),
        ("lisi", PASSWORD, "duty", "", "at least one"),
        ("lisi", PASSWORD, "duty", "5001", "not a district/street/community/grid code"),
        ("lisi", PASSWORD, "duty", "500151009", "no such unit: 500151009"),
        ("lisi", PASSWORD, "duty", "500152", "no such unit: 500152"),
    ],
)
def test_create_user_refuses_bad_input(factory, username, password, role, codes, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((UserError, WeakPassword, ValueError), match=message), transaction(factory) as session:
        create_user(session, username, password, role, codes)
    with factory() as session:
        assert session.scalars(select(UserAccount)).all() == []


def test_duplicate_user_refused(factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        create_user(session, "wangwu", PASSWORD, "leader", "500151")
    with pytest.raises(UserError, match="exists already"), transaction(factory) as session:
        create_user(session, "wangwu", PASSWORD, "leader", "500151")


def test_scope_codes_accepted_before_any_hierarchy_is_loaded(session_factory) -> None:  # type: ignore[no-untyped-def]
    """The first admin may be added on a fresh database, before ``gridcc geo generate``."""
    with transaction(session_factory) as session:
        user = create_user(session, "admin", PASSWORD, "admin", "500151, 500152001")
        assert user.scope_codes == "500151,500152001"


def test_changes_are_applied_and_audited(factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        create_user(session, "zhaoliu", PASSWORD, "duty", "500151001")
    with transaction(factory) as session:
        set_scope(session, "zhaoliu", "500151002001001,500151002001002", actor="root", now=NOW)
        set_role(session, "zhaoliu", "leader", actor="root", now=NOW)
        set_password(session, "zhaoliu", "another pass 2", actor="root", now=NOW)
        disable_user(session, "zhaoliu", actor="root", now=NOW)
    with factory() as session:
        user = get_user(session, "zhaoliu")
        assert user is not None
        assert scope_of(user) == AreaScope.of(["500151002001001", "500151002001002"])
        assert user.role == "leader" and user.disabled
        assert user.session_epoch == 2  # new password and disabling both end open sessions
        assert verify_password(user.password_hash, "another pass 2")[0]
        actions = [r.action for r in audit_rows(session, actor="root")]
        assert actions == ["user_disable", "user_password", "user_role", "user_scope"]
        assert (
            "500151001 → 500151002001001,500151002001002"
            in audit_rows(session, action="user_scope")[0].detail
        )
    with pytest.raises(UserError, match="no such user"), transaction(factory) as session:
        set_role(session, "nobody", "duty")


def test_outdated_hash_is_replaced_on_sign_in(factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        user = create_user(session, "old.hash", PASSWORD, "duty", "500151")
        weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
        user.password_hash = weak
    assert authenticate(factory, "old.hash", PASSWORD, "127.0.0.1", NOW) is not None
    with factory() as session:
        user = get_user(session, "old.hash")
        assert user is not None and user.password_hash != weak
        assert not PasswordHasher().check_needs_rehash(user.password_hash)
        assert audit_rows(session, action="signin")[0].detail == "password (rehashed)"
