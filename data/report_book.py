"""A report (:func:`data.queries.reports.build_report`) as an XLSX workbook with native Excel charts
(openpyxl), and the one way its values are put in words (:func:`shown`, :func:`shown_change`) that the
screen, the print view and the workbook share — so the three say the same figures.

Sheets: 概况 (the KPIs beside 上期 / 环比 and 去年同期 / 同比, the share resolved at each level with a pie),
the unit scorecard (with a bar chart), the department scorecard, top 类案, the trend (with a line chart)
and the categories (with a bar chart). Numbers stay numbers (rates as fractions with a ``0.0%`` format);
an undefined value (a zero denominator) is the text ``—``. Every header comes from the text catalogue.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from .queries.labels import DASH
from .queries.report_periods import ReportPeriod
from .queries.reports import KPI_KEYS, Figures, Report, Scorecard
from .text import label, local_time, number, percent, t

# the columns of a scorecard: (figure, kind)
SCORE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("received", "count"),
    ("closed", "count"),
    ("closure_rate", "rate"),
    ("on_time_rate", "rate"),
    ("satisfaction_rate", "rate"),
    ("overdue", "count"),
    ("mean_handling_hours", "hours"),
    ("report_rate", "rate"),
)
FORMATS = {"count": "0", "rate": "0.0%", "hours": "0.0", "minutes": "0.0"}
HEAD = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="1F3150")
TITLE = Font(bold=True, size=16)


def shown(kind: str, value: float | None, lang: str) -> str:
    """A figure as people read it: ``1,234``, ``98.8%``, ``57.3`` (hours, minutes); ``—`` for none."""
    if value is None:
        return DASH
    if kind == "rate":
        return percent(value, lang, digits=1)
    if kind == "count":
        return number(value, lang)
    return number(value, lang, digits=1)


def shown_change(kind: str, value: float | None, lang: str) -> str:
    """环比 / 同比 as people read it: ``+12.5%`` for a count or a time, ``-2.3`` points (百分点) for a
    rate; ``—`` when there is nothing to compare with."""
    if value is None:
        return DASH
    sign = "+" if value > 0 else ""
    if kind == "rate":
        return t("report_points", lang, n=f"{sign}{number(value * 100, lang, digits=1)}")
    return f"{sign}{percent(value, lang, digits=1)}"


def period_text(period: ReportPeriod, lang: str) -> str:
    """``2026-11-23 – 2026-11-29`` (one day alone), with "to date" when the period still runs."""
    days = period.first.isoformat()
    if period.last != period.first:
        days += f" – {period.last.isoformat()}"
    return days


def kpi_label(key: str, lang: str) -> str:
    return t(f"report_kpi_{key}", lang)


def units_title(report: Report, lang: str) -> str:
    child = {"district": "street", "street": "community", "community": "grid"}.get(report.area_level, "grid")
    return t("report_units_title", lang, level=label("level", child, lang))


def _cell(ws: Worksheet, row: int, col: int, value: Any, kind: str | None = None) -> None:
    cell = ws.cell(row=row, column=col, value=DASH if value is None else value)
    if kind is not None and value is not None:
        cell.number_format = FORMATS[kind]
    if value is None:
        cell.alignment = Alignment(horizontal="right")


def _header(ws: Worksheet, row: int, values: Sequence[str]) -> None:
    for col, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=col, value=value)
        cell.font, cell.fill = HEAD, HEAD_FILL


def _widths(ws: Worksheet, widths: Sequence[int]) -> None:
    for i, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = width


def _summary(ws: Worksheet, report: Report, lang: str, tz: Any) -> None:
    ws.title = t("report_sheet_summary", lang)
    ws.cell(row=1, column=1, value=t("report_title_of", lang, area=report.area_name)).font = TITLE
    facts = (
        (t("report_period", lang), period_text(report.period, lang)),
        (t("report_previous", lang), period_text(report.previous, lang)),
        (t("report_last_year", lang), period_text(report.last_year, lang)),
        (t("report_generated", lang), local_time(report.generated_at, tz, lang, "minute")),
    )
    for i, (name, value) in enumerate(facts, start=2):
        ws.cell(row=i, column=1, value=name).font = Font(bold=True)
        ws.cell(row=i, column=2, value=value)
    top = 7
    _header(ws, top, [t("report_col_kpi", lang), t("report_current", lang), t("report_previous", lang),
                      t("report_mom", lang), t("report_last_year", lang), t("report_yoy", lang)])  # fmt: skip
    for i, k in enumerate(report.kpis, start=top + 1):
        ws.cell(row=i, column=1, value=kpi_label(k.key, lang))
        _cell(ws, i, 2, k.value, k.kind)
        _cell(ws, i, 3, k.previous, k.kind)
        ws.cell(row=i, column=4, value=shown_change(k.kind, k.mom, lang))
        _cell(ws, i, 5, k.last_year, k.kind)
        ws.cell(row=i, column=6, value=shown_change(k.kind, k.yoy, lang))
    row = top + len(report.kpis) + 2
    ws.cell(row=row, column=1, value=t("report_levels_title", lang)).font = Font(bold=True)
    _header(
        ws, row + 1, [t("report_col_level", lang), t("report_col_closed", lang), t("report_col_share", lang)]
    )
    for i, share in enumerate(report.levels, start=row + 2):
        ws.cell(row=i, column=1, value=t(f"report_level_{share.level}", lang))
        _cell(ws, i, 2, share.closed, "count")
        _cell(ws, i, 3, share.share, "rate")
    if sum(s.closed for s in report.levels):
        pie = PieChart()
        pie.title = t("report_levels_title", lang)
        pie.add_data(Reference(ws, min_col=2, min_row=row + 1, max_row=row + 4), titles_from_data=True)
        pie.set_categories(Reference(ws, min_col=1, min_row=row + 2, max_row=row + 4))
        pie.height, pie.width = 7, 12
        ws.add_chart(pie, f"H{top}")
    _widths(ws, (26, 16, 16, 16, 16, 16))


def _scorecard(ws: Worksheet, title: str, rows: list[Scorecard], lang: str, chart: bool) -> None:
    ws.title = title
    _header(ws, 1, [t("report_col_name", lang), t("report_col_code", lang),
                    *[kpi_label(k, lang) for k, _ in SCORE_COLUMNS]])  # fmt: skip
    for i, s in enumerate(rows, start=2):
        ws.cell(row=i, column=1, value=s.name or s.code or t("report_no_department", lang))
        ws.cell(row=i, column=2, value=s.code)
        for j, (key, kind) in enumerate(SCORE_COLUMNS, start=3):
            _cell(ws, i, j, s.figures.value(key), kind)
    _widths(ws, (24, 18, 10, 10, 12, 12, 12, 10, 14, 10))
    if chart and rows:
        bar = BarChart()
        bar.type = "bar"
        bar.title = title
        bar.add_data(
            Reference(ws, min_col=3, max_col=4, min_row=1, max_row=len(rows) + 1), titles_from_data=True
        )
        bar.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(rows) + 1))
        bar.height, bar.width = max(7.0, 0.7 * len(rows) + 3), 16
        ws.add_chart(bar, "L2")


def _classes(ws: Worksheet, report: Report, lang: str) -> None:
    ws.title = t("report_sheet_classes", lang)
    _header(ws, 1, [t("report_col_category", lang), t("report_col_place", lang), t("report_col_count", lang),
                    t("report_col_trend", lang)])  # fmt: skip
    for i, h in enumerate(report.classes, start=2):
        ws.cell(row=i, column=1, value=h.category_name)
        ws.cell(row=i, column=2, value=h.place_name or h.place_code)
        ws.cell(row=i, column=3, value=h.count)
        ws.cell(row=i, column=4, value=label("trend", h.trend, lang))
    if not report.classes:
        ws.cell(row=2, column=1, value=t("report_none", lang))
    _widths(ws, (18, 30, 10, 10))


def _trend(ws: Worksheet, report: Report, lang: str) -> None:
    ws.title = t("report_sheet_trend", lang)
    _header(ws, 1, [t("report_col_when", lang), kpi_label("received", lang), kpi_label("closed", lang)])
    for i, b in enumerate(report.trend, start=2):
        ws.cell(row=i, column=1, value=b.label)
        ws.cell(row=i, column=2, value=b.received)
        ws.cell(row=i, column=3, value=b.closed)
    if report.trend:
        line = LineChart()
        line.title = t("report_trend_title", lang)
        n = len(report.trend) + 1
        line.add_data(Reference(ws, min_col=2, max_col=3, min_row=1, max_row=n), titles_from_data=True)
        line.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n))
        line.height, line.width = 8, 18
        ws.add_chart(line, "E2")
    _widths(ws, (14, 10, 10))


def _categories(ws: Worksheet, report: Report, lang: str) -> None:
    ws.title = t("report_sheet_categories", lang)
    _header(ws, 1, [t("report_col_category", lang), kpi_label("received", lang)])
    for i, c in enumerate(report.categories, start=2):
        ws.cell(row=i, column=1, value=c.name or t("report_uncategorised", lang))
        ws.cell(row=i, column=2, value=c.count)
    if report.categories:
        bar = BarChart()
        bar.title = t("report_categories_title", lang)
        n = len(report.categories) + 1
        bar.add_data(Reference(ws, min_col=2, min_row=1, max_row=n), titles_from_data=True)
        bar.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n))
        bar.height, bar.width = 8, 16
        ws.add_chart(bar, "D2")
    _widths(ws, (18, 10))


def workbook_bytes(report: Report, lang: str, tz: Any) -> bytes:
    """The report as an XLSX file."""
    book = Workbook()
    _summary(book.active, report, lang, tz)
    _scorecard(book.create_sheet(), units_title(report, lang), report.units, lang, chart=True)
    _scorecard(
        book.create_sheet(), t("report_departments_title", lang), report.departments, lang, chart=False
    )
    _classes(book.create_sheet(), report, lang)
    _trend(book.create_sheet(), report, lang)
    _categories(book.create_sheet(), report, lang)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def figure_cells(f: Figures) -> dict[str, float | None]:
    """The KPI figures by key (what the workbook's 本期 column holds), for checks and the screen."""
    return {key: f.value(key) for key, _ in KPI_KEYS}
