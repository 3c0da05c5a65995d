"""The alert ticker: 预警叫应 first (per warning calling its grids: ``已叫应 37/52 网格``, flashing while a
grid is silent), then the instructions 超时未报到 (most late first: department, case number, kind,
role, how late — never the instruction's text), a chip counting the ledger's overdue risks (超期风险),
then active alerts newest first; an unacknowledged
alert flashes in its signal colour.

Alert text comes from feeds: it goes into the page as plain strings (Dash escapes them), never as HTML.
"""

from __future__ import annotations

from typing import Any

from dash import html

from data.text import EMPTY, label, local_time

from ..i18n import t
from . import format as fmt

SIGNALS = ("blue", "yellow", "orange", "red")


def ticker_text(item: dict[str, Any], lang: str) -> str:
    """``【暴雨橙色预警】暴雨橙色预警`` (a weather warning: its event and signal colour) or ``【烟感火警】…``
    (other alerts: their kind), then the feed's headline (or, without one, the kind)."""
    kind = label("alert_kind", item.get("kind"), lang)
    colour = item.get("colour")
    if item.get("kind") == "weather" and colour:
        prefix = t(
            "ticker_weather", lang, event=item.get("event") or "", colour=label("colour", colour, lang)
        )
    else:
        prefix = t("ticker_kind", lang, kind=kind)
    return prefix + str(item.get("headline") or kind)


def late_span(minutes: float | None, lang: str) -> str:
    """``25 分钟`` / ``3 小时 10 分`` / ``2 天 4 小时``: how late an instruction's 报到 is."""
    total = max(0, int(minutes or 0))
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return t("wall_loop_late_days", lang, d=days, h=hours)
    if hours:
        return t("wall_loop_late_hours", lang, h=hours, m=mins)
    return t("wall_loop_late_minutes", lang, m=mins)


def loop_text(item: dict[str, Any], lang: str) -> str:
    """``区公安分局 · 超时25分钟 · 吹哨（牵头） · TL12345-2026-000123``: who has not answered, how late,
    what, on which case (the case number last: the chip may cut it, never the department or the delay)."""
    role = item.get("role")
    kind = label("instruction_kind", item.get("kind"), lang)
    if role in ("lead", "helper"):
        kind = t("wall_loop_kind_role", lang, kind=kind, role=label("recipient_role", role, lang))
    return t(
        "wall_loop_ticker",
        lang,
        department=str(item.get("department") or ""),
        case=str(item.get("case_number") or ""),
        kind=kind,
        late=late_span(item.get("late_minutes"), lang),
    )


def loop_chips(ticker: dict[str, Any] | None, lang: str) -> list[Any]:
    """One red chip per instruction 超时未报到 (the most late first)."""
    return [
        html.Div(
            [
                html.Span(t("wall_loop_ticker_head", lang), className="ticker-loop-head"),
                html.Span(loop_text(item, lang), className="ticker-text"),
            ],
            className="ticker-item ticker-loop sig-red",
            **fmt.data_attr("case", int(item.get("case_id", 0))),
        )
        for item in (ticker or {}).get("loop", [])
    ]


def alarm_badges(item: dict[str, Any], lang: str) -> list[Any]:
    """Why an alert is loud again: 升级 (an update raised its level since it was acknowledged) and
    超时未确认 (left unacknowledged past its limit, escalated)."""
    return [
        html.Span(t(f"wall_ticker_{key}", lang), className=f"ticker-badge ticker-{key}")
        for key in ("raised", "escalated")
        if item.get(key)
    ]


def risk_chip(ticker: dict[str, Any] | None, lang: str) -> list[Any]:
    """One red chip with the number of the ledger's risks past their 销号 deadline (none when none)."""
    n = (ticker or {}).get("risks_overdue") or 0
    if not isinstance(n, int) or n <= 0:
        return []
    return [
        html.Div(
            html.Span(t("wall_risks_overdue", lang, n=n), className="ticker-text"),
            className="ticker-item ticker-risks sig-red",
            id="wall-risks-overdue",
        )
    ]


def call_text(item: dict[str, Any], lang: str) -> str:
    """``暴雨橙色预警 · 已叫应 37/52 网格 · 已转移 120 人 · 2 网格需要支援`` (counts, no person)."""
    colour = item.get("colour")
    event = str(item.get("event") or label("alert_kind", item.get("kind"), lang))
    if colour in SIGNALS and item.get("kind") == "weather":
        event = t("call_ticker_event", lang, event=event, colour=label("colour", colour, lang))
    parts = [
        event,
        t("call_ticker_count", lang, answered=item.get("answered", 0), total=item.get("total", 0)),
    ]
    if item.get("evacuated"):
        parts.append(t("call_ticker_evacuated", lang, n=item["evacuated"]))
    if item.get("support"):
        parts.append(t("call_ticker_support", lang, n=item["support"]))
    return " · ".join(parts)


def call_chips(ticker: dict[str, Any] | None, lang: str) -> list[Any]:
    """One chip per warning calling its grids; it flashes while any covered grid is silent."""
    chips: list[Any] = []
    for item in (ticker or {}).get("calls", []):
        colour = item.get("colour") if item.get("colour") in SIGNALS else "none"
        silent = int(item.get("total", 0)) - int(item.get("answered", 0))
        chips.append(
            html.Div(
                [
                    html.Span(t("call_ticker_head", lang), className="ticker-call-head"),
                    html.Span(call_text(item, lang), className="ticker-text"),
                ],
                className=f"ticker-item ticker-call sig-{colour}" + (" flash call-silent" if silent else ""),
                **fmt.data_attr("alert", int(item.get("alert_id", 0))),
            )
        )
    return chips


def ticker_items(ticker: dict[str, Any] | None, lang: str, tz: str) -> list[Any]:
    """Children of ``#wall-ticker``: the calling warnings, the unanswered instructions, the overdue risks,
    a count, then one chip per alert."""
    items = (ticker or {}).get("items", [])
    loop = call_chips(ticker, lang) + loop_chips(ticker, lang) + risk_chip(ticker, lang)
    if not items:
        return loop or [html.Div(t("wall_ticker_none", lang), className="ticker-none")]
    unacked = sum(1 for i in items if i.get("new"))
    chips: list[Any] = [
        *loop,
        html.Div(
            t("wall_ticker_count", lang, n=len(items), new=unacked),
            className="ticker-count" + (" has-new" if unacked else ""),
        ),
    ]
    for item in items:
        colour = item.get("colour") if item.get("colour") in SIGNALS else "none"
        chips.append(
            html.Div(
                [
                    html.Span(className="ticker-signal"),
                    html.Span(
                        local_time(item.get("at"), tz, lang, "day_minute", none=EMPTY),
                        className="ticker-time",
                    ),
                    *alarm_badges(item, lang),
                    html.Span(ticker_text(item, lang), className="ticker-text"),
                ],
                className=f"ticker-item sig-{colour}" + (" flash" if item.get("new") else ""),
                **fmt.data_attr("alert", int(item.get("id", 0))),
            )
        )
    return chips
