"""Bundles, pages and layer payloads are compressed for clients that accept it (plotly alone is 4.8 MB)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from dashboard.app import create_app
from data import migrate
from data.db import make_engine
from data.settings import Settings


def test_scripts_are_gzipped_and_identical_once_unzipped(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", auth_required=False)  # the wall's page itself, not /signin
    migrate.upgrade(make_engine(settings))
    client = create_app(settings).server.test_client()
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    html = gzip.decompress(page.get_data()).decode() if page.headers.get("Content-Encoding") else page.text
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+\.js[^"]*)"', html)
    assert scripts
    for url in scripts[:3]:
        plain = client.get(url).get_data()
        packed = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert packed.headers["Content-Encoding"] == "gzip"
        body = packed.get_data()
        assert len(body) < len(plain) and gzip.decompress(body) == plain
