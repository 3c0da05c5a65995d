"""``/reports``: a leader's (or duty officer's) report of one area for one period.

The choice is in the URL (``?area=&period=&date=`` or ``&first=&last=`` for a custom period, see
:mod:`.request`), so a report is a link: the controls build the 生成报表 link, which loads the page for
that choice; the downloads (XLSX with native charts, the print view for A4 PDF) carry the same query.
The area is chosen within the viewer's scope (district → street → community); anything else is refused.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash_mantine_components as dmc
from dash import Input, Output, dcc, html

from data.queries.report_periods import PERIOD_KINDS
from data.queries.reports import area_options
from data.text import lang_params

from ..components.format import as_attrs
from ..components.nav import header_nav
from ..components.select import search_select
from ..i18n import t
from ..page import Page, PageContext
from ..scope import current_scope
from ..services import services
from . import charts
from .downloads import PRINT_PATH, XLSX_PATH, register_downloads
from .request import Asked, Refusal, asked, may_view, read_report
from .sections import Cell, Section, heading, sections


def _link(base: str, path: str, query: dict[str, str], lang: str) -> str:
    return base.rstrip("/") + path + "?" + urlencode(query | lang_params(lang))


def _controls(ask: Asked, lang: str) -> html.Div:
    if may_view():
        with services().sessions() as session:
            options = area_options(session, current_scope())
    else:
        options = []
    indent = {"district": "", "street": "· ", "community": "· · "}
    data = [{"value": o.code, "label": indent.get(o.level, "") + o.name} for o in options]
    periods = [{"value": k, "label": t(f"report_kind_{k}", lang)} for k in PERIOD_KINDS]
    custom = ask.kind == "custom"
    return html.Div(
        [
            search_select("report-area", data, value=ask.area or None, class_name="duty-select report-area",
                          label=t("report_area", lang), size="md"),
            html.Div(
                [
                    html.Label(t("report_kind", lang), className="duty-period-label"),
                    dmc.SegmentedControl(id="report-kind", data=periods, value=ask.kind, size="md",
                                         className="duty-period"),
                ],
                className="duty-period-box",
            ),
            html.Div(
                [
                    html.Label(t("report_date", lang), className="duty-period-label"),
                    dcc.Input(id="report-date", value=ask.day, placeholder="YYYY-MM-DD", debounce=False,
                              className="report-input", maxLength=10),
                ],
                className="report-field" + (" is-hidden" if custom else ""), id="report-date-box",
            ),
            html.Div(
                [
                    html.Label(t("report_first", lang), className="duty-period-label"),
                    dcc.Input(id="report-first", value=ask.first, placeholder="YYYY-MM-DD",
                              className="report-input", maxLength=10),
                    html.Label(t("report_last", lang), className="duty-period-label"),
                    dcc.Input(id="report-last", value=ask.last, placeholder="YYYY-MM-DD",
                              className="report-input", maxLength=10),
                ],
                className="report-field report-custom" + ("" if custom else " is-hidden"),
                id="report-custom-box",
            ),
            html.A(t("report_show", lang), id="report-go", href="#", className="report-go"),
        ],
        className="duty-filters report-controls",
    )  # fmt: skip


def _cell(cell: Cell) -> html.Td:
    return html.Td(cell.text, className=cell.css or None, **as_attrs(cell.attrs))


def _section(s: Section) -> html.Div:
    parts: list[Any] = [html.H2(s.title, className="duty-h2")]
    if s.svg:
        parts.append(html.Img(src=charts.data_url(s.svg), className="report-chart", alt=s.title))
    if s.headers and s.rows:
        parts.append(
            html.Div(
                html.Table(
                    [
                        html.Thead(html.Tr([html.Th(h) for h in s.headers])),
                        html.Tbody([html.Tr([_cell(c) for c in row]) for row in s.rows]),
                    ],
                    className="report-table",
                ),
                className="report-table-box",
            )
        )
    if s.note:
        parts.append(html.Div(s.note, className="report-note"))
    return html.Div(parts, className=f"report-section report-{s.key}" + (" is-wide" if s.wide else ""),
                    id=f"report-{s.key}")  # fmt: skip


def body(ctx: PageContext) -> list[Any]:
    ask, found = read_report(dict(ctx.query))
    if isinstance(found, Refusal):
        return [html.Div(t(found.key, ctx.lang, reason=found.reason), className="report-refused",
                         **as_attrs({"data-status": str(found.status)}))]  # fmt: skip
    title, lines = heading(found, ctx.lang, ctx.settings.timezone)
    query = ask.query()
    downloads = html.Div(
        [
            html.A(t("report_download_xlsx", ctx.lang), href=_link(ctx.base_path, XLSX_PATH, query, ctx.lang),
                   id="report-xlsx", className="report-download", download=""),
            html.A(t("report_print", ctx.lang), href=_link(ctx.base_path, PRINT_PATH, query, ctx.lang),
                   id="report-print", className="report-download", target="_blank"),
        ],
        className="report-downloads",
    )  # fmt: skip
    return [
        html.Div(
            [
                html.Div([html.H2(title, className="report-title"),
                          html.Div([html.Span(x) for x in lines], className="report-lines")]),
                downloads,
            ],
            className="report-head",
            **as_attrs({"data-area": found.area, "data-period": found.period.kind,
                        "data-first": found.period.first.isoformat()}),
        ),
        html.Div([_section(s) for s in sections(found, ctx.lang, charts.DARK)], className="report-grid"),
    ]  # fmt: skip


def layout(ctx: PageContext) -> Any:
    shown = asked(dict(ctx.query))
    header = html.Div(
        [
            html.Div(html.H1(t("report_title", ctx.lang), className="duty-h1"), className="duty-titles"),
            _controls(shown, ctx.lang),
            header_nav(ctx, "reports"),
        ],
        className="duty-header report-header",
    )
    return html.Div(
        [header, html.Div(body(ctx), id="report-body", className="report-body"),
         dcc.Store(id="report-lang", data=ctx.lang), dcc.Store(id="report-base", data=ctx.base_path)],
        className="report-page",
    )  # fmt: skip


def go_href(area: str | None, kind: str | None, day: str | None, first: str | None, last: str | None,
            lang: str | None, base: str | None) -> Any:  # fmt: skip
    """The 生成报表 link for the controls as they stand (and which date fields show)."""
    query = {"period": kind or "week"}
    if area:
        query["area"] = area
    if kind == "custom":
        query |= {"first": (first or "").strip(), "last": (last or "").strip()}
    elif (day or "").strip():
        query["date"] = (day or "").strip()
    href = _link(base or "/", "/reports", query, lang or "zh-CN")
    custom = kind == "custom"
    return (
        href,
        "report-field" + (" is-hidden" if custom else ""),
        ("report-field report-custom" + ("" if custom else " is-hidden")),
    )


def register(app: Any) -> None:
    register_downloads(app.server)
    app.callback(
        Output("report-go", "href"),
        Output("report-date-box", "className"),
        Output("report-custom-box", "className"),
        Input("report-area", "value"),
        Input("report-kind", "value"),
        Input("report-date", "value"),
        Input("report-first", "value"),
        Input("report-last", "value"),
        Input("report-lang", "data"),
        Input("report-base", "data"),
    )(go_href)


PAGE = Page(path="/reports", name="reports", title_key="report_title", layout=layout, register=register)
