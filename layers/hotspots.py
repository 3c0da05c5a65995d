"""The 类案 as a map layer: each hotspot of the scope (the last 30 days, :func:`data.queries.hotspots`)
as a point at the mean of its cases, sized by its count, with what opens it (``key``: ``/hotspots/<key>``).

It changes exactly when the cases do: its payload is cached under the ``cases`` layer's version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from data.masking import mask_personal_text
from data.queries import hotspots
from data.scope import AreaScope

from .encoding import feature_collection

DAYS = 30  # as the wall's hotspot list (layers.wall_payload.TREND_DAYS)


def build_hotspots(
    session: Session, scope: AreaScope, now: datetime | None = None, text_mode: str = "masked"
) -> dict[str, Any]:
    """The hotspots with a place (a point or a grid's label point) as GeoJSON points, largest first."""
    features = []
    for h in hotspots(session, scope, now or datetime.now(UTC), days=DAYS):
        if h.lon is None or h.lat is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(h.lon, 6), round(h.lat, 6)]},
                "properties": {
                    "key": h.key,
                    "category": h.category_name,
                    "place": mask_personal_text(h.place_name, text_mode),
                    "count": h.count,
                    "recent": h.recent,
                    "previous": h.previous,
                    "trend": h.trend,
                },
            }
        )
    return feature_collection(features)
