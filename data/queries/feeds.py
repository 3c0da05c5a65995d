"""Feed health (the /feeds page and the wall's stale banner) and the quarantine of rejected records.

Each feed's status at ``now`` is :func:`data.feed_status.feed_status`'s (the one rule the console,
the wall and this page share): disabled, paused, never, stale, failing or ok; its two ages (the time since its
last successful poll, the age of its newest record) are :func:`data.feed_status.feed_ages`'s.

Feeds are not tied to a place: a feed *concerns* an area when a record of it (a case or an alert) lies
in the area (:func:`feeds_in_scope`). The quarantine's records were never placed, so they concern no
area: only a viewer of the whole deployment may be shown them (``dashboard/feeds_access.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..feed_status import feed_ages, feed_status
from ..models import Alert, Case, Feed, FeedHealth, Quarantine
from ..scope import AreaScope
from .alerts import alert_scope_clause
from .common import department_name, department_names, require_aware
from .labels import label


@dataclass(frozen=True)
class FeedHealthRow:
    name: str
    department_code: str | None
    department_name: str
    protocol: str
    url: str
    enabled: bool
    interval_s: int
    status: str
    status_label: str
    stale: bool
    last_poll_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str
    consecutive_failures: int
    since_success_s: float | None  # freshness of the connection (what "stale" is judged on)
    newest_record_at: datetime | None
    record_age_s: float | None  # age of the newest record: information, not an error
    last_duration_s: float | None
    received: int
    new: int
    updated: int
    ignored: int
    quarantined: int
    paused_at: datetime | None = None  # an admin's pause (polls skipped): shown as paused, never stale
    paused_by: str = ""
    note: str = ""  # a poll that went well but stopped short (its budget), or similar: not an error


@dataclass(frozen=True)
class QuarantineRow:
    id: int
    feed_name: str
    at: datetime
    external_id: str
    reason: str
    raw: str  # truncated for display; plain text, never rendered as HTML
    raw_length: int
    truncated: bool


def feed_health(
    session: Session, scope: AreaScope, now: datetime, stale_after_polls: int
) -> list[FeedHealthRow]:
    """Every feed with its health at ``now``: stale and failing first, then by name."""
    require_aware(now)
    rows = session.execute(
        select(Feed, FeedHealth).outerjoin(FeedHealth, FeedHealth.feed_name == Feed.name)
    ).all()
    deps = department_names(session)
    out = []
    for feed, health in rows:
        status = feed_status(health, feed, now, stale_after_polls, feed.enabled, feed.paused_at is not None)
        ages = feed_ages(health, now)
        out.append(
            FeedHealthRow(
                name=feed.name,
                department_code=feed.department_code,
                department_name=department_name(deps, feed.department_code),
                protocol=feed.protocol,
                url=feed.url,
                enabled=feed.enabled,
                interval_s=feed.interval_s,
                status=status,
                status_label=label("feed_status", status),
                stale=status == "stale",
                last_poll_at=health.last_poll_at if health else None,
                last_success_at=health.last_success_at if health else None,
                last_error_at=health.last_error_at if health else None,
                last_error=(health.last_error or "") if health else "",
                note=(health.note or "") if health else "",
                consecutive_failures=(health.consecutive_failures or 0) if health else 0,
                since_success_s=ages.since_success_s,
                newest_record_at=health.newest_record_at if health else None,
                record_age_s=ages.record_age_s,
                last_duration_s=health.last_duration_s if health else None,
                received=health.received if health else 0,
                new=health.new if health else 0,
                updated=health.updated if health else 0,
                ignored=health.ignored if health else 0,
                quarantined=health.quarantined if health else 0,
                paused_at=feed.paused_at,
                paused_by=feed.paused_by or "",
            )
        )
    order = {"stale": 0, "failing": 1, "never": 2, "ok": 3, "paused": 4, "disabled": 5}
    out.sort(key=lambda r: (order[r.status], r.name))
    return out


def quarantined(
    session: Session,
    scope: AreaScope,
    limit: int = 100,
    feed_name: str | None = None,
    raw_chars: int = 500,
) -> list[QuarantineRow]:
    """Rejected records, newest first, with the reason and the raw payload cut to ``raw_chars``."""
    query = select(
        Quarantine.id,
        Quarantine.feed_name,
        Quarantine.at,
        Quarantine.external_id,
        Quarantine.reason,
        func.substr(Quarantine.raw, 1, raw_chars + 1).label("raw"),
        func.length(Quarantine.raw).label("raw_length"),
    )
    if feed_name:
        query = query.where(Quarantine.feed_name == feed_name)
    rows = session.execute(query.order_by(Quarantine.at.desc(), Quarantine.id.desc()).limit(limit)).all()
    return [
        QuarantineRow(
            r.id,
            r.feed_name,
            r.at,
            r.external_id or "",
            r.reason,
            r.raw[:raw_chars] + ("…" if (r.raw_length or 0) > raw_chars else ""),
            r.raw_length or 0,
            (r.raw_length or 0) > raw_chars,
        )
        for r in rows
    ]


def feeds_in_scope(session: Session, scope: AreaScope) -> frozenset[str]:
    """The feeds that concern ``scope``: those with a case placed in it or an alert placed in it or
    covering one of its grids."""
    if not scope.codes:
        return frozenset()
    cases = select(Case.feed_name).where(scope.clause(Case)).distinct()
    alerts = select(Alert.feed_name).where(alert_scope_clause(scope)).distinct()
    names = set(session.scalars(cases)) | set(session.scalars(alerts))
    return frozenset(n for n in names if n)


def quarantine_record(session: Session, record_id: int, raw_chars: int) -> QuarantineRow | None:
    """One quarantined record with its payload cut to ``raw_chars`` (``None`` when there is none)."""
    row = session.get(Quarantine, record_id)
    if row is None:
        return None
    raw = row.raw or ""
    return QuarantineRow(
        row.id,
        row.feed_name,
        row.at,
        row.external_id or "",
        row.reason,
        raw[:raw_chars] + ("…" if len(raw) > raw_chars else ""),
        len(raw),
        len(raw) > raw_chars,
    )
