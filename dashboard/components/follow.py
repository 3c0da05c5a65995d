"""A page that reads its data again when some layer versions move (``/feeds``, the case page).

The page holds three parts: a versions store that the browser's tick (``gridcc.tick`` in
``assets/gridcc_map.js``: one ``/api/versions`` long poll, answered the moment a version moves) keeps
current; a clientside step that passes on a token of the versions the page cares about only when it
changed; and the store holding that token, which the page's own server callback takes as its input. No
database query runs on the tick itself, and a change reaches the page in the long poll's time (tens of
milliseconds) instead of the next interval's.
"""

from __future__ import annotations

import json
from typing import Any

from dash import ClientsideFunction, Input, Output, State, dcc

from layers import versions

from ..redis_or import redis_or
from ..services import Services

TICK_MS = 1000

# The token of the chosen layers' versions, passed on only when it moved (the tick's store changes for
# any layer). The same string as ``moved_token``.
_ONLY = """
function (store, seen) {
    var v = store && store.versions;
    if (!v) { return window.dash_clientside.no_update; }
    var token = %s.map(function (k) { return k + ":" + (v[k] === undefined ? -1 : v[k]); }).join(",");
    if (token === seen) { return window.dash_clientside.no_update; }
    return token;
}
"""


def moved_token(svc: Services, layers: tuple[str, ...]) -> str:
    """The token of ``layers``' versions as they are now (``-1`` each while Redis is away)."""
    none: dict[str, int] = {}
    now = redis_or(none, lambda: versions.read(svc.redis))
    return ",".join(f"{layer}:{int(now.get(layer, -1))}" for layer in layers)


def parts(
    prefix: str, svc: Services, versions_url: str, base_path: str, layers: tuple[str, ...]
) -> list[Any]:
    """The page's stores and tick: ``<prefix>-versions``, ``<prefix>-moved`` and ``<prefix>-tick``.
    The page's refresh callback takes ``Input(f"{prefix}-moved", "data")``."""
    return [
        dcc.Store(
            id=f"{prefix}-versions",
            # the tick asks this URL for the versions: without it, nothing moved
            data={"map": f"{prefix}-page", "base": base_path, "url": versions_url, "versions": {}},
        ),
        dcc.Store(id=f"{prefix}-moved", data=moved_token(svc, layers)),
        dcc.Interval(id=f"{prefix}-tick", interval=TICK_MS),
    ]


def register(app: Any, prefix: str, layers: tuple[str, ...]) -> None:
    """The tick and the clientside step of the page whose parts carry ``prefix``."""
    for layer in layers:
        if layer not in versions.LAYERS:
            raise ValueError(f"unknown layer {layer!r}")
    app.clientside_callback(
        ClientsideFunction("gridcc", "tick"),
        Output(f"{prefix}-versions", "data"),
        Input(f"{prefix}-tick", "n_intervals"),
        State(f"{prefix}-versions", "data"),
    )
    app.clientside_callback(
        _ONLY % json.dumps(list(layers)),
        Output(f"{prefix}-moved", "data"),
        Input(f"{prefix}-versions", "data"),
        State(f"{prefix}-moved", "data"),
    )
