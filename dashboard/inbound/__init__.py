"""The departments' side of the web tier: HTTP endpoints that machines, not browsers, call.

``POST /api/loop/answers`` — a department's answer to an instruction (报到 / 退回 / 办理情况 / 办结),
authenticated by its own key: an HMAC-SHA256 signature over the timestamp and the body with the
secret its ``[[endpoint]]`` names (``docs/loop.md``). A recorded answer bumps the ``loop`` layer
version (the wall's loop figures). The checks and the writing are
:func:`data.loop.answers.receive`'s; this blueprint only reads the request and writes the JSON answer.
It needs no sign-in and no CSRF token (``dashboard.auth.csrf.SIGNED_PATHS``): the signature is its
authentication, and a browser cannot make one.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from data.loop.answers import receive
from data.loop.endpoints import EndpointCache, EndpointConfigError
from data.settings import Settings
from layers import versions

from ..redis_or import redis_or
from ..services import services

ANSWERS = "/api/loop/answers"
MAX_BODY = 64 * 1024


def _json(status: int, body: dict[str, object]) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def make_inbound_blueprint(settings: Settings) -> Blueprint:
    blueprint = Blueprint("gridcc_inbound", __name__)
    endpoints = EndpointCache(settings.effective_feeds_file)

    @blueprint.post(ANSWERS)
    def answers() -> Response:
        if (request.content_length or 0) > MAX_BODY:
            return _json(413, {"error": "too_large", "message": f"the body is larger than {MAX_BODY} bytes"})
        body = request.get_data(cache=False)[: MAX_BODY + 1]
        if len(body) > MAX_BODY:
            return _json(413, {"error": "too_large", "message": f"the body is larger than {MAX_BODY} bytes"})
        try:
            known = endpoints.get()
        except EndpointConfigError as exc:
            return _json(
                503, {"error": "unavailable", "message": f"the endpoints cannot be read: {exc}"[:300]}
            )
        outcome = receive(
            services().sessions,
            known,
            dict(request.headers.items()),
            body,
            settings.loop_answer_max_age_seconds,
            remote_addr=request.remote_addr or "",
        )
        if outcome.status == 200:  # an answer was recorded: the wall's loop figures, ticker (and 叫应) move
            layers = list(outcome.layers)
            redis_or(None, lambda: versions.bump(services().redis, layers), also=(RuntimeError,))
        return _json(outcome.status, outcome.body)

    return blueprint
