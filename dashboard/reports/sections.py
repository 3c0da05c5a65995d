"""The report as a list of sections (a table or a chart each), in words, once: the screen draws them as
Dash components, the print view as HTML text — so both carry the same figures, and the XLSX
(:mod:`data.report_book`) writes the same values through the same :func:`~data.report_book.shown`.

A KPI cell carries ``data-key`` and ``data-value`` (the raw figure) so that a test, or a person's
script, can read the number behind the words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from data.queries.reports import Report, Scorecard
from data.report_book import SCORE_COLUMNS, kpi_label, period_text, shown, shown_change, units_title
from data.text import label, local_time, t

from . import charts


@dataclass(frozen=True)
class Cell:
    text: str
    attrs: dict[str, str] = field(default_factory=dict)
    css: str = ""


@dataclass(frozen=True)
class Section:
    key: str  # kpis | trend | levels | units | units_chart | departments | classes
    title: str
    headers: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    svg: str = ""  # a chart's drawing (tables have none)
    note: str = ""
    wide: bool = False


def _raw(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _trend_css(value: float | None, lower_better: bool, neutral: bool = False) -> str:
    if value is None or value == 0 or neutral:
        return "is-flat"
    good = (value < 0) if lower_better else (value > 0)
    return "is-good" if good else "is-bad"


def kpi_rows(report: Report, lang: str) -> list[list[Cell]]:
    rows = []
    for k in report.kpis:
        rows.append(
            [
                Cell(kpi_label(k.key, lang)),
                Cell(shown(k.kind, k.value, lang), {"data-key": k.key, "data-value": _raw(k.value)}, "num"),
                Cell(shown(k.kind, k.previous, lang), {"data-value": _raw(k.previous)}, "num"),
                Cell(
                    shown_change(k.kind, k.mom, lang),
                    {},
                    "num " + _trend_css(k.mom, k.lower_better, k.neutral),
                ),
                Cell(shown(k.kind, k.last_year, lang), {"data-value": _raw(k.last_year)}, "num"),
                Cell(
                    shown_change(k.kind, k.yoy, lang),
                    {},
                    "num " + _trend_css(k.yoy, k.lower_better, k.neutral),
                ),
            ]
        )
    return rows


def _score_rows(rows: list[Scorecard], lang: str) -> list[list[Cell]]:
    return [
        [Cell(s.name or s.code or t("report_no_department", lang), {"data-code": s.code})]
        + [Cell(shown(kind, s.figures.value(key), lang), {}, "num") for key, kind in SCORE_COLUMNS]
        for s in rows
    ]


def sections(report: Report, lang: str, palette: charts.Palette) -> list[Section]:
    score_head = [t("report_col_name", lang), *[kpi_label(k, lang) for k, _ in SCORE_COLUMNS]]
    compare = [t("report_col_kpi", lang), t("report_current", lang), t("report_previous", lang),
               t("report_mom", lang), t("report_last_year", lang), t("report_yoy", lang)]  # fmt: skip
    classes = [
        [Cell(h.category_name), Cell(h.place_name or h.place_code), Cell(str(h.count), {}, "num"),
         Cell(label("trend", h.trend, lang))]
        for h in report.classes
    ]  # fmt: skip
    levels = [
        [Cell(t(f"report_level_{s.level}", lang)), Cell(shown("count", s.closed, lang), {}, "num"),
         Cell(shown("rate", s.share, lang), {"data-level": s.level, "data-value": _raw(s.share)}, "num")]
        for s in report.levels
    ]  # fmt: skip
    return [
        Section("kpis", t("report_kpis_title", lang), compare, kpi_rows(report, lang),
                note=t("report_compare_note", lang)),
        Section("trend", t("report_trend_title", lang), svg=charts.trend_svg(report.trend, lang, palette)),
        Section("levels", t("report_levels_title", lang), [t("report_col_level", lang),
                t("report_col_closed", lang), t("report_col_share", lang)], levels,
                svg=charts.levels_svg(report.levels, lang, palette)),
        Section("classes", t("report_classes_title", lang), [t("report_col_category", lang),
                t("report_col_place", lang), t("report_col_count", lang), t("report_col_trend", lang)],
                classes, note="" if classes else t("report_none", lang)),
        Section("units", units_title(report, lang), score_head, _score_rows(report.units, lang),
                svg=charts.units_svg(report.units, lang, palette), wide=True),
        Section("departments", t("report_departments_title", lang), score_head,
                _score_rows(report.departments, lang), wide=True),
    ]  # fmt: skip


def heading(report: Report, lang: str, tz: str) -> tuple[str, list[str]]:
    """The report's title and the lines under it (period, compared periods, when it was made)."""
    lines = [
        t("report_line", lang, name=t("report_period", lang), value=period_text(report.period, lang)),
        t("report_line", lang, name=t("report_previous", lang), value=period_text(report.previous, lang)),
        t("report_line", lang, name=t("report_last_year", lang), value=period_text(report.last_year, lang)),
        t(
            "report_line",
            lang,
            name=t("report_generated", lang),
            value=local_time(report.generated_at, tz, lang, "minute"),
        ),
    ]
    if report.period.running:
        lines.append(t("report_running", lang, time=local_time(report.period.end, tz, lang, "minute")))
    return t("report_title_of", lang, area=report.area_name), lines
