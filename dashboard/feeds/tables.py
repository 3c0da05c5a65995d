"""The feeds page's health table and quarantine list. Feed text (errors, reasons, raw payloads) is shown
as plain text: strings in Dash components, payloads in ``<pre>``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dash import html

from data.queries import FeedHealthRow, QuarantineRow

from ..components.format import EMPTY, data_attrs, duration_seconds, local_time
from ..i18n import t

STATUSES = ("ok", "stale", "failing", "never", "disabled", "paused")
PREVIEW_CHARS = 160


def status_label(status: str, lang: str) -> str:
    return t(f"feed_status_{status}", lang) if status in STATUSES else status


def summary(rows: Sequence[FeedHealthRow], lang: str) -> str:
    counts = {s: sum(1 for r in rows if r.status == s) for s in STATUSES}
    return t(
        "feeds_summary",
        lang,
        n=len(rows),
        ok=counts["ok"],
        stale=counts["stale"],
        failing=counts["failing"],
        never=counts["never"],
    )


def status_cell(r: FeedHealthRow, lang: str, tz: str) -> html.Td:
    """The status badge; a paused feed's says who paused it and when (it is never shown as stale)."""
    badge = html.Span(status_label(r.status, lang), className=f"feed-status fs-{r.status}")
    if r.status != "paused" or r.paused_at is None:
        return html.Td(badge)
    who = t("feed_paused_by", lang, who=r.paused_by or "?", at=local_time(r.paused_at, tz))
    return html.Td([badge, html.Div(who, className="feed-paused-by")])


def action_cell(r: FeedHealthRow, lang: str) -> html.Td:
    """An admin's pause / resume button (a feed the file disables has nothing to pause)."""
    paused = r.paused_at is not None
    if not paused and not r.enabled:
        return html.Td(EMPTY, className="action")
    action = "resume" if paused else "pause"
    button = html.Button(
        t(f"feed_{action}", lang),
        id={"type": "feed-action", "feed": r.name, "action": action},
        className=f"feed-action feed-{action}",
    )
    return html.Td(button, className="action")


def health_table(rows: Sequence[FeedHealthRow], lang: str, tz: str, manage: bool = False) -> Any:
    """The feeds with their health; with ``manage`` (an admin) a pause / resume button per feed."""
    if not rows:
        return html.Div(t("no_feeds", lang), className="case-empty")
    keys = (
        "col_feed_name",
        "col_department",
        "col_protocol",
        "col_status",
        "col_last_success",
        "col_since_success",
        "col_record_age",
        "col_received",
        "col_new",
        "col_updated",
        "col_ignored",
        "col_quarantined",
        "col_last_error",
    ) + (("col_feed_action",) if manage else ())
    body = []
    for r in rows:
        error = r.last_error
        if error and r.last_error_at is not None:
            error = f"{local_time(r.last_error_at, tz)}  {error}"
        body.append(
            html.Tr(
                [
                    html.Td(r.name, className="name"),
                    html.Td(r.department_name, className="department"),
                    html.Td(r.protocol, className="protocol"),
                    status_cell(r, lang, tz),
                    html.Td(
                        local_time(r.last_success_at, tz, seconds=True)
                        if r.last_success_at
                        else t("never", lang),
                        className="time",
                    ),
                    html.Td(duration_seconds(r.since_success_s, lang), className="num since-success"),
                    html.Td(duration_seconds(r.record_age_s, lang), className="num record-age"),
                    html.Td(r.received, className="num"),
                    html.Td(r.new, className="num"),
                    html.Td(r.updated, className="num"),
                    html.Td(r.ignored, className="num"),
                    html.Td(r.quarantined, className="num" + (" warn" if r.quarantined else "")),
                    html.Td(error, className="error", title=r.last_error)
                    if error
                    else html.Td(r.note or EMPTY, className="note", title=r.note),
                    *([action_cell(r, lang)] if manage else []),
                ],
                className=f"feed-row feed-{r.status}",
                **data_attrs(feed=r.name),
            )
        )
    return html.Table(
        [html.Thead(html.Tr([html.Th(t(k, lang)) for k in keys])), html.Tbody(body)],
        className="feeds-table feeds-health",
    )


def _payload(row: QuarantineRow, lang: str) -> list[Any]:
    """A preview of the payload (as the caller made it: masked, secrets redacted) and the button that asks
    for the whole of it (shown in the payload panel, :func:`payload_panel`)."""
    preview = row.raw[:PREVIEW_CHARS].replace("\n", " ")
    if row.raw_length > PREVIEW_CHARS:
        preview += "…"
    return [
        html.Code(preview, className="payload-preview"),
        html.Span(t("payload_chars", lang, n=row.raw_length), className="payload-note"),
        html.Button(
            t("payload_show", lang),
            id={"type": "quarantine-show", "record": row.id},
            className="payload-show",
        ),
    ]


def quarantine_list(rows: Sequence[QuarantineRow], lang: str, tz: str) -> Any:
    """The quarantined records: time, feed, id, reason and a payload preview, texts as the caller made
    them (secrets redacted, phones and ID numbers masked for the viewer)."""
    if not rows:
        return html.Div(t("no_quarantine", lang), className="case-empty")
    keys = ("col_time", "col_feed_name", "col_external_id", "col_reason", "col_payload")
    body = [
        html.Tr(
            [
                html.Td(local_time(r.at, tz, seconds=True), className="time"),
                html.Td(r.feed_name, className="name"),
                html.Td(r.external_id or EMPTY, className="external-id"),
                html.Td(r.reason, className="reason"),
                html.Td(_payload(r, lang), className="payload-cell"),
            ],
            className="quarantine-row",
            **data_attrs(record=str(r.id)),
        )
        for r in rows
    ]
    return html.Table(
        [html.Thead(html.Tr([html.Th(t(k, lang)) for k in keys])), html.Tbody(body)],
        className="feeds-table feeds-quarantine",
    )


def payload_panel(row: QuarantineRow, text: str, lang: str, tz: str, shown_chars: int, raw: bool) -> html.Div:
    """One quarantined record's payload, as plain text in a ``<pre>``: ``raw`` says it is as it came
    (personal data in full; the view was audited), else masked."""
    head = t(
        "payload_title",
        lang,
        id=row.id,
        feed=row.feed_name,
        at=local_time(row.at, tz, seconds=True),
    )
    parts: list[Any] = [
        html.H2(head),
        html.Div(t("payload_raw" if raw else "payload_masked", lang), className="payload-note"),
        html.Pre(text, className="payload"),
    ]
    if row.truncated:
        parts.append(html.Div(t("payload_cut", lang, n=shown_chars), className="payload-note"))
    return html.Div(parts, className="quarantine-payload", **data_attrs(record=str(row.id)))


def as_of(now: datetime, tz: str, lang: str) -> str:
    return t("feeds_as_of", lang, t=local_time(now, tz, seconds=True))
