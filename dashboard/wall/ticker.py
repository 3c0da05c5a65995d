"""The alert ticker: active alerts newest first; an unacknowledged one flashes in its signal colour.

Alert text comes from feeds: it goes into the page as plain strings (Dash escapes them), never as HTML.
"""

from __future__ import annotations

from typing import Any

from dash import html

from ..i18n import t
from . import format as fmt

SIGNALS = ("blue", "yellow", "orange", "red")


def ticker_items(ticker: dict[str, Any] | None, lang: str, tz: str) -> list[Any]:
    """Children of ``#wall-ticker``: a count, then one chip per alert."""
    items = (ticker or {}).get("items", [])
    if not items:
        return [html.Div(t("wall_ticker_none", lang), className="ticker-none")]
    unacked = sum(1 for i in items if i.get("new"))
    chips: list[Any] = [
        html.Div(
            t("wall_ticker_count", lang, n=len(items), new=unacked),
            className="ticker-count" + (" has-new" if unacked else ""),
        )
    ]
    for item in items:
        colour = item.get("colour") if item.get("colour") in SIGNALS else "none"
        chips.append(
            html.Div(
                [
                    html.Span(className="ticker-signal"),
                    html.Span(fmt.local_time(item.get("at"), tz, with_date=True), className="ticker-time"),
                    html.Span(str(item.get("text", "")), className="ticker-text"),
                ],
                className=f"ticker-item sig-{colour}" + (" flash" if item.get("new") else ""),
                **fmt.data_attr("alert", int(item.get("id", 0))),
            )
        )
    return chips
