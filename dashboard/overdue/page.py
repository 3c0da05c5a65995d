"""``/overdue``: the leader's drill-down, district → street → community → grid → case.

The unit is in the URL (``?unit=<code>``), so the back button goes back up; at every level the children
with their overdue / due-soon / open counts (most overdue first, a click goes one level down), and the
overdue cases behind the number, most late first, one click from their page, and under them the
instructions 超时未报到 in the unit (:mod:`.loop`), then the risks of the ledger past their 销号 deadline
(:mod:`.risks`). District to a single case is at most four clicks.
Everything goes through :func:`dashboard.scope.current_scope`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from dash import Input, Output, State, html, no_update
from sqlalchemy.orm import Session

from data.queries import CaseRow, Hotspot, RiskRow, UnitCount, overdue_by_unit, overdue_cases
from data.queries.common import CHILD_LEVEL, level_of, unit_names
from data.queries.loop import Unanswered
from data.scope import AreaScope

from ..act.panel import action_modal
from ..components.format import as_attrs
from ..components.nav import header_nav
from ..i18n import lang_from_query, t
from ..page import Page, PageContext
from ..personal import CASE_TEXT, masked_rows, text_mode
from ..scope import current_scope
from ..services import services
from .cases import case_table
from .hotspots import hotspot_links
from .hotspots import read as read_hotspots
from .loop import loop_table
from .loop import read as read_unanswered
from .risks import read as read_risks
from .risks import risk_table
from .units import breadcrumb, totals_band, unit_href, unit_table

CASE_LIMIT = 200
PREFIXES = (6, 9, 12, 15)


@dataclass(frozen=True)
class Drill:
    """One level of the drill-down, as the page shows it."""

    code: str
    level: str
    path: list[tuple[str, str]]  # (code, name) from the top down to this unit
    children: list[UnitCount]
    overdue: int
    due_soon: int
    open: int
    cases: list[CaseRow]
    unanswered: list[Unanswered] = field(default_factory=list)  # 超时未报到 in the unit
    departments: dict[str, str] = field(default_factory=dict)  # the names to show them with
    risks: list[RiskRow] = field(default_factory=list)  # risks of the ledger not closed by their deadline
    hotspots: list[Hotspot] = field(default_factory=list)  # 类案 of the unit: each opens its cases


def _root(scope: AreaScope) -> str | None:
    """Where the drill-down starts: the scope's district (the shortest code when several)."""
    if not scope.codes:
        return None
    return sorted(scope.codes, key=lambda c: (len(c), c))[0]


def _valid(code: str | None) -> bool:
    return code is not None and code.isascii() and code.isdigit() and len(code) in PREFIXES


def _totals(
    session: Session, scope: AreaScope, code: str, children: list[UnitCount], now: datetime
) -> tuple[int, int, int]:
    if children:
        return (
            sum(c.overdue for c in children),
            sum(c.due_soon for c in children),
            sum(c.open for c in children),
        )
    # a grid (no children): its own row among its parent's children
    if len(code) > 6:
        parent = code[: max(p for p in PREFIXES if p < len(code))]
        for row in overdue_by_unit(session, scope, parent, now):
            if row.code == code:
                return row.overdue, row.due_soon, row.open
    return 0, 0, 0


def drill(scope: AreaScope, unit: str | None, now: datetime | None = None) -> Drill | None:
    """The level ``unit`` (the scope's district when None) within ``scope``; None when the unit is
    malformed, unknown, or shares nothing with the scope."""
    now = now or datetime.now(UTC)
    code = unit if unit else _root(scope)
    if not _valid(code) or code is None or not scope.overlaps(code):
        return None
    with services().sessions() as session:
        prefixes = [code[:n] for n in PREFIXES if n <= len(code)]
        names = unit_names(session, prefixes)
        if code not in names:
            return None
        level = level_of(code)
        path = [(c, names.get(c, c)) for c in prefixes if scope.overlaps(c)]
        children = overdue_by_unit(session, scope, code, now) if level in CHILD_LEVEL else []
        late, soon, n_open = _totals(session, scope, code, children, now)
        cases = overdue_cases(session, scope, code, now, CASE_LIMIT)
        late_answers, departments = read_unanswered(session, scope, code, now)
        late_risks = read_risks(session, scope, code, now, text_mode())
        spots = read_hotspots(session, scope, code, now)
    cases = masked_rows(cases, CASE_TEXT, text_mode())  # phones and ID numbers in feed text
    return Drill(
        code, level, path, children, late, soon, n_open, cases, late_answers, departments, late_risks, spots
    )


def body(scope: AreaScope, unit: str | None, lang: str, now: datetime | None = None) -> list[Any]:
    """The page below the header for one unit."""
    found = drill(scope, unit, now)
    if found is None:
        return [
            html.Div(
                [
                    html.Div(t("overdue_unknown_unit", lang), className="overdue-empty"),
                    html.A(
                        t("overdue_back_top", lang), href=unit_href(None, lang), className="overdue-crumb"
                    ),
                ],
                className="overdue-missing",
            )
        ]
    units_panel = html.Div(
        [html.H2(t("overdue_children", lang), className="duty-h2"), unit_table(found.children, lang)],
        className="overdue-units",
    )
    cases_panel = html.Div(
        [
            html.Div(
                [
                    html.H2(t("overdue_cases", lang), className="duty-h2"),
                    html.Span(t("overdue_cases_count", lang, n=found.overdue), className="duty-count"),
                ],
                className="duty-panel-head",
            ),
            html.Div(case_table(found.cases, found.level, lang, CASE_LIMIT), className="overdue-case-scroll"),
            html.Div(
                [
                    html.H2(t("overdue_loop_title", lang), className="duty-h2"),
                    html.Span(
                        t("overdue_loop_count", lang, n=len(found.unanswered)),
                        className="duty-count" + (" is-late" if found.unanswered else ""),
                    ),
                ],
                className="duty-panel-head overdue-loop-head",
            ),
            html.Div(
                loop_table(found.unanswered, found.departments, lang, text_mode()),
                id="overdue-loop",
                className="overdue-loop-scroll",
            ),
            html.Div(
                [
                    html.H2(t("overdue_risks_title", lang), className="duty-h2"),
                    html.Span(
                        t("overdue_risks_count", lang, n=len(found.risks)),
                        className="duty-count" + (" is-late" if found.risks else ""),
                    ),
                ],
                className="duty-panel-head overdue-loop-head",
            ),
            html.Div(risk_table(found.risks, lang), id="overdue-risks", className="overdue-loop-scroll"),
            html.Div(
                [
                    html.H2(t("overdue_hotspots_title", lang), className="duty-h2"),
                    html.Span(
                        t("overdue_hotspots_count", lang, n=len(found.hotspots)), className="duty-count"
                    ),
                ],
                className="duty-panel-head overdue-loop-head",
            ),
            html.Div(
                hotspot_links(found.hotspots, lang, text_mode()),
                id="overdue-hotspots",
                className="overdue-loop-scroll",
            ),
        ],
        className="overdue-cases",
    )
    return [
        html.Div(
            [breadcrumb(found.path, lang), totals_band(found.overdue, found.due_soon, found.open, lang)],
            className="overdue-top",
            **as_attrs({"data-unit": found.code, "data-level": found.level}),
        ),
        html.Div(
            [units_panel, cases_panel] if found.children else [cases_panel],
            className="overdue-main" + ("" if found.children else " is-leaf"),
        ),
    ]


def layout(ctx: PageContext) -> Any:
    header = html.Div(
        [
            html.Div(html.H1(t("overdue_title", ctx.lang), className="duty-h1"), className="duty-titles"),
            header_nav(ctx, "overdue"),
        ],
        className="duty-header overdue-header",
    )
    content = body(ctx.scope, ctx.query.get("unit"), ctx.lang)
    return html.Div(
        [header, html.Div(content, id="overdue-body", className="overdue-body"), action_modal(ctx.lang)],
        className="duty-page",
    )


def on_search(search: str | None, pathname: str | None) -> Any:
    """``?unit=`` changed (a click down, a breadcrumb up, the back button): render that level."""
    if not (pathname or "").rstrip("/").endswith("/overdue"):
        return no_update
    query = dict(parse_qsl((search or "").lstrip("?")))
    lang = lang_from_query(query, services().settings.language)
    return body(current_scope(), query.get("unit"), lang)


def register(app: Any) -> None:
    app.callback(
        Output("overdue-body", "children"),
        Input("gridcc-url", "search"),
        State("gridcc-url", "pathname"),
        prevent_initial_call=True,
    )(on_search)


PAGE = Page(path="/overdue", name="overdue", title_key="overdue_title", layout=layout, register=register)
