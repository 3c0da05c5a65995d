"""The ledger's table: one row a risk — kind, level, title (with its 台账编号), area, owner unit and
person, phone (masked unless the viewer's role may see it), measures, 销号 deadline, state — and the
buttons of an open risk (编辑, 转交, 销号). Text from the ledger is a plain string child: Dash escapes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from dash import html
from sqlalchemy.orm import Session

from data.ledger import local_day
from data.queries import RiskRow, risks
from data.scope import AreaScope
from data.text import label

from ..components.format import as_attrs
from ..i18n import t
from ..personal import shown
from .filters import RiskFilter

ROW_LIMIT = 2000
OPEN_BUTTON = "risks-open"  # pattern-matched: {"type", "risk", "mode"}
TEXT = ("title", "owner", "owner_person", "measures", "description", "evidence")


def state_of(row: RiskRow) -> str:
    return "closed" if row.is_closed else ("overdue" if row.overdue else "open")


def read(
    session: Session, scope: AreaScope, view: RiskFilter, now: datetime, full_phones: bool, mode: str
) -> list[RiskRow]:
    """The risks of the view within ``scope`` (the street only when it lies in the scope), their free
    text masked in the viewer's mode."""
    area = AreaScope.of([view.street]) if view.street and scope.contains(view.street) else scope
    found = risks(session, area, now, include_closed=view.state in (None, "closed"), full_phones=full_phones)
    out = []
    for r in found:
        if (view.kind and r.kind != view.kind) or (view.level and r.level != view.level):
            continue
        if view.state and state_of(r) != view.state:
            continue
        changed: dict[str, Any] = {f: shown(getattr(r, f), mode) for f in TEXT}
        out.append(replace(r, **changed))
        if len(out) >= ROW_LIMIT:
            break
    return out


def _place(r: RiskRow) -> str:
    return " · ".join(n for n in (r.street_name, r.community_name, r.grid_name) if n)


def _buttons(r: RiskRow, lang: str, may_act: bool) -> list[Any]:
    if r.is_closed or not may_act:
        return []
    return [
        html.Button(
            t(f"ledger_do_{mode}", lang),
            id={"type": OPEN_BUTTON, "risk": str(r.id), "mode": mode},
            n_clicks=0,
            type="button",
            className=f"risks-act risks-act-{mode}",
        )
        for mode in ("edit", "assign", "close")
    ]


def _due(r: RiskRow, lang: str) -> str:
    day = local_day(r.due_at)
    if r.is_closed:
        return day
    if r.days_left is not None and r.days_left < 0:
        return t("ledger_due_late", lang, day=day, n=int(-r.days_left) + 1)
    if r.days_left is not None:
        return t("ledger_due_left", lang, day=day, n=int(r.days_left))
    return day


def ledger_table(rows: Sequence[RiskRow], lang: str, may_act: bool) -> html.Div:
    if not rows:
        return html.Div(t("ledger_none", lang), className="overdue-empty risks-empty")
    head = html.Tr(
        [
            html.Th(t(key, lang))
            for key in (
                "ledger_col_kind",
                "ledger_col_level",
                "ledger_col_title",
                "ledger_col_area",
                "ledger_col_owner",
                "ledger_col_phone",
                "ledger_col_measures",
                "ledger_col_due",
                "ledger_col_state",
                "ledger_col_actions",
            )
        ]
    )
    body = []
    for r in rows:
        state = state_of(r)
        body.append(
            html.Tr(
                [
                    html.Td(label("risk_kind", r.kind, lang), className="risks-kind"),
                    html.Td(
                        html.Span(label("risk_level", r.level, lang), className=f"risks-level is-{r.level}")
                    ),
                    html.Td(
                        [html.Div(r.title, className="risks-title"), html.Div(r.ref, className="risks-ref")]
                    ),
                    html.Td(_place(r), className="risks-place"),
                    html.Td([html.Div(r.owner), html.Div(r.owner_person, className="risks-sub")]),
                    html.Td(r.owner_phone, className="risks-phone"),
                    html.Td(html.Div(r.measures, className="risks-measures", title=r.measures)),
                    html.Td(_due(r, lang), className="risks-due"),
                    html.Td(html.Span(t(f"ledger_state_{state}", lang), className=f"risks-state is-{state}")),
                    html.Td(_buttons(r, lang, may_act), className="risks-buttons"),
                ],
                className=f"risks-row is-{state}",
                **as_attrs({"data-risk": str(r.id), "data-state": state}),
            )
        )
    more = (
        [html.Div(t("ledger_more", lang, n=ROW_LIMIT), className="overdue-more")]
        if len(rows) >= ROW_LIMIT
        else []
    )
    return html.Div([html.Table([html.Thead(head), html.Tbody(body)], className="risks-table"), *more])
