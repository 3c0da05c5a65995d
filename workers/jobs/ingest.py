"""Upserting parsed case records, idempotently by ``(feed_name, external_id)``, inside the caller's
transaction.

- a new case is inserted with a ``created`` event; its category comes from the feed's service code
  when it is one of ours (``category.code`` or ``category.name``), else the feed's name for it is
  kept and the department's default limits apply; ``accepted_at`` is the record's, else
  ``requested_at``; the deadline comes from :mod:`data.deadlines`;
- a changed case moves through :func:`data.states.path`, one ``status`` event per implied step; a
  transition the graph forbids (closed → in_progress) is not applied and is logged as an
  ``illegal_transition`` event;
- an update older than the stored ``source_updated_at`` (or as old and identical) is ignored;
- duplicates within a batch collapse to the newest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.deadlines import evaluate
from data.models import Case, CaseEvent, Category, Department, Quarantine
from data.states import OPEN_STATES, STATES, IllegalTransition, path

from ..feeds.config import FeedConfig
from ..feeds.records import CaseRecord, Rejection
from .clock import Facts, advance
from .placement import Placement, Placer

DEFAULT_LIMITS = {"urgent": 24, "normal": 120, "complex": 360}
CHUNK = 500


@dataclass
class Counts:
    received: int = 0
    new: int = 0
    updated: int = 0
    ignored: int = 0
    quarantined: int = 0
    newest: datetime | None = None  # newest source update seen (for the cursor and the lag)
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


class Catalogue:
    """Categories and departments, loaded once per poll."""

    def __init__(self, session: Session) -> None:
        categories = list(session.scalars(select(Category)))
        self.by_code = {c.code: c for c in categories}
        self.by_name = {c.name: c for c in categories}
        self.departments = set(session.scalars(select(Department.code)))
        self.department_limits: dict[str, dict[str, int]] = {}
        for c in categories:  # a department's default: the limits of a top-level category it leads
            if c.parent_code is None and c.lead_department_code:
                self.department_limits.setdefault(
                    c.lead_department_code,
                    {p: c.limit_hours(p) for p in DEFAULT_LIMITS},
                )

    def category(self, record: CaseRecord) -> Category | None:
        for key in (record.category_code, record.category_name):
            if key and (found := self.by_code.get(key) or self.by_name.get(key)):
                return found
        return None

    def department(self, record: CaseRecord, category: Category | None, feed: FeedConfig) -> str:
        if record.department in self.departments:
            return record.department
        if category is not None and category.lead_department_code:
            return category.lead_department_code
        return feed.department

    def limit_hours(self, category: Category | None, department: str, priority: str) -> int:
        if category is not None:
            return category.limit_hours(priority)
        return self.department_limits.get(department, DEFAULT_LIMITS)[priority]


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


def quarantine(session: Session, feed_name: str, rejections: Sequence[Rejection], now: datetime) -> int:
    for r in rejections:
        session.add(
            Quarantine(feed_name=feed_name, at=now, external_id=r.external_id, reason=r.reason, raw=r.raw)
        )
    return len(rejections)


def _priority(record: CaseRecord) -> str:
    return record.priority if record.priority in DEFAULT_LIMITS else "normal"


def _fingerprint_record(r: CaseRecord, category: Category | None) -> tuple[object, ...]:
    return (
        r.source_status, r.description, r.address, r.lon, r.lat,
        category.code if category else None, r.category_name, _priority(r), r.satisfaction, r.expected_at,
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
    ) -> None:
        """``echo_before``: the cursor of the previous poll. The poll asks for a little before it (see
        ``workers.jobs.poll.CURSOR_OVERLAP``); a stored record seen again unchanged from that overlap
        is an echo, not news, and is not counted at all."""
        self.echo_before = echo_before
        self.session = session
        self.feed = feed
        self.placer = placer
        self.now = now
        self.catalogue = Catalogue(session)
        self.counts = Counts()

    def run(self, records: Sequence[CaseRecord]) -> Counts:
        self.counts.received += len(records)
        for r in records:
            self.counts.saw(r.updated_at or r.requested_at)
        unique, dropped = collapse(records)
        self.counts.ignored += dropped
        existing = self._existing([r.external_id for r in unique])
        fresh = [r for r in unique if r.external_id not in existing]
        placements = self._place(fresh)
        for record, placement in zip(fresh, placements, strict=True):
            self._insert(record, placement)
        for record in unique:
            case = existing.get(record.external_id)
            if case is not None:
                self._update(case, record)
        self.session.flush()
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

    def _event(self, case: Case, kind: str, at: datetime, **fields: object) -> None:
        case.events.append(
            CaseEvent(kind=kind, at=at, actor=f"feed:{self.feed.name}", feed_name=self.feed.name, **fields)
        )

    def _clock(self, case: Case, limit_hours: int) -> None:
        """Recompute the deadline facts; write an event for each step they moved up."""
        accepted = case.accepted_at or case.requested_at
        clock = evaluate(accepted, limit_hours, self.now, case.is_open)
        case.deadline_at = clock.deadline_at
        if not case.is_open:
            case.due_soon = False  # the rest is kept: it says how the case ended
            return
        old = Facts(case.due_soon, case.overdue, case.supervision, case.escalation_level)
        facts, events = advance(old, clock)
        case.due_soon, case.overdue = facts.due_soon, facts.overdue
        case.supervision, case.escalation_level = facts.supervision, facts.escalation_level
        for kind, detail in events:
            case.events.append(CaseEvent(kind=kind, at=self.now, detail=detail))

    def _insert(self, r: CaseRecord, placement: Placement) -> None:
        category = self.catalogue.category(r)
        department = self.catalogue.department(r, category, self.feed)
        status = r.status if r.status in STATES else "reported"
        when = record_time(r)
        case = Case(
            feed_name=self.feed.name,
            external_id=r.external_id,
            source=self.feed.department,
            department_code=department,
            category_code=category.code if category else None,
            category_name=r.category_name or (category.name if category else r.category_code),
            priority=_priority(r),
            status=status,
            source_status=r.source_status,
            title=(r.category_name or r.description)[:200],
            description=r.description,
            address=r.address[:300],
            lon=r.lon,
            lat=r.lat,
            placement=placement.method,
            reporter_name=r.reporter_name,
            reporter_phone=r.reporter_phone,
            requested_at=r.requested_at,
            accepted_at=r.accepted_at or r.requested_at,
            source_updated_at=r.updated_at or r.requested_at,
            expected_at=r.expected_at,
            resolved_at=when if status in ("resolved", "closed") else None,
            closed_at=when if status == "closed" else None,
            is_open=status in OPEN_STATES,
            satisfaction=r.satisfaction,
            due_soon=False,
            overdue=False,
            supervision="none",
            escalation_level="community",
            events=[],
        )
        case.set_place(placement.code)
        self._event(case, "created", r.requested_at, to_status=status, detail=r.source_status)
        self._clock(case, self.catalogue.limit_hours(category, department, case.priority))
        self.session.add(case)
        self.counts.new += 1

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
            ("priority", _priority(r)),
            ("satisfaction", r.satisfaction),
            ("expected_at", r.expected_at),
        ):
            if getattr(case, name) != value:
                setattr(case, name, value)
                changed.append(name)
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
            current = step
        case.status = target
        case.is_open = target in OPEN_STATES
        if target in ("resolved", "closed") and case.resolved_at is None:
            case.resolved_at = at
        if target == "closed":
            case.closed_at = at
        if target in OPEN_STATES:
            case.resolved_at = case.closed_at = None
        return ["status"]
