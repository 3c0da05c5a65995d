"""A click on one of many pattern-matched buttons, turned into a request in a store in the browser.

A server callback whose inputs are the buttons themselves loses its answer when a refresh redraws them
while the request is in flight (Dash drops the answer of a callback whose inputs changed, and its
renderer may throw on the vanished inputs). So a small clientside callback writes the fired button's id
(without its ``type``) and the time into a store, and the server acts on that store."""

from __future__ import annotations

from typing import Any

from dash import Input, Output

# The fired button's id fields (all but ``type``) and ``at``; nothing for buttons merely (re)drawn.
CLICK_REQUEST = """
function (clicks) {
    var ctx = window.dash_clientside.callback_context;
    var fired = (ctx.triggered || []).filter(function (t) { return t.value; });
    if (!fired.length) { return window.dash_clientside.no_update; }
    var id;
    try { id = JSON.parse(fired[0].prop_id.split(".")[0]); }
    catch (e) { return window.dash_clientside.no_update; }
    var out = {at: Date.now()};
    Object.keys(id).forEach(function (k) { if (k !== "type") { out[k] = String(id[k]); } });
    return out;
}
"""


def register_click_request(app: Any, button_id: dict[str, Any], store_id: str) -> None:
    """Clicks on the buttons matching ``button_id`` (other keys ``ALL``) become requests in ``store_id``."""
    app.clientside_callback(
        CLICK_REQUEST,
        Output(store_id, "data"),
        Input(button_id, "n_clicks"),
        prevent_initial_call=True,
    )
