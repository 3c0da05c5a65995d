"""The parts of the 类案 screens: the list of hotspots, a hotspot's map and its cases.

Names from the feeds (categories, places, case titles and addresses) are plain string children: Dash
escapes them; free text is masked for the viewer (:mod:`dashboard.personal`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import dash_leaflet as dl
from dash import dcc, html

from data.queries import CaseRow, Hotspot, label
from data.text import EMPTY, local_time

from ..components.format import as_attrs
from ..components.marks import TREND_ARROWS, case_colour
from ..i18n import t
from ..urls import Urls


def hotspot_rows(spots: Sequence[Hotspot], urls: Urls, days: int, lang: str, tz: str | ZoneInfo) -> html.Div:
    if not spots:
        return html.Div(t("hotspot_none", lang), className="hotspot-empty")
    head = html.Div(
        [html.Span(t(f"hotspot_col_{c}", lang)) for c in ("category", "place", "count", "trend", "last")],
        className="hotspot-row is-head",
    )
    rows: list[Any] = [head]
    for s in spots:
        halves = t("hotspot_halves", lang, recent=s.recent, previous=s.previous)
        rows.append(
            html.Div(
                dcc.Link(
                    [
                        html.Span(s.category_name, className="hs-category"),
                        html.Span(s.place_name or EMPTY, className="hs-place"),
                        html.Span(str(s.count), className="hs-count"),
                        html.Span(f"{TREND_ARROWS[s.trend]} {halves}", className=f"hs-trend trend-{s.trend}"),
                        html.Span(local_time(s.last_at, tz, lang, "day_minute"), className="hs-last"),
                    ],
                    href=urls.hotspot(s.key, days),
                    className="hotspot-row",
                ),
                className="hotspot-item",
                **as_attrs({"data-key": s.key, "data-count": str(s.count)}),
            )
        )
    return html.Div(rows, className="hotspot-table")


def hotspot_map(rows: Sequence[CaseRow], lang: str, tile_url: str = "") -> html.Div:
    """The cases as markers (colour: overdue, due soon, open, done), framed to fit them all."""
    placed = [r for r in rows if r.lon is not None and r.lat is not None]
    if not placed:
        return html.Div(t("case_unplaced", lang), className="hotspot-map hotspot-map-empty")
    lats = [float(r.lat) for r in placed if r.lat is not None]
    lons = [float(r.lon) for r in placed if r.lon is not None]
    pad = 0.002
    bounds = [[min(lats) - pad, min(lons) - pad], [max(lats) + pad, max(lons) + pad]]
    children: list[Any] = [dl.TileLayer(url=tile_url, maxZoom=19)] if tile_url else []
    for r in placed:
        colour = case_colour(r.overdue, r.due_soon, r.status)
        children.append(
            dl.CircleMarker(
                center=[round(float(r.lat or 0), 6), round(float(r.lon or 0), 6)],
                radius=10,
                pathOptions={"color": "#0b1220", "weight": 2, "fillColor": colour, "fillOpacity": 0.95},
                children=dl.Tooltip(f"{r.external_id} {r.address or r.title}"),
                className="hotspot-case-marker",
            )
        )
    return html.Div(
        dl.Map(
            children,
            id="hotspot-map",
            bounds=bounds,
            center=[(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2],
            boundsOptions={"padding": [30, 30]},
            # a small static map people leave with one click: no animation may outlive it
            zoomAnimation=False,
            fadeAnimation=False,
            markerZoomAnimation=False,
            attributionControl=bool(tile_url),
            zoomControl=True,
            maxZoom=19,
            minZoom=8,
            style={"width": "100%", "height": "100%", "background": "#0b1220"},
            className="case-leaflet",
        ),
        className="hotspot-map",
    )


def case_list(rows: Sequence[CaseRow], urls: Urls, lang: str, tz: str | ZoneInfo) -> html.Table:
    cols = ("received", "case", "address", "status", "department", "deadline")
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(t(f"hotspot_case_{c}", lang)) for c in cols])),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(local_time(r.requested_at, tz, lang, "day_minute")),
                            html.Td(
                                [
                                    dcc.Link(
                                        r.external_id, href=urls.case(r.id), className="hotspot-case-link"
                                    ),
                                    html.Div(r.title, className="hotspot-case-title"),
                                ]
                            ),
                            html.Td(r.address or EMPTY),
                            html.Td(label("status", r.status, lang)),
                            html.Td(r.department_name or EMPTY),
                            html.Td(
                                local_time(r.deadline_at, tz, lang, "day_minute", none=EMPTY),
                                className="is-late" if r.overdue else "",
                            ),
                        ],
                        className="hotspot-case",
                        **as_attrs({"data-case": str(r.id)}),
                    )
                    for r in rows
                ]
            ),
        ],
        className="feeds-table hotspot-cases",
    )
