"""``/calls/<alert id>``: the duty officer's view of one warning's 预警叫应.

The grids of the viewer's own scope that the warning calls: the silent ones first (no answer this
round), each with its worker and the worker's phone — in full for a role that sees personal data (the
duty officer calls them; every view that shows phones writes a ``personal_view`` audit row), masked for
other roles, absent for a wall — then those that answered, with what they did (已收到, 巡查完成,
已转移 N 人, 需要支援 and the note). It refreshes every few seconds.

**再叫应** (a duty officer, :data:`~data.auth.Permission.ACK_ALERT`) writes one new call to each silent
grid of the viewer's scope to the outbox (:func:`data.loop.calls.recall`, audited ``call_recall``) and
asks the workers to deliver them at once (:func:`dashboard.loop_delivery.deliver_soon`); the screen
sends nothing itself. The alert id comes from the URL: the server looks the calls up again in the
signed-in account's scope, so another street's warning shows nothing and calls no one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import Input, Output, State, dcc, html, no_update
from flask import request

from data.auth import NotPermitted, Permission, audit
from data.db import transaction
from data.loop.calls import CallsNotFound, recall
from data.masking import mask_phone
from data.models import Alert
from data.queries.calls import CallRow, alert_calls
from data.scope import AreaScope
from data.text import EMPTY, label, local_time

from ..auth.viewer import auth_required, current_user, phone_view, viewer_may, viewer_name
from ..components.nav import header_nav
from ..i18n import t
from ..loop_delivery import deliver_soon
from ..page import Page, PageContext
from ..scope import current_scope
from ..services import services

TICK_MS = 5000
TARGET = "calls:alert:{id}"


def alert_id_of(raw: object) -> int | None:
    """The alert id from the URL or the page's store: decimal digits only."""
    text = str(raw or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


def _phone(row: CallRow, view: str) -> str:
    if view == "full":
        return row.phone
    return mask_phone(row.phone) if view == "masked" else ""


def _result(row: CallRow, lang: str) -> str:
    said = label("call_state", row.state, lang)
    if row.state == "evacuated":
        said = t("call_evacuated_n", lang, n=row.evacuated)
    if row.state == "support" and row.note:
        said = f"{said}：{row.note}"
    return said


def _table(rows: list[CallRow], view: str, lang: str, tz: str, silent: bool) -> html.Table:
    heads = ["call_col_grid", "call_col_worker", "call_col_phone", "call_col_called", "call_col_delivered"]
    heads += ["call_col_messages"] if silent else ["call_col_answered", "call_col_result"]
    body = []
    for r in rows:
        cells: list[Any] = [
            r.grid_name or r.grid_code,
            f"{label('staff_role', r.worker_role, lang)} {r.worker_name}",
            html.Span(_phone(r, view), className="calls-phone"),
            local_time(r.last_called_at, tz, lang, "day_minute", none=EMPTY),
            local_time(r.delivered_at, tz, lang, "day_minute", none=EMPTY),
        ]
        if silent:
            cells.append(str(r.messages))
        else:
            cells += [local_time(r.answered_at, tz, lang, "day_minute", none=EMPTY), _result(r, lang)]
        body.append(
            html.Tr(
                [html.Td(c) for c in cells],
                className="calls-row " + ("is-silent" if silent else "is-answered"),
            )
        )
    return html.Table(
        [html.Thead(html.Tr([html.Th(t(h, lang)) for h in heads])), html.Tbody(body)],
        className="duty-table calls-table " + ("calls-silent" if silent else "calls-answered"),
    )


def body(scope: AreaScope, alert_id: int | None, lang: str) -> tuple[str, list[Any]]:
    """(the summary line, the tables) of the warning's calls in ``scope``; the phone view is audited."""
    svc = services()
    tz = svc.settings.timezone
    if alert_id is None:
        return "", [html.P(t("call_not_found", lang), className="calls-empty")]
    with svc.sessions() as session:
        rows = alert_calls(session, scope, alert_id)
        alert = session.get(Alert, alert_id) if rows else None
        event = (alert.headline or alert.event) if alert is not None else ""
    if not rows:
        return "", [html.P(t("call_not_found", lang), className="calls-empty")]
    view = phone_view()
    silent = [r for r in rows if r.state == "calling"]
    answered = [r for r in rows if r.state != "calling"]
    if view == "full" and any(r.phone for r in rows):
        with transaction(svc.sessions) as session:
            audit(
                session, viewer_name(), "personal_view", TARGET.format(id=alert_id),
                f"{sum(1 for r in rows if r.phone)} grid worker phones in full", request.remote_addr or "",
                datetime.now(UTC),
            )  # fmt: skip
    summary = t("call_ticker_count", lang, answered=len(answered), total=len(rows))
    parts: list[Any] = [
        html.H2(event, className="calls-event"),
        html.H3(t("call_silent_title", lang, n=len(silent)), className="calls-h3 calls-h3-silent"),
        _table(silent, view, lang, tz, True) if silent else html.P(t("call_none_silent", lang)),
        html.H3(t("call_answered_title", lang, n=len(answered)), className="calls-h3"),
        _table(answered, view, lang, tz, False) if answered else html.P(EMPTY),
    ]
    return summary, parts


def layout(ctx: PageContext) -> Any:
    alert_id = alert_id_of(ctx.path_params.get("alert_id"))
    summary, content = body(ctx.scope, alert_id, ctx.lang)
    may_recall = auth_required() and viewer_may(Permission.ACK_ALERT)
    controls: list[Any] = [html.Div(summary, id="calls-summary", className="calls-summary")]
    if may_recall:
        controls += [
            html.Button(
                t("call_recall", ctx.lang),
                id="calls-recall",
                n_clicks=0,
                className="desk-button calls-recall",
            ),
            html.Div("", id="calls-message", className="calls-message", role="status"),
        ]
    header = html.Div(
        [
            html.Div(html.H1(t("call_page_title", ctx.lang), className="duty-h1"), className="duty-titles"),
            header_nav(ctx, f"calls/{alert_id or ''}"),
        ],
        className="duty-header calls-header",
    )
    return html.Div(
        [
            header,
            html.Div(controls, className="calls-controls"),
            html.Div(content, id="calls-body", className="calls-body"),
            dcc.Store(id="calls-alert", data={"alert": alert_id, "lang": ctx.lang}),
            dcc.Interval(id="calls-tick", interval=TICK_MS),
        ],
        className="duty-page calls-page",
    )


def on_tick(_n: int | None, store: dict[str, Any] | None) -> tuple[Any, Any]:
    store = store or {}
    summary, content = body(
        current_scope(), alert_id_of(store.get("alert")), str(store.get("lang") or "zh-CN")
    )
    return summary, content


def on_recall(n_clicks: int | None, store: dict[str, Any] | None) -> Any:
    """再叫应: the silent grids of the viewer's scope are called again (written to the outbox)."""
    if not n_clicks:
        return no_update
    store = store or {}
    lang = str(store.get("lang") or "zh-CN")
    alert_id = alert_id_of(store.get("alert"))
    user = current_user() if auth_required() else None
    if user is None:
        return t("call_refused", lang)
    svc = services()
    try:
        with transaction(svc.sessions) as session:
            sent = recall(session, user, alert_id or -1, datetime.now(UTC), request.remote_addr or "")
    except NotPermitted:
        return t("call_refused", lang)
    except CallsNotFound:
        return t("call_not_found", lang)
    if not sent:
        return t("call_recall_none", lang)
    deliver_soon(svc)  # the workers deliver at once
    return t("call_recall_done", lang, n=len(sent))


def register(app: Any) -> None:
    app.callback(
        Output("calls-summary", "children"),
        Output("calls-body", "children"),
        Input("calls-tick", "n_intervals"),
        State("calls-alert", "data"),
        prevent_initial_call=True,
    )(on_tick)
    app.callback(
        Output("calls-message", "children"),
        Input("calls-recall", "n_clicks"),
        State("calls-alert", "data"),
        prevent_initial_call=True,
    )(on_recall)


PAGE = Page(
    path="/calls/<alert_id>", name="calls", title_key="call_page_title", layout=layout, register=register
)
