"""The overdue drill-down's risks: the risks of the ledger (风险台账) in the unit not closed (销号) by
their deadline, high level first, most late first within a level — each with its kind, title, place,
owner and how many days late, and a link to the ledger filtered on overdue risks.

Ledger text (titles, owners) is masked in the viewer's mode and goes in as plain strings (Dash escapes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from dash import dcc, html
from sqlalchemy.orm import Session

from data.queries import RiskRow, overdue_risks
from data.scope import AreaScope
from data.text import label

from ..components.format import as_attrs
from ..i18n import t
from ..personal import shown
from ..urls import Urls

LIMIT = 200


def read(session: Session, scope: AreaScope, code: str, now: datetime, mode: str) -> list[RiskRow]:
    """The overdue risks of unit ``code`` within ``scope`` (the scope itself when the unit is above it)."""
    area = AreaScope.of([code]) if scope.contains(code) else scope
    rows = overdue_risks(session, area, now)[:LIMIT]
    return [replace(r, title=shown(r.title, mode), owner=shown(r.owner, mode), owner_phone="") for r in rows]


def risk_table(rows: Sequence[RiskRow], lang: str) -> Any:
    if not rows:
        return html.Div(t("overdue_risks_none", lang), className="overdue-empty")
    head = html.Div(
        [
            html.Span(t(k, lang))
            for k in ("overdue_col_late", "ledger_col_title", "overdue_col_place", "ledger_col_owner")
        ]
        + [html.Span("")],
        className="overdue-risk-row is-head",
    )
    link = Urls.current(lang).path("/risks", state="overdue")
    body: list[Any] = [head]
    for r in rows:
        late = int(-(r.days_left or 0)) + 1
        place = " · ".join(n for n in (r.street_name, r.community_name, r.grid_name) if n)
        body.append(
            html.Div(
                [
                    html.Span(t("overdue_risk_days", lang, n=late), className="overdue-late"),
                    html.Div(
                        [
                            html.Div(r.title, className="overdue-case-title"),
                            html.Div(
                                " · ".join(
                                    (
                                        r.ref,
                                        label("risk_kind", r.kind, lang),
                                        label("risk_level", r.level, lang),
                                    )
                                ),
                                className="overdue-case-sub",
                            ),
                        ],
                        className="overdue-case-main",
                    ),
                    html.Span(place, className="overdue-case-place"),
                    html.Span(r.owner, className="overdue-case-dept"),
                    dcc.Link(
                        t("overdue_open", lang),
                        href=link,
                        className="overdue-open",
                    ),
                ],
                className=f"overdue-risk-row is-{r.level}",
                **as_attrs({"data-risk": str(r.id)}),
            )
        )
    return html.Div(body, className="overdue-risk-table")
