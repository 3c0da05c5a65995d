"""The duty view's map: the shared :func:`map_view` plus a highlight pane for the selected case.

The shared component has no slot for extra layers, so the highlight pane is appended to the
``dl.Map`` children of the view it returns (the map component is left as it is).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_leaflet as dl
from dash import html

from data.scope import AreaScope

from ..components.map import MapOptions, map_id, map_view

MAP_NAME = "duty"
HIGHLIGHT_ID = "duty-highlight"
OUTLINE_ID = "duty-street-outline"
EMPTY: dict[str, Any] = {"type": "FeatureCollection", "features": []}
STREET_ZOOM_PADDING = 0.002  # degrees around a street's bbox


def padded(bounds: Sequence[float]) -> list[list[float]]:
    """Leaflet bounds ``[[south, west], [north, east]]`` of a (west, south, east, north) bbox."""
    west, south, east, north = bounds
    p = STREET_ZOOM_PADDING
    return [[south - p, west - p], [north + p, east + p]]


def duty_map(
    *,
    bounds: Sequence[float] | None,
    lang: str,
    tz: str,
    versions: dict[str, int],
    synthetic: bool,
    tile_url: str,
    base_path: str,
    options: MapOptions,
    outline: dict[str, Any] | None = None,
    scope: AreaScope | None = None,
) -> html.Div:
    """The shared map with two more layers on top: the chosen street's outline and the selected case."""
    view = map_view(
        MAP_NAME,
        bounds=bounds,
        lang=lang,
        tz=tz,
        versions=versions,
        synthetic=synthetic,
        tile_url=tile_url,
        base_path=base_path,
        options=options,
        scope=scope,
    )
    leaflet = view.children[0]
    assert isinstance(leaflet, dl.Map)
    leaflet.children = [
        *leaflet.children,
        dl.Pane(
            [
                dl.GeoJSON(
                    id=OUTLINE_ID,
                    data=outline or EMPTY,
                    style={"color": "#ffffff", "weight": 4, "fill": False, "opacity": 0.95},
                    interactive=False,
                ),
                dl.LayerGroup(id=HIGHLIGHT_ID, children=[]),
            ],
            name="duty-highlight",
            style={"zIndex": 650, "pointerEvents": "none"},
        ),
    ]
    return view


def highlight(lat: float, lon: float) -> list[Any]:
    """A ring around the selected case."""
    return [
        dl.CircleMarker(
            center=[lat, lon],
            radius=22,
            color="#ffffff",
            weight=5,
            fill=False,
            className="duty-highlight-ring",
        ),
        dl.CircleMarker(center=[lat, lon], radius=6, color="#ffffff", fillColor="#ffffff", fillOpacity=1),
    ]


def map_part(part: str) -> dict[str, str]:
    return map_id(MAP_NAME, part)
