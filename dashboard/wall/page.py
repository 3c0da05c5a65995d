"""``/``: the wall — KPI band, the live map, charts, rankings, hotspots, alert ticker, clock, stale banner.

How it stays live without a hand on it:

* the map's 1 s tick (``assets/gridcc_map.js``) reads every layer version in one request and puts them in
  the map's ``versions`` store; the wall adds no poller of its own;
* on the same tick, ``assets/wall.js`` compares those versions — plus the minute (staleness and expiry
  are a matter of time) and the screen's scale — with what the wall shows (``wall-have``) and, when a
  part is behind, asks ``POST /api/wall`` once; a failed ask is retried, never shown as an error;
* :func:`refresh` rebuilds only the parts whose versions moved: KPIs/loop band/charts/rankings/hotspots
  on ``cases``/``kpis``/``loop``, the ticker on ``alerts``/``loop``, the banner and "data as of" on
  ``feeds``. Each part is built once per (scope, version) and shared through Redis
  (:mod:`layers.wall_payload`);
* while the server cannot reach Redis, ``/api/versions`` answers 503 ``{"redis": "down"}``: the tick marks
  the versions store ``down`` and the banner gives way to "data stopped" until Redis answers again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis
from dash import ClientsideFunction, Input, Output, State, dcc, html, no_update
from flask import Response, jsonify, request
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy.orm import Session

from data.scope import AreaScope
from data.text import other as other_language
from layers import versions as layer_versions
from layers import wall_payload
from layers.cache import cache_key
from layers.units import any_synthetic, scope_bounds, scope_units

from ..components.map import MapOptions, map_id, map_view
from ..components.scope_name import scope_name
from ..components.user_menu import user_menu
from ..i18n import normalise, t
from ..page import Page, PageContext
from ..personal import text_mode
from ..redis_or import redis_or
from ..scope import current_scope
from ..services import services
from .banner import banner
from .charts import category_figure, chart_panel, trend_figure
from .clock import as_of_epoch, as_of_text, clock_block
from .format import data_attr
from .hotspots import hotspot_list
from .kpis import NOW_KPIS, PERIOD_KPIS, kpi_band
from .loop import loop_band
from .rankings import department_figure, street_figure
from .ticker import ticker_items

MAP_NAME = "wallmap"

OUTPUTS = (
    ("wall-kpis", "children"),
    ("wall-categories", "figure"),
    ("wall-trend", "figure"),
    ("wall-streets", "figure"),
    ("wall-departments", "figure"),
    ("wall-hotspots", "children"),
    ("wall-ticker", "children"),
    ("wall-banner", "children"),
    ("wall-banner", "className"),
    ("wall-asof", "children"),
    ("wall-asof-epoch", "data"),
    ("wall-loop", "children"),
    ("wall-have", "data"),
)
# the refresh callback's outputs in order, for wall.js (in wall-config): "wall-kpis.children", …
OUTPUT_NAMES = [f"{i}.{p}" for i, p in OUTPUTS]


def _now() -> datetime:
    return datetime.now(UTC)


def _read_versions(conn: redis.Redis | None) -> dict[str, int] | None:
    if conn is None:
        return None
    return redis_or(None, lambda: layer_versions.read(conn))


def _redis() -> redis.Redis | None:
    return redis_or(None, lambda: services().redis, also=(RuntimeError,))


def keys_for(current: dict[str, int], minute: int, scale: float) -> dict[str, Any]:
    """What the browser compares, per part (see ``wall.js``: it builds the same from the versions)."""
    return {
        "stats": wall_payload.part_key("stats", current),
        "ticker": wall_payload.part_key("ticker", current),
        "feeds": wall_payload.part_key("feeds", current),
        "minute": minute,
        "scale": scale,
    }


class WallParts:
    """Loads the wall's parts for one scope and one set of versions (from the Redis cache when built)."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        conn: redis.Redis | None,
        scope: AreaScope,
        current: dict[str, int],
        now: datetime,
        tz: str,
        stale_after_polls: int,
    ) -> None:
        self._args: dict[str, Any] = dict(
            text_mode=text_mode(),
            sessions=sessions,
            conn=conn,
            scope=scope,
            versions=current,
            now=now,
            tz=tz,
            stale_after_polls=stale_after_polls,
        )
        self._loaded: dict[str, dict[str, Any]] = {}

    def __getitem__(self, part: str) -> dict[str, Any]:
        if part not in self._loaded:
            self._loaded[part] = wall_payload.load(part, **self._args)
        return self._loaded[part]

    def stale(self, part: str) -> bool:
        """Whether ``part`` was loaded and is the previous version's (the new one still building)."""
        return bool(self._loaded.get(part, {}).get("_stale"))


def layout(ctx: PageContext) -> Any:
    now = _now()
    tz = ctx.settings.timezone
    lang = ctx.lang
    with ctx.services.sessions() as session:
        bounds = scope_bounds(session, ctx.scope)
        units = scope_units(session, ctx.scope)
        synthetic = any_synthetic(session, ctx.scope)
    conn = _redis()
    current = _read_versions(conn) or {}
    parts = WallParts(
        ctx.services.sessions, conn, ctx.scope, current, now, tz, ctx.settings.stale_after_polls
    )
    stats, ticker, feeds = parts["stats"], parts["ticker"], parts["feeds"]
    have = keys_for(current, int(now.timestamp() // 60), 1.0)
    for part in ("stats", "ticker", "feeds"):
        if parts.stale(part):
            have[part] = "building"  # the browser asks for the new version at once
    names = scope_name([name for _, name, _ in units], lang) or t("app_title", lang)
    banner_children, banner_class = banner(feeds, lang, tz)
    other = other_language(lang)

    header = html.Header(
        [
            html.Div(t("wall_title", lang, name=names), className="wall-title"),
            html.Div(banner_children, id="wall-banner", className=banner_class),
            # shown instead of the banner while the server cannot reach Redis (wall.js down)
            html.Div(t("wall_banner_down", lang), id="wall-down", className="wall-down"),
            clock_block(now, tz, lang, as_of_text(feeds, stats, tz, lang), as_of_epoch(feeds, stats)),
            html.Div(
                [
                    html.A(t("switch_language", lang), href=f"?lang={other}", className="wall-lang"),
                    user_menu(lang, ctx.base_path),
                ],
                className="wall-corner",
            ),
        ],
        id="wall-header",
        className="wall-header",
    )
    left = html.Div(
        [
            chart_panel("wall-categories", t("wall_chart_categories", lang), category_figure(stats, lang)),
            chart_panel("wall-trend", t("wall_chart_trend", lang), trend_figure(stats, lang)),
        ],
        className="wall-side wall-left",
    )
    right = html.Div(
        [
            chart_panel("wall-streets", t("wall_chart_streets", lang), street_figure(stats, lang)),
            chart_panel(
                "wall-departments", t("wall_chart_departments", lang), department_figure(stats, lang)
            ),
            html.Div(
                [
                    html.Div(t("wall_hotspots_title", lang), className="panel-title"),
                    html.Div(hotspot_list(stats, lang), id="wall-hotspots", className="hotspots"),
                ],
                className="wall-panel wall-hotspots-panel",
            ),
        ],
        className="wall-side wall-right",
    )
    centre = html.Div(
        map_view(
            MAP_NAME,
            bounds=bounds,
            lang=lang,
            tz=tz,
            versions=current,
            synthetic=synthetic,
            tile_url=ctx.settings.tile_url,
            base_path=ctx.base_path,
            scope=ctx.scope,
            options=MapOptions(layer_control=False, legend=True),
        ),
        className="wall-map",
    )
    ticker_band = html.Div(
        [
            html.Div(t("wall_ticker_title", lang), className="ticker-title"),
            html.Div(ticker_items(ticker, lang, tz), id="wall-ticker", className="ticker-items"),
        ],
        className="wall-ticker",
    )
    return html.Div(
        [
            header,
            html.Div(
                kpi_band(stats, lang),
                id="wall-kpis",
                className="wall-kpis",
                # the band's columns follow the tiles of kpis.py (wall.css): a new tile is one line there
                style={"--period-kpis": str(len(PERIOD_KPIS)), "--now-kpis": str(len(NOW_KPIS))},
            ),
            html.Div(
                loop_band(stats, lang),
                id="wall-loop",
                className="wall-loop",
                # the loop's figures stand in the KPI band's columns (wall.css)
                style={"--period-kpis": str(len(PERIOD_KPIS)), "--now-kpis": str(len(NOW_KPIS))},
            ),
            html.Div([left, centre, right], className="wall-main"),
            ticker_band,
            dcc.Store(id="wall-have", data=have),
            dcc.Store(
                id="wall-config",
                data={
                    "lang": lang,
                    "tz": tz,
                    "base": ctx.base_path,
                    "api": ctx.urls.api("wall"),
                    "outputs": OUTPUT_NAMES,
                    "clock": {
                        "locale": t("time_clock_intl_locale", lang),
                        "weekday": t("time_clock_intl_weekday", lang),
                    },
                },
            ),
        ],
        id="wall-root",
        className="wall",
        **data_attr("lang", lang),
    )


def _moved(keys: dict[str, Any], have: dict[str, Any]) -> tuple[bool, bool, bool]:
    """Whether the stats, the ticker and the feeds parts moved from what the browser has."""
    time_moved = keys["minute"] != have.get("minute")
    return (
        keys["stats"] != have.get("stats") or keys["scale"] != have.get("scale"),
        keys["ticker"] != have.get("ticker") or time_moved,
        keys["feeds"] != have.get("feeds") or time_moved,
    )


def refresh(
    want: dict[str, Any] | None,
    have: dict[str, Any] | None,
    config: dict[str, Any] | None,
    current: dict[str, int] | None = None,
) -> list[Any]:
    """The wall's server-side update: the outputs of :data:`OUTPUTS`, ``no_update`` where nothing moved.

    ``want`` only triggers: the versions come from Redis here (a client cannot choose the cache key),
    or from ``current`` (the versions the caller read there).
    """
    skip = [no_update] * len(OUTPUTS)
    if not want:
        return skip
    svc = services()
    settings = svc.settings
    lang = (config or {}).get("lang") or settings.language
    tz = settings.timezone
    conn = _redis()
    current = current if current is not None else _read_versions(conn)
    if current is None:
        return skip  # Redis is down: keep what is shown, the gate asks again
    have = have or {}
    scale = float(want.get("scale") or 1.0)
    minute = int(want.get("minute") or 0)
    keys = keys_for(current, minute, scale)
    stats_moved, ticker_moved, feeds_moved = _moved(keys, have)
    if not (stats_moved or ticker_moved or feeds_moved):
        return skip
    parts = WallParts(svc.sessions, conn, current_scope(), current, _now(), tz, settings.stale_after_polls)
    out: list[Any] = list(skip)
    if stats_moved:
        stats = parts["stats"]
        out[0:6] = [
            kpi_band(stats, lang),
            category_figure(stats, lang, scale),
            trend_figure(stats, lang, scale),
            street_figure(stats, lang, scale),
            department_figure(stats, lang, scale),
            hotspot_list(stats, lang),
        ]
        out[11] = loop_band(stats, lang)
    if ticker_moved:
        out[6] = ticker_items(parts["ticker"], lang, tz)
    if feeds_moved or stats_moved:
        feeds = parts["feeds"]
        stats_for_asof = None if feeds.get("as_of") else parts["stats"]
        out[7], out[8] = banner(feeds, lang, tz)
        out[9] = as_of_text(feeds, stats_for_asof, tz, lang)
        out[10] = as_of_epoch(feeds, stats_for_asof)
    # a part answered stale (its new version still building elsewhere): the browser is told the key it
    # has not got yet, so it asks again shortly (wall.js, ``building``)
    for part in ("stats", "ticker", "feeds"):
        if parts.stale(part):
            keys[part] = "building"
    out[12] = keys
    return out


SCALE_RANGE = (0.25, 8.0)  # wall.js sends 0.5 and up, in quarter steps (an 8K screen is 4)
MINUTE_MAX = 2**40  # minutes since 1970: far beyond any real clock
ANSWER_TTL_S = 120  # a rendered /api/wall answer (its key carries the versions and the minute)


def parse_ask(body: object) -> tuple[dict[str, Any], dict[str, Any] | None, str]:
    """``want`` (with ``minute`` an int and ``scale`` a finite number in :data:`SCALE_RANGE`),
    ``have`` and ``lang`` of a ``POST /api/wall`` body; ``ValueError`` (a 400) for anything else."""
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    want, have, lang = body.get("want"), body.get("have"), body.get("lang")
    if not isinstance(want, dict) or not isinstance(have, dict | None):
        raise ValueError("want (an object) is required; have is an object or null")
    if not isinstance(lang, str | None) or len(lang or "") > 10:
        raise ValueError("lang must be a language code")
    scale, minute = want.get("scale", 1.0), want.get("minute", 0)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not math.isfinite(scale):
        raise ValueError("want.scale must be a number")
    if not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
        raise ValueError(f"want.scale must be between {SCALE_RANGE[0]} and {SCALE_RANGE[1]}")
    if isinstance(minute, bool) or not isinstance(minute, int) or not 0 <= minute <= MINUTE_MAX:
        raise ValueError("want.minute must be a whole number of minutes since 1970")
    return {**want, "scale": float(scale), "minute": minute}, have, lang or ""


def api_wall() -> Response:
    """``POST /api/wall`` ``{"want": ..., "have": ..., "lang": ...}``: :func:`refresh` for ``wall.js``.

    Answered as JSON ``{"outputs": [...], "skip": [...]}`` (a skipped output is ``no_update``). The wall
    asks through ``fetch`` rather than a Dash callback so that an ask failing while the server restarts
    is simply retried: a failed Dash callback would be logged as an error by the renderer.
    """
    body = request.get_json(silent=True)
    try:
        want, have, lang = parse_ask(body)
    except ValueError as exc:
        response = jsonify({"error": str(exc)})
        response.status_code = 400
        response.headers["Cache-Control"] = "no-store"
        return response
    response = Response(answer(want, have, normalise(lang)), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def answer(want: dict[str, Any], have: dict[str, Any] | None, lang: str) -> bytes:
    """The body of a ``POST /api/wall`` answer: :func:`refresh` as JSON ``{"outputs", "skip"}``.

    Every wall of a scope asks the same question after a version moves (same versions, minute, scale,
    language and text mode; the same parts moved): the answer is kept in Redis for
    :data:`ANSWER_TTL_S` under all of that, and rendered once rather than once per wall (the charts,
    KPI band and lists are most of a wall's CPU after a change). An answer holding a part still being
    built elsewhere (``building``) is not kept: the walls ask again shortly and get the new one."""
    conn = _redis()
    current = _read_versions(conn)
    key = None
    if conn is not None and current is not None:
        keys = keys_for(current, int(want.get("minute") or 0), float(want.get("scale") or 1.0))
        moved = "".join("1" if m else "0" for m in _moved(keys, have or {}))
        params = ":".join(
            [
                lang,
                text_mode(),
                *(str(keys[k]) for k in ("scale", "minute", "stats", "ticker", "feeds")),
                moved,
            ]
        )
        key = cache_key("wall-answer", current_scope(), 0, params)
        hit = redis_or(None, lambda: conn.get(key))
        if hit is not None:
            return hit if isinstance(hit, bytes) else str(hit).encode("utf-8")
    outputs = refresh(want, have, {"lang": lang}, current)
    body = json.dumps(
        {
            "outputs": [None if o is no_update else o for o in outputs],
            "skip": [o is no_update for o in outputs],
        },
        cls=PlotlyJSONEncoder,
        ensure_ascii=False,
    ).encode("utf-8")
    keys_out = outputs[-1] if outputs and outputs[-1] is not no_update else {}
    building = any(v == "building" for v in keys_out.values())
    if conn is not None and key is not None and not building:
        redis_or(None, lambda: conn.set(key, body, ex=ANSWER_TTL_S))
    return body


def register(app: Any) -> None:
    app.server.add_url_rule("/api/wall", "gridcc_wall", api_wall, methods=["POST"])
    app.clientside_callback(
        ClientsideFunction("gridcc_wall", "refresh"),
        [Output(i, p) for i, p in OUTPUTS],
        Input(map_id(MAP_NAME, "tick"), "n_intervals"),
        Input(map_id(MAP_NAME, "versions"), "data"),  # at once when the long poll brings new versions
        State("wall-have", "data"),
        State("wall-config", "data"),
    )
    app.clientside_callback(
        ClientsideFunction("gridcc_wall", "down"),
        Output("wall-header", "className"),
        Input(map_id(MAP_NAME, "versions"), "data"),
        State("wall-header", "className"),
    )
    app.clientside_callback(
        ClientsideFunction("gridcc_wall", "clock"),
        Output("wall-clock", "children"),
        Output("wall-asof", "className"),
        Input(map_id(MAP_NAME, "tick"), "n_intervals"),
        State("wall-config", "data"),
        State("wall-asof-epoch", "data"),
        State("wall-asof", "className"),
    )


PAGE = Page(path="/", name="wall", title_key="app_title", layout=layout, register=register)
