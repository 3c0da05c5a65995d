"""``admin_unit`` rows as plain dicts (for Core bulk inserts and updates) from shapely geometries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ..models.places import CODE_LENGTH

PLACE_COLUMNS = ("district_code", "street_code", "community_code", "grid_code")


def place_columns(code: str | None) -> dict[str, str | None]:
    """The PlaceMixin columns of a unit code (the same rule as ``PlaceMixin.set_place``)."""
    code = code or ""
    return {
        "district_code": code[: CODE_LENGTH["district"]] or None,
        "street_code": code[: CODE_LENGTH["street"]] if len(code) >= CODE_LENGTH["street"] else None,
        "community_code": (
            code[: CODE_LENGTH["community"]] if len(code) >= CODE_LENGTH["community"] else None
        ),
        "grid_code": code[: CODE_LENGTH["grid"]] if len(code) >= CODE_LENGTH["grid"] else None,
    }


def unit_rows(
    codes: Sequence[str],
    names: Sequence[str],
    level: str,
    parent_codes: Sequence[str | None],
    geometries: Sequence[BaseGeometry],
    synthetic: bool,
) -> list[dict[str, Any]]:
    """One row per unit: geometry as WKB, bbox, a label point on the surface, place columns."""
    geoms = np.array(geometries, dtype=object)
    bounds = shapely.bounds(geoms)
    labels = shapely.get_coordinates(shapely.point_on_surface(geoms))
    wkbs = shapely.to_wkb(geoms)
    rows = []
    for i, code in enumerate(codes):
        rows.append(
            {
                "code": code,
                "name": names[i],
                "level": level,
                "parent_code": parent_codes[i],
                "geometry": bytes(wkbs[i]),
                "min_lon": float(bounds[i, 0]),
                "min_lat": float(bounds[i, 1]),
                "max_lon": float(bounds[i, 2]),
                "max_lat": float(bounds[i, 3]),
                "label_lon": float(labels[i, 0]),
                "label_lat": float(labels[i, 1]),
                "synthetic": synthetic,
                **place_columns(code),
            }
        )
    return rows
