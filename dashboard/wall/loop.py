"""The loop band (网格吹哨、部门报到), under the KPI band and in its columns: 吹哨 and 交办 sent, 报到率 and
mean 报到 time for today and this year; 超时未报到 and 未送达 now (red / amber when above zero).

Counts only (the wall's stats part, :mod:`layers.wall_payload`): never an instruction's text. The band
has one tile per column of the KPI band (:data:`dashboard.wall.kpis.PERIOD_KPIS` and ``NOW_KPIS``), so
each loop figure stands under a KPI tile (``wall.css``: the same ``--period-kpis`` / ``--now-kpis``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dash import html

from ..i18n import t
from . import format as fmt

Show = Callable[[Any], str]

LOOP_PERIOD: tuple[tuple[str, Show], ...] = (
    ("whistle", fmt.count),
    ("dispatch", fmt.count),
    ("report_rate", fmt.rate),
    ("mean_report_minutes", fmt.minutes),  # its label names the unit: two figures side by side fit
)
LOOP_NOW = ("overdue_now", "undelivered_now")


def _figure(period: dict[str, Any] | None, key: str, show: Show) -> str:
    return show(None if period is None else period.get(key))


def _row(period_key: str, value: str, lang: str, ident: str) -> html.Div:
    return html.Div(
        [
            html.Span(t(period_key, lang), className="loop-period"),
            html.Span(value, className="loop-value", id=ident),
        ],
        className="loop-row",
    )


def loop_band(stats: dict[str, Any] | None, lang: str) -> list[Any]:
    """The band's tiles (children of ``#wall-loop``). ``stats`` is the wall's stats part, or None."""
    loop = (stats or {}).get("loop") or {}
    today, year = loop.get("today"), loop.get("year")
    tiles: list[Any] = []
    for key, show in LOOP_PERIOD:
        tiles.append(
            html.Div(
                [
                    html.Div(t(f"wall_loop_{key}", lang), className="loop-label"),
                    html.Div(
                        [
                            _row("wall_today", _figure(today, key, show), lang, f"wall-loop-today-{key}"),
                            _row("wall_year", _figure(year, key, show), lang, f"wall-loop-year-{key}"),
                        ],
                        className="loop-rows",
                    ),
                ],
                className=f"loop-tile loop-{key}",
            )
        )
    for key in LOOP_NOW:
        value = None if today is None else today.get(key)
        alarm = bool(value)
        tiles.append(
            html.Div(
                [
                    html.Div(t(f"wall_loop_{key}", lang), className="loop-label"),
                    html.Div(
                        [
                            html.Span(t("wall_now", lang), className="loop-period"),
                            html.Span(
                                fmt.count(value),
                                className=f"loop-value loop-len-{min(len(fmt.count(value)), 8)}",
                                id=f"wall-loop-now-{key}",
                            ),
                        ],
                        className="loop-row loop-now-row",
                    ),
                ],
                className=f"loop-tile loop-now loop-{key}" + (" loop-alarm" if alarm else ""),
            )
        )
    return tiles
