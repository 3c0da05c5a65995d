"""Sign-in: ``authenticate`` with a lock-out after repeated failures, every attempt audited.

Lock-out: ``max_failures`` wrong passwords within ``window`` lock the account for ``lock_for``; while
locked every attempt is refused, the right password too (so the tenth wrong password in a minute, and
anything after it, is refused). Independently, an address with ``max_per_addr`` failed attempts within
``window`` is refused for any account (a slow-down for spraying many names from one place). A locked
account can be opened early by an admin (``gridcc users set-password``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import AuditLog, UserAccount

from .audit import audit
from .passwords import burn_verification, verify_password
from .users import get_user


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=1)
    lock_for: timedelta = timedelta(minutes=5)
    max_per_addr: int = 20


DEFAULT_POLICY = LockoutPolicy()


def _failures_from(session: Session, remote_addr: str, since: datetime) -> int:
    if not remote_addr:
        return 0
    stmt = select(func.count(AuditLog.id)).where(
        AuditLog.action == "signin_failed", AuditLog.remote_addr == remote_addr, AuditLog.at >= since
    )
    return int(session.scalar(stmt) or 0)


def _count_failure(user: UserAccount, now: datetime, policy: LockoutPolicy) -> None:
    if user.failed_since is None or now - user.failed_since > policy.window:
        user.failed_since, user.failed_count = now, 1
    else:
        user.failed_count += 1
    if user.failed_count >= policy.max_failures:
        user.locked_until = now + policy.lock_for


def locked(user: UserAccount, now: datetime) -> bool:
    return user.locked_until is not None and now < user.locked_until


def authenticate(
    session: Session,
    username: str,
    password: str,
    remote_addr: str | None,
    now: datetime,
    policy: LockoutPolicy = DEFAULT_POLICY,
) -> UserAccount | None:
    """The account when ``username``/``password`` are right and it may sign in now; else ``None``.

    Writes ``signin`` or ``signin_failed`` (with the reason in ``detail``) to the audit log and updates
    the lock-out counters; the caller commits. The reason is for the log only: callers show one
    message for every failure, so a stranger cannot learn which names exist.
    """
    addr = remote_addr or ""
    username = username.strip()
    target = f"user:{username}"

    def fail(reason: str) -> None:
        audit(session, username or "?", "signin_failed", target, reason, addr, now)

    if _failures_from(session, addr, now - policy.window) >= policy.max_per_addr:
        fail("too many failed attempts from this address")
        return None
    user = get_user(session, username) if username else None
    if user is None:
        burn_verification()
        fail("unknown user")
        return None
    if locked(user, now):  # refused without looking at the password; the lock is not extended
        assert user.locked_until is not None
        fail(f"locked until {user.locked_until.isoformat()}")
        return None
    ok, new_hash = verify_password(user.password_hash, password)
    if not ok:
        _count_failure(user, now, policy)
        fail("wrong password" + (" (account now locked)" if locked(user, now) else ""))
        return None
    if user.disabled:
        fail("account disabled")
        return None
    if new_hash is not None:
        user.password_hash = new_hash
    user.failed_count, user.failed_since, user.locked_until = 0, None, None
    user.last_sign_in_at = now
    audit(session, username, "signin", target, "password" + (" (rehashed)" if new_hash else ""), addr, now)
    return user
