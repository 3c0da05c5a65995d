"""The ledger's one dialog, in four modes: 新增 (create), 编辑 (edit), 转交 (reassign) and 销号 (close,
with the measures taken and the evidence). The mode decides which groups of fields show (``risks.css``);
the server decides what is done, from the mode it is sent and its own checks.

The place is chosen street → community → grid within the viewer's scope (as the duty desk's 登记 form
does); the 销号 deadline is a date, read as the end of that day in China.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

from dash import dcc, html

from data.desk import place_options
from data.desk.options import PlaceOption
from data.models import RISK_KINDS, RISK_LEVELS
from data.scope import AreaScope
from data.text import label

from ..components.select import search_select
from ..i18n import t
from . import ids

TEXT_MAX = 4000
MODES = ("create", "edit", "assign", "close")


def new_token() -> str:
    return secrets.token_hex(16)


def places(options: list[PlaceOption]) -> list[dict[str, str]]:
    return [{"value": o.code, "label": o.name} for o in options]


def _field(text: str, control: Any, group: str, wide: bool = False) -> html.Label:
    return html.Label(
        [html.Span(text, className="desk-label"), control],
        className=f"desk-field risks-grp-{group}" + (" desk-full" if wide else ""),
    )


def _input(id_: str, limit: int, kind: Literal["text", "tel"] = "text", placeholder: str = "") -> dcc.Input:
    return dcc.Input(
        id=id_,
        type=kind,
        maxLength=limit,
        placeholder=placeholder,
        debounce=False,
        className="desk-input",
        autoComplete="off",
    )


def _area(id_: str, limit: int) -> dcc.Textarea:
    return dcc.Textarea(id=id_, maxLength=limit, className="desk-textarea")


def _select(id_: str, data: list[dict[str, str]], placeholder: str) -> Any:
    return search_select(id_, data, placeholder, None, class_name="desk-select")


def dialog(session: Any, scope: AreaScope, lang: str) -> html.Div:
    """The dialog, hidden until a button opens it; the street choices from the viewer's scope."""
    streets = places(place_options(session, scope)) if scope.codes else []
    kinds = [{"value": k, "label": label("risk_kind", k, lang)} for k in RISK_KINDS]
    levels = [{"value": k, "label": label("risk_level", k, lang)} for k in RISK_LEVELS]
    choose, optional = t("ledger_choose", lang), t("ledger_optional", lang)
    body = [
        html.Div(
            [
                _field(t("ledger_kind", lang), _select(ids.KIND, kinds, choose), "fields"),
                _field(t("ledger_level", lang), _select(ids.LEVEL, levels, choose), "fields"),
                _field(t("ledger_col_due", lang), _input(ids.DUE, 12, placeholder="2026-03-31"), "fields"),
            ],
            className="desk-row",
        ),
        _field(t("ledger_field_title", lang), _input(ids.TITLE, 200), "fields", wide=True),
        html.Div(
            [
                _field(t("ledger_street", lang), _select(ids.STREET, streets, choose), "fields"),
                _field(t("ledger_community", lang), _select(ids.COMMUNITY, [], optional), "fields"),
                _field(t("ledger_grid", lang), _select(ids.GRID, [], optional), "fields"),
            ],
            className="desk-row",
        ),
        html.Div(
            [
                _field(t("ledger_field_owner", lang), _input(ids.OWNER, 100), "owner"),
                _field(t("ledger_field_owner_person", lang), _input(ids.PERSON, 100), "owner"),
                _field(t("ledger_col_phone", lang), _input(ids.PHONE, 30, "tel"), "owner"),
            ],
            className="desk-row",
        ),
        _field(t("ledger_field_measures", lang), _area(ids.MEASURES, TEXT_MAX), "fields", wide=True),
        _field(t("ledger_field_description", lang), _area(ids.DESCRIPTION, TEXT_MAX), "fields", wide=True),
        _field(t("ledger_field_done", lang), _area(ids.DONE_MEASURES, TEXT_MAX), "close", wide=True),
        _field(t("ledger_field_evidence", lang), _area(ids.EVIDENCE, TEXT_MAX), "close", wide=True),
        html.P(t("ledger_form_hint", lang), className="desk-hint"),
    ]
    buttons = [
        html.Button(
            t("ledger_cancel", lang), id=ids.CANCEL, n_clicks=0, type="button", className="desk-button"
        ),
        html.Button(
            t("ledger_submit", lang),
            id=ids.SUBMIT,
            n_clicks=0,
            type="button",
            className="desk-button desk-primary",
        ),
    ]
    return html.Div(
        html.Div(
            [
                html.H2(
                    t("ledger_form_create", lang), id="risks-dialog-title", className="desk-dialog-title"
                ),
                *body,
                html.Div(
                    [html.Span("", id=ids.MESSAGE, className="desk-message", role="alert"), *buttons],
                    className="desk-actions",
                ),
            ],
            className="desk-dialog",
            role="dialog",
        ),
        id=ids.DIALOG,
        className="desk-overlay risks-dialog mode-create",
        hidden=True,
    )
