"""Cases (one matter reported once per feed) and their timeline of events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, PlaceMixin, UTCDateTime, utcnow


class Case(PlaceMixin, Base):
    """One case, stored once per ``(feed_name, external_id)``.

    ``status`` follows the state machine in :mod:`data.states`; ``escalation_level`` is where it is held
    (community → street → district); ``supervision`` is the 督办 card (none | yellow | red).
    """

    __tablename__ = "case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_name: Mapped[str] = mapped_column(String(60))
    external_id: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(40), default="")  # 12345 | patrol | department ...
    department_code: Mapped[str | None] = mapped_column(String(40), ForeignKey("department.code"))
    category_code: Mapped[str | None] = mapped_column(String(40), ForeignKey("category.code"))
    category_name: Mapped[str] = mapped_column(String(100), default="")  # as the feed named it
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    status: Mapped[str] = mapped_column(String(20), default="reported")
    source_status: Mapped[str] = mapped_column(String(60), default="")  # the feed's own word
    title: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    # point | code | address | unplaced
    placement: Mapped[str] = mapped_column(String(20), default="unplaced")
    reporter_name: Mapped[str | None] = mapped_column(String(100))
    reporter_phone: Mapped[str | None] = mapped_column(String(30))  # personal data: masked when shown
    reporter_email: Mapped[str | None] = mapped_column(String(254))  # personal data, as the phone
    media_url: Mapped[str | None] = mapped_column(String(500))  # Open311 media_url: an http(s) photo link
    # the case search (data.search): the texts' bigrams (indexed by FTS5 on SQLite, a GIN tsvector on
    # PostgreSQL; deferred: no screen reads it) and the keyed hash of the reporter's phone
    search_terms: Mapped[str | None] = mapped_column(Text, deferred=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64))

    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # first move to assigned / in progress (:mod:`data.first_response`), kept by whoever writes the event
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    due_soon: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_level: Mapped[str] = mapped_column(String(10), default="community")
    supervision: Mapped[str] = mapped_column(String(10), default="none")
    satisfaction: Mapped[str | None] = mapped_column(String(20))  # satisfied | basic | unsatisfied

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("feed_name", "external_id", name="uq_case_feed_external"),
        Index("ix_case_open_street", "is_open", "street_code"),
        Index("ix_case_overdue_level", "overdue", "escalation_level", "is_open"),
        Index("ix_case_category_period", "category_code", "requested_at"),
        Index("ix_case_district_period", "district_code", "requested_at"),
        Index("ix_case_open_deadline", "is_open", "deadline_at"),
        # open and overdue now per district, street or department, from the open cases' entries only
        # (an index-only scan: its cost follows the open cases, never the closed ones)
        Index(
            "ix_case_open_place",
            "district_code",
            "street_code",
            "department_code",
            "deadline_at",
            postgresql_where=text("is_open"),
            sqlite_where=text("is_open = 1"),
        ),
        Index("ix_case_modified", "modified_at"),
        Index("ix_case_resolved", "resolved_at"),
        Index("ix_case_external_id", "external_id"),
        Index("ix_case_phone_hash", "phone_hash"),
    )


class CaseEvent(Base):
    """One line of a case's timeline: who, what, when, from which feed."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(30))
    # created | status | illegal_transition | due_soon | overdue | supervision | escalation | note | update
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100), default="system")
    feed_name: Mapped[str | None] = mapped_column(String(60))

    case: Mapped[Case] = relationship(back_populates="events")
