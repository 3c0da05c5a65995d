"""Who is signed in, on every page's top bar: the account's name and role, a link to ``/audit`` for an
administrator, and a sign-out button — a plain ``<form method=post action=/signout>`` carrying the
session's CSRF token, so it works with or without scripts. Nothing is shown when nobody is signed in
(sign-in not required)."""

from __future__ import annotations

from typing import Any

from dash import dcc, html
from flask import has_request_context

from data.auth import Permission, may, role_label

from ..auth import auth_required, csrf_token, current_user
from ..urls import Urls
from .format import data_attrs

STRINGS = {
    "zh-CN": {"signout": "退出登录", "audit": "审计日志", "who": "当前用户"},
    "en": {"signout": "Sign out", "audit": "Audit log", "who": "Signed in as"},
}


def user_menu(lang: str, base_path: str = "/") -> html.Div | None:
    """The signed-in account's name, role and sign-out form; ``None`` without a signed-in account."""
    if not has_request_context() or not auth_required():
        return None
    user = current_user()
    if user is None:
        return None
    s = STRINGS.get(lang, STRINGS["zh-CN"])
    children: list[Any] = [
        html.Span(
            user.display_name or user.username, className="user-name", title=f"{s['who']} {user.username}"
        ),
        html.Span(role_label(user.role, lang), className=f"user-role role-{user.role}"),
    ]
    if may(user.role, Permission.VIEW_AUDIT):
        href = Urls(base_path, lang).audit()
        children.append(html.A(s["audit"], href=href, className="user-audit"))
    children.append(
        html.Form(
            [
                dcc.Input(type="hidden", name="csrf_token", value=csrf_token()),
                html.Button(s["signout"], type="submit", className="user-signout"),
            ],
            method="post",
            action="/signout",
            className="user-signout-form",
        )
    )
    return html.Div(children, id="gridcc-user", className="gridcc-user", **data_attrs(role=user.role))
