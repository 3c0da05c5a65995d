"""Active alerts as a small GeoJSON layer: points and CAP polygons in the signal colours, with the grids
(and their grid workers, phones masked unless the caller asks for them in full) each warning covers inside
the scope.

预警叫应: a warning calling its grids carries ``calls_answered`` / ``calls_total`` (the grids in scope),
and each called grid in scope is a feature of its own (``call``: ``silent`` or ``answered``, the grid's
code and name, no person): the map draws the silent ones flashing (``assets/gridcc_map.js``)."""

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
from data.queries.calls import call_grids
from data.scope import AreaScope

from .encoding import feature_collection, from_wkb, geometry_json

ACTIVE_STATES = ("new", "acknowledged", "linked")
SIGNAL_COLOURS = ("blue", "yellow", "orange", "red")
MAX_GRIDS_LISTED = 30
CALL_SIMPLIFY = 0.0001  # degrees (~10 m): a called grid's outline, light enough for the wall


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
    calls = call_grids(session, scope, [a.id for a in alerts])
    features: list[dict[str, Any]] = []
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
                    "calls_total": len(calls.get(alert.id, {})),
                    "calls_answered": sum(s != "calling" for s in calls.get(alert.id, {}).values()),
                },
            }
        )
    colours = {f["properties"]["id"]: f["properties"]["colour"] for f in features}
    features += _call_features(session, calls, colours)
    return feature_collection(features)


def _call_features(
    session: Session, calls: dict[int, dict[str, str]], colours: dict[int, str]
) -> list[dict[str, Any]]:
    """One feature per called grid (silent ones last, so they are drawn on top)."""
    codes = sorted({g for grids in calls.values() for g in grids})
    if not codes:
        return []
    shapes: dict[str, Any] = {}
    names: dict[str, str] = {}
    wanted = sorted({x for c in codes for x in (c, c[:12])})
    for i in range(0, len(wanted), 500):
        for code, name, wkb in session.execute(
            select(AdminUnit.code, AdminUnit.name, AdminUnit.geometry).where(
                AdminUnit.code.in_(wanted[i : i + 500])
            )
        ):
            names[code] = name
            if len(code) == 15:
                shapes[code] = from_wkb(wkb)
    out: list[dict[str, Any]] = []
    for alert_id, grids in sorted(calls.items()):
        for code, state in sorted(grids.items(), key=lambda item: (item[1] == "calling", item[0])):
            geom = shapes.get(code)
            if geom is None:
                continue
            out.append(
                {
                    "type": "Feature",
                    "geometry": geometry_json(geom.simplify(CALL_SIMPLIFY, preserve_topology=True)),
                    "properties": {
                        "call": "silent" if state == "calling" else "answered",
                        "state": state,
                        "alert": alert_id,
                        "colour": colours.get(alert_id, ""),
                        "grid": code,
                        "name": place_name(code, names),
                    },
                }
            )
    return out
