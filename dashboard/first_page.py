"""A page that opens without waiting: its first layout and the callback list come in the HTML itself,
and a component library's bundle only on the pages that use it.

A plain Dash page waits, after its bundles, for ``GET _dash-layout``, then ``GET _dash-dependencies``,
then the router's first callback (``POST _dash-update-component``) before it has anything to show. Here:

* :class:`GridccDash` writes both answers into the page as JSON data blocks (``gridcc-first-layout``,
  ``gridcc-first-dependencies``); ``assets/gridcc_first.js`` hands them to the renderer when it asks
  (once each), so neither costs a round trip. A data block runs nothing: the page's CSP is unchanged;
* the first layout already holds the page for the URL (:func:`page_layout`), and the ``dcc.Location``
  its path and query, so the router's callback does not run on load (``prevent_initial_call``), only
  when a link inside the app changes the path;
* a bundle that Dash would load on every page (AG Grid, 345 kB) is left out of the pages that do not
  list it in ``Page.bundles``. The navigation's links to such a page load it in full (``nav.py``); any
  other link inside the app to one reloads the page (``gridcc-bundles``: what this page loaded and which
  paths need what; ``assets/gridcc_first.js``, ``gridcc_page.bundles``).

``GET _dash-layout`` still answers (the page for the ``Referer``), for a browser that asks it anyway.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import dash
from dash._utils import to_json
from flask import has_request_context, request

# component libraries Dash would load on every page, loaded only where a page lists them in its bundles
OPTIONAL_BUNDLES = ("dash_ag_grid",)
MARK = "<!--gridcc-first-->"
SCRIPT_TAG = re.compile(r'<script src="[^"]*/_dash-component-suites/(?P<ns>[^/"]+)/[^"]*"></script>\n?')


def data_block(block_id: str, json_text: str) -> str:
    """JSON as a ``<script type="application/json">`` that no ``<`` in it can close early."""
    safe = json_text.replace("<", "\\u003c")  # a JSON string escape: the same text once parsed
    return f'<script id="{block_id}" type="application/json">{safe}</script>'


def path_pattern(path: str) -> str:
    """A page's path (``/cases/<id>``) as the regular expression, for JavaScript too, that its
    ``Page.match`` applies (``^/cases/[^/]+/?$``)."""
    parts = re.split(r"(<[a-z_]+>)", path)
    return "^" + "".join("[^/]+" if p.startswith("<") else re.escape(p) for p in parts) + "/?$"


def where() -> tuple[str | None, str]:
    """The browser's path and query for this request: the page's own (the page itself), or its
    ``Referer``'s (``_dash-layout`` asked by the browser); ``(None, "")`` when neither is known."""
    if not has_request_context():
        return None, ""
    if request.path.endswith("/_dash-layout"):
        referrer = request.referrer or ""
        parts = urlsplit(referrer)
        if not parts.path:
            return None, ""
        return parts.path, f"?{parts.query}" if parts.query else ""
    query = request.query_string.decode("latin-1")
    return request.script_root + request.path, f"?{query}" if query else ""


class GridccDash(dash.Dash):
    """Dash with the first layout and the callback list in the page, and optional bundles per page.

    ``bundles_for(path)`` tells which of :data:`OPTIONAL_BUNDLES` the page at ``path`` uses."""

    bundles_for: Callable[[str], frozenset[str]] = staticmethod(lambda path: frozenset(OPTIONAL_BUNDLES))

    def _generate_scripts_html(self) -> str:
        scripts = super()._generate_scripts_html()
        if not has_request_context() or request.path.endswith("/_dash-layout"):
            return scripts
        path, _ = where()
        wanted = self.bundles_for(path or "/")

        def keep(match: re.Match[str]) -> str:
            ns = match.group("ns")
            return "" if ns in OPTIONAL_BUNDLES and ns not in wanted else match.group(0)

        return SCRIPT_TAG.sub(keep, scripts)

    def index(self, *args: Any, **kwargs: Any) -> str:
        page = super().index(*args, **kwargs)
        blocks = data_block("gridcc-first-layout", to_json(self.get_layout())) + data_block(
            "gridcc-first-dependencies", to_json(self._callback_list)
        )
        return page.replace(MARK, blocks, 1)
