"""An alert card's desk actions beside 确认: 转为案件 (turn it into a linked case, through
:func:`data.desk.alert_to_case`) and 排除 (dismiss it with a reason, :func:`data.desk.dismiss_alert`),
each opening a small dialog; and on a converted alert's card, its case with a link.

The cards are redrawn by the page's refresh, so a click becomes a request in a store first
(:mod:`dashboard.components.click_request`, as 确认 does). The alert id in it is the browser's: the
server finds the alert again in the signed-in account's own scope, checks the role, and writes nothing
for an alert it does not find there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from dash import ALL, Input, Output, State, callback_context, dcc, html, no_update
from flask import request

from data.auth import NotPermitted, Permission, scope_of
from data.db import transaction
from data.desk import DISMISS_REASONS, AlertNotFound, CaseForm, DeskRefused, alert_to_case, dismiss_alert
from data.desk.alerts import open_alert
from data.desk.fields import REASON_MAX, column_limit
from data.masking import mask_personal_text
from data.queries import AlertRow
from layers import versions

from ..auth.viewer import auth_required, current_user
from ..components.click_request import register_click_request
from ..i18n import lang_from_query, t
from ..page import PageContext
from ..personal import text_mode
from ..redis_or import redis_or
from ..services import services
from ..urls import Urls
from .desk_form import button, category_data, field, overlay, priority_data, select, viewer_may_act
from .desk_messages import refusal
from .file_case import RESULT_ID, filed_note

CONVERT_DIALOG, DISMISS_DIALOG = "desk-convert-dialog", "desk-dismiss-dialog"
CONVERT_REQUEST, DISMISS_REQUEST = "desk-convert-request", "desk-dismiss-request"
CONVERT_ALERT, DISMISS_ALERT = "desk-convert-alert", "desk-dismiss-alert"  # the alert a dialog is for
CONVERT_MESSAGE, DISMISS_MESSAGE = "desk-convert-message", "desk-dismiss-message"
CONVERT_HEAD, DISMISS_HEAD = "desk-convert-head", "desk-dismiss-head"
OPEN_STATES = ("new", "acknowledged")


@dataclass(frozen=True)
class Powers:
    """What the viewer may do to an alert at the desk (for drawing the buttons; the server re-checks)."""

    convert: bool = False
    dismiss: bool = False


def viewer_powers() -> Powers:
    return Powers(viewer_may_act(Permission.ACT_ON_CASE), viewer_may_act(Permission.ACK_ALERT))


def convert_id(alert_id: int) -> dict[str, Any]:
    return {"type": "desk-convert", "alert": alert_id}


def dismiss_id(alert_id: int) -> dict[str, Any]:
    return {"type": "desk-dismiss", "alert": alert_id}


def card_actions(alert: AlertRow, lang: str, powers: Powers) -> list[Any]:
    """The card's desk buttons, or its case when it was turned into one."""
    if alert.case_id is not None:
        return [
            html.Div(
                [
                    html.Span(t("desk_alert_linked", lang), className="desk-linked-label"),
                    dcc.Link(
                        alert.case_number or f"#{alert.case_id}",
                        href=Urls.current(lang).case(alert.case_id),
                        className="desk-linked-case",
                    ),
                ],
                className="desk-linked",
            )
        ]
    if alert.state not in OPEN_STATES:
        return []
    out: list[Any] = []
    if powers.convert:
        out.append(
            html.Button(
                t("desk_convert", lang),
                id=convert_id(alert.id),
                n_clicks=0,
                type="button",
                className="desk-card-button desk-convert",
            )
        )
    if powers.dismiss:
        out.append(
            html.Button(
                t("desk_dismiss", lang),
                id=dismiss_id(alert.id),
                n_clicks=0,
                type="button",
                className="desk-card-button desk-dismiss",
            )
        )
    return out


def alert_dialogs(ctx: PageContext) -> html.Div:
    lang = ctx.lang
    user = current_user() if auth_required() else None
    scope = scope_of(user) if user is not None else ctx.scope
    with ctx.services.sessions() as session:
        categories = category_data(session, scope, lang)
    convert = overlay(
        CONVERT_DIALOG,
        t("desk_convert_title", lang),
        [
            html.P("", id=CONVERT_HEAD, className="desk-dialog-alert"),
            html.Div(
                [
                    field(
                        t("desk_category", lang),
                        select("desk-convert-category", categories, t("desk_choose", lang)),
                    ),
                    field(
                        t("desk_priority", lang),
                        select("desk-convert-priority", priority_data(lang), value="normal"),
                    ),
                ],
                className="desk-row",
            ),
            field(
                t("desk_field_title", lang),
                dcc.Input(
                    id="desk-convert-title",
                    type="text",
                    maxLength=column_limit("title"),
                    className="desk-input",
                    placeholder=t("desk_title_from_alert", lang),
                    autoComplete="off",
                ),
                "desk-full",
            ),
            html.P(t("desk_convert_hint", lang), className="desk-hint"),
        ],
        [
            button("desk-convert-cancel", t("desk_cancel", lang)),
            button("desk-convert-submit", t("desk_convert_submit", lang), True),
        ],
        CONVERT_MESSAGE,
    )
    dismiss = overlay(
        DISMISS_DIALOG,
        t("desk_dismiss_title", lang),
        [
            html.P("", id=DISMISS_HEAD, className="desk-dialog-alert"),
            field(
                t("desk_dismiss_reason", lang),
                dcc.RadioItems(
                    id="desk-dismiss-reason",
                    options=[{"value": r, "label": t(f"desk_reason_{r}", lang)} for r in DISMISS_REASONS],
                    className="desk-reasons",
                ),
                "desk-full",
            ),
            field(
                t("desk_field_reason", lang),
                dcc.Textarea(
                    id="desk-dismiss-note", maxLength=REASON_MAX, className="desk-textarea desk-short"
                ),
                "desk-full",
            ),
        ],
        [
            button("desk-dismiss-cancel", t("desk_cancel", lang)),
            button("desk-dismiss-submit", t("desk_dismiss_submit", lang), True),
        ],
        DISMISS_MESSAGE,
    )
    return html.Div(
        [
            convert,
            dismiss,
            dcc.Store(id=CONVERT_REQUEST),
            dcc.Store(id=DISMISS_REQUEST),
            dcc.Store(id=CONVERT_ALERT),
            dcc.Store(id=DISMISS_ALERT),
        ],
    )


def _lang(search: str | None) -> str:
    return lang_from_query(dict(parse_qsl((search or "").lstrip("?"))), services().settings.language)


def _headline(wanted: object) -> tuple[int | None, str]:
    """The alert a dialog opens for (its id and headline as the viewer may read it), found again in the
    signed-in account's scope; (None, "") when it is not there or no longer open."""
    user = current_user() if auth_required() else None
    if user is None or not isinstance(wanted, dict):
        return None, ""
    try:
        with services().sessions() as session:
            alert = open_alert(session, scope_of(user), wanted.get("alert"), datetime.now(UTC))
            return alert.id, mask_personal_text(alert.headline or alert.event, text_mode())
    except AlertNotFound:
        return None, ""


def _user() -> Any:
    user = current_user() if auth_required() else None
    if user is None:
        raise NotPermitted("nobody signed in")
    return user


def on_convert(
    wanted: Any, alert: Any, category: Any, priority: Any, title: Any, search: str | None
) -> list[Any]:
    """(dialog hidden, alert store, headline, message, refresh, result) after what fired."""
    trigger = callback_context.triggered_id
    lang = _lang(search)
    if trigger == CONVERT_REQUEST:
        found, head = _headline(wanted)
        if found is None:
            return [True, None, "", no_update, no_update, t("desk_err_alert_not_found", lang)]
        return [False, found, head, "", no_update, no_update]
    if trigger == "desk-convert-cancel":
        return [True, None, "", "", no_update, no_update]
    if trigger != "desk-convert-submit":
        return [no_update] * 6
    svc = services()
    now = datetime.now(UTC)
    try:
        user = _user()
        form = CaseForm(category=category, priority=priority or "normal", title=title)
        with transaction(svc.sessions) as session:
            filed = alert_to_case(
                session, user, alert, form, now, svc.settings.timezone, request.remote_addr or ""
            )
    except (NotPermitted, AlertNotFound, DeskRefused) as error:
        return [no_update, no_update, no_update, refusal(error, lang), no_update, no_update]
    redis_or(None, lambda: versions.bump(svc.redis, filed.layers))
    done = {"alert": alert, "case": filed.case_id, "ok": True, "at": now.isoformat()}
    return [True, None, "", "", done, filed_note(filed, lang)]


def on_dismiss(wanted: Any, alert: Any, reason: Any, note: Any, search: str | None) -> list[Any]:
    """(dialog hidden, alert store, headline, message, refresh, result) after what fired."""
    trigger = callback_context.triggered_id
    lang = _lang(search)
    if trigger == DISMISS_REQUEST:
        found, head = _headline(wanted)
        if found is None:
            return [True, None, "", no_update, no_update, t("desk_err_alert_not_found", lang)]
        return [False, found, head, "", no_update, no_update]
    if trigger == "desk-dismiss-cancel":
        return [True, None, "", "", no_update, no_update]
    if trigger != "desk-dismiss-submit":
        return [no_update] * 6
    svc = services()
    now = datetime.now(UTC)
    try:
        user = _user()
        with transaction(svc.sessions) as session:
            done = dismiss_alert(session, user, alert, reason, note, now, request.remote_addr or "")
    except (NotPermitted, AlertNotFound, DeskRefused) as error:
        return [no_update, no_update, no_update, refusal(error, lang), no_update, no_update]
    redis_or(None, lambda: versions.bump(svc.redis, done.layers))
    refresh = {"alert": done.alert_id, "ok": True, "at": now.isoformat()}
    return [True, None, "", "", refresh, t("desk_dismissed", lang)]


def register(app: Any) -> None:
    register_click_request(app, {"type": "desk-convert", "alert": ALL}, CONVERT_REQUEST)
    register_click_request(app, {"type": "desk-dismiss", "alert": ALL}, DISMISS_REQUEST)
    for dialog, request_id, alert_id, head, message, prefix, fields, handler in (
        (
            CONVERT_DIALOG,
            CONVERT_REQUEST,
            CONVERT_ALERT,
            CONVERT_HEAD,
            CONVERT_MESSAGE,
            "desk-convert",
            ("desk-convert-category", "desk-convert-priority", "desk-convert-title"),
            on_convert,
        ),
        (
            DISMISS_DIALOG,
            DISMISS_REQUEST,
            DISMISS_ALERT,
            DISMISS_HEAD,
            DISMISS_MESSAGE,
            "desk-dismiss",
            ("desk-dismiss-reason", "desk-dismiss-note"),
            on_dismiss,
        ),
    ):
        app.callback(
            Output(dialog, "hidden"),
            Output(alert_id, "data"),
            Output(head, "children"),
            Output(message, "children"),
            Output("duty-acked", "data", allow_duplicate=True),  # the alert list refreshes
            Output(RESULT_ID, "children", allow_duplicate=True),
            Input(request_id, "data"),
            Input(f"{prefix}-cancel", "n_clicks"),
            Input(f"{prefix}-submit", "n_clicks"),
            State(alert_id, "data"),
            *[State(f, "value") for f in fields],
            State("gridcc-url", "search"),
            prevent_initial_call=True,
        )(lambda wanted, _c, _s, alert, *rest, handler=handler: handler(wanted, alert, *rest))
