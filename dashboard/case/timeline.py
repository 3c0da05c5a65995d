"""The case's timeline: one row per ``case_event``, oldest first, kinds and states in words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dash import html

from data.queries import EventRow
from data.text import local_time

from ..components.format import EMPTY, actor_label, data_attrs, event_detail, event_label
from ..i18n import state_label, t
from .loop import Sent
from .loop_events import LOOP_KINDS, loop_words

# the CSS class of an event row (colour of its marker)
EVENT_CLASS = {
    "illegal_transition": "ev-rejected",
    "overdue": "ev-overdue",
    "due_soon": "ev-due-soon",
    "escalation": "ev-escalation",
    "created": "ev-created",
    "instruction": "ev-loop-instruction",
    "delivered": "ev-loop-delivered",
    "answer": "ev-loop-answer",
    "undelivered": "ev-loop-failed",
    "report_overdue": "ev-loop-failed",
    "resend": "ev-loop-resend",
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
    if event.kind == "answer" and event.detail.strip().startswith("refused:"):
        return "ev-loop-failed"  # 退回: like a failure, not like a 报到
    return EVENT_CLASS.get(event.kind, "ev-plain")


def _words(e: EventRow, lang: str, sources: Mapping[str, str], loop: Mapping[int, Sent]) -> tuple[str, str]:
    """The event column and the detail column of an event."""
    words = loop_words(e.kind, e.detail, sources, loop, lang) if e.kind in LOOP_KINDS else None
    if words is not None:
        return words.label, words.detail
    return event_label(e.kind, e.detail, lang), event_detail(e.kind, e.detail, lang, e.to_status)


def timeline(
    events: Sequence[EventRow],
    lang: str,
    tz: str,
    sources: Mapping[str, str] | None = None,
    loop: Sequence[Sent] = (),
) -> html.Div:
    """A table of events in the order given (the query gives them oldest first, by time and id);
    ``sources`` names the feeds and departments (code or feed name → the department's name); ``loop``,
    the case's instructions, words the loop's events."""
    sources = sources or {}
    by_id = {s.id: s for s in loop}
    words = [_words(e, lang, sources, by_id) for e in events]
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
                html.Td(local_time(e.at, tz, lang, "second", none=EMPTY), className="time"),
                html.Td(html.Span(word, className="kind"), className="kind-cell"),
                html.Td(_change(e, lang), className="change"),
                html.Td(detail, className="detail"),
                html.Td(sources.get(e.feed_name or "", e.feed_name or ""), className="feed"),
                html.Td(actor_label(e.actor, lang, sources), className="actor"),
            ],
            className=f"case-event {_class(e)}",
            **data_attrs(kind=e.kind),
        )
        for e, (word, detail) in zip(events, words, strict=True)
    ]
    return html.Div(
        html.Table([head, html.Tbody(rows)], className="case-timeline"), className="case-timeline-wrap"
    )
