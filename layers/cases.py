"""Open cases as points (geobuf) with what the map shows of each: state, deadline flags, category, title.

A case without a point of its own is drawn at its grid's (else its community's) label point and marked
``approx`` with that level; one known only to its street stays off the map (:mod:`data.queries.case_place`).
Feed text (titles, addresses) goes out as plain strings; the browser inserts it as text, never as HTML.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from data.case_filter import NO_FILTER, CaseFilter
from data.masking import mask_personal_text
from data.models import Case, Category
from data.queries.case_place import APPROX, MAP_LAT, MAP_LON, with_map_place
from data.scope import AreaScope

from .encoding import geobuf_bytes
from .units import BBox

TITLE_CHARS = 40
# At most this many cases in one viewport payload (a city-sized scope loads its cases by view).
VIEW_CAP = 10_000
ADDRESS_CHARS = 60
_SPACES = re.compile(r"\s+")


def short_text(text: str | None, limit: int) -> str:
    """Whitespace collapsed, cut to ``limit`` characters with an ellipsis."""
    clean = _SPACES.sub(" ", text or "").strip()
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def open_cases_query(
    scope: AreaScope,
    filters: CaseFilter = NO_FILTER,
    bbox: BBox | None = None,
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> Select[Any]:
    """The ``WHERE`` of the case layers: open cases (or the states of a status filter) in the scope that
    the map can draw (at their own point, or approximately at their grid's or community's label point:
    :mod:`data.queries.case_place`), matching the filters (:meth:`data.case_filter.CaseFilter.clause`,
    the duty table's own) and the bbox (on the point drawn); a named period as of ``now`` in ``tz``.
    Callers add their columns with ``with_only_columns``; ``MAP_LON``, ``MAP_LAT`` and ``APPROX`` of
    :mod:`data.queries.case_place` are the drawn point and its approximation."""
    query = with_map_place(
        select(Case.id)
        .outerjoin(Category, Category.code == Case.category_code)
        .where(filters.states_clause(), scope.clause(Case))
    )
    if bbox is not None:
        query = query.where(
            MAP_LON >= bbox.west, MAP_LON <= bbox.east, MAP_LAT >= bbox.south, MAP_LAT <= bbox.north
        )
    return query.where(filters.clause(now, tz))


def case_features(
    session: Session,
    scope: AreaScope,
    filters: CaseFilter = NO_FILTER,
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
    filters: CaseFilter = NO_FILTER,
    bbox: BBox | None = None,
    tz: str = "Asia/Shanghai",
    text_mode: str = "masked",
) -> bytes:
    """The open-cases layer (geobuf) for a scope and filters: all of them, or those in ``bbox`` (at most
    :data:`VIEW_CAP`, the late ones first)."""
    cap = None if bbox is None else VIEW_CAP
    return geobuf_bytes(case_features(session, scope, filters, bbox, cap, tz, text_mode))
