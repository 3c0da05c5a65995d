"""Open cases as points (geobuf) with what the map shows of each: state, deadline flags, category, title.

A case without a point of its own is drawn at its grid's (else its community's) label point and marked
``approx`` with that level; one known only to its street stays off the map (:mod:`layers.case_place`).
Feed text (titles, addresses) goes out as plain strings; the browser inserts it as text, never as HTML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from data.masking import mask_personal_text
from data.models import Case, Category
from data.queries.common import NAMED_PERIODS, period_named
from data.scope import AreaScope
from data.states import OPEN_STATES, STATES

from .case_place import APPROX, MAP_LAT, MAP_LON, with_map_place
from .encoding import geobuf_bytes
from .units import BBox

TITLE_CHARS = 40
# At most this many cases in one viewport payload (a city-sized scope loads its cases by view).
VIEW_CAP = 10_000
ADDRESS_CHARS = 60
_SPACES = re.compile(r"\s+")
_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")


def short_text(text: str | None, limit: int) -> str:
    """Whitespace collapsed, cut to ``limit`` characters with an ellipsis."""
    clean = _SPACES.sub(" ", text or "").strip()
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


@dataclass(frozen=True)
class CaseFilters:
    """The duty officer's filters: street, category (a parent includes its children), department,
    statuses, and the period of the received time by name (``today``, ``7d``, ``30d``, ``year``: resolved
    when the layer is built, in the deployment's time zone). Empty means no filter."""

    street: str | None = None
    category: str | None = None
    department: str | None = None
    statuses: tuple[str, ...] = ()
    period: str | None = None

    def __post_init__(self) -> None:
        if self.street is not None and not (len(self.street) == 9 and self.street.isdigit()):
            raise ValueError(f"street must be a 9-digit street code, not {self.street!r}")
        for value, name in ((self.category, "category"), (self.department, "department")):
            if value is not None and not _CODE.match(value):
                raise ValueError(f"{name} must be a catalogue code, not {value!r}")
        for status in self.statuses:
            if status not in STATES:
                raise ValueError(f"unknown status {status!r}: one of {', '.join(STATES)}")
        if self.period is not None and self.period not in NAMED_PERIODS:
            raise ValueError(f"unknown period {self.period!r}: one of {', '.join(NAMED_PERIODS)}")

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CaseFilters:
        """From query parameters ``street``, ``category``, ``department``, ``status`` (comma-separated)."""
        statuses = tuple(sorted({s for s in (args.get("status") or "").split(",") if s}))
        return cls(
            street=args.get("street") or None,
            category=args.get("category") or None,
            department=args.get("department") or None,
            statuses=statuses,
            period=args.get("period") or None,
        )

    def as_args(self) -> dict[str, str]:
        """The query parameters :meth:`from_args` reads back (only those set)."""
        args = {
            "street": self.street or "",
            "category": self.category or "",
            "department": self.department or "",
            "status": ",".join(self.statuses),
            "period": self.period or "",
        }
        return {k: v for k, v in args.items() if v}

    @property
    def key(self) -> str:
        """A stable string for cache keys ("" when no filter is set)."""
        parts = [
            f"s={self.street}" if self.street else "",
            f"c={self.category}" if self.category else "",
            f"d={self.department}" if self.department else "",
            f"st={'+'.join(self.statuses)}" if self.statuses else "",
            f"p={self.period}" if self.period else "",
        ]
        return "&".join(p for p in parts if p)


NO_FILTERS = CaseFilters()


def open_cases_query(
    scope: AreaScope,
    filters: CaseFilters = NO_FILTERS,
    bbox: BBox | None = None,
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> Select[Any]:
    """The ``WHERE`` of the case layers: open cases in the scope that the map can draw (at their own
    point, or approximately at their grid's or community's label point: :mod:`layers.case_place`),
    matching the filters (and the bbox, on the point drawn; the named period as of ``now`` in ``tz``).
    Callers add their columns with ``with_only_columns``; ``MAP_LON``, ``MAP_LAT`` and ``APPROX`` of
    :mod:`layers.case_place` are the drawn point and its approximation."""
    query = with_map_place(
        select(Case.id)
        .outerjoin(Category, Category.code == Case.category_code)
        .where(
            Case.is_open.is_(True),
            Case.status.in_(sorted(OPEN_STATES)),
            scope.clause(Case),
        )
    )
    if bbox is not None:
        query = query.where(
            MAP_LON >= bbox.west, MAP_LON <= bbox.east, MAP_LAT >= bbox.south, MAP_LAT <= bbox.north
        )
    if filters.street:
        query = query.where(Case.street_code == filters.street)
    if filters.category:
        query = query.where(
            or_(Case.category_code == filters.category, Category.parent_code == filters.category)
        )
    if filters.department:
        query = query.where(Case.department_code == filters.department)
    if filters.statuses:
        query = query.where(Case.status.in_(filters.statuses))
    if filters.period:
        period = period_named(filters.period, now or datetime.now(UTC), tz)
        query = query.where(Case.requested_at >= period.start, Case.requested_at < period.end)
    return query


def case_features(
    session: Session,
    scope: AreaScope,
    filters: CaseFilters = NO_FILTERS,
    bbox: BBox | None = None,
    cap: int | None = None,
    tz: str = "Asia/Shanghai",
    text_mode: str = "masked",
) -> list[dict[str, Any]]:
    """One point feature per open case the map can draw in the scope matching the filters (and in
    ``bbox``). A case drawn at its unit's label point has ``approx``: ``"grid"`` or ``"community"``.

    Titles and addresses are free text: phones and ID numbers in them go as ``text_mode`` says
    (:func:`data.masking.mask_personal_text`: ``"full"``, ``"masked"`` or ``"none"``, a wall's).

    With ``cap``, at most that many: the overdue first, then the due-soon, then by id, so a crowded view
    never hides the late ones.
    """
    query = open_cases_query(scope, filters, bbox, tz).with_only_columns(
        Case.id,
        Case.status,
        Case.overdue,
        Case.due_soon,
        Case.supervision,
        Case.escalation_level,
        Case.category_name,
        Category.name.label("category_label"),
        Case.title,
        Case.description,
        Case.address,
        Case.deadline_at,
        MAP_LON.label("lon"),
        MAP_LAT.label("lat"),
        APPROX.label("approx"),
    )
    if cap is None:
        query = query.order_by(Case.id)
    else:
        query = query.order_by(Case.overdue.desc(), Case.due_soon.desc(), Case.id).limit(cap)
    features = []
    for row in session.execute(query):
        props: dict[str, Any] = {
            "id": row.id,
            "status": row.status,
            "overdue": bool(row.overdue),
            "due_soon": bool(row.due_soon),
            "supervision": row.supervision or "none",
            "level": row.escalation_level or "community",
            "category": row.category_label or row.category_name or "",
            "title": short_text(mask_personal_text(row.title or row.description, text_mode), TITLE_CHARS),
            "address": short_text(mask_personal_text(row.address, text_mode), ADDRESS_CHARS),
        }
        if row.deadline_at is not None:
            props["deadline"] = int(row.deadline_at.timestamp())
        if row.approx is not None:
            props["approx"] = row.approx
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
                "properties": props,
            }
        )
    return features


def open_case_count(session: Session, scope: AreaScope) -> int:
    """How many open cases the scope's map can draw, approximate ones included (what decides whether its
    map loads them by view)."""
    query = open_cases_query(scope).with_only_columns(func.count())
    return int(session.execute(query).scalar_one())


def build_cases(
    session: Session,
    scope: AreaScope,
    filters: CaseFilters = NO_FILTERS,
    bbox: BBox | None = None,
    tz: str = "Asia/Shanghai",
    text_mode: str = "masked",
) -> bytes:
    """The open-cases layer (geobuf) for a scope and filters: all of them, or those in ``bbox`` (at most
    :data:`VIEW_CAP`, the late ones first)."""
    cap = None if bbox is None else VIEW_CAP
    return geobuf_bytes(case_features(session, scope, filters, bbox, cap, tz, text_mode))
