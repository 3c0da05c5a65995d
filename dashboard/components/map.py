"""The shared map: units by level of detail, open cases clustered, alerts, risks, legend, live updates.

Use :func:`map_view` in a page and call :func:`register_map_callbacks` once per app (``create_app`` does).
Component ids are dicts ``{"part": ..., "map": name}``, so several maps can live on one page and the
clientside callbacks (``assets/gridcc_map.js``) serve them all through ``MATCH``.

What travels where (DESIGN §6):

* static geometry: ``/layers/units/<level>.pbf?v=<units version>`` and, for grids, by viewport bbox
  (``/layers/grids.pbf``), chosen in the browser from the zoom (no server round trip for the choice);
* what changes: the per-unit counts in the unit layers' ``hideout``; cases, alerts and risks from
  versioned URLs that the 1 s tick changes only when the layer's version changed;
* the open cases of a district-sized scope come whole and are clustered in the browser; those of a
  city-sized scope (``lod.json``: ``cases_by_view``) come by view: below the grid zooms clustered on the
  server (``/layers/cases/clusters.json?zoom=&bbox=``), from the grid zooms on the cases of the viewport
  (``/layers/cases.pbf?bbox=``), so a change costs a view's worth of data, not the city's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import dash_leaflet as dl
from dash import ClientsideFunction, Input, Output, State, dcc, html
from dash.dependencies import MATCH
from dash_extensions.javascript import Namespace
from flask import has_request_context

from data.case_filter import NO_FILTER, CaseFilter
from data.scope import AreaScope
from layers.case_clusters import RADIUS_PX

from ..i18n import js_strings, t
from ..routes import first_map_state
from ..urls import Urls

JS = Namespace("gridcc", "map")
UNIT_LEVELS = ("district", "street", "community", "grid")
# the layer versions the map's own layers follow (gridcc_map.js MAP_LAYERS says the same)
MAP_LAYERS = ("units", "cases", "alerts", "risks")

# Fill of a unit by its number of open cases: the lower bound of each class and its colour.
FILL_BREAKS = (0, 1, 3, 6, 11, 21)
# A blue ramp: red is kept for "late" (outlines, markers), yellow/orange for the warning signals.
FILL_COLOURS = ("#161f30", "#1b3a5c", "#1f5a8a", "#2a7fc0", "#3fa3e8", "#8fd0ff")
OVERDUE_OUTLINE = "#ff5a5f"
# 蓝 黄 橙 红: the Chinese warning signal colours.
SIGNAL_COLOURS = {"blue": "#2f8cff", "yellow": "#ffd21f", "orange": "#ff8a00", "red": "#ff2e2e"}
CASE_COLOURS = {
    "overdue": "#ff3b3b",
    "due_soon": "#ffa31a",
    "reported": "#a7b4c6",
    "accepted": "#38b6ff",
    "assigned": "#38b6ff",
    "in_progress": "#3ddc84",
    "returned": "#c77dff",
}
# Zoom at which each level becomes the one drawn filled (below the first: districts).
LOD = {"street": 9, "community": 12, "grid": 14, "grid_labels": 16}
GRID_SNAP = 0.02  # degrees: viewport bboxes are snapped outwards so small pans reuse the same URL
# the browser clusters as the server does (layers.case_clusters): one radius, passed to the JS too
CLUSTER = {"radius": RADIUS_PX, "maxZoom": 16, "minPoints": 3}
# A case without a point of its own sits on its grid's / community's label point, where that unit's name
# is written: its dashed ring goes in a pane above the labels (Leaflet's tooltip pane is at 650).
APPROX_PANE = "gridcc-cases-approx"
JS_SAFE = "-_.!~*'()"  # what encodeURIComponent leaves as it is


@dataclass(frozen=True)
class MapOptions:
    """What a page wants from the map."""

    cases: bool = True
    alerts: bool = True
    risks: bool = True
    hotspots: bool = True  # 类案: each hotspot at the mean of its cases, opening its cases
    legend: bool = True
    layer_control: bool = True
    live: bool = True  # the 1 s version tick
    title: str | None = None  # shown top-left when given
    case_filters: CaseFilter = NO_FILTER
    tick_ms: int = 1000


def map_id(name: str, part: str) -> dict[str, str]:
    return {"part": part, "map": name}


def _legend(lang: str) -> html.Div:
    fill_rows = []
    for i, colour in enumerate(FILL_COLOURS):
        low = FILL_BREAKS[i]
        high = FILL_BREAKS[i + 1] - 1 if i + 1 < len(FILL_BREAKS) else None
        text = str(low) if high == low else (f"{low}–{high}" if high is not None else f"≥{low}")
        fill_rows.append(
            html.Div(
                [html.Span(className="swatch", style={"background": colour}), html.Span(text)],
                className="row",
            )
        )
    case_rows = [
        ("overdue", t("overdue", lang)),
        ("due_soon", t("due_soon", lang)),
        ("in_progress", t("on_time", lang)),
        ("reported", js_strings(lang)["states"]["reported"]),  # type: ignore[index]
    ]
    # three groups, each a title and its keys: a wall lays them out in a strip and never splits one
    fill_group = [
        html.Div(t("legend_fill", lang), className="legend-title"),
        html.Div(fill_rows, className="legend-fill"),
        html.Div(
            [
                html.Span(className="swatch outline", style={"borderColor": OVERDUE_OUTLINE}),
                html.Span(t("legend_overdue_outline", lang)),
            ],
            className="row",
        ),
    ]
    return html.Div(
        [
            html.Div(fill_group, className="legend-group"),
            html.Div(
                [
                    html.Div(t("legend_cases", lang), className="legend-title"),
                    html.Div(
                        [
                            html.Div(
                                [
                                    html.Span(className="dot", style={"background": CASE_COLOURS[k]}),
                                    html.Span(text),
                                ],
                                className="row",
                            )
                            for k, text in case_rows
                        ]
                        + [
                            # a case placed only by grid or community: a dashed ring at the unit's label point
                            html.Div(
                                [
                                    html.Span(
                                        className="dot approx",
                                        style={"borderColor": CASE_COLOURS["accepted"]},
                                    ),
                                    html.Span(t("legend_approx", lang)),
                                ],
                                className="row legend-approx",
                            )
                        ],
                        className="legend-cases",
                    ),
                ],
                className="legend-group",
            ),
            html.Div(
                [
                    html.Div(t("legend_alerts", lang), className="legend-title"),
                    html.Div(
                        [
                            html.Div(
                                [
                                    html.Span(className="swatch", style={"background": hexa}),
                                    html.Span(t(f"signal_{name}", lang)),
                                ],
                                className="row",
                            )
                            for name, hexa in SIGNAL_COLOURS.items()
                        ],
                        className="legend-signals",
                    ),
                ],
                className="legend-group",
            ),
        ],
        className="gridcc-legend",
    )


def _unit_layer(
    name: str, level: str, lang: str, tz: str, url: str | None, first: Mapping[str, Any]
) -> dl.GeoJSON:
    return dl.GeoJSON(
        id=map_id(name, f"units-{level}"),
        url=url,
        format="geobuf",
        pane="gridcc-units",
        style=JS("unitStyle"),
        onEachFeature=JS("unitEach"),
        zoomToBoundsOnClick=True,
        hideout={
            "level": level,
            "counts": {},
            "v": -1,
            **first,  # the counts the page came with, and their URL (src)
            "breaks": list(FILL_BREAKS),
            "colours": list(FILL_COLOURS),
            "overdue": OVERDUE_OUTLINE,
            "strings": js_strings(lang),
            "tz": tz,
        },
    )


def js_query(params: Mapping[str, Any]) -> str:
    """A query string exactly as ``assets/gridcc_map.js``'s ``query()`` writes it (keys sorted, empty
    values left out, ``encodeURIComponent``), so that a URL written here equals the one it computes."""
    return "&".join(
        f"{quote(str(k), safe=JS_SAFE)}={quote(str(v), safe=JS_SAFE)}"
        for k, v in sorted(params.items())
        if v not in ("", None)
    )


def first_urls(
    first: Mapping[str, Any] | None, versions: Mapping[str, int], config: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """The map's first state (see :func:`dashboard.routes.first_map_state`), as the clientside callbacks
    would make it once they had fetched: the layer URLs they would set first, by part (the district
    outlines; the cases, alerts, risks and hotspots of a scope whose cases come whole) and each whole
    level's counts with the URL they would come from (``src``). Empty when ``first`` is None or of other
    versions than the page's."""
    if not first or any(first.get(layer) != versions.get(layer) for layer in ("units", "cases")):
        return {}, {}
    urls, plan = config["urls"], first["plan"]
    out: dict[str, str] = {}
    if "district" not in plan.get("bbox", []):
        out["units-district"] = urls["units"].replace("{level}", "district") + f"?v={versions['units']}"
    on = config["layers"]
    if not plan.get("cases_by_view"):
        if on["cases"]:
            q = js_query(config["filters"])
            out["cases"] = urls["cases"] + f"?v={versions.get('cases', 0)}" + (f"&{q}" if q else "")
        if on["alerts"]:
            out["alerts"] = urls["alerts"] + f"?v={versions.get('alerts', 0)}"
        if on["risks"]:
            out["risks"] = urls["risks"] + f"?v={versions.get('risks', 0)}"
        if on["hotspots"]:
            out["hotspots"] = urls["hotspots"] + f"?v={versions.get('cases', 0)}"
    counts = first["counts"]
    src = urls["counts_all"] + "?" + js_query({"levels": ",".join(counts), "v": versions.get("cases", 0)})
    hideouts = {lv: {"counts": c, "v": versions.get("cases", 0), "src": src} for lv, c in counts.items()}
    return out, hideouts


def map_view(
    name: str,
    *,
    bounds: Sequence[float] | None,
    lang: str,
    tz: str = "Asia/Shanghai",
    versions: dict[str, int] | None = None,
    synthetic: bool = True,
    tile_url: str = "",
    base_path: str = "/",
    options: MapOptions | None = None,
    first: Mapping[str, Any] | None = None,
    scope: AreaScope | None = None,
) -> html.Div:
    """The map of one scope (``scope``: the page's; the viewer's when not given). ``bounds`` is (west,
    south, east, north) of the scope's units.

    ``first``: :func:`dashboard.routes.first_map_state` (read here when not given, in a request, with
    ``versions``): the map starts with its plan, its counts and its first layer URLs in place, so its
    layers load without a request of the browser's before them."""
    options = options or MapOptions()
    west, south, east, north = bounds or (105.7, 29.6, 106.3, 30.1)
    strings = js_strings(lang)
    common_hideout: dict[str, Any] = {
        "strings": strings,
        "tz": tz,
        "signals": SIGNAL_COLOURS,
        "cases": CASE_COLOURS,
        "approx_pane": APPROX_PANE,
        "cluster_radius": RADIUS_PX,  # a bubble is never wider than the clusterer's radius
        "calls_url": Urls(base_path).path("/calls/"),  # 预警叫应: a calling warning's popup links its page
        "hotspot_url": Urls(base_path).path("/hotspots/"),  # 类案: a hotspot's popup links its cases
    }

    config = {
        "map": name,
        "base": base_path,
        "urls": Urls(base_path).layers(),  # what gridcc_map.js fetches: no path is written in the JS
        "lod": LOD,
        "snap": GRID_SNAP,
        "layers": {
            "cases": options.cases,
            "alerts": options.alerts,
            "risks": options.risks,
            "hotspots": options.hotspots,
        },
        "filters": options.case_filters.as_args(),
    }
    if first is None and versions and has_request_context():
        first = first_map_state(scope)
    urls, first_counts = first_urls(first, versions or {}, config)
    if first and urls:
        config["first"] = {"plan": first["plan"], "v": first["units"]}
    units = [
        _unit_layer(name, level, lang, tz, urls.get(f"units-{level}"), first_counts.get(level, {}))
        for level in UNIT_LEVELS
    ]
    cases = dl.GeoJSON(
        id=map_id(name, "cases"),
        url=urls.get("cases"),
        format="geobuf",
        pane="gridcc-cases",
        cluster=True,
        superClusterOptions=CLUSTER,
        zoomToBoundsOnClick=True,
        pointToLayer=JS("casePoint"),
        style=JS("caseStyle"),  # else dash-leaflet's default for clustered points overrides the markers'
        clusterToLayer=JS("caseCluster"),
        onEachFeature=JS("noop"),
        hideout=common_hideout,
    )
    # a city-sized scope: the view's cases clustered on the server below the grid zooms (assets: layers)
    case_aggregates = dl.GeoJSON(
        id=map_id(name, "cases-agg"),
        url=None,
        pane="gridcc-cases",
        pointToLayer=JS("caseAgg"),
        onEachFeature=JS("noop"),
        hideout=common_hideout,
    )
    case_group = dl.LayerGroup([cases, case_aggregates])
    alerts = dl.GeoJSON(
        id=map_id(name, "alerts"),
        url=urls.get("alerts"),
        pane="gridcc-alerts",
        style=JS("alertStyle"),
        pointToLayer=JS("alertPoint"),
        onEachFeature=JS("alertEach"),
        hideout=common_hideout,
    )
    risks = dl.GeoJSON(
        id=map_id(name, "risks"),
        url=urls.get("risks"),
        pane="gridcc-risks",
        pointToLayer=JS("riskPoint"),
        onEachFeature=JS("noop"),
        hideout=common_hideout,
    )
    hotspots = dl.GeoJSON(
        id=map_id(name, "hotspots"),
        url=urls.get("hotspots"),
        pane="gridcc-hotspots",
        pointToLayer=JS("hotspotPoint"),
        onEachFeature=JS("noop"),
        hideout=common_hideout,
    )
    children: list[Any] = [
        dl.Pane(name="gridcc-units", style={"zIndex": 350}),
        dl.Pane(name="gridcc-hotspots", style={"zIndex": 430}),  # under the cases: a ring around them
        dl.Pane(name="gridcc-alerts", style={"zIndex": 420}),
        dl.Pane(name="gridcc-cases", style={"zIndex": 610}),
        dl.Pane(name=APPROX_PANE, style={"zIndex": 655}),
        dl.Pane(name="gridcc-risks", style={"zIndex": 620}),
    ]
    if tile_url:
        children.append(dl.TileLayer(url=tile_url, maxZoom=19))
    unit_group = dl.LayerGroup(units)
    if options.layer_control:
        children.append(
            dl.LayersControl(
                [
                    dl.Overlay(unit_group, name=t("layer_units", lang), checked=True),
                    dl.Overlay(alerts, name=t("layer_alerts", lang), checked=options.alerts),
                    dl.Overlay(case_group, name=t("layer_cases", lang), checked=options.cases),
                    dl.Overlay(risks, name=t("layer_risks", lang), checked=options.risks),
                    dl.Overlay(hotspots, name=t("layer_hotspots", lang), checked=options.hotspots),
                ],
                position="topright",
                collapsed=False,
            )
        )
    else:
        children += [unit_group, alerts, case_group, risks, hotspots]
    children.append(dl.ZoomControl(position="bottomright"))

    overlays: list[Any] = []
    if options.title:
        overlays.append(html.Div(options.title, className="gridcc-map-title"))
    if options.legend:
        overlays.append(_legend(lang))
    if synthetic:
        overlays.append(html.Div(t("synthetic_note", lang), className="gridcc-synthetic-note"))
    live: list[Any] = [
        dcc.Store(
            id=map_id(name, "versions"),
            data={
                "map": name,
                "base": base_path,
                "url": Urls(base_path).api("versions"),
                "versions": versions or {},
            },
        ),
        # the versions the map's own layers follow (units, cases, alerts, risks): the versions store
        # moves with every layer (the feeds' health alone, on a busy district, every second or so), and
        # each move would run the map's callbacks for nothing (gridcc.layerVersions filters them)
        dcc.Store(
            id=map_id(name, "layer-versions"),
            data={"map": name, "versions": {k: v for k, v in (versions or {}).items() if k in MAP_LAYERS}},
        ),
        dcc.Store(id=map_id(name, "config"), data=config),
    ]
    if options.live:
        live.append(dcc.Interval(id=map_id(name, "tick"), interval=options.tick_ms))
    return html.Div(
        [
            dl.Map(
                children,
                id=map_id(name, "map"),
                bounds=[[south, west], [north, east]],
                center=[(south + north) / 2, (west + east) / 2],  # dash-leaflet's viewport tracking needs it
                boundsOptions={"padding": [20, 20]},
                zoomControl=False,
                attributionControl=bool(tile_url),
                maxZoom=18,
                minZoom=5,
                zoomSnap=0.1,
                className="gridcc-leaflet",
                style={"width": "100%", "height": "100%"},
            ),
            *overlays,
            *live,
        ],
        id=map_id(name, "wrap"),
        className="gridcc-map-wrap lod-street",
    )


def register_map_callbacks(app: Any) -> None:
    """The map's clientside callbacks (all in the browser: they keep working while the server is down)."""

    def mid(part: str) -> dict[str, Any]:
        return {"part": part, "map": MATCH}

    app.clientside_callback(
        ClientsideFunction("gridcc", "tick"),
        Output(mid("versions"), "data"),
        Input(mid("tick"), "n_intervals"),
        State(mid("versions"), "data"),
    )
    app.clientside_callback(
        ClientsideFunction("gridcc", "layerVersions"),
        Output(mid("layer-versions"), "data"),
        Input(mid("versions"), "data"),
        State(mid("layer-versions"), "data"),
    )
    app.clientside_callback(
        ClientsideFunction("gridcc", "lod"),
        [Output(mid(f"units-{lv}"), "url") for lv in UNIT_LEVELS] + [Output(mid("wrap"), "className")],
        Input(mid("map"), "zoom"),
        Input(mid("map"), "bounds"),
        Input(mid("layer-versions"), "data"),
        State(mid("config"), "data"),
        [State(mid(f"units-{lv}"), "url") for lv in UNIT_LEVELS],
        State(mid("wrap"), "className"),
    )
    app.clientside_callback(
        ClientsideFunction("gridcc", "counts"),
        [Output(mid(f"units-{lv}"), "hideout") for lv in UNIT_LEVELS],
        Input(mid("layer-versions"), "data"),
        Input(mid("config"), "data"),  # an input of its own: runs on load even when the tick has no news
        [Input(mid(f"units-{lv}"), "url") for lv in UNIT_LEVELS],  # bbox-loaded layers: counts of that bbox
        [State(mid(f"units-{lv}"), "hideout") for lv in UNIT_LEVELS],
    )
    layer_parts = ("cases", "cases-agg", "alerts", "risks", "hotspots")
    app.clientside_callback(
        ClientsideFunction("gridcc", "layers"),
        [Output(mid(part), "url") for part in layer_parts],
        Input(mid("layer-versions"), "data"),
        Input(mid("config"), "data"),
        Input(mid("map"), "zoom"),  # a scope whose cases come by view: a new view, new URLs
        Input(mid("map"), "bounds"),
        [State(mid(part), "url") for part in layer_parts],
    )
