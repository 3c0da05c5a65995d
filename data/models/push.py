"""The keys departments and reporting apps push with (``push_key``): stored hashed, revocable."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

PUSH_KINDS = ("department", "app")
PUSH_PROTOCOLS = ("open311", "cap", "sensor")


class PushKey(Base):
    """One client's key. The token itself is shown once when it is made; only its sha256 is kept (a
    32-byte random token needs no slow hash: nothing can be guessed from it), with a short prefix to
    tell keys apart in a list."""

    __tablename__ = "push_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # department | app
    owner: Mapped[str] = mapped_column(String(60))  # the department code or the app's name
    feed_name: Mapped[str] = mapped_column(String(60))  # the feed its records are stored under
    protocols: Mapped[str] = mapped_column(String(100))  # comma-separated: open311,cap,sensor
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(20))
    rate_per_minute: Mapped[int] = mapped_column(Integer, default=120)
    max_body_bytes: Mapped[int] = mapped_column(Integer, default=256 * 1024)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(100))

    def allows(self, protocol: str) -> bool:
        return protocol in self.protocols.split(",")
