"""The KPI band: received 受理, closure rate 办结率, on-time rate 按期办结率, satisfaction 满意率 for
today and this year; open 在办 and overdue 超期 now.
Large enough to read at five metres (sizes in ``wall.css``)."""

from __future__ import annotations

from typing import Any

from dash import html

from ..i18n import t
from . import format as fmt

PERIOD_KPIS = (
    ("received", fmt.count),
    ("closure_rate", fmt.rate),
    ("on_time_rate", fmt.rate),
    ("satisfaction_rate", fmt.rate),
)
NOW_KPIS = ("open", "overdue")


def _value(kpis: dict[str, Any] | None, key: str, show: Any) -> str:
    return str(show(None if kpis is None else kpis.get(key)))


def kpi_band(stats: dict[str, Any] | None, lang: str) -> list[Any]:
    """The band's tiles (children of ``#wall-kpis``). ``stats`` is the wall's stats part, or None."""
    today = (stats or {}).get("today")
    year = (stats or {}).get("year")
    tiles: list[Any] = []
    for key, show in PERIOD_KPIS:
        tiles.append(
            html.Div(
                [
                    html.Div(t(f"wall_kpi_{key}", lang), className="kpi-label"),
                    html.Div(
                        [
                            html.Span(t("wall_today", lang), className="kpi-period"),
                            html.Span(
                                _value(today, key, show), className="kpi-value", id=f"wall-kpi-today-{key}"
                            ),
                        ],
                        className="kpi-row kpi-today",
                    ),
                    html.Div(
                        [
                            html.Span(t("wall_year", lang), className="kpi-period"),
                            html.Span(
                                _value(year, key, show), className="kpi-value", id=f"wall-kpi-year-{key}"
                            ),
                        ],
                        className="kpi-row kpi-year",
                    ),
                ],
                className=f"kpi kpi-{key}",
            )
        )
    for key in NOW_KPIS:
        value = None if today is None else today.get(key)
        alarm = key == "overdue" and bool(value)
        tiles.append(
            html.Div(
                [
                    html.Div(t(f"wall_kpi_{key}", lang), className="kpi-label"),
                    html.Div(
                        [
                            html.Span(t("wall_now", lang), className="kpi-period"),
                            html.Span(
                                fmt.count(value),
                                className=f"kpi-value kpi-len-{min(len(fmt.count(value)), 8)}",
                                id=f"wall-kpi-now-{key}",
                            ),
                        ],
                        className="kpi-row kpi-now",
                    ),
                ],
                className=f"kpi kpi-{key} kpi-big" + (" kpi-alarm" if alarm else ""),
            )
        )
    return tiles
