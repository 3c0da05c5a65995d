"""``/``: the district's map, full screen, live (the wall engineer builds the full wall around it)."""

from __future__ import annotations

from typing import Any

from dash import html

from data.text import other as other_language
from layers import versions
from layers.units import any_synthetic, scope_bounds, scope_units

from ..components.map import MapOptions, map_view
from ..components.scope_name import scope_name
from ..components.user_menu import user_menu
from ..i18n import t
from ..page import Page, PageContext
from ..redis_or import redis_or

MAP_NAME = "wall"


def layout(ctx: PageContext) -> Any:
    with ctx.services.sessions() as session:
        bounds = scope_bounds(session, ctx.scope)
        units = scope_units(session, ctx.scope)
        synthetic = any_synthetic(session, ctx.scope)
    current: dict[str, int] = redis_or({}, lambda: versions.read(ctx.services.redis))
    names = scope_name([name for _, name, _ in units], ctx.lang) or t("app_title", ctx.lang)
    title = t("map_title", ctx.lang, name=names)
    other = other_language(ctx.lang)
    children: list[Any] = [
        map_view(
            MAP_NAME,
            bounds=bounds,
            lang=ctx.lang,
            tz=ctx.settings.timezone,
            versions=current,
            synthetic=synthetic,
            tile_url=ctx.settings.tile_url,
            base_path=ctx.base_path,
            scope=ctx.scope,
            options=MapOptions(title=title),
        ),
        html.A(t("switch_language", ctx.lang), href=f"?lang={other}", className="gridcc-lang-switch"),
    ]
    who = user_menu(ctx.lang, ctx.base_path)
    if who is not None:
        children.append(who)
    if not units:
        children.append(
            html.Div(t("no_units", ctx.lang), className="gridcc-map-title", style={"top": "70px"})
        )
    return html.Div(children, className="gridcc-fullscreen")


PAGE = Page(path="/", name="map", title_key="app_title", layout=layout)
