"""On the case page: the alert the case was made from (预警转案件), as a fact beside the others — its
number, its headline as the viewer may read it, and its state."""

from __future__ import annotations

from typing import Any

from dash import html
from sqlalchemy.orm import Session

from data.desk.links import alerts_of_case
from data.text import label

from ..components.format import data_attrs
from ..i18n import t
from ..personal import shown


def alert_links(session: Session, case_id: int, lang: str, mode: str) -> html.Div | None:
    """The case's linked alerts (``None`` when it has none); text masked in the viewer's ``mode``."""
    linked = alerts_of_case(session, case_id)
    if not linked:
        return None
    items: list[Any] = [
        html.Div(
            [
                html.Span(f"#{a.id}", className="case-alert-id"),
                html.Span(shown(a.headline, mode), className="case-alert-headline"),
                html.Span(label("alert_state", a.state, lang), className="case-alert-state"),
            ],
            className="case-alert-link",
            **data_attrs(alert=str(a.id)),
        )
        for a in linked
    ]
    return html.Div(
        [html.Div(t("desk_case_alert", lang), className="fact-label"), *items],
        className="case-card case-alerts",
    )
