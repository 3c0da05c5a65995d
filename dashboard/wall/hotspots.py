"""Hotspots (类案): the same category recurring in one place, as one line with its count and trend arrow."""

from __future__ import annotations

from typing import Any

from dash import html

from data.queries import label
from layers.wall_payload import TREND_DAYS

from ..components.marks import TREND_ARROWS
from ..i18n import t
from ..urls import Urls


def hotspot_list(stats: dict[str, Any] | None, lang: str, urls: Urls | None = None) -> list[Any]:
    """Children of ``#wall-hotspots``: one row per hotspot, largest first (feed-derived names as text)."""
    items = (stats or {}).get("hotspots", [])
    if not items:
        return [html.Div(t("wall_hotspots_none", lang), className="hotspot-none")]
    rows = []
    for h in items:
        if urls is None and h.get("key"):
            urls = Urls.current(lang)
        trend = h.get("trend") if h.get("trend") in TREND_ARROWS else "flat"
        rows.append(
            html.A(
                [
                    html.Span(str(h.get("category", "")), className="hotspot-category"),
                    html.Span(str(h.get("place") or ""), className="hotspot-place"),
                    html.Span(f"{int(h.get('count', 0))}", className="hotspot-count"),
                    html.Span(
                        TREND_ARROWS[trend],
                        className=f"hotspot-trend trend-{trend}",
                        title=label("trend", trend, lang),
                    ),
                ],
                className="hotspot",
                # the cases behind it (类案 you can open); a key is ours, but quoted all the same
                href=urls.hotspot(str(h["key"]), TREND_DAYS) if urls and h.get("key") else None,
            )
        )
    return rows
