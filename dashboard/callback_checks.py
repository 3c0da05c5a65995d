"""A Dash callback request whose body is not the shape Dash's renderer sends gets 400, not 500.

Dash's dispatcher indexes the body as it finds it (``body["output"]``, ``inputs[i]["id"]`` …), so a
forged or truncated ``POST /_dash-update-component`` (not an object, an unknown output, inputs that
are not a list of ``{"id", "property"}``, fewer inputs than the callback takes) raised inside Dash and
answered 500. :func:`install_callback_checks` refuses those before Dash sees them; an error inside a
callback itself is still a 500 (a bug to fix, not bad input).
"""

from __future__ import annotations

from typing import Any

import dash
from flask import Response, jsonify, request

PATH = "/_dash-update-component"


def _prop(item: object) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("id"), str | dict)
        and isinstance(item.get("property"), str)
    )


def _props(value: object) -> bool:
    """One ``{"id", "property"}`` or a list of them (a pattern-matching ``ALL``)."""
    return _prop(value) or (isinstance(value, list) and all(_prop(v) for v in value))


def body_problem(body: object, callback_map: dict[str, Any]) -> str | None:
    """What is wrong with a callback request body (``None``: the shape Dash expects)."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        return "unknown callback output"
    spec = callback_map[output]
    inputs, state = body.get("inputs", []), body.get("state", [])
    outputs, changed = body.get("outputs", []), body.get("changedPropIds", [])
    if not isinstance(inputs, list) or not all(_props(i) for i in inputs):
        return "inputs must be a list of {id, property, value}"
    if not isinstance(state, list) or not all(_props(s) for s in state):
        return "state must be a list of {id, property, value}"
    if len(inputs) != len(spec.get("inputs", [])) or len(state) != len(spec.get("state", [])):
        return "the number of inputs or states does not match the callback"
    if not (_props(outputs) or (isinstance(outputs, list) and all(_props(o) for o in outputs))):
        return "outputs must be {id, property} or a list of them"
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds must be a list of strings"
    return None


def install_callback_checks(app: dash.Dash) -> None:
    """Refuse malformed callback requests with 400 (runs after sign-in and CSRF checks)."""

    def check() -> Response | None:
        if request.path != PATH or request.method != "POST":
            return None
        problem = body_problem(request.get_json(silent=True), app.callback_map)
        if problem is None:
            return None
        response = jsonify({"error": problem})
        response.status_code = 400
        response.headers["Cache-Control"] = "no-store"
        return response

    app.server.before_request(check)
