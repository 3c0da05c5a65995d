"""The wall's plotly charts: cases by category and the 30-day trend of received vs closed.

Figures are plain dicts (no plotly.py validation on the hot path), on a dark template; font sizes and
margins scale with the wall (``scale`` = viewport height / 1080, so a 4K wall gets the same picture).
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from ..i18n import t

TEXT = "#e6edf7"
MUTED = "#9fb0c8"
GRID = "rgba(120, 150, 200, 0.18)"
BLUE = "#38b6ff"
GREEN = "#3ddc84"
RED = "#ff4d4f"
AMBER = "#ffb020"
FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif'
GRAPH_CONFIG: Any = {"displayModeBar": False, "staticPlot": True, "responsive": True}


def template(scale: float = 1.0) -> dict[str, Any]:
    """The dark template of every wall chart."""
    axis = {
        "gridcolor": GRID,
        "zerolinecolor": GRID,
        "linecolor": GRID,
        "tickfont": {"size": round(15 * scale), "color": MUTED},
        "automargin": True,
    }
    return {
        "layout": {
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": FONT, "size": round(16 * scale), "color": TEXT},
            "colorway": [BLUE, GREEN, AMBER, RED, "#c77dff", "#8fd0ff"],
            "xaxis": axis,
            "yaxis": axis,
            "legend": {"font": {"size": round(15 * scale), "color": TEXT}, "bgcolor": "rgba(0,0,0,0)"},
        }
    }


def base_layout(scale: float, **extra: Any) -> dict[str, Any]:
    m = round(8 * scale)
    layout: dict[str, Any] = {
        "template": template(scale),
        "margin": {"l": m, "r": round(16 * scale), "t": m, "b": m, "pad": round(4 * scale)},
        "showlegend": False,
        "uirevision": "wall",
    }
    layout.update(extra)
    return layout


def empty_figure(lang: str, scale: float = 1.0) -> dict[str, Any]:
    """No data: a figure that says so (never an empty frame that looks broken)."""
    return {
        "data": [],
        "layout": base_layout(
            scale,
            xaxis={"visible": False},
            yaxis={"visible": False},
            annotations=[
                {
                    "text": t("wall_no_data", lang),
                    "showarrow": False,
                    "font": {"size": round(20 * scale), "color": MUTED},
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                }
            ],
        ),
    }


def category_figure(stats: dict[str, Any] | None, lang: str, scale: float = 1.0) -> dict[str, Any]:
    """Horizontal bars, the largest category on top."""
    rows = [c for c in (stats or {}).get("categories", []) if c.get("count")]
    if not rows:
        return empty_figure(lang, scale)
    rows = list(reversed(rows))  # plotly draws the first category at the bottom
    names = [c["name_en"] if lang == "en" and c.get("name_en") else c["name"] for c in rows]
    counts = [c["count"] for c in rows]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": counts,
                "y": names,
                "text": [f"{n:,}" for n in counts],
                "textposition": "outside",
                "constraintext": "none",
                "cliponaxis": False,
                "textfont": {"size": round(16 * scale), "color": TEXT},
                "marker": {"color": BLUE},
                "name": t("wall_series_received", lang),
            }
        ],
        "layout": base_layout(
            scale,
            xaxis={"visible": False, "range": [0, max(counts) * 1.25]},
            yaxis={"tickfont": {"size": round(16 * scale), "color": TEXT}, "automargin": True},
            bargap=0.3,
        ),
    }


def trend_figure(stats: dict[str, Any] | None, lang: str, scale: float = 1.0) -> dict[str, Any]:
    """Two lines over the last 30 days: received and closed (办结) per local day."""
    points = (stats or {}).get("trend", [])
    if not points or not any(p["received"] or p["closed"] for p in points):
        return empty_figure(lang, scale)
    days = [p["day"] for p in points]  # ISO dates, shown as MM-DD
    line = {"type": "scatter", "mode": "lines", "x": days}
    return {
        "data": [
            dict(
                line,
                y=[p["received"] for p in points],
                name=t("wall_series_received", lang),
                line={"color": BLUE, "width": round(3 * scale)},
            ),
            dict(
                line,
                y=[p["closed"] for p in points],
                name=t("wall_series_closed", lang),
                line={"color": GREEN, "width": round(3 * scale)},
            ),
        ],
        "layout": base_layout(
            scale,
            showlegend=True,
            legend={
                "orientation": "h",
                "x": 0,
                "y": 1.02,
                "yanchor": "bottom",
                "font": {"size": round(15 * scale), "color": TEXT},
            },
            xaxis={"type": "date", "tickformat": "%m-%d", "nticks": 6, "showgrid": False},
            yaxis={"rangemode": "tozero", "nticks": 4},
        ),
    }


def chart_panel(graph_id: str, title: str, figure: dict[str, Any], extra_class: str = "") -> html.Div:
    """A titled panel holding one graph that fills it."""
    return html.Div(
        [
            html.Div(title, className="panel-title"),
            dcc.Graph(
                id=graph_id,
                figure=figure,
                config=GRAPH_CONFIG,
                responsive=True,
                className="panel-graph",
                style={"height": "100%", "width": "100%"},
            ),
        ],
        className=f"wall-panel {extra_class}".strip(),
    )
