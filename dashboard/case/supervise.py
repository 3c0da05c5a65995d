"""A leader's 督办 controls on ``/cases/<id>``: issue a yellow or red supervision card, or cancel the
card the case has. Shown only to a signed-in account whose role may supervise; the callback calls
:func:`data.auth.supervise` / :func:`data.auth.cancel_supervision` with the viewer's scope (a case id
forged into the request that lies outside it is "not found"), so the action lands on the case's timeline
and in the audit log. Like every Dash callback, it needs the session's CSRF token."""

from __future__ import annotations

from typing import Any

from dash import dcc, html
from flask import has_request_context

from data.auth import Permission, may

from ..auth import auth_required, current_user

STRINGS = {
    "zh-CN": {
        "title": "督办",
        "yellow": "发黄牌督办",
        "red": "发红牌督办",
        "cancel": "撤销督办",
        "done_yellow": "已发黄牌督办。",
        "done_red": "已发红牌督办。",
        "done_cancel": "已撤销督办。",
        "refused": "无法执行：",
        "not_found": "在您的管辖范围内找不到此案件。",
        "not_permitted": "您的角色不能督办。",
    },
    "en": {
        "title": "Supervision",
        "yellow": "Issue a yellow card",
        "red": "Issue a red card",
        "cancel": "Cancel the card",
        "done_yellow": "Yellow card issued.",
        "done_red": "Red card issued.",
        "done_cancel": "Card cancelled.",
        "refused": "Not done: ",
        "not_found": "No such case in your area.",
        "not_permitted": "Your role may not supervise.",
    },
}
BUTTONS = ("yellow", "red", "cancel")
PANEL_ID = "case-supervise"
BUTTONS_ID = "case-supervise-buttons"
MESSAGE_ID = "case-supervise-msg"
CASE_ID = "case-supervise-case"
TIMELINE_ID = "case-timeline-box"


def strings(lang: str) -> dict[str, str]:
    return STRINGS.get(lang, STRINGS["zh-CN"])


def may_supervise() -> bool:
    """Whether the viewer is a signed-in account allowed to issue cards (never without sign-in)."""
    if not has_request_context() or not auth_required():
        return False
    user = current_user()
    return user is not None and may(user.role, Permission.SUPERVISE)


def buttons(card: str, is_open: bool, lang: str) -> list[Any]:
    """The three buttons, each enabled only when it would do something."""
    s = strings(lang)
    has_card = card in ("yellow", "red")
    enabled = {"yellow": is_open and card != "yellow", "red": is_open and card != "red", "cancel": has_card}
    return [
        html.Button(
            s[name],
            id=f"case-card-{name}",
            n_clicks=0,
            disabled=not enabled[name],
            className=f"case-card-button card-{name}",
        )
        for name in BUTTONS
    ]


def supervise_panel(case_id: int, card: str, is_open: bool, lang: str) -> html.Div | None:
    """The leader's panel, or ``None`` for anyone else."""
    if not may_supervise():
        return None
    return html.Div(
        [
            html.H2(strings(lang)["title"]),
            html.Div(buttons(card, is_open, lang), id=BUTTONS_ID, className="case-supervise-buttons"),
            html.Div("", id=MESSAGE_ID, className="case-supervise-msg", role="status"),
            dcc.Store(id=CASE_ID, data=case_id),
        ],
        id=PANEL_ID,
        className="case-card case-supervise",
    )
