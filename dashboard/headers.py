"""Security headers on every response the dashboard sends: pages, assets, bundles, layers, the API,
Dash's callbacks, the export, redirects and errors.

- ``Content-Security-Policy``. A page (HTML) may run only scripts from this server and the inline
  scripts it carries itself (Dash's renderer start and its clientside callbacks, allowed by their
  SHA-256, computed from the page sent), styles from here and inline ones (Mantine and Leaflet set
  them), images from here, ``data:``/``blob:`` and the basemap's origin (``tile_url``), and may connect
  only back here. Nothing else (JSON, tiles, CSV, scripts) may be anything but data:
  ``default-src 'none'``. Never framed (``frame-ancestors 'none'``), no plugins, no ``<base>``.
  A response that set its own policy (the sign-in form's stricter one) keeps it.
- ``X-Frame-Options: DENY`` (older browsers), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: same-origin`` (addresses of cases and wall links never leave in a Referer).
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from flask import Flask, Response

from data.settings import Settings

INLINE_SCRIPT = re.compile(r"<script(?P<attrs>(?:\s[^>]*)?)>(?P<body>.*?)</script>", re.S | re.I)
DATA_TYPE = re.compile(r"""\btype\s*=\s*["']?application/json""", re.I)
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
FIXED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def inline_script_hashes(html: str) -> list[str]:
    """The CSP source of each inline script of a page (``'sha256-…'``), data blocks left out."""
    out: list[str] = []
    for match in INLINE_SCRIPT.finditer(html):
        attrs = match.group("attrs") or ""
        if re.search(r"\bsrc\s*=", attrs, re.I) or DATA_TYPE.search(attrs):
            continue
        digest = hashlib.sha256(match.group("body").encode("utf-8")).digest()
        source = f"'sha256-{base64.b64encode(digest).decode()}'"
        if source not in out:
            out.append(source)
    return out


def tile_origin(tile_url: str) -> str:
    """``scheme://host[:port]`` of the basemap template, or "" (none, or not an http(s) URL)."""
    parts = urlsplit(tile_url.replace("{s}", "a"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if tile_url.startswith(f"{parts.scheme}://{{s}}."):
        netloc = "*." + netloc.split(".", 1)[1]  # subdomains a, b, c …
    return f"{parts.scheme}://{netloc}"


def page_policy(settings: Settings, script_hashes: list[str]) -> str:
    tiles = tile_origin(settings.tile_url)
    images = " ".join(s for s in ("'self'", "data:", "blob:", tiles) if s)
    scripts = " ".join(["'self'", *script_hashes])
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src {images}; "
        "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def install_security_headers(server: Flask, settings: Settings) -> None:
    """Add the headers to every response (register after the other after-request hooks that change
    bodies, e.g. compression, so that this one sees the page before it is compressed)."""

    def add(response: Response) -> Response:
        headers = response.headers
        if "Content-Security-Policy" not in headers:
            is_page = response.mimetype == "text/html"
            readable = not (
                response.direct_passthrough or response.is_streamed or headers.get("Content-Encoding")
            )
            if is_page and readable:
                headers["Content-Security-Policy"] = page_policy(
                    settings, inline_script_hashes(response.get_data(as_text=True))
                )
            elif is_page:  # a page whose body cannot be read here: no inline script may run
                headers["Content-Security-Policy"] = page_policy(settings, [])
            else:
                headers["Content-Security-Policy"] = DATA_POLICY
        for name, value in FIXED.items():
            headers.setdefault(name, value)
        return response

    server.after_request(add)
