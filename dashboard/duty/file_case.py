"""登记 at the duty desk: a button beside the case list opening a form — category, place (street →
community → grid within the viewer's scope, or an address; optional longitude and latitude), title and
description, priority, the reporter's name and phone, an optional handling department — filed through
:func:`data.desk.file_case` as the signed-in account.

The selects hold only what the viewer's scope offers, and the callback trusts nothing the browser sends:
:mod:`data.desk` checks the account's role and its own scope again, and cleans and checks every text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl

from dash import Input, Output, State, callback_context, dcc, html, no_update
from flask import request

from data.auth import NotPermitted, Permission, scope_of
from data.db import transaction
from data.desk import CaseForm, DeskRefused, Filed, file_case, place_options
from data.desk.fields import DESCRIPTION_MAX, column_limit
from layers import versions

from ..auth.viewer import auth_required, current_user
from ..i18n import lang_from_query, t
from ..page import PageContext
from ..redis_or import redis_or
from ..services import services
from ..urls import Urls
from .desk_form import (
    button,
    category_data,
    department_data,
    field,
    overlay,
    priority_data,
    select,
    viewer_may_act,
)
from .desk_messages import refusal

OPEN_ID = "desk-file-open"
DIALOG_ID = "desk-file-dialog"
SUBMIT_ID = "desk-file-submit"
CANCEL_ID = "desk-file-cancel"
MESSAGE_ID = "desk-file-message"
RESULT_ID = "desk-result"  # beside the case list: the last case filed, with a link to it
STREET, COMMUNITY, GRID = "desk-file-street", "desk-file-community", "desk-file-grid"
SELECTS = ("desk-file-category", "desk-file-priority", STREET, COMMUNITY, GRID, "desk-file-department")
TEXTS = (
    "desk-file-title",
    "desk-file-description",
    "desk-file-address",
    "desk-file-lon",
    "desk-file-lat",
    "desk-file-reporter",
    "desk-file-phone",
)
CLEARED = ("desk-file-title", "desk-file-description", "desk-file-reporter", "desk-file-phone")


def file_button(lang: str) -> html.Button:
    """The 登记 button (hidden from an account that may not file: the server refuses it anyway)."""
    return html.Button(
        t("desk_file", lang),
        id=OPEN_ID,
        n_clicks=0,
        type="button",
        className="desk-open",
        hidden=not viewer_may_act(Permission.ACT_ON_CASE),
    )


def result_area() -> html.Span:
    return html.Span("", id=RESULT_ID, className="desk-result")


def _places(options: list[Any]) -> list[dict[str, str]]:
    return [{"value": o.code, "label": o.name} for o in options]


def _input(
    id_: str, max_length: int, placeholder: str = "", kind: Literal["text", "tel"] = "text"
) -> dcc.Input:
    return dcc.Input(
        id=id_,
        type=kind,
        maxLength=max_length,
        placeholder=placeholder,
        debounce=False,
        className="desk-input",
        autoComplete="off",
    )


def file_dialog(ctx: PageContext) -> html.Div:
    """The form, hidden until 登记 is pressed; its choices from the database within the viewer's scope."""
    lang = ctx.lang
    user = current_user() if auth_required() else None
    scope = scope_of(user) if user is not None else ctx.scope
    with ctx.services.sessions() as session:
        categories = category_data(session, scope, lang)
        departments = department_data(session, scope, lang)
        streets = _places(place_options(session, scope)) if user is not None else []
    body = [
        html.Div(
            [
                field(
                    t("desk_category", lang), select("desk-file-category", categories, t("desk_choose", lang))
                ),
                field(
                    t("desk_priority", lang),
                    select("desk-file-priority", priority_data(lang), value="normal"),
                ),
                field(
                    t("desk_department", lang),
                    select("desk-file-department", departments, t("desk_by_category", lang)),
                ),
            ],
            className="desk-row",
        ),
        html.Div(
            [
                field(t("desk_street", lang), select(STREET, streets, t("desk_choose", lang))),
                field(t("desk_community", lang), select(COMMUNITY, [], t("desk_optional", lang))),
                field(t("desk_grid", lang), select(GRID, [], t("desk_optional", lang))),
            ],
            className="desk-row",
        ),
        html.Div(
            [
                field(
                    t("desk_field_address", lang),
                    _input("desk-file-address", column_limit("address")),
                    "desk-wide",
                ),
                field(t("desk_field_lon", lang), _input("desk-file-lon", 20, "106.05")),
                field(t("desk_field_lat", lang), _input("desk-file-lat", 20, "29.84")),
            ],
            className="desk-row",
        ),
        field(t("desk_field_title", lang), _input("desk-file-title", column_limit("title")), "desk-full"),
        field(
            t("desk_field_description", lang),
            dcc.Textarea(id="desk-file-description", maxLength=DESCRIPTION_MAX, className="desk-textarea"),
            "desk-full",
        ),
        html.Div(
            [
                field(
                    t("desk_field_reporter_name", lang),
                    _input("desk-file-reporter", column_limit("reporter_name")),
                ),
                field(
                    t("desk_field_reporter_phone", lang),
                    _input("desk-file-phone", column_limit("reporter_phone"), kind="tel"),
                ),
            ],
            className="desk-row",
        ),
        html.P(t("desk_file_hint", lang), className="desk-hint"),
    ]
    buttons = [
        button(CANCEL_ID, t("desk_cancel", lang)),
        button(SUBMIT_ID, t("desk_file_submit", lang), True),
    ]
    return overlay(DIALOG_ID, t("desk_file_title", lang), body, buttons, MESSAGE_ID)


def submit(values: dict[str, Any], now: datetime) -> Filed:
    """File the form's case as the signed-in account (:class:`NotPermitted` without one), bump the
    layers it changed."""
    user = current_user() if auth_required() else None
    if user is None:
        raise NotPermitted("nobody signed in")
    form = CaseForm(
        category=values.get("desk-file-category"),
        priority=values.get("desk-file-priority") or "normal",
        place=values.get(GRID) or values.get(COMMUNITY) or values.get(STREET),
        address=values.get("desk-file-address"),
        lon=values.get("desk-file-lon"),
        lat=values.get("desk-file-lat"),
        title=values.get("desk-file-title"),
        description=values.get("desk-file-description"),
        reporter_name=values.get("desk-file-reporter"),
        reporter_phone=values.get("desk-file-phone"),
        department=values.get("desk-file-department"),
    )
    svc = services()
    with transaction(svc.sessions) as session:
        filed = file_case(
            session,
            user,
            form,
            now,
            svc.settings.timezone,
            request.remote_addr or "",
            svc.settings.phone_search_key_bytes(),
        )
    redis_or(None, lambda: versions.bump(svc.redis, filed.layers))  # the wall, the maps and /duty show it
    return filed


def filed_note(filed: Filed, lang: str) -> list[Any]:
    return [
        html.Span(t("desk_filed", lang, number=filed.external_id), className="desk-filed"),
        dcc.Link(
            t("open_case", lang), href=Urls.current(lang).case(filed.case_id), className="desk-open-case"
        ),
    ]


def on_file(search: str | None, values: dict[str, Any]) -> list[Any]:
    """(dialog hidden, message, result, refresh, cleared fields …) after the button that fired."""
    trigger = callback_context.triggered_id
    keep = [no_update] * (4 + len(CLEARED))
    lang = lang_from_query(dict(parse_qsl((search or "").lstrip("?"))), services().settings.language)
    if trigger == OPEN_ID:
        return [False, "", no_update, no_update, *([no_update] * len(CLEARED))]
    if trigger == CANCEL_ID:
        return [True, "", no_update, no_update, *([no_update] * len(CLEARED))]
    if trigger != SUBMIT_ID:
        return keep
    now = datetime.now(UTC)
    try:
        filed = submit(values, now)
    except (NotPermitted, DeskRefused) as error:
        return [no_update, refusal(error, lang), no_update, no_update, *([no_update] * len(CLEARED))]
    done = {"case": filed.case_id, "ok": True, "at": now.isoformat()}
    return [True, "", filed_note(filed, lang), done, *([""] * len(CLEARED))]


def community_choices(street: str | None) -> tuple[list[dict[str, str]], None, list[dict[str, str]], None]:
    return (_choices(street), None, [], None)


def _choices(parent: str | None) -> list[dict[str, str]]:
    """The units under ``parent`` within the signed-in account's scope (nothing for anyone else)."""
    user = current_user() if auth_required() else None
    code = parent if isinstance(parent, str) and parent.isascii() and parent.isdigit() else ""
    if user is None or len(code) not in (9, 12):
        return []
    with services().sessions() as session:
        return _places(place_options(session, scope_of(user), code))


def register(app: Any) -> None:
    app.callback(
        Output(DIALOG_ID, "hidden"),
        Output(MESSAGE_ID, "children"),
        Output(RESULT_ID, "children"),
        Output("duty-acked", "data", allow_duplicate=True),  # the case list and the map refresh
        *[Output(i, "value") for i in CLEARED],
        Input(OPEN_ID, "n_clicks"),
        Input(CANCEL_ID, "n_clicks"),
        Input(SUBMIT_ID, "n_clicks"),
        State("gridcc-url", "search"),
        *[State(i, "value") for i in (*SELECTS, *TEXTS)],
        prevent_initial_call=True,
    )(lambda _o, _c, _s, search, *values: on_file(search, dict(zip((*SELECTS, *TEXTS), values, strict=True))))
    app.callback(
        Output(COMMUNITY, "data"),
        Output(COMMUNITY, "value"),
        Output(GRID, "data", allow_duplicate=True),
        Output(GRID, "value", allow_duplicate=True),
        Input(STREET, "value"),
        prevent_initial_call=True,
    )(community_choices)
    app.callback(
        Output(GRID, "data"),
        Output(GRID, "value"),
        Input(COMMUNITY, "value"),
        prevent_initial_call=True,
    )(lambda community: (_choices(community), None))
