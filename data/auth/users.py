"""Accounts: create, change, disable, and the area scope an account sees.

Every change is audited (who made it, when, from where). Functions add to the caller's session; the
caller commits (``data.db.transaction``).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from data.models import AdminUnit, UserAccount, utcnow
from data.scope import AreaScope

from .audit import audit
from .passwords import hash_password
from .roles import Role, parse_role
from .user_sessions import close_sessions

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,59}$")


class UserError(ValueError):
    """An account operation that cannot be done (unknown user, bad name, bad scope …)."""


def parse_scope(session: Session, codes: str | list[str]) -> AreaScope:
    """The scope of a comma- or space-separated list of unit codes, checked.

    Each code must be a district (6 digits), street (9), community (12) or grid (15) code; when the
    hierarchy has been loaded, each must also name a stored unit. At least one code is needed.
    """
    try:
        scope = AreaScope.of(codes if isinstance(codes, str) else ",".join(codes))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if not scope.codes:
        raise UserError("an account needs at least one district, street or grid code")
    if session.scalar(select(exists().where(AdminUnit.level == "district"))):
        known = set(session.scalars(select(AdminUnit.code).where(AdminUnit.code.in_(scope.codes))))
        unknown = sorted(scope.codes - known)
        if unknown:
            raise UserError(f"no such unit: {', '.join(unknown)}")
    return scope


def scope_of(user: UserAccount) -> AreaScope:
    """The area the account may see (an empty scope, seeing nothing, if its codes are unusable)."""
    try:
        return AreaScope.of(user.scope_codes or "")
    except ValueError:
        return AreaScope(frozenset())


def get_user(session: Session, username: str) -> UserAccount | None:
    return session.scalar(select(UserAccount).where(UserAccount.username == username))


def _require(session: Session, username: str) -> UserAccount:
    user = get_user(session, username)
    if user is None:
        raise UserError(f"no such user: {username!r}")
    return user


def list_users(session: Session) -> list[UserAccount]:
    return list(session.scalars(select(UserAccount).order_by(UserAccount.username)))


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role | str,
    scope_codes: str | list[str],
    *,
    display_name: str = "",
    actor: str = "system",
    remote_addr: str = "",
    now: datetime | None = None,
) -> UserAccount:
    """A new account (the password is checked for length and hashed with argon2)."""
    now = now or utcnow()
    if not USERNAME.match(username):
        raise UserError(
            f"bad user name {username!r}: 2–60 letters, digits, '_', '.', '@' or '-', starting with a "
            "letter or digit"
        )
    if get_user(session, username) is not None:
        raise UserError(f"user {username!r} exists already")
    the_role = parse_role(str(role))
    scope = parse_scope(session, scope_codes)
    user = UserAccount(
        username=username,
        display_name=display_name.strip()[:100],
        password_hash=hash_password(password),
        role=the_role.value,
        scope_codes=scope.key,
        disabled=False,
        created_at=now,
        failed_count=0,
        session_epoch=0,
    )
    session.add(user)
    session.flush()
    audit(
        session,
        actor,
        "user_add",
        f"user:{username}",
        f"role={the_role.value} scope={scope.key}",
        remote_addr,
        now,
    )
    return user


def set_password(
    session: Session,
    username: str,
    password: str,
    *,
    actor: str = "system",
    remote_addr: str = "",
    now: datetime | None = None,
) -> UserAccount:
    """A new password; every open session of the account ends, and a lock-out is lifted."""
    user = _require(session, username)
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    close_sessions(session, user)
    user.failed_count, user.failed_since, user.locked_until = 0, None, None
    audit(session, actor, "user_password", f"user:{username}", "", remote_addr, now or utcnow())
    return user


def disable_user(
    session: Session,
    username: str,
    *,
    actor: str = "system",
    remote_addr: str = "",
    now: datetime | None = None,
    enable: bool = False,
) -> UserAccount:
    """Disable (or with ``enable=True`` re-enable) an account; a disabled one's sessions end at once."""
    user = _require(session, username)
    user.disabled = not enable
    user.session_epoch += 1
    close_sessions(session, user)
    action = "user_enable" if enable else "user_disable"
    audit(session, actor, action, f"user:{username}", "", remote_addr, now or utcnow())
    return user


def set_scope(
    session: Session,
    username: str,
    scope_codes: str | list[str],
    *,
    actor: str = "system",
    remote_addr: str = "",
    now: datetime | None = None,
) -> UserAccount:
    """A new area scope (takes effect on the account's next request)."""
    user = _require(session, username)
    scope = parse_scope(session, scope_codes)
    detail = f"{user.scope_codes} → {scope.key}"
    user.scope_codes = scope.key
    audit(session, actor, "user_scope", f"user:{username}", detail, remote_addr, now or utcnow())
    return user


def set_role(
    session: Session,
    username: str,
    role: Role | str,
    *,
    actor: str = "system",
    remote_addr: str = "",
    now: datetime | None = None,
) -> UserAccount:
    """A new role (takes effect on the account's next request). A wall link only works for walls, so
    leaving the wall role revokes it."""
    user = _require(session, username)
    the_role = parse_role(str(role))
    detail = f"{user.role} → {the_role.value}"
    if the_role is not Role.WALL and user.link_nonce:
        user.link_nonce = None
        user.session_epoch += 1
    user.role = the_role.value
    audit(session, actor, "user_role", f"user:{username}", detail, remote_addr, now or utcnow())
    return user
