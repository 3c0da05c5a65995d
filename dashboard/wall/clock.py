"""The clock (Asia/Shanghai, ticking in the browser from the map's 1 s tick) and "数据截至" (data as of)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dash import dcc, html

from ..i18n import t
from . import format as fmt

WEEKDAYS_ZH = "一二三四五六日"


def clock_text(now: datetime, tz: str, lang: str) -> str:
    """What the clock shows at ``now`` (the browser computes the same each second, see ``wall.js``)."""
    local = now.astimezone(ZoneInfo(tz))
    if lang == "en":
        return local.strftime("%Y-%m-%d %a %H:%M:%S")
    day = WEEKDAYS_ZH[local.weekday()]
    return local.strftime("%Y-%m-%d") + f" 星期{day} " + local.strftime("%H:%M:%S")


def as_of_text(feeds: dict[str, Any] | None, stats: dict[str, Any] | None, tz: str, lang: str) -> str:
    """``数据截至 14:03:18``: the last successful feed poll; before any, when the figures were built."""
    epoch = as_of_epoch(feeds, stats)
    return f"{t('wall_as_of', lang)} {fmt.local_time(epoch, tz)}"


def as_of_epoch(feeds: dict[str, Any] | None, stats: dict[str, Any] | None) -> float | None:
    return (feeds or {}).get("as_of") or (stats or {}).get("built_at")


def clock_block(now: datetime, tz: str, lang: str, as_of: str, as_of_epoch_s: float | None) -> html.Div:
    return html.Div(
        [
            html.Div(clock_text(now, tz, lang), id="wall-clock", className="wall-clock"),
            html.Div(as_of, id="wall-asof", className="wall-asof"),
            dcc.Store(id="wall-asof-epoch", data=as_of_epoch_s),
        ],
        className="wall-time",
    )
