"""The wall's components, data → layout: numbers formatted, ``—`` for no data, Chinese labels, feed text as
text. Pure functions: no database, no server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from dash import html

from dashboard.wall import format as fmt
from dashboard.wall.banner import banner
from dashboard.wall.charts import GRAPH_CONFIG, category_figure, chart_panel, trend_figure
from dashboard.wall.clock import as_of_text, clock_text
from dashboard.wall.hotspots import hotspot_list
from dashboard.wall.kpis import kpi_band
from dashboard.wall.rankings import department_figure, street_figure
from dashboard.wall.ticker import ticker_items, ticker_text
from data.text import local_time

XSS = "<img src=x onerror=alert(1)>"


def texts(node: Any) -> list[str]:
    """Every string in a component tree, in order."""
    if node is None:
        return []
    if isinstance(node, str | int | float):
        return [str(node)]
    if isinstance(node, list | tuple):
        return [s for child in node for s in texts(child)]
    return texts(getattr(node, "children", None))


def by_id(node: Any, wanted: str) -> Any:
    if isinstance(node, list | tuple):
        for child in node:
            found = by_id(child, wanted)
            if found is not None:
                return found
        return None
    if getattr(node, "id", None) == wanted:
        return node
    children = getattr(node, "children", None)
    return by_id(children, wanted) if children is not None else None


KPIS = {
    "today": {
        "received": 37,
        "closure_rate": 0.125,
        "on_time_rate": None,
        "satisfaction_rate": 1.0,
        "open": 142,
        "overdue": 9,
    },
    "year": {
        "received": 6195,
        "closure_rate": 0.9991,
        "on_time_rate": 0.98765,
        "satisfaction_rate": 0.988,
        "open": 142,
        "overdue": 9,
    },
}


def test_formatting() -> None:
    assert fmt.count(6195) == "6,195"
    assert fmt.count(0) == "0"
    assert fmt.count(None) == "—"
    assert fmt.rate(0.9991) == "99.9%"
    assert fmt.rate(None) == "—"
    assert fmt.hours(None) == "—"
    assert fmt.hours(3.14159) == "3.1"
    noon_utc = datetime(2025, 3, 1, 4, 5, 6, tzinfo=UTC).timestamp()
    # the wall's times: the one local-time function (data.text), in the wall's two forms
    assert local_time(noon_utc, "Asia/Shanghai", form="time", none="—") == "12:05:06"
    assert local_time(noon_utc, "Asia/Shanghai", form="day_minute", none="—") == "03-01 12:05"
    assert local_time(None, "Asia/Shanghai", form="time", none="—") == "—"


def test_kpi_band_numbers_and_chinese_labels() -> None:
    band = kpi_band(KPIS, "zh-CN")
    words = texts(band)
    for label in ("受理", "办结率", "按期办结率", "满意率", "在办", "超期", "今日", "本年", "当前"):
        assert label in words, label
    assert by_id(band, "wall-kpi-today-received").children == "37"
    assert by_id(band, "wall-kpi-year-received").children == "6,195"
    assert by_id(band, "wall-kpi-year-closure_rate").children == "99.9%"
    assert by_id(band, "wall-kpi-year-on_time_rate").children == "98.8%"
    assert by_id(band, "wall-kpi-today-on_time_rate").children == "—"  # nothing judged today
    assert by_id(band, "wall-kpi-now-open").children == "142"
    assert by_id(band, "wall-kpi-now-overdue").children == "9"
    assert "kpi-alarm" in band[-1].className  # overdue > 0 is shown as an alarm


def test_kpi_band_without_data_shows_dashes_in_english() -> None:
    band = kpi_band(None, "en")
    words = texts(band)
    assert "Closure rate" in words and "Overdue" in words
    values = [
        by_id(band, f"wall-kpi-{p}-{k}").children
        for p in ("today", "year")
        for k in ("received", "closure_rate")
    ]
    assert values == ["—"] * 4
    assert "kpi-alarm" not in band[-1].className


STATS = {
    "built_at": 0,
    "categories": [
        {"name": "城市管理", "name_en": "City management", "count": 1200, "open": 30},
        {"name": "矛盾纠纷", "name_en": "Disputes", "count": 800, "open": 12},
    ],
    "trend": [{"day": f"2025-03-{d:02d}", "received": d, "closed": d - 1} for d in range(1, 31)],
    "streets": [
        {"name": "巴川街道", "overdue": 5, "open": 40, "received": 900, "closure_rate": 0.95},
        {"name": "东城街道", "overdue": 0, "open": 10, "received": 0, "closure_rate": None},
    ],
    "departments": [{"name": "区城市管理局", "hours": 12.34, "overdue": 3, "open": 9, "received": 80}],
    "hotspots": [
        {"category": "噪声扰民", "place": "第1网格", "count": 7, "recent": 5, "previous": 2, "trend": "up"},
        {"category": XSS, "place": "", "count": 3, "recent": 1, "previous": 2, "trend": "down"},
    ],
}


def test_category_figure_chinese_largest_on_top() -> None:
    fig = category_figure(STATS, "zh-CN")
    bar = fig["data"][0]
    assert bar["y"] == ["矛盾纠纷", "城市管理"]  # plotly draws the first at the bottom: the largest on top
    assert bar["text"] == ["800", "1,200"]
    assert fig["layout"]["template"]["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)"
    assert category_figure(STATS, "en")["data"][0]["y"] == ["Disputes", "City management"]
    json.dumps(fig)  # plain JSON: no plotly.py objects


def test_empty_figures_say_no_data() -> None:
    for make in (category_figure, trend_figure, street_figure, department_figure):
        fig = make({}, "zh-CN")
        assert fig["data"] == []
        assert fig["layout"]["annotations"][0]["text"] == "暂无数据"
    assert trend_figure({"trend": [{"day": "2025-03-01", "received": 0, "closed": 0}]}, "zh-CN")["data"] == []


def test_trend_figure_received_and_closed() -> None:
    fig = trend_figure(STATS, "zh-CN", scale=2.0)
    assert [s["name"] for s in fig["data"]] == ["受理", "办结"]
    assert fig["data"][0]["x"][0] == "2025-03-01"
    assert fig["layout"]["xaxis"]["tickformat"] == "%m-%d"
    assert fig["data"][1]["y"][:3] == [0, 1, 2]
    assert fig["layout"]["template"]["layout"]["font"]["size"] == 32  # scaled for a 4K wall


def test_rankings_worst_on_top_with_rates() -> None:
    streets = street_figure(STATS, "zh-CN")["data"][0]
    assert streets["y"] == ["东城街道", "巴川街道"]
    assert streets["text"][1] == "5  ·  办结率 95.0%"
    assert streets["text"][0] == "0  ·  办结率 —"
    deps = department_figure(STATS, "zh-CN")["data"][0]
    assert deps["text"] == ["12.3 小时  ·  超期 3"]


def test_chart_panel_serves_no_mode_bar() -> None:
    panel = chart_panel("wall-x", "标题", category_figure(STATS, "zh-CN"))
    graph = by_id(panel, "wall-x")
    assert graph.config == GRAPH_CONFIG and GRAPH_CONFIG["displayModeBar"] is False
    assert texts(panel)[0] == "标题"


def test_hotspots_count_trend_and_text() -> None:
    rows = hotspot_list(STATS, "zh-CN")
    assert texts(rows[0]) == ["噪声扰民", "第1网格", "7", "↑"]
    assert rows[0].children[3].title == "上升"
    assert texts(rows[1])[0] == XSS  # a plain string: Dash escapes it
    assert texts(hotspot_list(None, "zh-CN")) == ["暂无类案"]


def test_a_hotspot_opens_the_cases_behind_it() -> None:
    from dashboard.urls import Urls

    stats = {"hotspots": [dict(STATS["hotspots"][0], key="grid~city.noise~500151001001001")]}
    (row,) = hotspot_list(stats, "en", Urls("/wall-base/", "en"))
    assert row.href == "/wall-base/hotspots/grid~city.noise~500151001001001?days=30&lang=en"
    assert hotspot_list(STATS, "zh-CN", Urls())[0].href is None  # a payload without keys links nowhere


def test_ticker_newest_first_flashing_until_acknowledged() -> None:
    items = {
        "items": [
            {
                "id": 2,
                "at": 1_741_000_000,
                "kind": "weather",
                "event": "暴雨",
                "headline": XSS,
                "colour": "orange",
                "new": True,
            },
            {
                "id": 1,
                "at": 1_740_990_000,
                "kind": "fence",
                "event": "",
                "headline": "入侵",
                "colour": 'evil" onload=x',
                "new": False,
            },
        ]
    }
    chips = ticker_items(items, "zh-CN", "Asia/Shanghai")
    assert texts(chips[0]) == ["2 条 · 未确认 1"]
    first, second = chips[1], chips[2]
    assert "flash" in first.className and "sig-orange" in first.className
    assert texts(first)[-1] == "【暴雨橙色预警】" + XSS
    assert texts(second)[-1] == "【电子围栏】入侵"
    # the ticker's sentence from the query's codes and the feed's words (tests/data/test_queries_alerts.py)
    smoke = {"kind": "smoke", "event": "", "headline": "<b>烟感</b>报警", "colour": "yellow"}
    rain = {"kind": "weather", "event": "暴雨", "headline": "暴雨橙色预警", "colour": "orange"}
    assert ticker_text(smoke, "zh-CN") == "【烟感火警】<b>烟感</b>报警"
    assert ticker_text(rain, "zh-CN") == "【暴雨橙色预警】暴雨橙色预警"
    assert "flash" not in second.className and "sig-none" in second.className  # unknown colour: no class
    assert texts(ticker_items(None, "zh-CN", "Asia/Shanghai")) == ["暂无生效预警"]


def test_banner_names_stale_and_failing_feeds() -> None:
    children, cls = banner(
        {
            "total": 12,
            "bad": [
                {
                    "name": "weather",
                    "department": "区气象局",
                    "status": "stale",
                    "last_success": 1_741_000_000,
                },
                {"name": "police", "department": "区公安分局", "status": "failing", "last_success": None},
            ],
        },
        "zh-CN",
        "Asia/Shanghai",
    )
    words = " ".join(texts(children))
    assert cls == "wall-banner bad"
    assert "数据源异常" in words and "区气象局" in words and "数据过期" in words
    assert "区公安分局" in words and "异常" in words and "从未成功" in words
    ok, ok_cls = banner({"total": 12, "bad": []}, "zh-CN", "Asia/Shanghai")
    assert ok_cls == "wall-banner ok" and texts(ok) == ["12 路数据源正常"]
    assert banner(None, "zh-CN", "Asia/Shanghai")[1] == "wall-banner empty"


def test_clock_and_as_of() -> None:
    at = datetime(2025, 3, 5, 6, 7, 8, tzinfo=UTC)  # a Wednesday, 14:07:08 in Shanghai
    assert clock_text(at, "Asia/Shanghai", "zh-CN") == "2025-03-05 星期三 14:07:08"
    assert clock_text(at, "Asia/Shanghai", "en") == "2025-03-05 Wed 14:07:08"
    assert as_of_text({"as_of": at.timestamp()}, None, "Asia/Shanghai", "zh-CN") == "数据截至 14:07:08"
    assert as_of_text({}, {"built_at": at.timestamp()}, "Asia/Shanghai", "en") == "Data as of 14:07:08"
    assert as_of_text(None, None, "Asia/Shanghai", "zh-CN") == "数据截至 —"


def test_components_are_dash_components() -> None:
    assert all(isinstance(c, html.Div) for c in kpi_band(KPIS, "zh-CN"))
