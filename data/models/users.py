"""Sign-in accounts: who may use the dashboard, in which role, over which part of the district."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class UserAccount(Base):
    """One account.

    ``scope_codes`` is a comma-separated list of unit codes (districts, streets, communities or grids)
    the account may see (:class:`data.scope.AreaScope`). ``failed_count`` counts wrong passwords since
    ``failed_since`` (the lock-out window); ``locked_until`` refuses every sign-in, right or wrong,
    until then. ``session_epoch`` goes up when every open session of the account must end (new
    password, disabled, wall link revoked). ``link_nonce`` is the revocable part of a wall display's
    sign-in link (``None``: no link).
    """

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10))
    scope_codes: Mapped[str] = mapped_column(String(1000))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    link_nonce: Mapped[str | None] = mapped_column(String(64))


class UserSession(Base):
    """One signed-in browser, known on the server: its cookie names it (``id`` is the SHA-256 of the
    cookie's random session key, so a copy of this table signs nobody in). Every request checks that
    the row exists; sign-out deletes it, so a copy of the cookie stops working everywhere at once.
    ``via`` is how it began (``password``, or ``link`` for a wall's sign-in link: a new link deletes
    those). ``renewed_at`` moves when a wall's sliding session is renewed; rows not renewed within the
    longest session lifetime are pruned."""

    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    via: Mapped[str] = mapped_column(String(10), default="password")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
