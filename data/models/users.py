"""Sign-in accounts: who may use the dashboard, in which role, over which part of the district."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

ROLES = ("wall", "duty", "leader", "admin")


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
