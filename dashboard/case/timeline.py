"""The case's timeline: one row per ``case_event``, oldest first, kinds and states in words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dash import html

from data.queries import EventRow

from ..components.format import actor_label, data_attrs, event_detail, event_label, local_time
from ..i18n import state_label, t

# the CSS class of an event row (colour of its marker)
EVENT_CLASS = {
    "illegal_transition": "ev-rejected",
    "overdue": "ev-overdue",
    "due_soon": "ev-due-soon",
    "escalation": "ev-escalation",
    "created": "ev-created",
}


def _change(event: EventRow, lang: str) -> Any:
    if not event.to_status:
        return ""
    to = state_label(event.to_status, lang)
    if not event.from_status:
        return html.Span(to, className="state")
    return [
        html.Span(state_label(event.from_status, lang), className="state from"),
        html.Span(" → ", className="arrow"),
        html.Span(to, className="state"),
    ]


def _class(event: EventRow) -> str:
    if event.kind == "supervision":
        if event.detail.strip().startswith("cancel:"):
            return "ev-card-cancel"
        return "ev-card-red" if event.detail.strip() == "red" else "ev-card-yellow"
    return EVENT_CLASS.get(event.kind, "ev-plain")


def timeline(
    events: Sequence[EventRow], lang: str, tz: str, sources: Mapping[str, str] | None = None
) -> html.Div:
    """A table of events in the order given (the query gives them oldest first); ``sources`` names the
    feeds (feed name → its department's name)."""
    sources = sources or {}
    if not events:
        return html.Div(t("case_no_events", lang), className="case-empty")
    head = html.Thead(
        html.Tr(
            [
                html.Th(t(k, lang))
                for k in ("col_time", "col_event", "col_change", "col_detail", "col_feed", "col_actor")
            ]
        )
    )
    rows = [
        html.Tr(
            [
                html.Td(local_time(e.at, tz, seconds=True), className="time"),
                html.Td(
                    html.Span(event_label(e.kind, e.detail, lang), className="kind"), className="kind-cell"
                ),
                html.Td(_change(e, lang), className="change"),
                html.Td(event_detail(e.kind, e.detail, lang, e.to_status), className="detail"),
                html.Td(sources.get(e.feed_name or "", e.feed_name or ""), className="feed"),
                html.Td(actor_label(e.actor, lang, sources), className="actor"),
            ],
            className=f"case-event {_class(e)}",
            **data_attrs(kind=e.kind),
        )
        for e in events
    ]
    return html.Div(
        html.Table([head, html.Tbody(rows)], className="case-timeline"), className="case-timeline-wrap"
    )
