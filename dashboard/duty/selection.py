"""The duty view's selected row: a ring around the case on the map, a flight to it, a link to its page, and
for a viewer who may act on it, the buttons that open the action panel (交办, 吹哨, 上报 …)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from dash import dcc, html, no_update

from ..act.choices import viewer_kinds
from ..act.panel import open_buttons
from ..i18n import lang_from_query, t
from ..personal import shown
from ..urls import Urls
from .map import highlight

CASE_ZOOM = 15  # a selected case: close enough to see its grid, far enough to see its street
__all__ = ["CASE_ZOOM", "selected_case"]


def _lang(search: str | None) -> str:
    return lang_from_query(dict(parse_qsl((search or "").lstrip("?"))))


def selected_case(selected: list[dict[str, Any]] | None, search: str | None) -> tuple[Any, Any, Any]:
    """Ring the selected row's case on the map, fly to it, and link to its page. The row comes from the
    browser: only its id (an int) and coordinates (floats) are used, and its text shown as text."""
    lang = _lang(search)
    if not selected:
        return [], no_update, html.Span(t("duty_pick_case", lang), className="duty-hint")
    row = selected[0]
    try:
        case_id = int(row["id"])
    except (KeyError, TypeError, ValueError):
        return [], no_update, no_update
    info = html.Div(
        [
            html.Span(t("duty_selected", lang), className="duty-selected-label"),
            html.Span(shown(str(row.get("number") or case_id)), className="duty-selected-number"),
            html.Span(shown(str(row.get("address") or "")), className="duty-selected-address"),
            dcc.Link(t("open_case", lang), href=Urls.current().case(case_id), className="duty-open-case"),
        ],
        className="duty-selected-row",
    )
    buttons = open_buttons(case_id, viewer_kinds(), lang)  # the server checks everything again
    if buttons:
        info = html.Div([info, html.Div(buttons, className="duty-act-buttons")])
    try:
        lat, lon = float(row["lat"]), float(row["lon"])
    except (KeyError, TypeError, ValueError):
        return [], no_update, html.Div([info, html.Span(t("duty_unplaced", lang), className="duty-hint")])
    viewport = {"center": [lat, lon], "zoom": CASE_ZOOM, "transition": "flyTo", "options": {"duration": 0.6}}
    approx = row.get("approx")
    if approx in ("grid", "community"):  # drawn at its unit's label point: say so beside the selection
        info = html.Div([info, html.Span(t(f"duty_approx_{approx}", lang), className="duty-hint")])
    return highlight(lat, lon), viewport, info
