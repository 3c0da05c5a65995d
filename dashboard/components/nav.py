"""The small navigation of the duty and overdue screens: wall / duty / overdue, and the language switch."""

from __future__ import annotations

from urllib.parse import urlencode

from dash import dcc, get_relative_path, html

from ..i18n import t
from ..page import PageContext
from .user_menu import user_menu

LINKS = (("/", "nav_wall", "wall"), ("/duty", "nav_duty", "duty"), ("/overdue", "nav_overdue", "overdue"))


def lang_query(lang: str) -> str:
    return "?lang=en" if lang == "en" else ""


def header_nav(ctx: PageContext, here: str) -> html.Nav:
    """Links to the other screens (keeping the language) and a switch to the other language that keeps
    this screen's query (a full load: the page is rebuilt in the other language)."""
    keep = lang_query(ctx.lang)
    links = [
        dcc.Link(
            t(key, ctx.lang),
            href=get_relative_path(path) + keep,
            className="duty-nav-link" + (" is-here" if name == here else ""),
        )
        for path, key, name in LINKS
    ]
    other = "zh-CN" if ctx.lang == "en" else "en"
    query = {k: v for k, v in ctx.query.items() if k != "lang"}
    if other == "en":
        query["lang"] = "en"
    path = get_relative_path("/" + here) if here != "wall" else get_relative_path("/")
    switch = html.A(
        t("switch_language", ctx.lang),
        href=path + ("?" + urlencode(query) if query else ""),
        className="duty-nav-lang",
    )
    who = user_menu(ctx.lang, ctx.base_path)
    return html.Nav([*links, switch, *([who] if who is not None else [])], className="duty-nav")
