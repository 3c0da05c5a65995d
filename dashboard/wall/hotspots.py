"""Hotspots (类案): the same category recurring in one place, as one line with its count and trend arrow."""

from __future__ import annotations

from typing import Any

from dash import html

from data.queries import label

from ..i18n import t

ARROWS = {"up": "↑", "down": "↓", "flat": "→"}


def hotspot_list(stats: dict[str, Any] | None, lang: str) -> list[Any]:
    """Children of ``#wall-hotspots``: one row per hotspot, largest first (feed-derived names as text)."""
    items = (stats or {}).get("hotspots", [])
    if not items:
        return [html.Div(t("wall_hotspots_none", lang), className="hotspot-none")]
    rows = []
    for h in items:
        trend = h.get("trend") if h.get("trend") in ARROWS else "flat"
        rows.append(
            html.Div(
                [
                    html.Span(str(h.get("category", "")), className="hotspot-category"),
                    html.Span(str(h.get("place") or ""), className="hotspot-place"),
                    html.Span(f"{int(h.get('count', 0))}", className="hotspot-count"),
                    html.Span(
                        ARROWS[trend],
                        className=f"hotspot-trend trend-{trend}",
                        title=label("trend", trend, lang),
                    ),
                ],
                className="hotspot",
            )
        )
    return rows
