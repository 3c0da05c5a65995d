"""The app's one URL builder (datasette's ``Urls`` is the model): every local link a screen writes.

``Urls(base_path, lang)`` knows the path prefix the app is served under (Dash's
``requests_pathname_prefix``: ``/`` or ``/gridcc/``) and the viewer's language, which every link keeps
(``?lang=en``; Chinese is the default and adds nothing)::

    urls = ctx.urls                      # in a layout
    urls = Urls.current(lang)            # in a callback (reads the prefix from the running Dash app)
    urls.case(42)                        # /cases/42?lang=en
    urls.overdue("500151")               # /overdue?unit=500151&lang=en
    urls.feeds(), urls.audit(), urls.duty("?street=500151001")
    urls.switch("/feeds", query, "en")   # this page in the other language, its other parameters kept
    urls.static("wall.js")               # /assets/wall.js
    urls.api("versions"), urls.layers()  # JSON endpoints and the map's layer URLs, for the browser

Query values are written as given (screen codes and ids, never free text), as the hand-built links were.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from data.text import lang_params

EXPORT_PATH = "/export/cases.csv"
ASSETS_PATH = "/assets/"


@dataclass(frozen=True)
class Urls:
    base_path: str = "/"
    lang: str = "zh-CN"

    @classmethod
    def current(cls, lang: str = "zh-CN") -> Urls:
        """The URLs of the Dash app serving this request or callback."""
        from dash import get_relative_path

        return cls(get_relative_path("/"), lang)

    def path(self, path: str, **params: str) -> str:
        """``path`` under the base, with ``params`` and the language: ``/overdue?unit=500151&lang=en``."""
        query = dict(params) | lang_params(self.lang)
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        return self.base_path.rstrip("/") + path + (f"?{qs}" if qs else "")

    def wall(self) -> str:
        return self.path("/")

    def duty(self, search: str = "") -> str:
        """``/duty`` with a duty view's URL query as it stands (``?street=…&lang=en``, or "")."""
        return self.base_path.rstrip("/") + "/duty" + (search or "")

    def overdue(self, unit: str | None = None) -> str:
        """``/overdue`` at ``unit`` (the district when None)."""
        return self.path("/overdue", **({"unit": unit} if unit else {}))

    def case(self, case_id: int | str) -> str:
        return self.path(f"/cases/{case_id}")

    def hotspot(self, key: str, days: int | None = None) -> str:
        """``/hotspots/<key>``: the cases behind one 类案 (:attr:`data.queries.Hotspot.key`)."""
        return self.path(f"/hotspots/{quote(key, safe='~.-_')}", **({"days": str(days)} if days else {}))

    def feeds(self) -> str:
        return self.path("/feeds")

    def audit(self, **params: str) -> str:
        return self.path("/audit", **params)

    def export(self, search: str = "") -> str:
        """The CSV export of a duty view (its URL query as it stands, ``?street=…&lang=en`` or "")."""
        return self.base_path.rstrip("/") + EXPORT_PATH + (search or "")

    def static(self, name: str) -> str:
        """A file of ``dashboard/assets/``."""
        return self.base_path.rstrip("/") + ASSETS_PATH + name

    def api(self, name: str) -> str:
        """A JSON endpoint of the app: ``/api/versions``, ``/api/wall``."""
        return self.base_path.rstrip("/") + "/api/" + name

    def layers(self) -> dict[str, str]:
        """The map's data URLs, for the browser (``assets/gridcc_map.js`` fills in ``{level}`` and adds
        the query: version, bbox, zoom, filters). The routes are :mod:`dashboard.routes`."""
        root = self.base_path.rstrip("/") + "/layers/"
        return {
            "lod": root + "units/lod.json",
            "units": root + "units/{level}.pbf",
            "grids": root + "grids.pbf",
            "counts": root + "counts/{level}.json",
            "counts_all": root + "counts.json",  # the levels a map loads whole, in one payload
            "cases": root + "cases.pbf",
            "clusters": root + "cases/clusters.json",
            "alerts": root + "alerts.json",
            "risks": root + "risks.json",
            "hotspots": root + "hotspots.json",
        }

    def switch(self, path: str, query: Mapping[str, str], lang: str) -> str:
        """``path`` in ``lang``, with the page's other query parameters kept."""
        params = {k: v for k, v in query.items() if k != "lang"} | lang_params(lang)
        qs = urlencode(params)
        return self.base_path.rstrip("/") + path + (f"?{qs}" if qs else "")

    def in_lang(self, lang: str) -> Urls:
        return Urls(self.base_path, lang)
