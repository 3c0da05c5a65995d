"""The overdue drill-down's 类案: the hotspots of the unit shown (the last 30 days, the largest first),
each a link to ``/hotspots/<key>`` — the cases behind it. Names are plain string children."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dash import dcc, html
from sqlalchemy.orm import Session

from data.queries import Hotspot, hotspots
from data.scope import AreaScope

from ..components.format import as_attrs
from ..components.marks import TREND_ARROWS
from ..i18n import t
from ..personal import shown
from ..urls import Urls

DAYS = 30
LIMIT = 8


def read(session: Session, scope: AreaScope, code: str, now: datetime) -> list[Hotspot]:
    """The hotspots of unit ``code`` within ``scope`` (the scope itself when the unit is above it)."""
    area = AreaScope.of([code]) if scope.contains(code) else scope
    return hotspots(session, area, now, days=DAYS)[:LIMIT]


def hotspot_links(rows: Sequence[Hotspot], lang: str, mode: str) -> Any:
    if not rows:
        return html.Div(t("hotspot_none", lang), className="overdue-empty")
    urls = Urls.current(lang)
    return html.Div(
        [
            html.Div(
                dcc.Link(
                    [
                        html.Span(h.category_name, className="hs-category"),
                        html.Span(shown(h.place_name, mode), className="hs-place"),
                        html.Span(
                            f"{h.count} {TREND_ARROWS.get(h.trend, '')}",
                            className=f"hs-count trend-{h.trend}",
                        ),
                    ],
                    href=urls.hotspot(h.key, DAYS),
                    className="overdue-hotspot",
                ),
                **as_attrs({"data-key": h.key}),
            )
            for h in rows
        ],
        className="overdue-hotspots",
    )
