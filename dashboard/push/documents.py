"""CAP push and sensor push: ``POST /api/push/cap`` (a CAP 1.2 alert, or an ATOM index of them) and
``POST /api/push/sensor`` (the sensor alarms' JSON, ``docs/feeds.md``), each with its key in the
``X-Api-Key`` header (or ``?api_key=``).

The body is not read here beyond its size: the workers parse it with the feed's own parser — the same
schema check and XML entity defences as a poll — and store it in one transaction
(``workers.jobs.push``). The JSON answer names what was stored (gridcc's ids) and what was quarantined,
with the reasons; a document nothing of which could be stored is a 400. A push refused here (its key,
its size, a key whose feed takes another protocol) leaves its quarantine row (:func:`.gate.keep_refusal`);
one the workers refused has theirs.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from data.push.refusals import READ_BYTES

from .gate import Client, Refused, admit, body_of, client_for, count, ingest, keep_refusal, token_of

CAP = "/api/push/cap"
SENSOR = "/api/push/sensor"


def _json(status: int, body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _push(protocol: str) -> Response:
    client: Client | None = None
    body = b""
    try:
        client = client_for(token_of(request))
        admit(request, client, protocol)
        body = body_of(request, client)
        answer = ingest(client, body, request.content_type, protocol=protocol)
    except Refused as exc:
        # the body as far as it was read: never more than READ_BYTES of one that was refused unread
        keep_refusal(request, client, exc, body or exc.head or request.stream.read(READ_BYTES))
        return _json(exc.status, {"error": exc.reason})
    status = answer.get("status")
    if status == "wrong_protocol" or status == "unknown_feed" or status == "busy":
        count(client, "bad")
        code = 503 if status == "busy" else 409
        keep_refusal(request, client, Refused(code, str(answer.get("error", status))), body)
        return _json(code, {"error": answer.get("error", status)})
    if status == "index":
        count(client, "accepted")
        return _json(202, {"status": "index", "links": answer.get("links", 0), "poll": "enqueued"})
    stored = answer.get("stored", [])
    quarantined = answer.get("quarantined", [])
    figures = answer.get("counts", {})
    if not stored and quarantined and not figures.get("ignored"):
        count(client, "bad")
        return _json(400, {"error": "nothing could be stored", "quarantined": quarantined})
    count(client, "accepted")
    return _json(200, {"status": "ok", "stored": stored, "quarantined": quarantined, "counts": figures})


def register(blueprint: Blueprint) -> None:
    @blueprint.post(CAP)
    def cap() -> Response:
        return _push("cap")

    @blueprint.post(SENSOR)
    def sensor() -> Response:
        return _push("sensor")
