"""The case page's actions: a leader's 督办 cards (issue yellow / red, cancel), through
:func:`data.auth.supervise` and :func:`data.auth.cancel_supervision` with the viewer's scope and account.

The callback trusts nothing from the browser but which button was pressed: the case id it carries is
looked up again inside the viewer's scope, the role is checked again, and Dash's POST carries the
session's CSRF token (checked before any callback runs)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from dash import Input, Output, State, callback_context, no_update
from flask import request

from data.auth import CaseNotFound, NotPermitted, cancel_supervision, supervise
from data.db import transaction
from data.queries import case_detail
from layers import versions

from ..auth import current_user
from ..i18n import lang_from_query
from ..redis_or import redis_or
from ..scope import current_scope
from ..services import services
from .refresh import current
from .supervise import (
    BUTTONS,
    BUTTONS_ID,
    CASE_ID,
    MESSAGE_ID,
    TIMELINE_ID,
    buttons,
    may_supervise,
    strings,
)

OPEN = ("reported", "accepted", "assigned", "in_progress", "returned")


def act(case_id: int, action: str, now: datetime) -> str:
    """Issue (``yellow``/``red``) or ``cancel`` the card; ``""`` when done, else why not (a key of the
    strings or the refusal's text)."""
    user = current_user()
    if user is None or not may_supervise():
        return "not_permitted"
    svc = services()
    try:
        with transaction(svc.sessions) as session:
            addr = request.remote_addr or ""
            if action == "cancel":
                cancel_supervision(session, current_scope(), case_id, user, now, addr)
            else:
                supervise(session, current_scope(), case_id, action, user, now, addr)
    except CaseNotFound:
        return "not_found"
    except NotPermitted:
        return "not_permitted"
    except ValueError as exc:
        return str(exc)
    redis_or(None, lambda: versions.bump(svc.redis, ["cases"]))  # the wall's and the overdue list's cards
    return ""


def on_card(case_id: Any, search: str | None) -> tuple[Any, Any, Any]:
    """(message, timeline, buttons) after the button that fired."""
    trigger = callback_context.triggered_id
    fired = [c for c in callback_context.triggered if c.get("value")]
    if not isinstance(trigger, str) or not fired or not isinstance(case_id, int):
        return no_update, no_update, no_update
    action = trigger.removeprefix("case-card-")
    if action not in BUTTONS:
        return no_update, no_update, no_update
    svc = services()
    lang = lang_from_query(dict(parse_qsl((search or "").lstrip("?"))), svc.settings.language)
    s = strings(lang)
    now = datetime.now(UTC)
    why = act(case_id, action, now)
    if why in ("not_found", "not_permitted"):
        return s[why], no_update, no_update
    message = s[f"done_{action}"] if not why else s["refused"] + why
    with svc.sessions() as session:
        detail = case_detail(session, current_scope(), case_id, now=now)
    shown = current(current_scope(), case_id, lang)
    if detail is None or shown is None:
        return s["not_found"], no_update, no_update
    row = detail.row
    return message, shown[0], buttons(row.supervision, row.status in OPEN, lang)


def register(app: Any) -> None:
    app.callback(
        Output(MESSAGE_ID, "children"),
        Output(TIMELINE_ID, "children"),
        Output(BUTTONS_ID, "children"),
        *[Input(f"case-card-{name}", "n_clicks") for name in BUTTONS],
        State(CASE_ID, "data"),
        State("gridcc-url", "search"),
        prevent_initial_call=True,
    )(lambda _yellow, _red, _cancel, case_id, search: on_card(case_id, search))
