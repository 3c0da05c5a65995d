"""The panel's callbacks, registered once per app (:func:`register_action_panel`):

- the chosen action shows its fields (in the browser);
- 发出: :func:`dashboard.act.take.take` with the form's values, then a message and the ``act-done``
  store (the page refreshes what shows the case);
- an ``act-open`` button (in /duty's selected row, in /overdue's rows) becomes a request in a store (see
  :mod:`dashboard.components.click_request`), and the server fills the overlay with the form for that
  case — looked up in the viewer's scope — and opens it; × closes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from dash import ALL, Input, Output, State, no_update

from ..components.click_request import register_click_request
from ..i18n import lang_from_query, t
from ..scope import current_scope
from ..services import services
from . import ids
from .choices import act_case, case_id_of, department_choices, viewer_kinds
from .panel import action_form, message_body, new_token
from .take import take

SHOW_KIND = "function (kind) { return 'act-form kind-' + (kind || ''); }"
CLOSE = "function (n) { return n ? 'act-modal is-closed' : window.dash_clientside.no_update; }"
FIELDS = ("kind", "department", "hours", "lead", "helpers", "urgency", "reply", "reason", "text")
FIELD_IDS = (
    ids.KIND,
    ids.DEPARTMENT,
    ids.HOURS,
    ids.LEAD,
    ids.HELPERS,
    ids.URGENCY,
    ids.REPLY,
    ids.REASON,
    ids.TEXT,
)


def _lang(search: str | None) -> str:
    return lang_from_query(dict(parse_qsl((search or "").lstrip("?"))), services().settings.language)


def form_for(case_id: int, lang: str, wanted: str | None = None) -> Any:
    """The form for ``case_id`` as the viewer may act on it, or a message why there is none."""
    kinds = viewer_kinds()
    if not kinds:
        return message_body(t("act_not_permitted", lang))
    svc = services()
    with svc.sessions() as session:
        case = act_case(session, current_scope(), case_id)
        departments = department_choices(session, lang) if case is not None else []
    if case is None:
        return message_body(t("act_not_found", lang))
    return action_form(case, kinds, departments, svc.settings, lang, wanted)


def on_submit(
    n_clicks: Any, case_id: Any, token: Any, search: str | None, *values: Any
) -> tuple[Any, Any, Any, Any, Any]:
    """发出: the message, the ``act-done`` store, and after a success a fresh token and empty texts (the
    same form sent again — a double click — is refused by its token; a new instruction is a new one)."""
    if not n_clicks:
        return no_update, no_update, no_update, no_update, no_update
    lang = _lang(search)
    done, message = take(case_id, dict(zip(FIELDS, values, strict=True)), lang, token=token)
    if not done:
        return message, no_update, no_update, no_update, no_update
    return message, {"case": case_id, "at": datetime.now(UTC).isoformat()}, new_token(), "", ""


def on_open(wanted: Any, search: str | None) -> tuple[Any, Any]:
    if not isinstance(wanted, dict) or "case" not in wanted:
        return no_update, no_update
    lang = _lang(search)
    case_id = case_id_of(wanted.get("case"))
    if case_id is None:
        return message_body(t("act_not_found", lang)), "act-modal is-open"
    kind = wanted.get("kind")
    return form_for(case_id, lang, kind if isinstance(kind, str) else None), "act-modal is-open"


def register_action_panel(app: Any) -> None:
    app.clientside_callback(SHOW_KIND, Output(ids.FORM, "className"), Input(ids.KIND, "value"))
    app.callback(
        Output(ids.MESSAGE, "children"),
        Output(ids.DONE, "data"),
        Output(ids.TOKEN, "data"),
        Output(ids.TEXT, "value"),
        Output(ids.REASON, "value"),
        Input(ids.SUBMIT, "n_clicks"),
        State(ids.CASE, "data"),
        State(ids.TOKEN, "data"),
        State("gridcc-url", "search"),
        *[State(i, "value") for i in FIELD_IDS],
        prevent_initial_call=True,
    )(on_submit)
    register_click_request(app, {"type": ids.OPEN_BUTTON, "case": ALL, "kind": ALL}, ids.OPEN_REQUEST)
    app.callback(
        Output(ids.BODY, "children"),
        Output(ids.MODAL, "className"),
        Input(ids.OPEN_REQUEST, "data"),
        State("gridcc-url", "search"),
        prevent_initial_call=True,
    )(on_open)
    app.clientside_callback(
        CLOSE,
        Output(ids.MODAL, "className", allow_duplicate=True),
        Input(ids.CLOSE, "n_clicks"),
        prevent_initial_call=True,
    )
