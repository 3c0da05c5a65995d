"""``/duty``: the duty officer's street view.

Selectors (镇街, 类别, 承办部门, 状态, 受理时段) live in the URL query, so a view can be bookmarked or put
on a second wall; the map zooms to the street and shows only its matching cases; an AG Grid lists the
open cases (overdue marked); the street's alerts can be acknowledged; selecting a row rings the case on
the map and offers its page. Every query goes through :func:`dashboard.scope.current_scope`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from dash import ALL, Input, Output, State, callback_context, dcc, html, no_update
from flask import request

from data.auth import Permission, audit
from data.case_filter import CaseFilter
from data.db import transaction
from data.queries import (
    acknowledge_alert,
    active_alerts,
    open_cases,
    place_options,
    street_options,
)
from data.scope import AreaScope
from data.search import clean_query
from layers import versions
from layers.units import any_synthetic, scope_bounds, scope_units, unit_features

from ..act.panel import action_modal
from ..auth.viewer import viewer_may, viewer_name
from ..components.click_request import register_click_request
from ..components.map import MapOptions
from ..components.nav import header_nav
from ..i18n import lang_from_query, t
from ..page import Page, PageContext
from ..personal import ALERT_TEXT, CASE_TEXT, masked_rows, text_mode
from ..redis_or import redis_or
from ..scope import current_scope
from ..services import services
from .alert_actions import alert_dialogs, viewer_powers
from .alert_actions import register as register_alert_actions
from .alerts import alert_list
from .export import EXPORT_HREF, export_link
from .file_case import file_button, file_dialog, result_area
from .file_case import register as register_file_case
from .map import HIGHLIGHT_ID, OUTLINE_ID, duty_map, map_part, padded
from .search import SEARCH_ID, find, search_box
from .selection import selected_case
from .selectors import options as place_choices
from .selectors import selectors
from .table import GRID_ID, case_grid, case_rows

ROW_LIMIT = 5000
TICK_MS = 5000
FILTER_IDS = (
    "duty-street",
    "duty-category",
    "duty-department",
    "duty-status",
    "duty-period",
    "duty-community",
    "duty-grid-unit",
)


@dataclass(frozen=True)
class DutyData:
    """What the filters select, for the viewer's scope."""

    view: CaseFilter
    rows: list[dict[str, Any]]
    overdue: int
    alerts: list[Any]
    alert_total: int
    alert_new: int
    bounds: tuple[float, float, float, float] | None
    notice: str
    outline: dict[str, Any]
    query: str = ""  # the search box's query (its results are the rows), "" for the open cases


def _lang(search: str | None) -> tuple[str, dict[str, str]]:
    query = dict(parse_qsl((search or "").lstrip("?")))
    return lang_from_query(query, services().settings.language), query


def resolve_view(view: CaseFilter, scope: AreaScope, street_codes: set[str]) -> tuple[CaseFilter, bool]:
    """Drop a street that is not one of the scope's streets, and a community or grid outside the scope
    or outside the street (community) chosen (a URL may ask for anything)."""
    if view.street and (view.street not in street_codes or not scope.contains(view.street)):
        return view.without_street(), True
    inside = [p for p in (view.street, view.community) if p]
    for code in (view.community, view.grid):
        if code and not (scope.overlaps(code) and all(code.startswith(p) for p in inside)):
            return view.without_places(), True
    return view, False


def load(
    view: CaseFilter,
    scope: AreaScope,
    lang: str,
    now: datetime | None = None,
    query: str | None = None,
    audited: bool = False,
) -> DutyData:
    """Rows, alerts and bounds of a view within ``scope`` (a street outside it is ignored); with a
    search ``query`` the rows are what it finds (:func:`dashboard.duty.search.find`; ``audited``: the
    viewer's own search, audited when by phone)."""
    svc = services()
    tz = svc.settings.timezone
    now = now or datetime.now(UTC)
    with svc.sessions() as session:
        streets = {o.value for o in street_options(session, scope)}
        view, refused = resolve_view(view, scope, streets)
        area = AreaScope.of([view.street]) if view.street else scope
        alerts = active_alerts(session, area, now)
        bounds = scope_bounds(session, area)
        outline = unit_features(session, area, "street") if view.street else []
    searched = find(query, view, scope, lang, now, audited=audited)
    if searched is None:
        with svc.sessions() as session:
            found = open_cases(session, scope, view, ROW_LIMIT, now=now, tz=tz)
    else:
        found = searched.rows
    notices = [t("duty_out_of_scope", lang) if refused else "", searched.notice if searched else ""]
    mode = text_mode()  # phones and ID numbers in feed text, as this viewer may see them
    found = masked_rows(found, CASE_TEXT, mode)
    alerts = masked_rows(alerts, ALERT_TEXT, mode)
    rows = case_rows(found, lang, tz)
    return DutyData(
        view=view,
        rows=rows,
        overdue=sum(1 for r in rows if r["overdue"]),
        alerts=alert_list(alerts, lang, tz, viewer_powers()),
        alert_total=len(alerts),
        alert_new=sum(1 for a in alerts if a.unacknowledged),
        bounds=bounds,
        notice=" · ".join(n for n in notices if n),
        outline={"type": "FeatureCollection", "features": outline},
        query=(query or "").strip() if searched is not None else "",
    )


def _case_count(data: DutyData, lang: str) -> str:
    return t("duty_count", lang, n=len(data.rows), late=data.overdue)


def _cases_title(data: DutyData, lang: str) -> str:
    """在办案件, or 查找结果 while the search box holds a query (its results include closed cases)."""
    return t("search_results", lang) if data.query else t("duty_cases", lang)


def _alert_count(data: DutyData, lang: str) -> str:
    return t("duty_alerts_count", lang, n=data.alert_total, new=data.alert_new)


def layout(ctx: PageContext) -> Any:
    lang = ctx.lang
    data = load(CaseFilter.from_query(ctx.query), ctx.scope, lang, query=ctx.query.get("q"), audited=True)
    view = data.view
    with ctx.services.sessions() as session:
        units = scope_units(session, ctx.scope)
        synthetic = any_synthetic(session, ctx.scope)
    current: dict[str, int] = redis_or({}, lambda: versions.read(ctx.services.redis))
    area = "、".join(name for _, name, _ in units)
    the_map = duty_map(
        bounds=data.bounds,
        lang=lang,
        tz=ctx.settings.timezone,
        versions=current,
        synthetic=synthetic,
        tile_url=ctx.settings.tile_url,
        base_path=ctx.base_path,
        outline=data.outline,
        options=MapOptions(legend=False, risks=False, layer_control=False, case_filters=view, title=None),
        scope=ctx.scope,
    )
    header = html.Div(
        [
            html.Div(
                [html.H1(t("duty_title", lang), className="duty-h1"), html.Span(area, className="duty-area")],
                className="duty-titles",
            ),
            search_box(lang, data.query),
            selectors(ctx, view),
            header_nav(ctx, "duty"),
        ],
        className="duty-header",
    )
    cases_panel = html.Div(
        [
            html.Div(
                [
                    html.H2(_cases_title(data, lang), id="duty-cases-title", className="duty-h2"),
                    html.Span(_case_count(data, lang), id="duty-case-count", className="duty-count"),
                    export_link(ctx, view),
                    file_button(lang),  # 登记 (dashboard/duty/file_case.py)
                    result_area(),
                    html.Span(data.notice, id="duty-notice", className="duty-notice"),
                ],
                className="duty-panel-head",
            ),
            html.Div(case_grid(data.rows, lang), className="duty-grid-box"),
            html.Div(
                html.Span(t("duty_pick_case", lang), className="duty-hint"),
                id="duty-selected",
                className="duty-selected",
            ),
        ],
        className="duty-cases",
    )
    alerts_panel = html.Div(
        [
            html.Div(
                [
                    html.H2(t("duty_alerts", lang), className="duty-h2"),
                    html.Span(_alert_count(data, lang), id="duty-alert-count", className="duty-count"),
                    html.Span("", id="duty-ack-message", className="duty-notice"),
                ],
                className="duty-panel-head",
            ),
            html.Div(data.alerts, id="duty-alerts", className="duty-alert-list"),
        ],
        className="duty-alerts",
    )
    return html.Div(
        [
            header,
            html.Div(
                [
                    html.Div(the_map, className="duty-map"),
                    html.Div([alerts_panel, cases_panel], className="duty-side"),
                ],
                className="duty-main",
            ),
            action_modal(lang),
            file_dialog(ctx),
            alert_dialogs(ctx),  # 转为案件 / 排除 (dashboard/duty/alert_actions.py)
            dcc.Store(id="duty-acked"),
            dcc.Store(id="duty-ack-request"),
            dcc.Store(id="duty-seen", data=current),
            dcc.Interval(id="duty-tick", interval=TICK_MS),
        ],
        className="duty-page",
    )


def update_view(
    street: str | None,
    category: str | None,
    department: str | None,
    status: str | None,
    period: str | None,
    search: str | None,
    config: dict[str, Any] | None,
    q: str | None = None,
    audited: bool = False,
    places: tuple[str | None, str | None] = (None, None),
) -> dict[str, Any]:
    """The filters or the search box changed: new rows, alerts, map filters and bounds, and the URL
    query."""
    lang, query = _lang(search)
    scope = current_scope()
    view = CaseFilter.from_values(street, category, department, status, period, *places)
    data = load(view, scope, lang, query=q, audited=audited)
    new_config = dict(config or {})
    new_config["filters"] = data.view.as_args()
    viewport: Any = (
        {"bounds": padded(data.bounds), "transition": "flyToBounds", "options": {"duration": 0.6}}
        if data.bounds
        else no_update
    )
    return {
        "rows": data.rows,
        "title": _cases_title(data, lang),
        "case_count": _case_count(data, lang),
        "alerts": data.alerts,
        "alert_count": _alert_count(data, lang),
        "config": new_config,
        "viewport": viewport,
        "search": data.view.search({**query, "q": clean_query(q)}),
        "notice": data.notice,
        "outline": data.outline,
    }


def url_behind_filters(
    street: str | None,
    category: str | None,
    department: str | None,
    status: str | None,
    period: str | None,
    search: str | None,
    q: str | None = None,
    places: tuple[str | None, str | None] = (None, None),
) -> bool:
    """Whether the selectors (or the search box) hold a view the URL does not show yet."""
    query = dict(parse_qsl((search or "").lstrip("?")))
    shown = CaseFilter.from_query(query)
    if clean_query(q) != clean_query(query.get("q")):
        return True
    chosen = CaseFilter.from_values(street, category, department, status, period, *places)
    return chosen.as_args() != shown.as_args()


def acknowledge(alert_id: int, actor: str, now: datetime | None = None) -> bool:
    """Acknowledge an alert in the viewer's scope (an ``acknowledged`` alert event with who and when,
    and an ``alert_ack`` audit row); refused when the viewer's role may not (with sign-in required).
    On success the alerts layer version is bumped so every screen stops flashing it."""
    if not viewer_may(Permission.ACK_ALERT):
        return False
    svc = services()
    scope = current_scope()
    at = now or datetime.now(UTC)
    with transaction(svc.sessions) as session:
        done = acknowledge_alert(session, scope, alert_id, actor, at)
        if done:
            audit(session, actor, "alert_ack", f"alert:{alert_id}", "", request.remote_addr or "", at)
    if done:
        redis_or(None, lambda: versions.bump(svc.redis, ["alerts"]))  # else the layer's short TTL catches up
    return done


def actor_of_request() -> str:
    """Who pressed the button: the signed-in account's user name; without sign-in, 值班员 and the
    request's remote address."""
    return viewer_name(f"值班员 {request.remote_addr or '?'}")


def register(app: Any) -> None:
    filters = [Input(i, "value") for i in FILTER_IDS]
    app.clientside_callback(
        EXPORT_HREF,
        Output("duty-export", "href"),
        Input("gridcc-url", "search"),
        State("duty-export", "href"),
    )

    @app.callback(
        Output(GRID_ID, "rowData"),
        Output("duty-cases-title", "children"),
        Output("duty-case-count", "children"),
        Output("duty-alerts", "children"),
        Output("duty-alert-count", "children"),
        Output(map_part("config"), "data"),
        Output(map_part("map"), "viewport"),
        Output("gridcc-url", "search", allow_duplicate=True),
        Output("duty-notice", "children"),
        Output("duty-seen", "data"),
        Output(OUTLINE_ID, "data"),
        *filters,
        Input(SEARCH_ID, "value"),
        Input("duty-tick", "n_intervals"),
        Input("duty-acked", "data"),
        State("gridcc-url", "search"),
        State(map_part("config"), "data"),
        State("duty-seen", "data"),
        prevent_initial_call=True,
    )
    def refresh(
        street, category, department, status, period, community, grid, q, _tick, _acked, search, config, seen
    ):
        trigger = callback_context.triggered_id
        keep = [no_update] * 11
        now_versions: Any
        # Dash keeps only the newest answer of a callback: a tick or an acknowledgement that fires while a
        # filter change's answer is on its way supersedes it. Whatever fired, filters the URL does not yet
        # show are a filter change.
        places = (community, grid)
        behind = url_behind_filters(street, category, department, status, period, search, q, places)
        if trigger == "duty-tick" and not behind:
            now_versions = redis_or(None, lambda: versions.read(services().redis))
            if now_versions is None:
                return keep
            watched = ("cases", "alerts")
            if seen and all(now_versions.get(k) == seen.get(k) for k in watched):
                return keep
        else:
            now_versions = no_update
        audited = trigger == SEARCH_ID  # the viewer's own search (a refresh of it is not audited again)
        out = update_view(street, category, department, status, period, search, config, q, audited, places)
        if trigger in (*FILTER_IDS, SEARCH_ID) or (behind and out["search"] != (search or "")):
            return [
                out["rows"],
                out["title"],
                out["case_count"],
                out["alerts"],
                out["alert_count"],
                out["config"],
                out["viewport"],
                out["search"],
                out["notice"],
                now_versions,
                out["outline"],
            ]
        # new data (tick) or an acknowledgement: the same view, fresh rows and alerts
        return [
            out["rows"],
            out["title"],
            out["case_count"],
            out["alerts"],
            out["alert_count"],
            no_update,
            no_update,
            no_update,
            no_update,
            now_versions,
            no_update,
        ]

    # A 确认 click becomes a request in a store, written in the browser at once; the server acts on the
    # store. (With the buttons as the server callback's input, a refresh that redrew the cards while the
    # answer was in flight made Dash drop it, and its renderer threw on the vanished inputs.)
    register_click_request(app, {"type": "duty-ack", "alert": ALL}, "duty-ack-request")

    @app.callback(
        Output("duty-acked", "data"),
        Output("duty-ack-message", "children"),
        Input("duty-ack-request", "data"),
        State("gridcc-url", "search"),
        prevent_initial_call=True,
    )
    def on_ack(wanted, search):
        if not isinstance(wanted, dict) or "alert" not in wanted:
            return no_update, no_update
        lang, _ = _lang(search)
        try:
            alert_id = int(wanted["alert"])
        except (TypeError, ValueError):
            return no_update, t("duty_ack_refused", lang)
        ok = acknowledge(alert_id, actor_of_request())
        return {"alert": alert_id, "ok": ok, "at": datetime.now(UTC).isoformat()}, (
            "" if ok else t("duty_ack_refused", lang)
        )

    @app.callback(
        Output(HIGHLIGHT_ID, "children"),
        Output(map_part("map"), "viewport", allow_duplicate=True),
        Output("duty-selected", "children"),
        Input(GRID_ID, "selectedRows"),
        State("gridcc-url", "search"),
        prevent_initial_call=True,
    )
    def on_select(selected, search):
        return selected_case(selected, search)

    @app.callback(
        Output("duty-community", "data"),
        Output("duty-community", "value"),
        Input("duty-street", "value"),
        State("duty-community", "value"),
        prevent_initial_call=True,
    )
    def street_chosen(street, community):
        """The chosen street's communities (a community of another street is let go)."""
        with services().sessions() as session:
            units = place_options(session, current_scope(), street)
        keep = community if community and street and community.startswith(street) else None
        return place_choices(units), keep

    @app.callback(
        Output("duty-grid-unit", "data"),
        Output("duty-grid-unit", "value"),
        Input("duty-community", "value"),
        State("duty-grid-unit", "value"),
        prevent_initial_call=True,
    )
    def community_chosen(community, grid):
        with services().sessions() as session:
            units = place_options(session, current_scope(), community)
        keep = grid if grid and community and grid.startswith(community) else None
        return place_choices(units), keep

    # the desk's own actions (登记, 转为案件, 排除): after 确认's, which owns duty-acked (theirs duplicate it)
    register_file_case(app)
    register_alert_actions(app)


PAGE = Page(
    path="/duty",
    name="duty",
    title_key="duty_title",
    layout=layout,
    register=register,
    bundles=frozenset({"dash_ag_grid"}),
)
