"""Write one level of the hierarchy out as a GeoJSON FeatureCollection."""

from __future__ import annotations

import json
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models.places import LEVELS, AdminUnit


def export_level(session: Session, level: str, district: str | None = None) -> dict[str, Any]:
    """The units of ``level`` (in one district, or all), ordered by code, with properties ``code``,
    ``name``, ``level``, ``parent_code`` and ``synthetic``. Coordinates are WGS-84 lon/lat."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    query = select(
        AdminUnit.code,
        AdminUnit.name,
        AdminUnit.level,
        AdminUnit.parent_code,
        AdminUnit.synthetic,
        AdminUnit.geometry,
    ).where(AdminUnit.level == level)
    if district:
        query = query.where(AdminUnit.district_code == district)
    rows = session.execute(query.order_by(AdminUnit.code)).all()
    geoms = shapely.from_wkb([row.geometry for row in rows])
    texts = shapely.to_geojson(geoms) if len(rows) else []
    features = [
        {
            "type": "Feature",
            "properties": {
                "code": row.code,
                "name": row.name,
                "level": row.level,
                "parent_code": row.parent_code,
                "synthetic": bool(row.synthetic),
            },
            "geometry": json.loads(text) if text is not None else None,
        }
        for row, text in zip(rows, texts, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}
