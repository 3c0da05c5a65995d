"""The case search in the top bar of the signed-in screens: a plain ``<form method=get action=/duty>``
with one ``q`` field, so it works with or without scripts and lands on ``/duty?q=…`` (the duty page's
own box, :mod:`dashboard.duty.search`, runs the search in the viewer's scope). Not shown to a display
account (a wall searches nothing)."""

from __future__ import annotations

from dash import dcc, html
from flask import has_request_context

from data.auth import is_display
from data.text import lang_params

from ..auth import auth_required, current_user
from ..i18n import t
from ..urls import Urls

MAX_QUERY = 100  # as the duty page's box (data.search.query.MAX_QUERY)


def top_search(lang: str, base_path: str = "/") -> html.Form | None:
    """The form, or None for a display account."""
    if has_request_context() and auth_required():
        user = current_user()
        if user is None or is_display(user.role):
            return None
    # the language travels as the screens' links carry it (nothing for the default)
    hidden = [dcc.Input(type="hidden", name=k, value=v) for k, v in lang_params(lang).items()]
    action = Urls(base_path).path("/duty")
    return html.Form(
        [
            dcc.Input(
                type="search",
                name="q",
                maxLength=MAX_QUERY,
                placeholder=t("search_top_placeholder", lang),
                autoComplete="off",
                className="top-search-input",
            ),
            *hidden,
            html.Button(t("search_top_submit", lang), type="submit", className="top-search-submit"),
        ],
        action=action,
        method="get",
        className="top-search",
    )
