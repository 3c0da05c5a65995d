"""Alerts (warnings and sensor alarms), the grids a warning covers, and risks (风险台账)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, PlaceMixin, UTCDateTime, utcnow

ALERT_STATES = ("new", "acknowledged", "linked", "dismissed", "expired", "cancelled")
SEVERITY_COLOUR = {"Minor": "blue", "Moderate": "yellow", "Severe": "orange", "Extreme": "red"}
SEVERITY_RANK = {"Unknown": 0, "Minor": 1, "Moderate": 2, "Severe": 3, "Extreme": 4}


class Alert(PlaceMixin, Base):
    """A warning (CAP) or a sensor alarm. Geometry is WKB (WGS-84); place columns hold its centre's grid."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_name: Mapped[str] = mapped_column(String(60))
    external_id: Mapped[str] = mapped_column(String(250))
    kind: Mapped[str] = mapped_column(String(20))  # weather | fence | noise | landslide | smoke | thermal
    msg_type: Mapped[str] = mapped_column(String(10), default="Alert")
    references: Mapped[str] = mapped_column(Text, default="")
    event: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[str] = mapped_column(String(12), default="Unknown")
    colour: Mapped[str] = mapped_column(String(10), default="")  # blue | yellow | orange | red
    urgency: Mapped[str] = mapped_column(String(12), default="")
    certainty: Mapped[str] = mapped_column(String(12), default="")
    headline: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    area_desc: Mapped[str] = mapped_column(Text, default="")
    geometry: Mapped[bytes | None] = mapped_column(LargeBinary)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    onset: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(15), default="new", index=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when an update last raised the severity: the escalation clock runs from here (else created_at)
    raised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    events: Mapped[list[AlertEvent]] = relationship(
        back_populates="alert", order_by="AlertEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("feed_name", "external_id", name="uq_alert_feed_external"),
        Index("ix_alert_state_severity", "state", "severity"),
    )


class AlertGrid(Base):
    """A grid covered by a warning area (the intersection is stored, not recomputed per view)."""

    __tablename__ = "alert_grid"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), primary_key=True)
    grid_code: Mapped[str] = mapped_column(
        String(15), ForeignKey("admin_unit.code", ondelete="CASCADE"), primary_key=True, index=True
    )


class AlertEvent(Base):
    __tablename__ = "alert_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # created | updated | raised | cancelled | acknowledged | escalated ...
    kind: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100), default="system")

    alert: Mapped[Alert] = relationship(back_populates="events")


RISK_KINDS = ("political", "public_order", "social_conflict", "public_safety", "cyber")
RISK_LEVELS = ("high", "medium", "low")


class Risk(PlaceMixin, Base):
    """One entry of the risk ledger (风险台账): to be closed (销号) by ``due_at``.

    ``owner`` is the responsible unit (责任单位), ``owner_person`` and ``owner_phone`` the responsible
    person (责任人; the phone is personal data, masked on screens); ``ref`` the ledger's own number
    (台账编号, unique when given: an import with a known number updates that risk). Closing records
    the measures taken, the evidence, who closed it and when.
    """

    __tablename__ = "risk"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(10))  # high | medium | low
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    owner: Mapped[str] = mapped_column(String(100), default="")
    owner_person: Mapped[str] = mapped_column(String(100), default="")
    owner_phone: Mapped[str | None] = mapped_column(String(30))
    measures: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
