"""Flask routes serving the map layers and the layer versions.

Every route works through :func:`dashboard.scope.current_scope`: with sign-in required, the signed-in
account's scope, whatever the URL asks for. Payloads come from the Redis layer cache keyed by the
layer, the scope, its current version and its parameters; a ``v=`` in the URL marks a versioned
(cacheable) fetch. Payloads differ per viewer, so every cache header is ``private`` (no shared cache
keeps them), every ETag is made of the scope as well as the body, and responses vary by cookie. A wall
account's alerts carry the grid workers' names without any phone, not even masked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import redis
from flask import Blueprint, Flask, Response, jsonify, request
from sqlalchemy.orm import Session

from data.models.places import LEVELS
from data.scope import AreaScope
from layers import versions
from layers.alerts import build_alerts
from layers.cache import cached
from layers.cases import CaseFilters, build_cases
from layers.counts import unit_counts
from layers.encoding import json_bytes
from layers.risks import build_risks
from layers.units import STATIC_LEVELS, BBox, build_units, grids_in_bbox, lod_plan, unit_sizes, units_in_bbox

from .auth import phone_view
from .scope import current_scope
from .services import services

GEOBUF = "application/x-protobuf"
JSON = "application/json; charset=utf-8"
IMMUTABLE = "private, max-age=86400, immutable"
VERSIONED = "private, max-age=3600"
SHORT = "private, max-age=60"
REVALIDATE = "no-cache"


def _bad(message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = 400
    response.headers["Cache-Control"] = "no-store"
    return response


def _version(layer: str) -> int:
    try:
        return versions.read(services().redis)[layer]
    except (redis.ConnectionError, redis.TimeoutError):
        return 0


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


def _alerts_body(session: Session, scope: AreaScope, phones: bool) -> bytes:
    collection = build_alerts(session, scope)
    return json_bytes(collection if phones else without_phones(collection))


def _payload(
    layer: str,
    params: str,
    build: Callable[[Session, AreaScope], bytes],
    mimetype: str,
    versioned_policy: str,
    ttl: int = 3600,
) -> Response:
    scope = current_scope()
    svc = services()
    version = _version(layer)

    def run() -> bytes:
        with svc.sessions() as session:
            return build(session, scope)

    try:
        conn = svc.redis
    except (redis.ConnectionError, redis.TimeoutError, RuntimeError):
        body = run()
    else:
        body = cached(conn, layer, scope, version, params, run, ttl=ttl)
    response = Response(body, mimetype=mimetype)
    response.set_etag(etag(scope, params, body))
    response.headers["Cache-Control"] = versioned_policy if request.args.get("v") else REVALIDATE
    response.headers["Vary"] = "Cookie"
    response.make_conditional(request)
    return response


def make_blueprint() -> Blueprint:
    bp = Blueprint("gridcc_layers", __name__)

    @bp.get("/layers/units/<level>.pbf")
    def units(level: str) -> Response:
        if level not in STATIC_LEVELS:
            hint = " (grids: /layers/grids.pbf?bbox=west,south,east,north)" if level == "grid" else ""
            return _bad(f"unknown level {level!r}: one of {', '.join(STATIC_LEVELS)}{hint}")
        if "bbox" in request.args:  # a city-sized scope: the level by viewport, like the grids
            try:
                bbox = BBox.parse(request.args.get("bbox"))
            except ValueError as exc:
                return _bad(str(exc))
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
        """The scope's unit count per level and which levels the map loads by viewport bbox."""
        return _payload(
            "units",
            "lod",
            lambda session, scope: json_bytes(lod_plan(unit_sizes(session, scope))),
            JSON,
            VERSIONED,
            ttl=86400,
        )

    @bp.get("/layers/grids.pbf")
    def grids() -> Response:
        try:
            bbox = BBox.parse(request.args.get("bbox"))
        except ValueError as exc:
            return _bad(str(exc))
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
        try:
            filters = CaseFilters.from_args(request.args)
        except ValueError as exc:
            return _bad(str(exc))
        return _payload(
            "cases",
            filters.key,
            lambda session, scope: build_cases(session, scope, filters),
            GEOBUF,
            VERSIONED,
        )

    @bp.get("/layers/alerts.json")
    def alerts() -> Response:
        # expiry is a matter of time, not of a version bump: a short TTL keeps it honest
        phones = phone_view() != "none"
        return _payload(
            "alerts",
            "" if phones else "nophones",
            lambda session, scope: _alerts_body(session, scope, phones),
            JSON,
            SHORT,
            ttl=30,
        )

    @bp.get("/layers/risks.json")
    def risks() -> Response:
        return _payload(
            "risks", "", lambda session, scope: json_bytes(build_risks(session, scope)), JSON, SHORT, ttl=60
        )

    @bp.get("/layers/counts/<level>.json")
    def counts(level: str) -> Response:
        if level not in LEVELS:
            return _bad(f"unknown level {level!r}: one of {', '.join(LEVELS)}")
        if "bbox" in request.args:  # only the units a viewport-loaded layer can hold
            try:
                bbox = BBox.parse(request.args.get("bbox"))
            except ValueError as exc:
                return _bad(str(exc))
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
        current_scope()  # access is decided per request, even for the versions
        try:
            body = versions.read(services().redis)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            response = jsonify({"error": f"redis unavailable: {exc}"})
            response.status_code = 503
            response.headers["Cache-Control"] = "no-store"
            return response
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response

    return bp


def register_routes(server: Flask) -> None:
    server.register_blueprint(make_blueprint())
