"""Sign-in: ``authenticate`` with a lock-out after repeated failures, every attempt audited.

Lock-out: at most ``max_failures`` passwords are checked against an account within ``window``; the
check that uses up the last one and is wrong locks the account for ``lock_for``. While the budget is
spent or the account is locked every attempt is refused without looking at the password, the right
one too (so the sixth attempt in a minute after five wrong ones is refused). Independently, an address
with ``max_per_addr`` failed attempts within ``window`` is refused for any account (a slow-down for
spraying many names from one place). A locked account can be opened early by an admin (``gridcc
users set-password``).

Concurrency: the budget is taken by one conditional ``UPDATE … SET failed_count = failed_count + 1
WHERE … failed_count < max_failures`` committed *before* the password is checked, so any number of
parallel guesses check at most ``max_failures`` passwords (the database serialises the updates of one
row, on SQLite and PostgreSQL alike). A right password gives its unit back (the counters are cleared).

Timing: every refusal runs one password verification too (against a dummy hash when there is no
usable account), so an unknown, locked or rate-limited name costs the same time as a wrong password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, literal, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from data.db import transaction
from data.models import AuditLog, UserAccount, UTCDateTime

from .audit import audit
from .passwords import dummy_hash, verify_password
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


def locked(user: UserAccount, now: datetime) -> bool:
    return user.locked_until is not None and now < user.locked_until


def _take_check(session: Session, username: str, now: datetime, policy: LockoutPolicy) -> bool:
    """Atomically take one password check from the account's budget (``False``: none left, locked,
    or no such account). The first statement of its transaction, so SQLite takes the write lock at
    once rather than failing to upgrade a read."""
    start = now - policy.window
    fresh = or_(UserAccount.failed_since.is_(None), UserAccount.failed_since < start)
    stmt = (
        update(UserAccount)
        .where(
            UserAccount.username == username,
            or_(UserAccount.locked_until.is_(None), UserAccount.locked_until <= now),
            or_(fresh, UserAccount.failed_count < policy.max_failures),
        )
        .values(
            failed_count=case((fresh, 1), else_=UserAccount.failed_count + 1),
            failed_since=case((fresh, literal(now, UTCDateTime())), else_=UserAccount.failed_since),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(session.execute(stmt), "rowcount", 0))


def _lock_if_spent(session: Session, user_id: int, now: datetime, policy: LockoutPolicy) -> bool:
    """After a wrong password: lock the account when its budget for the window is spent."""
    stmt = (
        update(UserAccount)
        .where(
            UserAccount.id == user_id,
            UserAccount.failed_count >= policy.max_failures,
            UserAccount.failed_since >= now - policy.window,
            or_(UserAccount.locked_until.is_(None), UserAccount.locked_until <= now),
        )
        .values(locked_until=now + policy.lock_for)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(session.execute(stmt), "rowcount", 0))


def authenticate(
    factory: sessionmaker[Session],
    username: str,
    password: str,
    remote_addr: str | None,
    now: datetime,
    policy: LockoutPolicy = DEFAULT_POLICY,
) -> UserAccount | None:
    """The account when ``username``/``password`` are right and it may sign in now; else ``None``.

    Commits by itself, in short transactions (the budget is taken and committed before the slow
    password check, so no lock is held while hashing). Writes ``signin`` or ``signin_failed`` (with
    the reason in ``detail``) to the audit log. The reason is for the log only: callers show one
    message for every failure, so a stranger cannot learn which names exist.
    """
    addr = remote_addr or ""
    username = username.strip()
    target = f"user:{username}"

    def refuse(reason: str) -> None:
        verify_password(dummy_hash(), password)  # the time of a real check, whatever the reason
        with transaction(factory) as session:
            audit(session, username or "?", "signin_failed", target, reason, addr, now)

    with factory() as session:
        too_many = _failures_from(session, addr, now - policy.window) >= policy.max_per_addr
    if too_many:
        refuse("too many failed attempts from this address")
        return None
    if not username:
        refuse("unknown user")
        return None
    with transaction(factory) as session:
        taken = _take_check(session, username, now, policy)
        user = get_user(session, username)
    if user is None:
        refuse("unknown user")
        return None
    if not taken:
        until = user.locked_until
        refuse(f"locked until {until.isoformat()}" if until and until > now else "too many attempts (locked)")
        return None
    ok, new_hash = verify_password(user.password_hash, password)
    with transaction(factory) as session:
        if not ok:
            now_locked = _lock_if_spent(session, user.id, now, policy)
            reason = "wrong password" + (" (account now locked)" if now_locked else "")
            audit(session, username, "signin_failed", target, reason, addr, now)
            return None
        fields: dict[str, object] = {"failed_count": 0, "failed_since": None, "locked_until": None}
        if user.disabled:
            fields = {}  # the check was right, but it still counts: a disabled account is no way in
        else:
            fields["last_sign_in_at"] = now
            if new_hash is not None:
                fields["password_hash"] = new_hash
        if fields:
            session.execute(
                update(UserAccount)
                .where(UserAccount.id == user.id)
                .values(**fields)
                .execution_options(synchronize_session=False)
            )
        if user.disabled:
            audit(session, username, "signin_failed", target, "account disabled", addr, now)
            return None
        audit(
            session, username, "signin", target, "password" + (" (rehashed)" if new_hash else ""), addr, now
        )
        user = session.get(UserAccount, user.id, populate_existing=True)
    return user
