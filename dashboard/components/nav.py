"""The small navigation of the duty, overdue and risk screens: wall / duty / overdue / risks, and the
language switch."""

from __future__ import annotations

from dash import dcc, html

from data.text import other

from ..i18n import t
from ..page import PageContext
from .search_box import top_search
from .user_menu import user_menu

# a screen that loads a component library the others leave out (dashboard/first_page.py: AG Grid): its
# link is a full load, which brings the library
FULL_LOAD = frozenset({"/duty"})
LINKS = (
    ("/", "nav_wall", "wall"),
    ("/duty", "nav_duty", "duty"),
    ("/overdue", "nav_overdue", "overdue"),
    ("/risks", "nav_risks", "risks"),
    ("/hotspots", "nav_hotspots", "hotspots"),
    ("/alerts", "nav_alerts", "alerts"),
    ("/reports", "nav_reports", "reports"),
)


def header_nav(ctx: PageContext, here: str) -> html.Nav:
    """Links to the other screens (keeping the language) and a switch to the other language that keeps
    this screen's query (a full load: the page is rebuilt in the other language)."""
    links = [
        dcc.Link(
            t(key, ctx.lang),
            href=ctx.urls.path(path),
            className="duty-nav-link" + (" is-here" if name == here else ""),
            refresh=path in FULL_LOAD,
        )
        for path, key, name in LINKS
    ]
    other_lang = other(ctx.lang)
    path = "/" + here if here != "wall" else "/"
    switch = html.A(
        t("switch_language", ctx.lang),
        href=ctx.urls.switch(path, ctx.query, other_lang),
        className="duty-nav-lang",
    )
    who = user_menu(ctx.lang, ctx.base_path)
    # the case search (the duty page has its own box beside its filters)
    find = top_search(ctx.lang, ctx.base_path) if here != "duty" else None
    parts = [*([find] if find is not None else []), *links, switch, *([who] if who is not None else [])]
    return html.Nav(parts, className="duty-nav")
