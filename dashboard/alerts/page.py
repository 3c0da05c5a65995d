"""``/alerts``: the alert history (预警历史) for duty officers and leaders, in their area scope.

Past and present alerts of a period (``?days=1|7|30|90|365``, newest first, ``&page=N``): what each
was, every level it was raised to (黄→橙), whether it was escalated for being left unacknowledged, who
acknowledged it and when (each time: a raise makes it to be acknowledged again), how it ended, and the
case it was turned into. Everything from the feeds is shown as text. A display account (the wall) is
refused: it sees no names. The data is :func:`data.queries.alerts.alert_history`'s.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dash import dcc, html

from data.auth import Permission, may
from data.models import utcnow
from data.queries.alerts import HistoryPage, HistoryRow, alert_history
from data.text import EMPTY, label, local_time, normalise, t

from ..auth import current_user
from ..components.format import as_attrs
from ..components.marks import level_change
from ..components.nav import header_nav
from ..page import Page, PageContext

PERIODS = (1, 7, 30, 90, 365)
DEFAULT_DAYS = 7
PAGE_SIZE = 50
COLUMNS = ("time", "alert", "area", "state", "raised", "escalated", "acks", "case")


def _days(value: str | None) -> int:
    return int(value) if value and value.isdecimal() and int(value) in PERIODS else DEFAULT_DAYS


def _page(value: str | None) -> int:
    return min(int(value), 10_000) if value and value.isdecimal() and int(value) >= 1 else 1


def _raised(row: HistoryRow, lang: str, tz: Any) -> list[Any] | str:
    """Every raise of its level, in order (``黄色→橙色 12-06 21:04``)."""
    raises = [e for e in row.timeline if e.kind == "raised"]
    if not raises:
        return EMPTY
    out: list[Any] = []
    for e in raises:
        words = level_change(e.detail, lang) or e.detail
        out.append(
            html.Div(
                [html.Span(words, className="alerts-raise"), " ", local_time(e.at, tz, lang, "day_minute")],
                className="alerts-raised-line",
            )
        )
    return out


def _acks(row: HistoryRow, lang: str, tz: Any) -> list[Any] | str:
    if not row.acknowledgements:
        return EMPTY
    return [
        html.Div(f"{a.actor} {local_time(a.at, tz, lang, 'day_minute')}", className="alerts-ack")
        for a in row.acknowledgements
    ]


def _alert_cell(row: HistoryRow, lang: str) -> list[Any]:
    kind = label("alert_kind", row.kind, lang)
    colour = label("colour", row.colour, lang) if row.colour else ""
    return [
        html.Span(f"{kind} {colour}".strip(), className=f"alerts-kind sig-{row.colour or 'none'}"),
        html.Div(row.headline or row.event or kind, className="alerts-headline"),
    ]


def _case_cell(row: HistoryRow, ctx: PageContext) -> Any:
    if row.case_id is None:
        return EMPTY
    return dcc.Link(row.case_number or str(row.case_id), href=ctx.urls.case(row.case_id))


def history_table(rows: list[HistoryRow], ctx: PageContext) -> html.Table:
    lang, tz = ctx.lang, ctx.settings.tz
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(t(f"alerts_col_{c}", lang)) for c in COLUMNS])),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(local_time(r.sent_at, tz, lang, "day_minute", none=EMPTY)),
                            html.Td(_alert_cell(r, lang)),
                            html.Td(r.area_desc or EMPTY, className="alerts-area"),
                            html.Td(label("alert_state", r.state, lang), className=f"alerts-state-{r.state}"),
                            html.Td(_raised(r, lang, tz)),
                            html.Td(local_time(r.escalated_at, tz, lang, "day_minute", none=EMPTY)),
                            html.Td(_acks(r, lang, tz)),
                            html.Td(_case_cell(r, ctx)),
                        ],
                        className="alerts-row",
                        **as_attrs({"data-alert": str(r.id), "data-state": r.state}),
                    )
                    for r in rows
                ]
            ),
        ],
        className="feeds-table alerts-table",
    )


def _period_links(ctx: PageContext, days: int) -> html.Div:
    return html.Div(
        [
            dcc.Link(
                t(f"alerts_period_{d}", ctx.lang),
                href=ctx.urls.path("/alerts", days=str(d)),
                className="alerts-period" + (" is-here" if d == days else ""),
            )
            for d in PERIODS
        ],
        className="alerts-periods",
    )


def _pager(ctx: PageContext, days: int, found: HistoryPage) -> html.Div:
    pages = max(1, -(-found.total // found.page_size))
    links: list[Any] = []
    if found.page > 1:
        links.append(
            dcc.Link(
                t("alerts_newer", ctx.lang),
                href=ctx.urls.path("/alerts", days=str(days), page=str(found.page - 1)),
            )
        )
    links.append(
        html.Span(t("alerts_page", ctx.lang, page=found.page, pages=pages), className="alerts-page-no")
    )
    if found.page < pages:
        links.append(
            dcc.Link(
                t("alerts_older", ctx.lang),
                href=ctx.urls.path("/alerts", days=str(days), page=str(found.page + 1)),
            )
        )
    return html.Div(links, className="alerts-pager")


def body(ctx: PageContext, now: datetime | None = None) -> Any:
    user = current_user()
    if user is None or not may(user.role, Permission.READ) or may(user.role, Permission.DISPLAY):
        return html.P(t("alerts_denied", ctx.lang), className="alerts-denied")
    days, page = _days(ctx.query.get("days")), _page(ctx.query.get("page"))
    end = now or utcnow()
    with ctx.services.sessions() as session:
        found = alert_history(session, ctx.scope, end - timedelta(days=days), end, page, PAGE_SIZE)
    rows: Any = (
        history_table(found.rows, ctx)
        if found.rows
        else html.P(t("alerts_empty", ctx.lang), className="alerts-empty")
    )
    return [
        _period_links(ctx, days),
        html.P(t("alerts_count", ctx.lang, n=found.total), className="alerts-count"),
        rows,
        _pager(ctx, days, found),
    ]


def layout(ctx: PageContext) -> Any:
    ctx_lang = normalise(ctx.lang)
    header = html.Div(
        [
            html.Div(html.H1(t("alerts_title", ctx_lang), className="duty-h1"), className="duty-titles"),
            header_nav(ctx, "alerts"),
        ],
        className="duty-header alerts-header",
    )
    return html.Div(
        [header, html.Div(body(ctx), id="alerts-body", className="alerts-body")], className="duty-page"
    )


PAGE = Page(path="/alerts", name="alerts", title_key="alerts_title", layout=layout)
