"""Upserting parsed case records, idempotently by ``(feed_name, external_id)``, inside the caller's
transaction.

- a new case is inserted with a ``created`` event; its category comes from the feed's service code
  when it is one of ours (``category.code`` or ``category.name``), else the feed's name for it is
  kept and the department's default limits apply; ``accepted_at`` is the record's, else
  ``requested_at``; the deadline comes from :mod:`data.deadlines`;
- a changed case moves through :func:`data.states.path`, one ``status`` event per implied step; a
  transition the graph forbids (closed → in_progress) is not applied and is logged as an
  ``illegal_transition`` event; a step to assigned / in progress sets the case's first response
  (:mod:`data.first_response`) when it is the earliest;
- an update older than the stored ``source_updated_at`` (or as old and identical) is ignored;
- duplicates within a batch collapse to the newest.

The work is set-based: one chunked ``SELECT`` finds which records are already stored; the new ones
go in as plain rows with one bulk insert whose ids come back at once (see :mod:`.case_rows`: one
statement on PostgreSQL, so ``case_daily``'s statement trigger runs once per batch) and every event of
the batch — new and updated cases alike — as one bulk insert. Updates of stored cases go through
the ORM (a poll brings few of them), flushed once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import first_response
from data.deadlines import evaluate
from data.geo.rows import place_columns
from data.models import Case, Category
from data.search import document_terms, search_columns
from data.states import OPEN_STATES, STATES, IllegalTransition, path

from ..feeds.config import FeedConfig
from ..feeds.records import CaseRecord
from .case_rows import event_row, insert_cases, insert_events
from .catalogue import DEFAULT_LIMITS, Catalogue, priority_of
from .clock import Facts, advance
from .placement import Placement, Placer

__all__ = ["DEFAULT_LIMITS", "CaseIngest", "Catalogue", "Counts", "collapse"]

CHUNK = 500
NEW_FACTS = Facts(due_soon=False, overdue=False, supervision="none", escalation_level="community")


@dataclass
class Counts:
    received: int = 0
    new: int = 0
    updated: int = 0
    ignored: int = 0
    quarantined: int = 0
    calls: int = 0  # 预警叫应 messages written to the outbox (workers.ingest.alerts)
    newest: datetime | None = None  # newest source update seen (for the cursor and the record age)
    layers: set[str] = field(default_factory=set)

    def saw(self, when: datetime | None) -> None:
        if when is not None and (self.newest is None or when > self.newest):
            self.newest = when

    def as_dict(self) -> dict[str, int]:
        return {
            "received": self.received,
            "new": self.new,
            "updated": self.updated,
            "ignored": self.ignored,
            "quarantined": self.quarantined,
        }


def record_time(record: CaseRecord) -> datetime:
    return record.updated_at or record.requested_at


def collapse(records: Iterable[CaseRecord]) -> tuple[list[CaseRecord], int]:
    """One record per external id (the newest; the later in the batch on a tie), and how many fell."""
    newest: dict[str, CaseRecord] = {}
    dropped = 0
    for record in records:
        kept = newest.get(record.external_id)
        if kept is not None:
            dropped += 1
            if record_time(record) < record_time(kept):
                continue
        newest[record.external_id] = record
    return list(newest.values()), dropped


def deadline_facts(
    accepted: datetime, limit_hours: int, now: datetime, is_open: bool, old: Facts
) -> tuple[datetime, Facts, list[tuple[str, str]]]:
    """The deadline, the new facts and the events of the move (none for a closed case, whose facts
    are kept as they were — they say how it ended — except that it is no longer due soon)."""
    clock = evaluate(accepted, limit_hours, now, is_open)
    if not is_open:
        return clock.deadline_at, Facts(False, old.overdue, old.supervision, old.escalation_level), []
    facts, events = advance(old, clock)
    return clock.deadline_at, facts, events


def _fingerprint_record(r: CaseRecord, category: Category | None) -> tuple[object, ...]:
    return (
        r.source_status, r.description, r.address, r.lon, r.lat,
        category.code if category else None, r.category_name, priority_of(r), r.satisfaction, r.expected_at,
    )  # fmt: skip


def _fingerprint_case(c: Case) -> tuple[object, ...]:
    return (
        c.source_status, c.description, c.address, c.lon, c.lat,
        c.category_code, c.category_name, c.priority, c.satisfaction, c.expected_at,
    )  # fmt: skip


class CaseIngest:
    """One batch of case records for one feed, applied to the session (the caller commits)."""

    def __init__(
        self,
        session: Session,
        feed: FeedConfig,
        placer: Placer,
        now: datetime,
        echo_before: datetime | None = None,
        phone_key: bytes | None = None,
    ) -> None:
        """``echo_before``: the cursor of the previous poll. The poll asks for a little before it (see
        ``workers.jobs.poll.CURSOR_OVERLAP``); a stored record seen again unchanged from that overlap
        is an echo, not news, and is not counted at all. ``phone_key``: the key of the reporters' phone
        hashes (:func:`data.search.phone_hash`; without it no case gets one, and none is found by phone)."""
        self.echo_before = echo_before
        self.phone_key = phone_key
        self.session = session
        self.feed = feed
        self.placer = placer
        self.now = now
        self.catalogue = Catalogue(session)
        self.counts = Counts()
        self.actor = f"feed:{feed.name}"
        self._events: list[dict[str, Any]] = []  # of updated cases, written after the flush

    def run(self, records: Sequence[CaseRecord]) -> Counts:
        self.counts.received += len(records)
        for r in records:
            self.counts.saw(r.updated_at or r.requested_at)
        unique, dropped = collapse(records)
        self.counts.ignored += dropped
        existing = self._existing([r.external_id for r in unique])
        fresh = [r for r in unique if r.external_id not in existing]
        self._insert_new(fresh)
        for record in unique:
            case = existing.get(record.external_id)
            if case is not None:
                self._update(case, record)
        self.session.flush()
        insert_events(self.session.connection(), self._events)
        self._events = []
        if self.counts.new or self.counts.updated:
            self.counts.layers.update({"cases", "kpis"})
        return self.counts

    def _existing(self, ids: list[str]) -> dict[str, Case]:
        found: dict[str, Case] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            stmt = select(Case).where(Case.feed_name == self.feed.name, Case.external_id.in_(chunk))
            for case in self.session.scalars(stmt):
                found[case.external_id] = case
        return found

    def _place(self, records: Sequence[CaseRecord]) -> list[Placement]:
        if not records:
            return []
        return self.placer.place(
            [(r.lon, r.lat) for r in records],
            [r.grid_code for r in records],
            [r.address for r in records],
        )

    # -- new cases: plain rows, one bulk insert ----------------------------------------------------

    def _insert_new(self, records: Sequence[CaseRecord]) -> None:
        if not records:
            return
        rows: list[dict[str, Any]] = []
        events: list[list[dict[str, Any]]] = []
        for record, placement in zip(records, self._place(records), strict=True):
            row, row_events = self._new_row(record, placement)
            rows.append(row)
            events.append(row_events)
        ids = insert_cases(self.session.connection(), self.feed.name, rows)
        for row, row_events in zip(rows, events, strict=True):
            case_id = ids[row["external_id"]]
            for event in row_events:
                event["case_id"] = case_id
        self._events.extend(e for row_events in events for e in row_events)
        self.counts.new += len(rows)

    def _new_row(self, r: CaseRecord, placement: Placement) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        category = self.catalogue.category(r)
        department = self.catalogue.department(r, category, self.feed)
        status = r.status if r.status in STATES else "reported"
        priority = priority_of(r)
        is_open = status in OPEN_STATES
        when = record_time(r)
        accepted = r.accepted_at or r.requested_at
        limit = self.catalogue.limit_hours(category, department, priority)
        deadline_at, facts, moves = deadline_facts(accepted, limit, self.now, is_open, NEW_FACTS)
        row: dict[str, Any] = {
            "feed_name": self.feed.name,
            "external_id": r.external_id,
            "source": self.feed.department,
            "department_code": department,
            "category_code": category.code if category else None,
            "category_name": r.category_name or (category.name if category else r.category_code),
            "priority": priority,
            "status": status,
            "source_status": r.source_status,
            "title": (r.category_name or r.description)[:200],
            "description": r.description,
            "address": r.address[:300],
            "lon": r.lon,
            "lat": r.lat,
            "placement": placement.method,
            "reporter_name": r.reporter_name,
            "reporter_phone": r.reporter_phone,
            "reporter_email": r.reporter_email,
            "media_url": r.media_url or None,
            "requested_at": r.requested_at,
            "accepted_at": accepted,
            "source_updated_at": when,
            "expected_at": r.expected_at,
            "deadline_at": deadline_at,
            "resolved_at": (r.resolved_at or when) if status in ("resolved", "closed") else None,
            "closed_at": when if status == "closed" else None,
            # the ``created`` event below (at ``requested_at``) is the response when it arrives assigned
            "first_response_at": r.requested_at if first_response.responds("created", status) else None,
            "is_open": is_open,
            "satisfaction": r.satisfaction,
            "due_soon": facts.due_soon,
            "overdue": facts.overdue,
            "supervision": facts.supervision,
            "escalation_level": facts.escalation_level,
            **place_columns(placement.code),
        }
        # the case search's columns, in this same insert (the full-text index follows in the transaction)
        found = search_columns(row["title"], r.description, row["address"], r.reporter_phone, self.phone_key)
        row.update(found)
        created = event_row(
            None, "created", r.requested_at, to_status=status, detail=r.source_status,
            actor=self.actor, feed_name=self.feed.name,
        )  # fmt: skip
        return row, [created, *(event_row(None, kind, self.now, detail=d) for kind, d in moves)]

    # -- stored cases: the ORM, events collected for the bulk insert -------------------------------

    def _event(self, case: Case, kind: str, at: datetime, **fields: Any) -> None:
        row = event_row(case.id, kind, at, actor=self.actor, feed_name=self.feed.name, **fields)
        self._events.append(row)

    def _clock(self, case: Case, limit_hours: int) -> None:
        """Recompute the deadline facts; write an event for each step they moved up."""
        accepted = case.accepted_at or case.requested_at
        old = Facts(case.due_soon, case.overdue, case.supervision, case.escalation_level)
        deadline_at, facts, moves = deadline_facts(accepted, limit_hours, self.now, case.is_open, old)
        case.deadline_at = deadline_at
        case.due_soon, case.overdue = facts.due_soon, facts.overdue
        case.supervision, case.escalation_level = facts.supervision, facts.escalation_level
        self._events.extend(event_row(case.id, kind, self.now, detail=d) for kind, d in moves)

    def _update(self, case: Case, r: CaseRecord) -> None:
        category = self.catalogue.category(r)
        stored = case.source_updated_at
        incoming = r.updated_at or r.requested_at
        same = _fingerprint_record(r, category) == _fingerprint_case(case)
        if stored is not None and (incoming < stored or (incoming == stored and same)):
            if same and self.echo_before is not None and incoming <= self.echo_before:
                self.counts.received -= 1  # the overlap's echo
                return
            self.counts.ignored += 1
            return
        if same:  # newer, but nothing we keep has changed
            case.source_updated_at = incoming
            self.counts.ignored += 1
            return
        changed = self._apply_status(case, r, incoming)
        moved = (r.lon, r.lat, r.address) != (case.lon, case.lat, case.address)
        for name, value in (
            ("description", r.description),
            ("address", r.address[:300]),
            ("lon", r.lon),
            ("lat", r.lat),
            ("category_code", category.code if category else None),
            ("category_name", r.category_name or case.category_name),
            ("priority", priority_of(r)),
            ("satisfaction", r.satisfaction),
            ("expected_at", r.expected_at),
        ):
            if getattr(case, name) != value:
                setattr(case, name, value)
                changed.append(name)
        if {"description", "address"} & set(changed):
            case.search_terms = document_terms(case.title, case.description, case.address)
        case.source_status = r.source_status
        case.source_updated_at = incoming
        if r.accepted_at is not None and case.accepted_at != r.accepted_at:
            case.accepted_at = r.accepted_at
        if moved or (r.grid_code and case.placement in ("unplaced", "address")):
            placement = self._place([r])[0]
            case.set_place(placement.code)
            case.placement = placement.method
        fields = [f for f in changed if f != "status"]
        if fields:
            self._event(case, "update", incoming, detail=", ".join(fields))
        department = case.department_code or self.feed.department
        self._clock(case, self.catalogue.limit_hours(category, department, case.priority))
        if changed:
            self.counts.updated += 1
        else:
            self.counts.ignored += 1

    def _apply_status(self, case: Case, r: CaseRecord, at: datetime) -> list[str]:
        target = r.status
        if target not in STATES or target == case.status:
            return []  # "open" or an unknown word: the state stays as it is
        try:
            steps = path(case.status, target)
        except IllegalTransition as exc:
            self._event(
                case,
                "illegal_transition",
                at,
                from_status=case.status,
                to_status=target,
                detail=f"{exc} (feed said {r.source_status!r}); not applied",
            )
            return []
        current = case.status
        for step in steps:
            self._event(case, "status", at, from_status=current, to_status=step, detail=r.source_status)
            if first_response.responds("status", step):
                case.first_response_at = first_response.earliest(case.first_response_at, at)
            current = step
        case.status = target
        case.is_open = target in OPEN_STATES
        if target in ("resolved", "closed") and case.resolved_at is None:
            case.resolved_at = r.resolved_at or at  # the feed's 办结时间 when it says, else when we saw it
        if target == "closed":
            case.closed_at = at
        if target in OPEN_STATES:
            case.resolved_at = case.closed_at = None
        return ["status"]
