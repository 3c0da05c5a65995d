"""The case's facts: header badges, the deadline clock, times, description and address (as text),
the hierarchy path and the grid's people (phones as the query masked them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dash import html

from data.queries import CaseDetail, label
from data.text import duration, local_time

from ..components.format import EMPTY, level_label, priority_label
from ..i18n import state_label, t
from ..urls import Urls


@dataclass(frozen=True)
class Names:
    """Category and department names in the page's language (English names come from the catalogue)."""

    category: str
    top_category: str
    department: str
    # department codes and feed names → the department's name ("grid_patrol" → 网格巡查), for the source
    sources: dict[str, str] = field(default_factory=dict)


def clock(detail: CaseDetail, now: datetime, lang: str) -> tuple[str, str]:
    """The big deadline figure and its CSS class: hours late, hours left, or how it ended."""
    row = detail.row
    if row.deadline_at is None:
        return t("case_no_deadline", lang), "clock-none"
    if row.status in ("resolved", "closed"):
        done = detail.resolved_at or detail.closed_at
        late = done is not None and done > row.deadline_at
        return t(
            "case_done_late" if late else "case_done_on_time", lang
        ), "clock-late" if late else "clock-ok"
    hours = (now - row.deadline_at).total_seconds() / 3600
    if hours > 0:
        return t("case_hours_late", lang, h=duration(hours * 3600, lang, "hours")), "clock-late"
    return t(
        "case_hours_left", lang, h=duration(hours * 3600, lang, "hours")
    ), "clock-soon" if row.due_soon else "clock-ok"


def badges(detail: CaseDetail, lang: str) -> list[Any]:
    row = detail.row
    out: list[Any] = [html.Span(state_label(row.status, lang), className=f"badge state-{row.status}")]
    if row.overdue:
        out.append(html.Span(t("overdue", lang), className="badge overdue"))
    elif row.due_soon:
        out.append(html.Span(t("due_soon", lang), className="badge due-soon"))
    if row.supervision in ("yellow", "red"):
        out.append(
            html.Span(t(f"supervision_{row.supervision}", lang), className=f"badge card-{row.supervision}")
        )
    if row.priority == "urgent":
        out.append(html.Span(priority_label("urgent", lang), className="badge urgent"))
    return out


def _fact(key: str, value: Any, lang: str, className: str = "") -> html.Div:
    return html.Div(
        [html.Div(t(key, lang), className="fact-label"), html.Div(value or EMPTY, className="fact-value")],
        className=f"fact {className}".strip(),
    )


def facts(detail: CaseDetail, names: Names, now: datetime, lang: str, tz: str) -> html.Div:
    row = detail.row
    figure, figure_class = clock(detail, now, lang)
    supervision = (
        t(f"supervision_{row.supervision}", lang)
        if row.supervision in ("yellow", "red")
        else t("case_supervision_none", lang)
    )
    satisfaction = (
        label("satisfaction", detail.satisfaction, lang) if detail.satisfaction else t("case_not_rated", lang)
    )
    same = names.category == names.top_category or not names.top_category
    category = names.category if same else f"{names.top_category} · {names.category}"
    return html.Div(
        [
            html.Div(figure, className=f"case-clock {figure_class}"),
            html.Div(
                [
                    _fact("case_number", row.external_id, lang),
                    _fact("category", category, lang),
                    _fact("case_priority", priority_label(row.priority, lang), lang),
                    _fact("case_department", names.department, lang),
                    _fact("case_level", level_label(row.escalation_level, lang), lang),
                    _fact("case_supervision", supervision, lang, f"card-{row.supervision}"),
                    _fact("case_reported_at", local_time(row.requested_at, tz, lang, none=EMPTY), lang),
                    _fact("case_accepted_at", local_time(row.accepted_at, tz, lang, none=EMPTY), lang),
                    _fact(
                        "case_deadline_at",
                        local_time(row.deadline_at, tz, lang, none=EMPTY),
                        lang,
                        "deadline",
                    ),
                    _fact("case_resolved_at", local_time(detail.resolved_at, tz, lang, none=EMPTY), lang),
                    _fact("case_satisfaction", satisfaction, lang),
                    _fact("case_source", names.sources.get(row.source, row.source), lang),
                ],
                className="case-facts",
            ),
        ],
        className="case-card",
    )


def text_block(detail: CaseDetail, lang: str) -> html.Div:
    """Description and address exactly as the feed sent them, as text (Dash escapes strings)."""
    row = detail.row
    parts: list[Any] = [
        html.Div(t("case_description", lang), className="fact-label"),
        html.P(detail.description or EMPTY, className="case-description"),
        html.Div(t("case_address", lang), className="fact-label"),
        html.P(row.address or EMPTY, className="case-address"),
    ]
    if detail.reporter_name or detail.reporter_phone or detail.reporter_email:
        who = " ".join(p for p in (detail.reporter_name, detail.reporter_phone, detail.reporter_email) if p)
        parts += [
            html.Div(t("case_reporter", lang), className="fact-label"),
            html.P(who, className="case-reporter"),
        ]
    if detail.media_url.lower().startswith(("http://", "https://")):  # never a javascript: or data: href
        parts += [
            html.Div(t("pushload_case_media", lang), className="fact-label"),
            html.P(
                html.A(
                    t("pushload_case_media_open", lang),
                    href=detail.media_url,
                    target="_blank",
                    rel="noopener noreferrer nofollow",
                    referrerPolicy="no-referrer",
                    className="case-media",
                    title=detail.media_url,
                )
            ),
        ]
    return html.Div(parts, className="case-card case-text")


def place_path(detail: CaseDetail, base_path: str, lang: str) -> html.Div:
    """区 › 镇街 › 社区 › 网格, each a link to the overdue drill-down at that unit."""
    items: list[Any] = []
    for i, unit in enumerate(detail.units):
        if i:
            items.append(html.Span("›", className="sep"))
        items.append(
            html.A(
                [html.Span(level_label(unit.level, lang), className="unit-level"), unit.name],
                href=Urls(base_path, lang).overdue(unit.code),
                className=f"unit-link unit-{unit.level}",
            )
        )
    if not items:
        items.append(html.Span(t("case_unplaced", lang)))
    return html.Div(
        [html.Div(t("case_path", lang), className="fact-label"), html.Div(items, className="case-path")]
    )


def staff(detail: CaseDetail, lang: str) -> html.Div:
    if not detail.staff:
        empty = "case_no_staff" if detail.row.grid_code else "case_no_grid"
        body: Any = html.Div(t(empty, lang), className="case-empty")
    else:
        body = html.Ul(
            [
                html.Li(
                    [
                        html.Span(label("staff_role", s.role, lang), className="role"),
                        html.Span(s.name, className="name"),
                        *([html.Span(s.phone, className="phone")] if s.phone else []),
                    ],
                    className=f"staff staff-{s.role}",
                )
                for s in detail.staff
            ],
            className="case-staff",
        )
    return html.Div([html.Div(t("case_grid_staff", lang), className="fact-label"), body])
