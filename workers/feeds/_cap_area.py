"""CAP ``<area>`` shapes as GeoJSON geometries.

CAP writes points as ``lat,lon`` (WGS-84) separated by whitespace; GeoJSON wants ``[lon, lat]``.
Every coordinate is converted here and nowhere else, so the order is decided once:

- ``<polygon>``: ``"lat,lon lat,lon … lat,lon"`` (at least four pairs, first == last; an unclosed ring
  is closed) → a GeoJSON ``Polygon`` ring of ``[lon, lat]``;
- ``<circle>``: ``"lat,lon radius_km"`` → a 64-sided polygon approximating the circle (east-west
  distances scaled by cos(latitude)); a radius of 0 is a ``Point``;
- several shapes → ``MultiPolygon`` when all are polygons, otherwise a ``GeometryCollection``.
"""

from __future__ import annotations

import math
from typing import Any

KM_PER_DEGREE_LAT = 111.32
CIRCLE_SEGMENTS = 64


class BadArea(ValueError):
    """A polygon or circle that cannot be read; the message says which and why."""


def point(text: str) -> list[float]:
    """One CAP ``lat,lon`` pair as GeoJSON ``[lon, lat]``."""
    parts = text.split(",")
    if len(parts) != 2:
        raise BadArea(f"coordinate {text!r} is not 'lat,lon'")
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise BadArea(f"coordinate {text!r} is not numeric") from None
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise BadArea(f"latitude out of range in {text!r}")
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise BadArea(f"longitude out of range in {text!r}")
    return [lon, lat]


def polygon(text: str) -> dict[str, Any]:
    """A CAP ``<polygon>`` as a GeoJSON Polygon."""
    ring = [point(pair) for pair in text.split()]
    if ring and ring[0] != ring[-1]:
        ring.append(list(ring[0]))
    if len(ring) < 4:
        raise BadArea(f"polygon needs at least 4 points (first = last), got {len(ring)}")
    return {"type": "Polygon", "coordinates": [ring]}


def circle(text: str) -> dict[str, Any]:
    """A CAP ``<circle>`` as a GeoJSON Polygon approximating it, or a Point for radius 0."""
    parts = text.split()
    if len(parts) != 2:
        raise BadArea(f"circle {text!r} is not 'lat,lon radius_km'")
    lon, lat = point(parts[0])
    try:
        radius = float(parts[1])
    except ValueError:
        raise BadArea(f"circle radius {parts[1]!r} is not numeric") from None
    if not math.isfinite(radius) or radius < 0:
        raise BadArea(f"circle radius {parts[1]!r} must be a non-negative number of km")
    if radius == 0:
        return {"type": "Point", "coordinates": [lon, lat]}
    dlat = radius / KM_PER_DEGREE_LAT
    dlon = radius / (KM_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 0.01))
    ring = []
    for i in range(CIRCLE_SEGMENTS):
        angle = 2 * math.pi * i / CIRCLE_SEGMENTS
        ring.append(
            [
                _clamp(lon + dlon * math.cos(angle), 180.0),
                _clamp(lat + dlat * math.sin(angle), 90.0),
            ]
        )
    ring.append(list(ring[0]))
    return {"type": "Polygon", "coordinates": [ring]}


def combine(shapes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One geometry for all of an alert's shapes (None when it has none)."""
    if not shapes:
        return None
    if len(shapes) == 1:
        return shapes[0]
    if all(s["type"] == "Polygon" for s in shapes):
        return {"type": "MultiPolygon", "coordinates": [s["coordinates"] for s in shapes]}
    return {"type": "GeometryCollection", "geometries": shapes}


def _clamp(value: float, limit: float) -> float:
    return round(max(-limit, min(limit, value)), 7)
