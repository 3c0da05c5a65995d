"""Feeds (their cursor), their health, and the quarantine of rejected records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class Feed(Base):
    """A department feed as last read from the feeds file, plus its cursor (advanced only after a commit)."""

    __tablename__ = "feed"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    department_code: Mapped[str | None] = mapped_column(String(40))
    protocol: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(String(500))
    interval_s: Mapped[int] = mapped_column(Integer, default=60)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    cursor: Mapped[str | None] = mapped_column(String(100))  # updated_after watermark (ISO-8601 UTC)
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    # An admin's pause (/feeds, `gridcc feeds disable`): polls are skipped while it is set. It is the
    # database's own: syncing the feeds file (which sets ``enabled``) leaves it alone.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_by: Mapped[str | None] = mapped_column(String(100))


class FeedHealth(Base):
    __tablename__ = "feed_health"

    feed_name: Mapped[str] = mapped_column(ForeignKey("feed.name", ondelete="CASCADE"), primary_key=True)
    last_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # The newest record's own update time seen so far (its age is information, not the feed's health:
    # staleness is judged on last_success_at, see data.feed_status).
    newest_record_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An unreadable page holds the cursor here (Open311 paging); bad_page_polls polls in a row so far.
    bad_page_cursor: Mapped[str | None] = mapped_column(String(100))
    bad_page_polls: Mapped[int] = mapped_column(Integer, default=0)
    last_duration_s: Mapped[float | None] = mapped_column(Float)
    # What the last successful poll wants said (it stopped short at its budget or a repeated page);
    # cleared by a poll that read everything.
    note: Mapped[str | None] = mapped_column(Text)
    received: Mapped[int] = mapped_column(Integer, default=0)  # totals since the feed was first polled
    new: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    ignored: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)


class Quarantine(Base):
    """A rejected record or document: the reason and the raw payload, kept for the operator."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_name: Mapped[str] = mapped_column(String(60), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    external_id: Mapped[str | None] = mapped_column(String(250))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text, default="")
    # sha256 of ``raw``: the same content from the same feed is quarantined once, however often it comes
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
