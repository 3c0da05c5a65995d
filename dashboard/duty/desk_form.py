"""Pieces the duty desk's dialogs share: a labelled field, a select, the overlay, who may act, and the
catalogue's choices (categories, priorities, departments) in the page's language."""

from __future__ import annotations

from typing import Any

from dash import html
from sqlalchemy.orm import Session

from data.auth import Permission, may
from data.models.catalogue import PRIORITIES
from data.queries import category_options, department_options
from data.scope import AreaScope
from data.text import pick

from ..auth.viewer import auth_required, current_user
from ..components.format import priority_label
from ..components.select import search_select


def viewer_may_act(permission: Permission) -> bool:
    """Whether a signed-in account may take this desk action (nobody may with sign-in off: an action
    needs a person to write on the timeline and the audit log). The server checks again on every use."""
    if not auth_required():
        return False
    user = current_user()
    return user is not None and not user.disabled and may(user.role, permission)


def field(label: str, control: Any, className: str = "") -> html.Label:
    return html.Label(
        [html.Span(label, className="desk-label"), control], className=f"desk-field {className}".strip()
    )


def select(id_: str, data: list[dict[str, str]], placeholder: str = "", value: str | None = None) -> Any:
    return search_select(id_, data, placeholder, value, class_name="desk-select")


def overlay(id_: str, title: str, body: list[Any], buttons: list[Any], message_id: str) -> html.Div:
    """A dialog over the page, hidden until its callback shows it."""
    return html.Div(
        html.Div(
            [
                html.H2(title, className="desk-dialog-title"),
                *body,
                html.Div(
                    [html.Span("", id=message_id, className="desk-message", role="alert"), *buttons],
                    className="desk-actions",
                ),
            ],
            className="desk-dialog",
            role="dialog",
        ),
        id=id_,
        className="desk-overlay",
        hidden=True,
    )


def button(id_: str, text: str, primary: bool = False) -> html.Button:
    return html.Button(
        text,
        id=id_,
        n_clicks=0,
        type="button",
        className="desk-button" + (" desk-primary" if primary else ""),
    )


def category_data(session: Session, scope: AreaScope, lang: str) -> list[dict[str, str]]:
    options = category_options(session, scope)
    names = {o.value: pick(lang, o.label, o.label_en) for o in options}
    return [
        {
            "value": o.value,
            "label": f"{names.get(o.parent, '')} · {names[o.value]}" if o.parent else names[o.value],
        }
        for o in options
    ]


def department_data(session: Session, scope: AreaScope, lang: str) -> list[dict[str, str]]:
    return [
        {"value": o.value, "label": pick(lang, o.label, o.label_en)}
        for o in department_options(session, scope)
    ]


def priority_data(lang: str) -> list[dict[str, str]]:
    return [{"value": p, "label": priority_label(p, lang)} for p in PRIORITIES]
