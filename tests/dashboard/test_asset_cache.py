"""Fingerprinted assets and bundles are kept by the browser for good; unfingerprinted ones revalidate."""

from __future__ import annotations

import re
from typing import Any

from dashboard.asset_cache import FOR_GOOD


def _script_urls(client: Any) -> list[str]:
    page = client.get("/").get_data(as_text=True)
    return re.findall(r'<script src="([^"]+)"', page)


def test_fingerprinted_bundles_and_assets_are_immutable(client) -> None:  # type: ignore[no-untyped-def]
    urls = _script_urls(client)
    bundles = [u for u in urls if u.startswith("/_dash-component-suites/")]
    assets = [u for u in urls if u.startswith("/assets/")]
    assert bundles and assets, urls
    for url in bundles + assets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == FOR_GOOD, url


def test_an_asset_without_its_fingerprint_is_revalidated(client) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/assets/wall.js")
    assert first.status_code == 200
    assert "immutable" not in (first.headers.get("Cache-Control") or "")
    again = client.get("/assets/wall.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_a_missing_fingerprinted_file_is_not_kept(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/assets/no-such-file.js?m=123")
    assert response.status_code == 404
    assert "immutable" not in (response.headers.get("Cache-Control") or "")
