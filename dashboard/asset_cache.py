"""Browser caching of the files a page loads: fingerprinted ones are kept for good.

Dash names each asset and bundle with its modification time (``/assets/wall.js?m=1796530573.5`` and
``/_dash-component-suites/dash_leaflet/dash_leaflet.v1_1_3m1796530644.js``): a changed file gets a new
URL, so the old URL's content never changes and the browser may keep it without asking again
(``immutable``). Flask sends ``/assets`` as ``no-cache`` (revalidated on every load) and Dash's bundles
with a year's ``max-age`` but no ``immutable`` (revalidated on a reload). A URL without its fingerprint
keeps Flask's revalidation (an ETag, 304 at worst).
"""

from __future__ import annotations

from dash.fingerprint import check_fingerprint
from flask import Flask, Response, request

FOR_GOOD = "private, max-age=31536000, immutable"  # private: behind sign-in, never in a shared cache


def fingerprinted(path: str, args: dict[str, str]) -> bool:
    """Whether a request names a file by its fingerprint (so its content can never change)."""
    if path.startswith("/assets/"):
        return bool(args.get("m"))
    if path.startswith("/_dash-component-suites/"):
        return check_fingerprint(path)[1]  # Dash's own reading of ``.v<version>m<mtime>.``
    return False


def install_asset_cache(server: Flask) -> None:
    """Mark successful answers for fingerprinted files as kept for good."""

    def mark(response: Response) -> Response:
        if response.status_code in (200, 304) and fingerprinted(request.path, dict(request.args)):
            response.headers["Cache-Control"] = FOR_GOOD
        return response

    server.after_request(mark)
