"""The cluster radius has one home (layers.case_clusters.RADIUS_PX): the server's clusters, the browser's
supercluster and the bubble size in gridcc_map.js all take it from there, never from a literal of their
own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dashboard.components.map import CLUSTER, map_view
from layers.case_clusters import RADIUS_PX

MAP_JS = Path(__file__).resolve().parents[2] / "dashboard" / "assets" / "gridcc_map.js"


def _walk(component: Any) -> Any:
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        yield from _walk(child)


def test_one_cluster_radius_for_server_browser_and_bubbles() -> None:
    assert CLUSTER["radius"] == RADIUS_PX
    view = map_view("test", bounds=None, lang="zh-CN")
    clustered = [c for c in _walk(view) if getattr(c, "superClusterOptions", None)]
    assert [c.superClusterOptions["radius"] for c in clustered] == [RADIUS_PX]
    hideouts = [c.hideout for c in _walk(view) if isinstance(getattr(c, "hideout", None), dict)]
    assert {h["cluster_radius"] for h in hideouts if "approx_pane" in h} == {RADIUS_PX}
    js = MAP_JS.read_text(encoding="utf-8")
    assert not re.search(rf"\b{RADIUS_PX}\b", js), "gridcc_map.js writes the cluster radius as a literal"
    assert "h.cluster_radius" in js
