"""The wall's rankings as bar charts: streets by overdue cases (with their closure rate), departments by
mean response time with their mean 报到 time beside it (how fast they answer the centre's instructions)
— worst on top, the way a leader reads them."""

from __future__ import annotations

from typing import Any

from ..i18n import t
from . import format as fmt
from .charts import AMBER, RED, TEXT, base_layout, empty_figure


def _bars(
    names: list[str], values: list[float], text: list[str], colour: str, name: str, x_max: float, scale: float
) -> dict[str, Any]:
    """Horizontal labelled bars, the first row at the bottom (callers pass the worst last)."""
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": values,
                "y": names,
                "text": text,
                "textposition": "outside",
                "constraintext": "none",
                "cliponaxis": False,
                "textfont": {"size": round(15 * scale), "color": TEXT},
                "marker": {"color": colour},
                "name": name,
            }
        ],
        "layout": base_layout(
            scale,
            xaxis={"visible": False, "range": [0, x_max]},
            yaxis={"tickfont": {"size": round(16 * scale), "color": TEXT}, "automargin": True, "dtick": 1},
            bargap=0.3,
        ),
    }


def street_figure(stats: dict[str, Any] | None, lang: str, scale: float = 1.0) -> dict[str, Any]:
    """Overdue cases per street (red bars), each labelled with its closure rate this year."""
    rows = (stats or {}).get("streets", [])
    if not rows:
        return empty_figure(lang, scale)
    rows = list(reversed(rows))  # the worst (first) on top
    overdue = [r["overdue"] for r in rows]
    label = t("wall_kpi_closure_rate", lang)
    text = [f"{r['overdue']}  ·  {label} {fmt.rate(r['closure_rate'])}" for r in rows]
    names = [r["name"] for r in rows]
    x_max = max(max(overdue), 1) * 2.4
    return _bars(names, overdue, text, RED, t("wall_kpi_overdue", lang), x_max, scale)


def department_figure(stats: dict[str, Any] | None, lang: str, scale: float = 1.0) -> dict[str, Any]:
    """Mean response time (hours, accepted → first action) per department, slowest on top; beside it the
    department's mean 报到 time this year (平均报到 12 分钟) when it was called and answered."""
    rows = (stats or {}).get("departments", [])
    if not rows:
        return empty_figure(lang, scale)
    rows = list(reversed(rows))
    hours = [r["hours"] for r in rows]
    unit = t("wall_hours", lang)
    over = t("wall_kpi_overdue", lang)

    def label(r: dict[str, Any]) -> str:
        text = f"{fmt.hours(r['hours'])} {unit}"
        if r.get("report_minutes") is not None:
            text += "  ·  " + t("wall_loop_rank_report", lang, m=fmt.minutes(r["report_minutes"]))
        if r.get("overdue"):
            text += f"  ·  {over} {r['overdue']}"
        return text

    text = [label(r) for r in rows]
    names = [r["name"] for r in rows]
    reports = any(r.get("report_minutes") is not None for r in rows)
    # room on the right for "7.6 小时 · 超期 11411" (and "· 报到 12 分钟")
    x_max = max(max(hours), 0.1) * (3.6 if reports else 2.5)
    return _bars(names, hours, text, AMBER, t("wall_chart_departments", lang), x_max, scale)
