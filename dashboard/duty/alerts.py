"""The duty view's alerts: one card per active alert in the chosen street, new ones flashing in their
signal colour until someone presses 确认 (acknowledge).

Every text (headline, area, grid names, worker names) is a plain string child: Dash escapes it.
"""

from __future__ import annotations

from typing import Any

from dash import html

from data.queries import AlertRow, label
from data.text import local_time

from ..components.format import as_attrs
from ..components.map import SIGNAL_COLOURS
from ..components.marks import level_change
from ..i18n import t
from .alert_actions import Powers, card_actions


def ack_id(alert_id: int) -> dict[str, Any]:
    return {"type": "duty-ack", "alert": alert_id}


def alert_card(alert: AlertRow, lang: str, tz: str, powers: Powers = Powers()) -> html.Div:
    colour = SIGNAL_COLOURS.get(alert.colour, "#c9d1e0")
    head = alert.headline or alert.event or label("alert_kind", alert.kind, lang)
    grids = [g.name or g.code for g in alert.grids]
    covered = "、".join(grids[:4]) + (t("duty_more_grids", lang, n=len(grids)) if len(grids) > 4 else "")
    meta = [
        html.Span(label("alert_kind", alert.kind, lang), className="duty-alert-kind"),
        html.Span(
            local_time(alert.sent_at or alert.onset, tz, lang, "day_minute"), className="duty-alert-time"
        ),
    ]
    if alert.unacknowledged:
        action: Any = html.Button(
            t("duty_ack", lang), id=ack_id(alert.id), n_clicks=0, className="duty-ack", type="button"
        )
    else:
        acked_at = local_time(alert.acknowledged_at, tz, lang, "day_minute")
        action = html.Div(
            [
                html.Span(t("duty_acked", lang), className="duty-acked-label"),
                html.Span(
                    f"{alert.acknowledged_by or ''} {acked_at}".strip(),
                    className="duty-acked-by",
                ),
            ],
            className="duty-acked",
        )
    if alert.area_desc:
        meta.append(html.Span(alert.area_desc, className="duty-alert-area"))
    if covered:
        meta.append(html.Span(f"{t('covered_grids', lang)}：{covered}", className="duty-alert-grids"))
    body = [
        html.Div(head, className="duty-alert-head"),
        *loud_again(alert, lang, tz),
        html.Div(meta, className="duty-alert-meta"),
    ]
    desk = card_actions(alert, lang, powers)  # 转为案件 / 排除, or the case it became
    if desk:
        action = html.Div([action, *desk], className="duty-alert-actions")
    return html.Div(
        [html.Div(body, className="duty-alert-body"), action],
        className="duty-alert" + (" duty-alert-new" if alert.unacknowledged else ""),
        style={"borderLeftColor": colour, "--signal": colour},
        **as_attrs({"data-alert": str(alert.id), "data-state": alert.state}),
    )


def loud_again(alert: AlertRow, lang: str, tz: str) -> list[Any]:
    """Why the alert asks for attention again: an update raised its level (黄色→橙色) after it was
    acknowledged, or it was left unacknowledged past its limit and escalated."""
    badges: list[Any] = []
    if alert.raised_at is not None and alert.raised_detail:
        levels = level_change(alert.raised_detail, lang)
        badges.append(html.Span(t("duty_alert_raised", lang, levels=levels), className="duty-alert-raised"))
    if alert.escalated and alert.escalated_at is not None:
        at = local_time(alert.escalated_at, tz, lang, "day_minute")
        badges.append(html.Span(t("duty_alert_escalated", lang, at=at), className="duty-alert-escalated"))
    return [html.Div(badges, className="duty-alert-loud")] if badges else []


def alert_list(alerts: list[AlertRow], lang: str, tz: str, powers: Powers = Powers()) -> list[Any]:
    if not alerts:
        return [html.Div(t("duty_no_alerts", lang), className="duty-empty")]
    return [alert_card(a, lang, tz, powers) for a in alerts]
