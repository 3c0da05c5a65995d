"""The overdue drill-down's unit parts: the breadcrumb, the totals band and the table of child units
(each with overdue / due-soon / open counts and a bar), a child's name linking one level down."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from data.queries import UnitCount, label

from ..components.format import as_attrs
from ..i18n import t
from ..urls import Urls


def unit_href(code: str | None, lang: str) -> str:
    """``/overdue?unit=<code>`` (the district when ``code`` is None), keeping the language."""
    return Urls.current(lang).overdue(code)


def breadcrumb(path: Sequence[tuple[str, str]], lang: str) -> html.Nav:
    """``铜梁区 › 巴川街道 › 某社区``: every step but the last links up."""
    items: list[Any] = []
    for i, (code, name) in enumerate(path):
        if i:
            items.append(html.Span("›", className="overdue-crumb-sep"))
        if i < len(path) - 1:
            items.append(dcc.Link(name, href=unit_href(code, lang), className="overdue-crumb"))
        else:
            items.append(html.Span(name, className="overdue-crumb is-here"))
    return html.Nav(items, className="overdue-breadcrumb")


def totals_band(overdue: int, due_soon: int, n_open: int, lang: str) -> html.Div:
    def kpi(value: int, key: str, cls: str) -> html.Div:
        return html.Div(
            [
                html.Div(str(value), className="overdue-kpi-value"),
                html.Div(t(key, lang), className="overdue-kpi-label"),
            ],
            className=f"overdue-kpi {cls}",
        )

    return html.Div(
        [
            kpi(overdue, "overdue_col_overdue", "is-late" if overdue else ""),
            kpi(due_soon, "overdue_col_due_soon", "is-soon" if due_soon else ""),
            kpi(n_open, "overdue_col_open", ""),
        ],
        className="overdue-kpis",
    )


def unit_table(children: Sequence[UnitCount], lang: str) -> html.Div:
    """The children of the current unit, most overdue first; a bar shows each one's share."""
    if not children:
        return html.Div(t("overdue_no_children", lang), className="overdue-empty")
    top = max((c.overdue for c in children), default=0) or 1
    head = html.Div(
        [
            html.Span(t("overdue_col_unit", lang)),
            html.Span(t("overdue_col_overdue", lang)),
            html.Span(t("overdue_col_due_soon", lang), className="num"),
            html.Span(t("overdue_col_open", lang), className="num"),
        ],
        className="overdue-unit-row is-head",
    )
    rows: list[Any] = [head]
    for c in children:
        level = label("level", c.level, lang)
        name: Any = (
            dcc.Link(
                c.name, href=unit_href(c.code, lang), className="overdue-unit-link", title=f"{level} {c.code}"
            )
            if c.code
            else html.Span(c.name, className="overdue-unit-name")
        )
        bar = html.Div(
            [
                html.Div(className="overdue-bar-fill", style={"width": f"{100 * c.overdue / top:.0f}%"}),
                html.Span(str(c.overdue), className="overdue-bar-value"),
            ],
            className="overdue-bar" + (" is-zero" if not c.overdue else ""),
        )
        rows.append(
            html.Div(
                [
                    name,
                    bar,
                    html.Span(str(c.due_soon), className="num" + (" is-soon" if c.due_soon else "")),
                    html.Span(str(c.open), className="num"),
                ],
                className="overdue-unit-row" + (" has-late" if c.overdue else ""),
                **as_attrs({"data-code": c.code}),
            )
        )
    return html.Div(rows, className="overdue-unit-table")
