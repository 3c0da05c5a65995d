"""Server-side sessions: each signed-in browser has a row (:class:`data.models.UserSession`), so
sign-out, a new wall link or an admin can end one on the server, not only in the browser.

The browser's cookie holds a random key; the table holds its SHA-256 (a copy of the table signs
nobody in). :func:`session_alive` is checked on every request; rows past the longest session
lifetime are pruned when a new session starts.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from data.models import UserAccount, UserSession

from .roles import longest_session

KEY_BYTES = 32


def _id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open_session(session: Session, user: UserAccount, via: str, now: datetime) -> str:
    """A new server-side session for ``user``; returns the key the browser's cookie keeps."""
    session.execute(
        delete(UserSession)
        .where(UserSession.renewed_at < now - longest_session())
        .execution_options(synchronize_session=False)
    )
    key = secrets.token_urlsafe(KEY_BYTES)
    session.add(UserSession(id=_id(key), user_id=user.id, via=via, started_at=now, renewed_at=now))
    return key


def session_alive(session: Session, key: object, user_id: int) -> bool:
    """Whether the cookie's session ``key`` is a live session of account ``user_id``."""
    if not isinstance(key, str) or not key or len(key) > 100:
        return False
    row = session.scalar(select(UserSession.user_id).where(UserSession.id == _id(key)))
    return row == user_id


def renew_session(session: Session, key: object, now: datetime) -> None:
    """A sliding (wall) session was renewed: keep its row past the pruning."""
    if isinstance(key, str) and key:
        session.execute(
            update(UserSession)
            .where(UserSession.id == _id(key))
            .values(renewed_at=now)
            .execution_options(synchronize_session=False)
        )


def close_session(session: Session, key: object) -> None:
    """End one session (sign-out): its cookie, and every copy of it, stops working."""
    if isinstance(key, str) and key:
        session.execute(
            delete(UserSession).where(UserSession.id == _id(key)).execution_options(synchronize_session=False)
        )


def close_sessions(session: Session, user: UserAccount, via: str | None = None) -> int:
    """End every session of ``user`` (only those begun ``via`` a password or link, if given)."""
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    if via is not None:
        stmt = stmt.where(UserSession.via == via)
    result = session.execute(stmt.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
