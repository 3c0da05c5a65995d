"""Active alerts as a small GeoJSON layer: points and CAP polygons in the signal colours, with the grids
(and their grid workers, phones masked unless the caller asks for them in full) each warning covers inside
the scope."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import Point
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from data.masking import mask_personal_text, mask_phone
from data.models import SEVERITY_COLOUR, AdminUnit, Alert, AlertGrid, GridStaff
from data.names import place_name
from data.scope import AreaScope

from .encoding import feature_collection, from_wkb, geometry_json

ACTIVE_STATES = ("new", "acknowledged", "linked")
SIGNAL_COLOURS = ("blue", "yellow", "orange", "red")
MAX_GRIDS_LISTED = 30


def _epoch(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def _grid_in_scope(scope: AreaScope) -> Any:
    return or_(*[AlertGrid.grid_code.startswith(c, autoescape=True) for c in sorted(scope.codes)])


def _covered_grids(
    session: Session, scope: AreaScope, alert_ids: list[int], max_grids: int, full_phones: bool = False
) -> tuple[dict[int, list[dict[str, Any]]], dict[int, int]]:
    """Per alert: the first ``max_grids`` covered grids in scope (with workers) and the total count."""
    if not alert_ids or not scope.codes:
        return {}, {}
    rows = session.execute(
        select(AlertGrid.alert_id, AdminUnit.code, AdminUnit.name)
        .join(AdminUnit, AdminUnit.code == AlertGrid.grid_code)
        .where(AlertGrid.alert_id.in_(alert_ids), _grid_in_scope(scope))
        .order_by(AlertGrid.alert_id, AdminUnit.code)
    ).all()
    totals: dict[int, int] = defaultdict(int)
    listed: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for alert_id, code, name in rows:
        totals[alert_id] += 1
        if len(listed[alert_id]) < max_grids:
            listed[alert_id].append({"code": code, "name": name, "workers": []})
    codes = sorted({g["code"] for grids in listed.values() for g in grids})
    # a grid is named with its community ("金源村 第7网格"): "第7网格" alone repeats in every community
    names = {
        code: name for grids in listed.values() for code, name in ((g["code"], g["name"]) for g in grids)
    }
    communities = sorted({code[:12] for code in codes})
    for chunk_start in range(0, len(communities), 500):
        chunk = communities[chunk_start : chunk_start + 500]
        names.update(
            session.execute(select(AdminUnit.code, AdminUnit.name).where(AdminUnit.code.in_(chunk))).all()
        )
    for grids in listed.values():
        for grid in grids:
            grid["name"] = place_name(grid["code"], names)
    staff: dict[str, list[dict[str, str]]] = defaultdict(list)
    for chunk_start in range(0, len(codes), 500):
        chunk = codes[chunk_start : chunk_start + 500]
        for unit_code, role, name, phone in session.execute(
            select(GridStaff.unit_code, GridStaff.role, GridStaff.name, GridStaff.phone)
            .where(GridStaff.unit_code.in_(chunk))
            .order_by(GridStaff.unit_code, GridStaff.role, GridStaff.id)
        ):
            shown = (phone or "") if full_phones else mask_phone(phone)
            staff[unit_code].append({"role": role, "name": name, "phone": shown})
    for grids in listed.values():
        for grid in grids:
            grid["workers"] = staff.get(grid["code"], [])
    return dict(listed), dict(totals)


def build_alerts(
    session: Session,
    scope: AreaScope,
    now: datetime | None = None,
    max_grids: int = MAX_GRIDS_LISTED,
    full_phones: bool = False,
    text_mode: str = "masked",
) -> dict[str, Any]:
    """Active alerts (not expired, dismissed or cancelled) placed in the scope or covering a grid in it.

    The covered grids' workers carry their phones masked, or in full with ``full_phones`` (for a role
    that needs to call them: the duty officer). The headline and area description are free text, shown
    as ``text_mode`` says (:func:`data.masking.mask_personal_text`)."""
    now = now or datetime.now(UTC)
    if not scope.codes:
        return feature_collection([])
    covering = select(AlertGrid.alert_id).where(_grid_in_scope(scope))
    alerts = session.scalars(
        select(Alert)
        .where(
            Alert.state.in_(ACTIVE_STATES),
            or_(Alert.expires.is_(None), Alert.expires > now),
            or_(scope.clause(Alert), Alert.id.in_(covering)),
        )
        .order_by(Alert.id)
    ).all()
    grids, totals = _covered_grids(session, scope, [a.id for a in alerts], max_grids, full_phones)
    features = []
    for alert in alerts:
        geom = from_wkb(alert.geometry)
        if geom is None and alert.lon is not None and alert.lat is not None:
            geom = Point(alert.lon, alert.lat)
        if geom is None:
            continue
        colour = alert.colour if alert.colour in SIGNAL_COLOURS else SEVERITY_COLOUR.get(alert.severity, "")
        features.append(
            {
                "type": "Feature",
                "geometry": geometry_json(geom),
                "properties": {
                    "id": alert.id,
                    "kind": alert.kind,
                    "event": mask_personal_text(alert.event, text_mode),
                    "severity": alert.severity,
                    "colour": colour,
                    "state": alert.state,
                    "headline": mask_personal_text(alert.headline, text_mode),
                    "area_desc": mask_personal_text(alert.area_desc, text_mode),
                    "onset": _epoch(alert.onset),
                    "expires": _epoch(alert.expires),
                    "grid_count": totals.get(alert.id, 0),
                    "grids": grids.get(alert.id, []),
                },
            }
        )
    return feature_collection(features)
