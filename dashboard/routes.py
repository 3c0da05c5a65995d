"""Flask routes serving the map layers and the layer versions.

Every route works through :func:`dashboard.scope.current_scope`: with sign-in required, the signed-in
account's scope, whatever the URL asks for. Payloads come from the Redis layer cache keyed by the
layer, the scope, its current version and its parameters; a ``v=`` in the URL marks a versioned
(cacheable) fetch. Payloads differ per viewer, so every cache header is ``private`` (no shared cache
keeps them), every ETag is made of the scope as well as the body, and responses vary by cookie. A wall
account's alerts carry the grid workers' names without any phone, not even masked; a duty officer's
carry them in full, and each such body sent is audited (``dashboard.alert_audit``). Free text in the
payloads (case titles and addresses, alert headlines, risk titles) goes through
:func:`dashboard.personal.shown`'s masking in the viewer's mode, which is part of the cache key and the
ETag: a wall's payload has no phone or ID number from a sentence either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from flask import Blueprint, Flask, Response, jsonify, request
from sqlalchemy.orm import Session

from data.case_filter import CaseFilter
from data.models.places import LEVELS
from data.scope import AreaScope
from layers import versions
from layers.alerts import build_alerts
from layers.cache import BuildBusy, cached
from layers.case_clusters import MAX_ZOOM, MIN_ZOOM, case_clusters
from layers.cases import build_cases, open_case_count
from layers.counts import unit_counts
from layers.encoding import json_bytes
from layers.hotspots import build_hotspots
from layers.risks import build_risks
from layers.units import STATIC_LEVELS, BBox, build_units, grids_in_bbox, lod_plan, unit_sizes, units_in_bbox

from .alert_audit import audit_full_phones
from .auth import phone_view
from .personal import text_mode
from .redis_or import REDIS_DOWN, redis_or
from .scope import current_scope
from .services import services

GEOBUF = "application/x-protobuf"
JSON = "application/json; charset=utf-8"
IMMUTABLE = "private, max-age=86400, immutable"
VERSIONED = "private, max-age=3600"
SHORT = "private, max-age=60"
REVALIDATE = "no-cache"

T = TypeVar("T")


class BadArgument(Exception):
    """A layer request's argument that does not parse: answered 400 with the message, by the one
    handler the blueprint registers (:func:`_bad`)."""


def _bad(exc: BadArgument) -> Response:
    response = jsonify({"error": str(exc)})
    response.status_code = 400
    response.headers["Cache-Control"] = "no-store"
    return response


def _arg(parse: Callable[[], T]) -> T:
    """``parse()``, its ValueError (a malformed ``bbox=``, ``zoom=``, filter) raised as a 400."""
    try:
        return parse()
    except ValueError as exc:
        raise BadArgument(str(exc)) from exc


def _version(layer: str) -> int:
    return redis_or(0, lambda: versions.read(services().redis)[layer])


def _tz() -> str:
    return services().settings.timezone


def _zoom(text: str | None) -> int:
    """``zoom=`` as an integer map zoom; a ValueError with a message fit for a 400 otherwise."""
    try:
        zoom = int(text or "")
    except ValueError:
        raise ValueError(f"zoom must be an integer from {MIN_ZOOM} to {MAX_ZOOM}") from None
    if not MIN_ZOOM <= zoom <= MAX_ZOOM:
        raise ValueError(f"zoom must be an integer from {MIN_ZOOM} to {MAX_ZOOM}")
    return zoom


def etag(scope: AreaScope, params: str, body: bytes) -> str:
    """An ETag of the body *and* the scope (and the variant in ``params``): two viewers never share one,
    even when their payloads happen to be equal."""
    digest = hashlib.blake2b(digest_size=12)
    for part in (scope.key.encode(), b"\0", params.encode(), b"\0", body):
        digest.update(part)
    return digest.hexdigest()


def without_phones(collection: dict[str, Any]) -> dict[str, Any]:
    """The alerts layer with every grid worker's ``phone`` removed (for a wall: not even masked)."""
    for feature in collection.get("features", []):
        for grid in feature.get("properties", {}).get("grids", []):
            for worker in grid.get("workers", []):
                worker.pop("phone", None)
    return collection


def _alerts_body(session: Session, scope: AreaScope, view: str) -> bytes:
    """The alerts layer for a phone view (``dashboard.auth.phone_view``): grid workers' phones in full
    (duty), masked (everyone else) or absent (a wall)."""
    collection = build_alerts(session, scope, full_phones=view == "full", text_mode=view)
    return json_bytes(without_phones(collection) if view == "none" else collection)


def _body(
    layer: str,
    params: str,
    build: Callable[[Session, AreaScope], bytes],
    ttl: int,
    scope: AreaScope,
    version: int | None = None,
) -> bytes:
    """A layer payload for ``scope`` at ``version`` (the layer's current one by default), from the Redis
    layer cache (built on a miss; built here when Redis is away)."""
    svc = services()
    version = _version(layer) if version is None else version

    def run() -> bytes:
        with svc.sessions() as session:
            return build(session, scope)

    conn = redis_or(None, lambda: svc.redis, also=(RuntimeError,))
    if conn is None:
        return run()
    return cached(conn, layer, scope, version, params, run, ttl=ttl)


def _payload(
    layer: str,
    params: str,
    build: Callable[[Session, AreaScope], bytes],
    mimetype: str,
    versioned_policy: str,
    ttl: int = 3600,
) -> Response:
    scope = current_scope()
    body = _body(layer, params, build, ttl, scope)
    response = Response(body, mimetype=mimetype)
    response.set_etag(etag(scope, params, body))
    response.headers["Cache-Control"] = versioned_policy if request.args.get("v") else REVALIDATE
    response.headers["Vary"] = "Cookie"
    response.make_conditional(request)
    return response


LOD_TTL = 86400


def _lod_body(session: Session, scope: AreaScope) -> bytes:
    return json_bytes(
        lod_plan(
            unit_sizes(session, scope),
            open_cases=open_case_count(session, scope),
            cases_limit=services().settings.map_cases_whole_max,
        )
    )


def _levels(text: str | None) -> list[str]:
    """``levels=district,street`` as known levels in their order (a ValueError, a 400, otherwise)."""
    asked = [lv for lv in (text or "").split(",") if lv]
    unknown = [lv for lv in asked if lv not in LEVELS]
    if not asked or unknown:
        raise ValueError(f"levels must be a comma-separated list of {', '.join(LEVELS)}")
    return [lv for lv in LEVELS if lv in asked]


def _counts_body(levels: list[str]) -> Callable[[Session, AreaScope], bytes]:
    def build(session: Session, scope: AreaScope) -> bytes:
        return json_bytes({lv: unit_counts(session, scope, lv) for lv in levels})

    return build


def first_map_state(scope: AreaScope | None = None) -> dict[str, Any] | None:
    """What a map's callbacks would fetch first, for the viewer's scope, read through the same cache as
    the routes: the level-of-detail plan (``lod.json``) and the whole-scope counts of each level it
    loads whole (``counts.json``), with the versions they are of. None when it cannot be read (the
    map then fetches them as before). ``scope``: the page's (its ``PageContext``), the viewer's when
    not given — never another one, as the layer routes answer the viewer's."""
    try:
        scope = scope if scope is not None else current_scope()
        units, cases = _version("units"), _version("cases")
        plan = json.loads(_body("units", "lod", _lod_body, LOD_TTL, scope, units))
        whole = [lv for lv in LEVELS if lv not in plan.get("bbox", [])]
        params = "counts:" + ",".join(whole)
        counts = json.loads(_body("cases", params, _counts_body(whole), 3600, scope, cases))
    except REDIS_DOWN + (BuildBusy,):
        return None
    return {"plan": plan, "units": units, "counts": counts, "cases": cases}


def _busy(exc: BuildBusy) -> Response:
    """Another process is still building this payload: "ask again" (the map retries on its next tick)
    rather than a second build of the same thing."""
    response = jsonify({"error": str(exc)})
    response.status_code = 503
    response.headers["Retry-After"] = "1"
    response.headers["Cache-Control"] = "no-store"
    return response


def make_blueprint() -> Blueprint:
    bp = Blueprint("gridcc_layers", __name__)
    bp.register_error_handler(BadArgument, _bad)
    bp.register_error_handler(BuildBusy, _busy)

    @bp.get("/layers/units/<level>.pbf")
    def units(level: str) -> Response:
        if level not in STATIC_LEVELS:
            hint = " (grids: /layers/grids.pbf?bbox=west,south,east,north)" if level == "grid" else ""
            raise BadArgument(f"unknown level {level!r}: one of {', '.join(STATIC_LEVELS)}{hint}")
        if "bbox" in request.args:  # a city-sized scope: the level by viewport, like the grids
            bbox = _arg(lambda: BBox.parse(request.args.get("bbox")))
            return _payload(
                "units",
                f"{level}:{bbox.key}",
                lambda session, scope: units_in_bbox(session, scope, level, bbox).body,
                GEOBUF,
                IMMUTABLE,
                ttl=3600,
            )
        return _payload(
            "units",
            level,
            lambda session, scope: build_units(session, scope, level),
            GEOBUF,
            IMMUTABLE,
            ttl=86400,
        )

    @bp.get("/layers/units/lod.json")
    def units_lod() -> Response:
        """The scope's unit count per level, which levels the map loads by viewport bbox and whether it
        loads the open cases by view (decided when the plan is built: once per units version)."""
        return _payload("units", "lod", _lod_body, JSON, VERSIONED, ttl=LOD_TTL)

    @bp.get("/layers/grids.pbf")
    def grids() -> Response:
        bbox = _arg(lambda: BBox.parse(request.args.get("bbox")))
        response = _payload(
            "units",
            "grids:" + bbox.key,
            lambda session, scope: grids_in_bbox(session, scope, bbox).body,
            GEOBUF,
            IMMUTABLE,
            ttl=3600,
        )
        return response

    @bp.get("/layers/cases.pbf")
    def cases() -> Response:
        """The open cases: all of the scope's, or (``bbox=``, a city-sized scope) those of the view."""
        filters = _arg(lambda: CaseFilter.from_args(request.args))
        bbox = _arg(lambda: BBox.parse(request.args.get("bbox"))) if "bbox" in request.args else None
        mode = text_mode()  # free text (titles, addresses) masked for this viewer: a part of the key
        params = filters.key if bbox is None else f"{filters.key}:bbox={bbox.key}"
        return _payload(
            "cases",
            f"{params}:t={mode}",
            lambda session, scope: build_cases(session, scope, filters, bbox, _tz(), mode),
            GEOBUF,
            VERSIONED,
            ttl=3600 if bbox is None else 600,
        )

    @bp.get("/layers/cases/clusters.json")
    def case_cluster_cells() -> Response:
        """The view's open cases clustered on the server (a city-sized scope below the grid zooms)."""
        filters = _arg(lambda: CaseFilter.from_args(request.args))
        bbox = _arg(lambda: BBox.parse(request.args.get("bbox")))
        zoom = _arg(lambda: _zoom(request.args.get("zoom")))
        return _payload(
            "cases",
            f"clusters:{zoom}:{bbox.key}:{filters.key}",
            lambda session, scope: json_bytes(case_clusters(session, scope, zoom, bbox, filters, _tz())),
            JSON,
            VERSIONED,
            ttl=600,
        )

    @bp.get("/layers/alerts.json")
    def alerts() -> Response:
        # expiry is a matter of time, not of a version bump: a short TTL keeps it honest. Three variants
        # per scope: the grid workers' phones in full for a duty officer (who calls them when a warning
        # comes), masked for other roles, absent for a wall. Each full-phones body sent (not a 304; from
        # the cache or not) is audited for the viewer who gets it.
        view = phone_view()
        response = _payload(
            "alerts",
            {"full": "fullphones", "none": "nophones"}.get(view, ""),
            lambda session, scope: _alerts_body(session, scope, view),
            JSON,
            SHORT,
            ttl=30,
        )
        return audit_full_phones(response, view)

    @bp.get("/layers/hotspots.json")
    def hotspot_layer() -> Response:
        # the 类案 change when the cases do: cached under the cases' version
        mode = text_mode()
        return _payload(
            "cases",
            f"hotspots;t={mode}",
            lambda session, scope: json_bytes(build_hotspots(session, scope, text_mode=mode)),
            JSON,
            SHORT,
            ttl=600,
        )

    @bp.get("/layers/risks.json")
    def risks() -> Response:
        mode = text_mode()
        return _payload(
            "risks",
            f"t={mode}",
            lambda session, scope: json_bytes(build_risks(session, scope, text_mode=mode)),
            JSON,
            SHORT,
            ttl=60,
        )

    @bp.get("/layers/counts.json")
    def counts_by_level() -> Response:
        """The whole scope's counts of several levels in one payload: ``?levels=district,street``
        answers ``{"district": {...}, "street": {...}}`` (the levels a map loads whole)."""
        levels = _arg(lambda: _levels(request.args.get("levels")))
        return _payload("cases", "counts:" + ",".join(levels), _counts_body(levels), JSON, VERSIONED)

    @bp.get("/layers/counts/<level>.json")
    def counts(level: str) -> Response:
        if level not in LEVELS:
            raise BadArgument(f"unknown level {level!r}: one of {', '.join(LEVELS)}")
        if "bbox" in request.args:  # only the units a viewport-loaded layer can hold
            bbox = _arg(lambda: BBox.parse(request.args.get("bbox")))
            return _payload(
                "cases",
                f"counts:{level}:{bbox.key}",
                lambda session, scope: json_bytes(unit_counts(session, scope, level, bbox)),
                JSON,
                VERSIONED,
                ttl=600,
            )
        return _payload(
            "cases",
            "counts:" + level,
            lambda session, scope: json_bytes(unit_counts(session, scope, level)),
            JSON,
            VERSIONED,
        )

    @bp.get("/api/versions")
    def api_versions() -> Response:
        """Every layer's version. With ``since=<versions.token>&wait=<s>``: a long poll, answered as soon
        as the versions differ from ``since`` (or after ``wait`` s, at most 25; at once when the process
        holds as many waits as it may: ``X-Gridcc-Wait: full``, the browser then ticks)."""
        current_scope()  # access is decided per request, even for the versions
        since = request.args.get("since", "")[:400]
        wait_s = _arg(lambda: float(request.args.get("wait") or 0))
        if not 0 <= wait_s <= 3600:  # nan fails this too
            raise BadArgument("wait must be a number of seconds")
        how = "none"
        try:
            svc = services()
            if since and wait_s > 0:
                body, how = svc.watch.wait(lambda: versions.read(svc.redis), since, wait_s)
            else:
                body = versions.read(svc.redis)
        except REDIS_DOWN + (redis.BusyLoadingError,):
            # nothing new reaches any screen while Redis is away (the versions, the queues): an open
            # wall reads this and says so (assets/gridcc_map.js tick, wall.js down)
            response = jsonify({"redis": "down"})
            response.status_code = 503
            response.headers["Cache-Control"] = "no-store"
            return response
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Gridcc-Wait"] = how
        return response

    return bp


def register_routes(server: Flask) -> None:
    server.register_blueprint(make_blueprint())
