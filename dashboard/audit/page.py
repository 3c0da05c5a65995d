"""``/audit``: the audit log for administrators — sign-ins and failures, account changes, supervision
cards, alert acknowledgements, views of personal data — newest first, filtered from the URL
(``?actor=…&action=…&limit=…``). Every value is shown as text. Other viewers see a refusal only.
"""

from __future__ import annotations

from typing import Any

from dash import html

from data.auth import ACTIONS, Permission, audit_rows, may
from data.models import AuditLog
from data.text import label, local_time, normalise, t

from ..auth import current_user
from ..components.chrome import lang_switch, top_bar
from ..page import Page, PageContext

DEFAULT_LIMIT = 200
MAX_LIMIT = 2000

# Targets that are a place in the app rather than a record: named for people (``audit_target.<target>``
# in the text catalogue), the raw value kept beside.
COLUMNS = ("time", "actor", "action", "target", "detail", "from")


def _limit(value: str | None) -> int:
    try:
        return max(1, min(MAX_LIMIT, int(value or DEFAULT_LIMIT)))
    except ValueError:
        return DEFAULT_LIMIT


def action_label(action: str, lang: str) -> str:
    return label("audit_action", action, lang)


def target_cell(target: str, lang: str) -> html.Td:
    name = label("audit_target", target, lang)
    if name == target:
        return html.Td(target, className="target")
    return html.Td(
        [html.Span(name, className="target-label"), " ", html.Span(target, className="target-raw")],
        className="target",
        title=target,
    )


def audit_table(rows: list[AuditLog], lang: str, tz: Any) -> html.Table:
    cols = [t(f"audit_col_{c}", lang) for c in COLUMNS]
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(c) for c in cols])),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(local_time(r.at, tz, lang, "second"), className="at"),
                            html.Td(r.actor, className="actor"),
                            html.Td(action_label(r.action, lang), className="action", title=r.action),
                            target_cell(r.target, lang),
                            html.Td(r.detail, className="detail"),
                            html.Td(r.remote_addr, className="addr"),
                        ],
                        className=f"audit-row audit-{r.action}" if r.action in ACTIONS else "audit-row",
                    )
                    for r in rows
                ]
            ),
        ],
        className="feeds-table audit-table",
    )


def layout(ctx: PageContext) -> Any:
    lang = normalise(ctx.lang)
    bar = top_bar(
        t("audit_title", lang),
        lang,
        ctx.urls.wall(),
        "back_to_wall",
        lang_switch(ctx.base_path, "/audit", ctx.query, lang),
    )
    user = current_user()
    if user is None or not may(user.role, Permission.VIEW_AUDIT):
        body: Any = html.P(t("audit_denied", lang), className="audit-denied")
    else:
        with ctx.services.sessions() as session:
            rows = audit_rows(
                session,
                actor=ctx.query.get("actor") or None,
                action=ctx.query.get("action") or None,
                limit=_limit(ctx.query.get("limit")),
            )
        body = [
            html.P(t("audit_count", lang, n=len(rows)), className="audit-count"),
            audit_table(rows, lang, ctx.settings.tz)
            if rows
            else html.P(t("audit_empty", lang), className="audit-empty"),
        ]
    return html.Div([bar, html.Div(body, id="audit-content")], className="gridcc-page audit-page")


PAGE = Page(path="/audit", name="audit", title_key="audit_title", layout=layout)
