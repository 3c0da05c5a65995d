"""The action panel's layout: for one case and the viewer's actions, the choice of action and its form.

Every field of every action is always in the form (the submit callback reads them all as states); the
form's class (``act-form kind-<action>``) shows the fields of the chosen action only. Free text goes in
``dcc.Textarea`` values (never rendered as HTML) and is limited in the browser (``maxLength``) and again
on the server (:data:`data.loop.actions.TEXT_MAX`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import dash_mantine_components as dmc
from dash import dcc, html

from data.loop.actions import LEVELS_DOWN, LEVELS_UP
from data.loop.clock import URGENCIES
from data.settings import Settings
from data.text import duration, label

from ..components.format import priority_label
from ..components.select import search_select
from ..i18n import t
from . import ids
from .choices import DEFAULT_REPLY_HOURS, HOURS_MAX, REPLY_HOURS, ActCase

TEXT_MAXLENGTH = 2000  # data.loop.actions.TEXT_MAX
REASON_MAXLENGTH = 500

# which fields each action has (CSS shows a group when the form's kind is one of its ``for-`` classes)
GROUPS: dict[str, tuple[str, ...]] = {
    "department": ("dispatch", "redispatch", "supervise"),
    "hours": ("dispatch",),
    "whistle": ("whistle",),
    "urgency": ("whistle", "dispatch", "redispatch"),
    "reply": ("supervise",),
    "up": ("report_up",),
    "down": ("send_down",),
    "reason": ("redispatch", "report_up", "send_down"),
    "text": ("dispatch", "redispatch", "whistle", "supervise"),
}


def _group(name: str, children: list[Any]) -> html.Div:
    fors = " ".join(f"for-{kind}" for kind in GROUPS[name])
    return html.Div(children, className=f"act-group act-{name} {fors}")


def _field(label_text: str, control: Any, hint: str = "") -> html.Div:
    return html.Div(
        [
            html.Label(label_text, className="act-label"),
            control,
            *([html.Div(hint, className="act-hint")] if hint else []),
        ],
        className="act-field",
    )


def _select(id_: str, data: list[dict[str, str]], placeholder: str, value: str | None = None) -> Any:
    return search_select(id_, data, placeholder, value, class_name="act-select", size="md")


def _report_hint(settings: Settings, lang: str) -> str:
    """When a department must 报到, by urgency."""
    spans = {
        "urgent": duration(settings.loop_report_urgent_minutes * 60, lang),
        "normal": duration(settings.loop_report_normal_minutes * 60, lang),
        "complex": t("act_working_days", lang, n=settings.loop_report_complex_working_days),
    }
    return t("list_sep", lang).join(
        t("act_report_within", lang, urgency=priority_label(u, lang), span=spans[u]) for u in URGENCIES
    )


def first_kind(case: ActCase, kinds: Sequence[str], wanted: str | None = None) -> str | None:
    """The action the form opens on: ``wanted`` if the viewer may and it applies, else the first that does."""
    if wanted is not None and wanted in kinds and case.enabled(wanted):
        return wanted
    return next((k for k in kinds if case.enabled(k)), None)


def action_form(
    case: ActCase,
    kinds: Sequence[str],
    departments: list[dict[str, str]],
    settings: Settings,
    lang: str,
    wanted: str | None = None,
) -> html.Div:
    """The choice of action and the fields of each, for ``case`` and the viewer's ``kinds``."""
    kind = first_kind(case, kinds, wanted)
    choice = dmc.SegmentedControl(
        id=ids.KIND,
        data=[
            {"value": k, "label": label("instruction_kind", k, lang), "disabled": not case.enabled(k)}
            for k in kinds
        ],
        value=kind or "",
        size="md",
        className="act-kinds",
    )
    default = (
        t("act_hours_default", lang, n=case.default_hours)
        if case.default_hours is not None
        else t("act_hours_none", lang)
    )
    up = LEVELS_UP.get(case.escalation_level)
    down = LEVELS_DOWN.get(case.escalation_level)
    groups = [
        _group(
            "department",
            [_field(t("act_department", lang), _select(ids.DEPARTMENT, departments, t("act_pick", lang)))],
        ),
        _group(
            "hours",
            [
                _field(
                    t("act_hours", lang),
                    dmc.NumberInput(
                        id=ids.HOURS,
                        min=1,
                        max=HOURS_MAX,
                        allowDecimal=False,
                        placeholder=str(case.default_hours or ""),
                        size="md",
                        className="act-hours-input",
                    ),
                    default,
                )
            ],
        ),
        _group(
            "whistle",
            [
                _field(t("act_lead", lang), _select(ids.LEAD, departments, t("act_pick", lang))),
                _field(
                    t("act_helpers", lang),
                    dmc.MultiSelect(
                        id=ids.HELPERS,
                        data=departments,
                        value=[],
                        placeholder=t("act_pick_any", lang),
                        searchable=True,
                        clearable=True,
                        comboboxProps={"zIndex": 3000},
                        size="md",
                        className="act-select",
                    ),
                ),
            ],
        ),
        _group(
            "urgency",
            [
                _field(
                    t("act_urgency", lang),
                    dmc.SegmentedControl(
                        id=ids.URGENCY,
                        data=[{"value": u, "label": priority_label(u, lang)} for u in URGENCIES],
                        value=case.urgency,
                        size="sm",
                        className="act-urgency-choice",
                    ),
                    _report_hint(settings, lang),
                )
            ],
        ),
        _group(
            "reply",
            [
                _field(
                    t("act_reply", lang),
                    dmc.SegmentedControl(
                        id=ids.REPLY,
                        data=[{"value": str(h), "label": t("hours", lang, n=h)} for h in REPLY_HOURS],
                        value=str(DEFAULT_REPLY_HOURS),
                        size="sm",
                        className="act-reply-choice",
                    ),
                    t("act_supervise_department", lang),
                )
            ],
        ),
        _group(
            "up",
            [html.Div(t("act_to_level", lang, level=label("escalation", up, lang)), className="act-hint")],
        ),
        _group(
            "down",
            [html.Div(t("act_to_level", lang, level=label("escalation", down, lang)), className="act-hint")],
        ),
        _group(
            "reason",
            [
                _field(
                    t("act_reason", lang),
                    dcc.Textarea(
                        id=ids.REASON, value="", maxLength=REASON_MAXLENGTH, rows=2, className="act-textarea"
                    ),
                )
            ],
        ),
        _group(
            "text",
            [
                _field(
                    t("act_text", lang),
                    dcc.Textarea(
                        id=ids.TEXT, value="", maxLength=TEXT_MAXLENGTH, rows=3, className="act-textarea"
                    ),
                )
            ],
        ),
    ]
    return html.Div(
        [
            html.Div(t("act_case", lang, id=case.id, number=case.external_id), className="act-case-no"),
            choice,
            html.Div(groups, id=ids.FORM, className=f"act-form kind-{kind or ''}"),
            html.Div(
                [
                    html.Button(
                        t("act_submit", lang),
                        id=ids.SUBMIT,
                        n_clicks=0,
                        disabled=kind is None,
                        className="act-submit",
                    ),
                    html.Div("", id=ids.MESSAGE, className="act-msg", role="status"),
                ],
                className="act-actions",
            ),
            dcc.Store(id=ids.CASE, data=case.id),
            dcc.Store(id=ids.TOKEN, data=new_token()),
        ],
        className="act-inner",
    )


def new_token() -> str:
    """A form's once-only token (:func:`dashboard.act.take.take` claims it)."""
    return uuid.uuid4().hex


def message_body(text: str) -> html.Div:
    """The overlay's body when there is no form to show (not found, not permitted)."""
    return html.Div(html.Div(text, id=ids.MESSAGE, className="act-msg", role="status"), className="act-inner")


def case_panel(form: html.Div, lang: str) -> html.Div:
    """The case page's card, anchored at ``#act``."""
    return html.Div(
        [html.H2(t("act_title", lang)), html.Div(form, id=ids.BODY)],
        id=ids.PANEL,
        className="case-card act-panel",
    )


def done_store() -> dcc.Store:
    return dcc.Store(id=ids.DONE)


def action_modal(lang: str) -> html.Div:
    """/duty's and /overdue's overlay, closed; an ``act-open`` button fills and opens it."""
    return html.Div(
        [
            html.Div(
                [
                    html.Div(
                        [
                            html.H2(t("act_title", lang)),
                            html.Button(
                                "×",
                                id=ids.CLOSE,
                                n_clicks=0,
                                className="act-close",
                                title=t("act_close", lang),
                            ),
                        ],
                        className="act-modal-head",
                    ),
                    html.Div(id=ids.BODY),
                ],
                className="act-dialog",
                role="dialog",
            ),
            dcc.Store(id=ids.OPEN_REQUEST),
            done_store(),
        ],
        id=ids.MODAL,
        className="act-modal is-closed",
    )


def open_buttons(case_id: int, kinds: Sequence[str], lang: str, only: str | None = None) -> list[html.Button]:
    """Buttons that open the overlay on ``case_id``: one per action (or one, ``only`` = ``""``: 处置)."""
    if only is not None:
        return (
            [
                html.Button(
                    t("act_open", lang),
                    id={"type": ids.OPEN_BUTTON, "case": case_id, "kind": only},
                    n_clicks=0,
                    className="act-open-button",
                )
            ]
            if kinds
            else []
        )
    return [
        html.Button(
            label("instruction_kind", k, lang),
            id={"type": ids.OPEN_BUTTON, "case": case_id, "kind": k},
            n_clicks=0,
            className=f"act-open-button act-open-{k}",
        )
        for k in kinds
    ]
