"""``/hotspots`` and ``/hotspots/<key>``: the 类案 of the viewer's area and the cases behind one.

The list (``?days=7|30``) is :func:`data.queries.hotspots`' over the viewer's scope; a row opens
``/hotspots/<key>`` (:attr:`data.queries.Hotspot.key`), found again in the viewer's scope as it stands now
— a key from another street finds nothing — with its cases on a map and in a table. A leader may
督办 the class as one item (:func:`data.loop.class_supervise.supervise_class`: every open case with a
department, one transaction, audited), checked again on the server; the callback carries the session's
CSRF token like every other.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from dash import Input, Output, State, dcc, html, no_update

from data.auth import CaseNotFound, NotPermitted, Permission, may
from data.db import transaction
from data.loop.actions import TEXT_MAX, ActionError
from data.loop.class_supervise import supervise_class
from data.queries import find_hotspot, hotspot_cases, hotspots
from data.text import lang_from_query
from layers import versions

from ..auth import auth_required, current_user
from ..components.format import as_attrs
from ..components.nav import header_nav
from ..i18n import t
from ..loop_delivery import deliver_soon
from ..page import Page, PageContext
from ..personal import CASE_TEXT, masked_rows, shown, text_mode
from ..redis_or import redis_or
from ..services import services
from .merge import merge_panel
from .merge import register as register_merge
from .views import case_list, hotspot_map, hotspot_rows

PERIODS = (7, 30)
DEFAULT_DAYS = 30
REPLY_HOURS = (4, 24, 72)


def days_of(value: str | None) -> int:
    return int(value) if value and value.isdecimal() and int(value) in PERIODS else DEFAULT_DAYS


def _header(ctx: PageContext, title: str) -> html.Div:
    return html.Div(
        [
            html.Div(html.H1(title, className="duty-h1"), className="duty-titles"),
            header_nav(ctx, "hotspots"),
        ],
        className="duty-header hotspots-header",
    )


def _periods(ctx: PageContext, days: int, path: str) -> html.Div:
    return html.Div(
        [
            dcc.Link(
                t(f"hotspot_period_{d}", ctx.lang),
                href=ctx.urls.path(path, days=str(d)),
                className="alerts-period" + (" is-here" if d == days else ""),
            )
            for d in PERIODS
        ],
        className="alerts-periods",
    )


def list_layout(ctx: PageContext) -> Any:
    days = days_of(ctx.query.get("days"))
    with ctx.services.sessions() as session:
        spots = hotspots(session, ctx.scope, datetime.now(UTC), days=days)
        merging = merge_panel(session, ctx.scope, ctx.urls, ctx.lang)
    mode = text_mode()
    body = [
        _periods(ctx, days, "/hotspots"),
        html.P(t("hotspot_count", ctx.lang, n=len(spots), days=days), className="alerts-count"),
        hotspot_rows(
            [dataclasses.replace(s, place_name=shown(s.place_name, mode)) for s in spots],
            ctx.urls,
            days,
            ctx.lang,
            ctx.settings.tz,
        ),
        merging,
    ]
    return html.Div(
        [_header(ctx, t("hotspot_title", ctx.lang)), html.Div(body, className="alerts-body hotspots-body")],
        className="duty-page",
    )


def may_supervise_class() -> bool:
    if not auth_required():
        return False
    user = current_user()
    return user is not None and may(user.role, Permission.SUPERVISE)


def _supervise_form(key: str, days: int, lang: str) -> html.Div:
    return html.Div(
        [
            html.Div(t("hotspot_supervise_title", lang), className="hotspot-supervise-title"),
            dcc.Textarea(
                id="hotspot-supervise-text",
                placeholder=t("hotspot_supervise_placeholder", lang),
                maxLength=TEXT_MAX,
                className="hotspot-supervise-text",
            ),
            dcc.Dropdown(
                id="hotspot-supervise-hours",
                options=[{"label": t("hotspot_reply_hours", lang, h=h), "value": h} for h in REPLY_HOURS],
                value=24,
                clearable=False,
                className="hotspot-supervise-hours",
            ),
            html.Button(
                t("hotspot_supervise_send", lang), id="hotspot-supervise-send", n_clicks=0, type="button"
            ),
            html.Div(id="hotspot-supervise-msg", className="hotspot-supervise-msg", role="status"),
            dcc.Store(id="hotspot-supervise-key", data={"key": key, "days": days}),
        ],
        className="hotspot-supervise",
    )


def detail_layout(ctx: PageContext) -> Any:
    key = ctx.path_params.get("key", "")
    days = days_of(ctx.query.get("days"))
    now = datetime.now(UTC)
    with ctx.services.sessions() as session:
        spot = find_hotspot(session, ctx.scope, now, key, days)
        rows = hotspot_cases(session, ctx.scope, spot, now) if spot is not None else []
    if spot is None:
        missing = html.Div(
            [
                html.P(t("hotspot_missing", ctx.lang), className="hotspot-missing"),
                dcc.Link(t("hotspot_back", ctx.lang), href=ctx.urls.path("/hotspots", days=str(days))),
            ],
            className="alerts-body",
        )
        return html.Div([_header(ctx, t("hotspot_title", ctx.lang)), missing], className="duty-page")
    mode = text_mode()
    rows = masked_rows(rows, (*CASE_TEXT, "external_id"), mode)
    still_open = sum(1 for r in rows if r.status not in ("resolved", "closed"))
    summary = html.Div(
        [
            html.Span(spot.category_name, className="hs-category"),
            html.Span(shown(spot.place_name, mode), className="hs-place"),
            html.Span(
                t("hotspot_summary", ctx.lang, n=spot.count, open=still_open, days=days),
                className="hs-sum",
            ),
            dcc.Link(t("hotspot_back", ctx.lang), href=ctx.urls.path("/hotspots", days=str(days))),
        ],
        className="hotspot-head",
        **as_attrs({"data-key": spot.key, "data-count": str(spot.count)}),
    )
    side: list[Any] = [case_list(rows, ctx.urls, ctx.lang, ctx.settings.tz)]
    if may_supervise_class():
        side.insert(0, _supervise_form(spot.key, days, ctx.lang))
    body = html.Div(
        [
            summary,
            html.Div(
                [
                    hotspot_map(rows, ctx.lang, ctx.settings.tile_url),
                    html.Div(side, className="hotspot-side"),
                ],
                className="hotspot-main",
            ),
        ],
        className="alerts-body hotspot-body",
    )
    return html.Div([_header(ctx, t("hotspot_title", ctx.lang)), body], className="duty-page")


def on_supervise(n: Any, text: Any, hours: Any, target: Any, search: str | None) -> Any:
    """督办 the class as the signed-in leader; every value from the browser is checked again."""
    if not n:
        return no_update
    svc = services()
    lang = lang_from_query(dict(parse_qsl((search or "").lstrip("?"))), svc.settings.language)
    user = current_user() if auth_required() else None
    if user is None or not may(user.role, Permission.SUPERVISE):
        return t("act_not_permitted", lang)
    key = target.get("key") if isinstance(target, dict) else None
    days = days_of(str(target.get("days"))) if isinstance(target, dict) else DEFAULT_DAYS
    if not isinstance(key, str) or not key:
        return t("hotspot_missing", lang)
    if not isinstance(text, str) or not text.strip():
        return t("act_need_text", lang)
    if not isinstance(hours, int) or isinstance(hours, bool) or hours not in REPLY_HOURS:
        return t("act_bad_reply", lang)
    now = datetime.now(UTC)
    try:
        with transaction(svc.sessions) as session:
            done = supervise_class(
                session, svc.settings, user, key, text, now + timedelta(hours=hours), now, days,
                remote_addr=_addr(),
            )  # fmt: skip
    except CaseNotFound:
        return t("hotspot_missing", lang)
    except NotPermitted:
        return t("act_not_permitted", lang)
    except ActionError as error:
        return t(error.code, lang)
    deliver_soon(svc)
    redis_or(None, lambda: versions.bump(svc.redis, ["cases"]))
    return t("hotspot_supervised", lang, n=len(done.sent), missing=len(done.no_department))


def _addr() -> str:
    from flask import request

    return request.remote_addr or ""


def register(app: Any) -> None:
    app.callback(
        Output("hotspot-supervise-msg", "children"),
        Input("hotspot-supervise-send", "n_clicks"),
        State("hotspot-supervise-text", "value"),
        State("hotspot-supervise-hours", "value"),
        State("hotspot-supervise-key", "data"),
        State("gridcc-url", "search"),
        prevent_initial_call=True,
    )(on_supervise)


LIST = Page(
    path="/hotspots", name="hotspots", title_key="hotspot_title", layout=list_layout, register=register_merge
)
DETAIL = Page(
    path="/hotspots/<key>", name="hotspot", title_key="hotspot_title", layout=detail_layout, register=register
)
