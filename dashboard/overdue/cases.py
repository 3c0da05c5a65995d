"""The overdue drill-down's case list: the cases behind the number, most late first, each with how late,
where, the department holding it, the escalation level, the supervision card and a link to it.

Feed text (titles, addresses, case numbers) is a plain string child: Dash escapes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from data.names import community_short_name
from data.queries import CaseRow, label

from ..act.choices import viewer_kinds
from ..act.panel import open_buttons
from ..components.format import as_attrs
from ..i18n import t
from ..urls import Urls

LEVEL_DEPTH = {"district": 0, "street": 1, "community": 2, "grid": 3}


def late_span(hours: float | None, lang: str) -> str:
    if hours is None or hours <= 0:
        return ""
    total = int(hours)
    days, rest = divmod(total, 24)
    return t("overdue_days", lang, d=days, h=rest) if days else t("overdue_hours", lang, h=rest)


def place_below(row: CaseRow, level: str) -> str:
    """The names of the case's places below the current level (at most two), e.g. 社区 · 网格."""
    names = [row.street_name, community_short_name(row.community_name), row.grid_name]
    below = [n for n in names[LEVEL_DEPTH.get(level, 0) :] if n]
    return " · ".join(below[:2]) or (row.grid_name or row.community_name or row.street_name)


def card_badge(supervision: str, lang: str) -> Any:
    if supervision not in ("yellow", "red"):
        return html.Span("", className="overdue-card is-none")
    return html.Span(label("supervision", supervision, lang), className=f"overdue-card is-{supervision}")


def case_table(rows: Sequence[CaseRow], level: str, lang: str, limit: int) -> html.Div:
    if not rows:
        return html.Div(t("overdue_no_cases", lang), className="overdue-empty")
    kinds = viewer_kinds()  # a 处置 button per row for a viewer who may act (checked again on the server)
    row_class = "overdue-case-row" + (" can-act" if kinds else "")
    head = html.Div(
        [
            html.Span(t("overdue_col_late", lang)),
            html.Span(t("overdue_col_case", lang)),
            html.Span(t("overdue_col_place", lang)),
            html.Span(t("overdue_col_department", lang)),
            html.Span(t("overdue_col_level", lang)),
            html.Span(t("overdue_col_card", lang)),
            html.Span(""),
            *([html.Span("")] if kinds else []),
        ],
        className=row_class + " is-head",
    )
    body: list[Any] = [head]
    for r in rows:
        href = Urls.current(lang).case(int(r.id))
        body.append(
            html.Div(
                [
                    html.Span(late_span(r.hours_late, lang), className="overdue-late"),
                    html.Div(
                        [
                            html.Div(
                                r.title or r.category_name or t("uncategorised", lang),
                                className="overdue-case-title",
                            ),
                            html.Div(
                                f"{r.external_id} · {label('status', r.status, lang)}",
                                className="overdue-case-sub",
                            ),
                        ],
                        className="overdue-case-main",
                    ),
                    html.Span(place_below(r, level), className="overdue-case-place"),
                    html.Span(r.department_name, className="overdue-case-dept"),
                    html.Span(label("escalation", r.escalation_level, lang), className="overdue-level"),
                    card_badge(r.supervision, lang),
                    dcc.Link(t("overdue_open", lang), href=href, className="overdue-open"),
                    *open_buttons(int(r.id), kinds, lang, only=""),
                ],
                className=row_class,
                **as_attrs({"data-case": str(r.id)}),
            )
        )
    if len(rows) >= limit:
        body.append(html.Div(t("overdue_cases_more", lang, n=limit), className="overdue-more"))
    return html.Div(body, className="overdue-case-table")
