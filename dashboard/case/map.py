"""A small map centred on one case: its grid outlined, the case as a marker, no basemap by default."""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash import html
from shapely.geometry import shape

from data.queries import CaseDetail

from ..components.marks import case_colour
from ..i18n import t

GRID_STYLE = {"color": "#8fd0ff", "weight": 3, "fillColor": "#1f5a8a", "fillOpacity": 0.35}


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    """Exterior rings of a (Multi)Polygon as ``[[lat, lon], ...]`` (Leaflet's order)."""
    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry.get("coordinates", [])
    if geometry["type"] not in ("Polygon", "MultiPolygon"):
        return []
    return [[[round(lat, 6), round(lon, 6)] for lon, lat, *_ in poly[0]] for poly in polys if poly]


def case_map(detail: CaseDetail, lang: str, tile_url: str = "") -> html.Div:
    """The case's place; a note instead when it has neither a point nor a unit with a geometry."""
    row = detail.row
    geometry = detail.grid_geometry
    if geometry is None and (row.lon is None or row.lat is None):
        return html.Div(t("case_unplaced", lang), className="case-map case-map-empty")
    children: list[Any] = []
    if tile_url:
        children.append(dl.TileLayer(url=tile_url, maxZoom=19))
    bounds: list[list[float]] | None = None
    if geometry is not None:
        grid_name = detail.units[-1].name if detail.units else ""
        for ring in _rings(geometry):
            children.append(
                dl.Polygon(positions=ring, pathOptions=GRID_STYLE, children=dl.Tooltip(grid_name))
            )
        west, south, east, north = (round(v, 6) for v in shape(geometry).bounds)
        bounds = [[south, west], [north, east]]
    if row.lon is not None and row.lat is not None:
        colour = case_colour(row.overdue, row.due_soon, row.status)
        children.append(
            dl.CircleMarker(
                center=[round(row.lat, 6), round(row.lon, 6)],
                radius=11,
                pathOptions={"color": "#0b1220", "weight": 3, "fillColor": colour, "fillOpacity": 1},
                # feed text as a plain string: React escapes it
                children=dl.Tooltip(row.address or detail.description[:80] or row.title, permanent=False),
                className="case-map-marker",
            )
        )
        if bounds is None:
            d = 0.004
            bounds = [[row.lat - d, row.lon - d], [row.lat + d, row.lon + d]]
        else:  # make sure the point is in view even if it lies outside its grid
            bounds = [
                [min(bounds[0][0], row.lat), min(bounds[0][1], row.lon)],
                [max(bounds[1][0], row.lat), max(bounds[1][1], row.lon)],
            ]
    assert bounds is not None
    centre = [round((bounds[0][0] + bounds[1][0]) / 2, 6), round((bounds[0][1] + bounds[1][1]) / 2, 6)]
    return html.Div(
        dl.Map(
            children,
            id="case-map",
            bounds=bounds,
            center=centre,
            boundsOptions={"padding": [30, 30]},
            attributionControl=bool(tile_url),
            zoomControl=True,
            maxZoom=19,
            minZoom=8,
            style={"width": "100%", "height": "100%"},
            className="case-leaflet",
        ),
        className="case-map",
    )
