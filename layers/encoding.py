"""Payload encodings: geobuf for geometry-heavy layers, compact JSON for small ones."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import geobuf
import shapely
import shapely.errors
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

PRECISION = 6  # decimal places: ~0.1 m, far below what a screen shows
# geobuf's ``Data.feature_collection`` (field 4, length-delimited) with no features. Python's geobuf leaves
# an empty collection out of the message (protobuf does not mark an empty sub-message as set), and the
# browser's decoder then returns ``{}``, on which dash-leaflet's GeoJSON throws "Cannot read properties of
# undefined (reading 'map')". Written explicitly, both decoders read ``{"type": "FeatureCollection",
# "features": []}``.
_EMPTY_COLLECTION = b"\x22\x00"


def feature_collection(features: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def geobuf_bytes(features: Sequence[dict[str, Any]]) -> bytes:
    """A FeatureCollection as geobuf, coordinates quantised to :data:`PRECISION` decimals; an empty one
    is still a FeatureCollection (see :data:`_EMPTY_COLLECTION`)."""
    encoded = bytes(geobuf.encode(feature_collection(features), PRECISION, 2))
    return encoded if features else encoded + _EMPTY_COLLECTION


def json_bytes(obj: Any) -> bytes:
    """Compact UTF-8 JSON (Chinese kept as characters, not escapes)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, PRECISION)
    if isinstance(value, list | tuple):
        return [_round(v) for v in value]
    return value


def geometry_json(geom: BaseGeometry) -> dict[str, Any]:
    """A shapely geometry as a GeoJSON geometry with rounded coordinates."""
    raw = mapping(geom)
    return {"type": raw["type"], "coordinates": _round(raw["coordinates"])}


def from_wkb(value: bytes | None) -> BaseGeometry | None:
    """A geometry from WKB, or None when missing or unreadable (never raises on bad stored bytes)."""
    if not value:
        return None
    try:
        geom = shapely.from_wkb(value)
    except shapely.errors.ShapelyError:
        return None
    return None if geom is None or geom.is_empty else geom
