"""``/risks``: the risk ledger (风险台账) of the viewer's area — "台账管理、挂图作战、限期销号".

A table (kind, level, title, area, owner unit and person, phone, measures, 销号 deadline, state) with its
filters in the URL (``kind``, ``level``, ``state``, ``street``), the map beside it with the open risks
coloured by level and ringed when overdue (the shared map's risks layer), a dialog to create, edit,
reassign and 销号 a risk (:mod:`.submit`: every change checked again on the server), an import
(:mod:`.upload`), and the 网格力量 tab (``?tab=force``, :mod:`.force`).

For duty officers and leaders (``manage_risks``): a wall, an admin or nobody signed in is told the screen
is not theirs, and gets no row of the ledger.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import ALL, Input, Output, State, dcc, html, no_update

from data.auth import scope_of
from data.queries import street_options
from data.scope import AreaScope
from layers import versions
from layers.units import any_synthetic, scope_bounds, scope_units

from ..auth.viewer import phone_view
from ..components.click_request import register_click_request
from ..components.map import MapOptions, map_view
from ..components.nav import header_nav
from ..i18n import t
from ..page import Page, PageContext
from ..personal import text_mode
from ..redis_or import redis_or
from ..services import services
from . import ids
from .filters import FILTER_IDS, RiskFilter, filter_bar
from .force import force_panel
from .form import dialog, new_token
from .opening import FIELD_IDS, lang_of, on_community, on_open, on_street
from .submit import manager, save
from .table import OPEN_BUTTON, ledger_table, read
from .upload import load_upload, upload_box

MAP_NAME = "risks"


def _streets(session: Any, scope: AreaScope) -> list[tuple[str, str]]:
    return [(o.value, o.label) for o in street_options(session, scope)]


def table_part(scope: AreaScope, view: RiskFilter, lang: str) -> tuple[Any, str, RiskFilter]:
    """(the table, its count line, the view as applied) for the viewer."""
    now = datetime.now(UTC)
    with services().sessions() as session:
        view = view.only_streets({c for c, _ in _streets(session, scope)})
        rows = read(session, scope, view, now, phone_view() == "full", text_mode())
    late = sum(1 for r in rows if r.overdue)
    return ledger_table(rows, lang, True), t("ledger_count", lang, n=len(rows), late=late), view


def _tabs(ctx: PageContext, force: bool) -> html.Div:
    return html.Div(
        [
            dcc.Link(
                t("ledger_tab_ledger", ctx.lang),
                href=ctx.urls.path("/risks"),
                className="risks-tab" + ("" if force else " is-here"),
            ),
            dcc.Link(
                t("ledger_tab_force", ctx.lang),
                href=ctx.urls.path("/risks", tab="force"),
                className="risks-tab" + (" is-here" if force else ""),
            ),
        ],
        className="risks-tabs",
    )


def _header(ctx: PageContext, area: str, force: bool | None) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.H1(t("ledger_title", ctx.lang), className="duty-h1"),
                    html.Span(area, className="duty-area"),
                ],
                className="duty-titles",
            ),
            *([_tabs(ctx, force)] if force is not None else []),
            header_nav(ctx, "risks"),
        ],
        className="duty-header risks-header",
    )


def layout(ctx: PageContext) -> Any:
    lang = ctx.lang
    user = manager()
    if user is None:
        return html.Div(
            [_header(ctx, "", None), html.P(t("ledger_denied", lang), className="audit-denied risks-denied")],
            className="duty-page risks-page",
        )
    scope = scope_of(user)
    force = ctx.query.get("tab") == "force"
    with ctx.services.sessions() as session:
        units = scope_units(session, scope)
        area = "、".join(name for _, name, _ in units)
        if force:
            return html.Div(
                [_header(ctx, area, True), force_panel(session, scope, lang, phone_view() == "full")],
                className="duty-page risks-page",
            )
        streets = _streets(session, scope)
        bounds = scope_bounds(session, scope)
        synthetic = any_synthetic(session, scope)
        the_dialog = dialog(session, scope, lang)
    view = RiskFilter.from_query(ctx.query)
    table, count, view = table_part(scope, view, lang)
    current: dict[str, int] = redis_or({}, lambda: versions.read(ctx.services.redis))
    the_map = map_view(
        MAP_NAME,
        bounds=bounds,
        lang=lang,
        tz=ctx.settings.timezone,
        versions=current,
        synthetic=synthetic,
        tile_url=ctx.settings.tile_url,
        base_path=ctx.base_path,
        scope=ctx.scope,
        options=MapOptions(
            cases=False, alerts=False, risks=True, hotspots=False, legend=False, layer_control=False
        ),
    )
    panel = html.Div(
        [
            html.Div(
                [
                    html.H2(t("ledger_list", lang), className="duty-h2"),
                    html.Span(count, id=ids.COUNT, className="duty-count"),
                    html.Button(
                        t("ledger_new", lang), id=ids.NEW, n_clicks=0, type="button", className="desk-open"
                    ),
                    upload_box(lang),
                    html.Span("", id=ids.RESULT, className="desk-result", role="status"),
                ],
                className="duty-panel-head risks-head",
            ),
            html.Div(table, id=ids.TABLE, className="risks-table-box"),
        ],
        className="risks-side",
    )
    return html.Div(
        [
            _header(ctx, area, False),
            filter_bar(view, streets, lang),
            html.Div([html.Div(the_map, className="duty-map risks-map"), panel], className="risks-main"),
            the_dialog,
            dcc.Store(id=ids.MODE, data={"mode": "create"}),
            dcc.Store(id=ids.TOKEN, data=new_token()),
            dcc.Store(id=ids.OPEN_REQUEST),
            dcc.Store(id=ids.DONE),
        ],
        className="duty-page risks-page",
    )


def on_filters(
    kind: Any, level: Any, state: Any, street: Any, _done: Any, search: str | None, pathname: str | None
) -> tuple[Any, Any, Any]:
    """The filters changed (or a change was saved): the table, its count and the URL query."""
    if not (pathname or "").rstrip("/").endswith("/risks") or manager() is None:
        return no_update, no_update, no_update
    lang, query = lang_of(search)
    user = manager()
    assert user is not None
    table, count, view = table_part(scope_of(user), RiskFilter.from_values(kind, level, state, street), lang)
    wanted = view.search(query)
    return table, count, (wanted if wanted != (search or "") else no_update)


def on_submit(
    n: Any, mode: Any, token: Any, search: str | None, *values: Any
) -> tuple[Any, Any, Any, Any, Any]:
    if not n:
        return no_update, no_update, no_update, no_update, no_update
    lang, _ = lang_of(search)
    mode_data = mode if isinstance(mode, dict) else {}
    raw = {ids.FIELDS[i]: v for i, v in zip(FIELD_IDS, values, strict=True)}
    done, message = save(mode_data.get("mode"), mode_data.get("risk"), raw, lang, token=token)
    if not done:
        return message, no_update, no_update, no_update, no_update
    return "", True, {"at": datetime.now(UTC).isoformat()}, new_token(), message


def on_upload(contents: Any, filename: Any, search: str | None) -> tuple[Any, Any]:
    if not contents:
        return no_update, no_update
    lang, _ = lang_of(search)
    ok, shown = load_upload(contents, filename, lang)
    return shown, ({"at": datetime.now(UTC).isoformat()} if ok else no_update)


def register(app: Any) -> None:
    app.callback(
        Output(ids.TABLE, "children"),
        Output(ids.COUNT, "children"),
        Output("gridcc-url", "search", allow_duplicate=True),
        *[Input(i, "value") for i in FILTER_IDS],
        Input(ids.DONE, "data"),
        State("gridcc-url", "search"),
        State("gridcc-url", "pathname"),
        prevent_initial_call=True,
    )(on_filters)
    register_click_request(app, {"type": OPEN_BUTTON, "risk": ALL, "mode": ALL}, ids.OPEN_REQUEST)
    app.callback(
        Output(ids.DIALOG, "hidden"),
        Output(ids.DIALOG, "className"),
        Output("risks-dialog-title", "children"),
        Output(ids.MODE, "data"),
        Output(ids.TOKEN, "data"),
        Output(ids.MESSAGE, "children"),
        Output(ids.RESULT, "children"),
        *[Output(i, "value") for i in FIELD_IDS],
        Output(ids.COMMUNITY, "data"),
        Output(ids.GRID, "data"),
        Input(ids.OPEN_REQUEST, "data"),
        Input(ids.NEW, "n_clicks"),
        State("gridcc-url", "search"),
        prevent_initial_call=True,
    )(on_open)
    app.callback(
        Output(ids.MESSAGE, "children", allow_duplicate=True),
        Output(ids.DIALOG, "hidden", allow_duplicate=True),
        Output(ids.DONE, "data"),
        Output(ids.TOKEN, "data", allow_duplicate=True),
        Output(ids.RESULT, "children", allow_duplicate=True),
        Input(ids.SUBMIT, "n_clicks"),
        State(ids.MODE, "data"),
        State(ids.TOKEN, "data"),
        State("gridcc-url", "search"),
        *[State(i, "value") for i in FIELD_IDS],
        prevent_initial_call=True,
    )(on_submit)
    app.clientside_callback(
        "function (n) { return n ? true : window.dash_clientside.no_update; }",
        Output(ids.DIALOG, "hidden", allow_duplicate=True),
        Input(ids.CANCEL, "n_clicks"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.UPLOAD_REPORT, "children"),
        Output(ids.DONE, "data", allow_duplicate=True),
        Input(ids.UPLOAD, "contents"),
        State(ids.UPLOAD, "filename"),
        State("gridcc-url", "search"),
        prevent_initial_call=True,
    )(on_upload)
    app.callback(
        Output(ids.COMMUNITY, "data", allow_duplicate=True),
        Output(ids.COMMUNITY, "value", allow_duplicate=True),
        Output(ids.GRID, "data", allow_duplicate=True),
        Output(ids.GRID, "value", allow_duplicate=True),
        Input(ids.STREET, "value"),
        State(ids.COMMUNITY, "value"),
        State(ids.GRID, "value"),
        prevent_initial_call=True,
    )(on_street)
    app.callback(
        Output(ids.GRID, "data", allow_duplicate=True),
        Output(ids.GRID, "value", allow_duplicate=True),
        Input(ids.COMMUNITY, "value"),
        State(ids.GRID, "value"),
        prevent_initial_call=True,
    )(on_community)


PAGE = Page(path="/risks", name="risks", title_key="ledger_title", layout=layout, register=register)
