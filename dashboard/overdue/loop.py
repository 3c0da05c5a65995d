"""The overdue drill-down's 超时未报到 list: the instructions whose departments have not 报到'd in time,
under the overdue cases at every level, most late first — each with how late, the case's number (a
link to its page), the kind (吹哨, 交办 …), the department and its role (牵头 / 协办).

Read through the viewer's scope narrowed to the unit shown (:func:`unit_scope`): a street's officer
sees only its street's. Codes and counts only: never the instruction's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dash import dcc, html
from sqlalchemy.orm import Session

from data.masking import mask_personal_text
from data.queries.common import department_name, department_names
from data.queries.loop import Unanswered, unanswered
from data.scope import AreaScope
from data.text import label

from ..components.format import as_attrs
from ..i18n import t
from ..urls import Urls

LIMIT = 100


def unit_scope(scope: AreaScope, code: str) -> AreaScope:
    """The part of ``scope`` inside the unit ``code`` (which overlaps it): the unit itself when the scope
    holds it whole, else the scope (the unit lies above the scope's own units)."""
    return AreaScope.of([code]) if scope.contains(code) else scope


def read(
    session: Session, scope: AreaScope, code: str, now: datetime
) -> tuple[list[Unanswered], dict[str, str]]:
    """The unit's recipients 超时未报到 now and the department names to show them with."""
    rows = unanswered(session, unit_scope(scope, code), now, LIMIT)
    return rows, department_names(session) if rows else {}


def late_span(minutes: float, lang: str) -> str:
    total = max(0, int(minutes))
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return t("overdue_loop_late_days", lang, d=days, h=hours)
    if hours:
        return t("overdue_loop_late_hours", lang, h=hours, m=mins)
    return t("overdue_loop_late_minutes", lang, m=mins)


def loop_table(rows: Sequence[Unanswered], names: dict[str, str], lang: str, mode: str) -> html.Div:
    """The list (``mode``: how phones and ID numbers in a case number are shown, the viewer's)."""
    if not rows:
        return html.Div(t("overdue_loop_none", lang), className="overdue-empty")
    head = html.Div(
        [
            html.Span(t("overdue_col_late", lang)),
            html.Span(t("overdue_col_case", lang)),
            html.Span(t("overdue_loop_col_kind", lang)),
            html.Span(t("overdue_col_department", lang)),
            html.Span(t("overdue_loop_col_role", lang)),
        ],
        className="overdue-loop-row is-head",
    )
    body: list[Any] = [head]
    urls = Urls.current(lang)
    for r in rows:
        body.append(
            html.Div(
                [
                    html.Span(late_span(r.late_minutes, lang), className="overdue-late"),
                    dcc.Link(
                        mask_personal_text(r.case_number, mode) or str(r.case_id),
                        href=urls.case(int(r.case_id)),
                        className="overdue-loop-case",
                    ),
                    html.Span(label("instruction_kind", r.kind, lang), className="overdue-loop-kind"),
                    html.Span(department_name(names, r.department_code), className="overdue-case-dept"),
                    html.Span(
                        label("recipient_role", r.role, lang), className=f"overdue-loop-role is-{r.role}"
                    ),
                ],
                className="overdue-loop-row",
                **as_attrs({"data-case": str(r.case_id), "data-recipient": str(r.recipient_id)}),
            )
        )
    if len(rows) >= LIMIT:
        body.append(html.Div(t("overdue_loop_more", lang, n=LIMIT), className="overdue-more"))
    return html.Div(body, className="overdue-loop-table")
