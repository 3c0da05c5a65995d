"""One smoke test in real Chromium: the map page draws its units, clusters, alert and legend, with no
console error and no request leaving 127.0.0.1; feed text shows as text; after a server restart the map
picks up a new layer version by itself.

Set GRIDCC_SCREENSHOTS=1 to write the README's screenshot to screenshots/map.png.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from data.db import transaction
from data.models import Case
from data.settings import Settings
from layers import versions
from tests.browser.conftest import open_page
from tests.browser.demo_data import XSS, seed_demo
from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

SHOWN_LABELS = """() => [...document.querySelectorAll('.leaflet-tooltip.unit-label')].filter((l) => {
  const r = l.getBoundingClientRect();
  return r.width > 0 && getComputedStyle(l).visibility !== 'hidden';
}).length"""

# Two shown labels side by side need at least LABEL_GAP_X px between their boxes (edge to edge, two names
# read as one); one above the other, their line boxes may overlap by up to LABEL_SLACK_Y px (the boxes are
# taller than the glyphs).
LABEL_GAP_X = 4
LABEL_SLACK_Y = 5
LABEL_CLASHES = """([gapX, slackY]) => {
  const shown = [...document.querySelectorAll('.leaflet-tooltip.unit-label')].filter((l) => {
    const r = l.getBoundingClientRect();
    return r.width > 0 && getComputedStyle(l).visibility !== 'hidden';
  });
  const rects = shown.map((l) => [l.innerText, l.getBoundingClientRect()]);
  const out = [];
  for (let i = 0; i < rects.length; i++) for (let j = i + 1; j < rects.length; j++) {
    const [ta, a] = rects[i], [tb, b] = rects[j];
    const gap = Math.max(a.left, b.left) - Math.min(a.right, b.right);  // < 0: they overlap
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (gap < gapX && h > slackY) out.push([ta, tb, Math.round(gap * 10) / 10, Math.round(h)]);
  }
  return out;
}"""


def settle_labels(page: Any, quiet_ms: int = 600, timeout: int = 15000) -> None:
    """Wait until the shown labels' text and boxes stayed the same for ``quiet_ms`` (the declutter ran
    on the last change); a page that never settles fails here."""
    page.wait_for_function(
        """(quiet) => {
          const now = [...document.querySelectorAll('.leaflet-tooltip.unit-label')].map((l) => {
            const r = l.getBoundingClientRect();
            return l.innerText + Math.round(r.left) + ',' + Math.round(r.top) + ',' + Math.round(r.width)
              + getComputedStyle(l).visibility;
          }).join('|');
          const w = window.__gridccLabelState || (window.__gridccLabelState = {s: null, t: 0});
          if (w.s !== now) { w.s = now; w.t = performance.now(); return false; }
          return performance.now() - w.t >= quiet;
        }""",
        arg=quiet_ms,
        polling=100,
        timeout=timeout,
    )


def label_clashes(page: Any) -> list[Any]:
    """Pairs of shown unit labels closer than the declutter allows: [text, text, gap px, overlap px]."""
    return list(page.evaluate(LABEL_CLASHES, [LABEL_GAP_X, LABEL_SLACK_Y]))


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


class Server:
    """The app under werkzeug in a thread; can be stopped and started again on the same port."""

    def __init__(self, wsgi: object) -> None:
        self.wsgi = wsgi
        self.port = 0
        self.httpd: BaseWSGIServer | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.httpd = make_server("127.0.0.1", self.port, self.wsgi, threaded=True)  # type: ignore[arg-type]
        self.port = self.httpd.server_port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _hierarchy(session) -> None:  # type: ignore[no-untyped-def]
    try:
        from data.geo.generate import generate
    except ImportError:  # the generator not there yet: the hand-made district
        from tests.layers.hierarchy import build_hierarchy

        build_hierarchy(session)
        return
    generate(session, ["500151"])


def serve_map_page(  # type: ignore[no-untyped-def]
    session_factory, database_url: str, redis_url: str, redis_conn, tmp_path: Path, **settings: Any
) -> Iterator[Server]:
    """The map page alone (``/``) on the demo district and its sample data, under werkzeug in a thread,
    with sign-in off (the map's drawing, not access: test_access.py signs in on the demo) and any other
    ``settings``."""
    from dashboard.app import create_app
    from dashboard.map.page import PAGE as MAP_PAGE
    from dashboard.page import PageRegistry
    from dashboard.services import services

    with transaction(session_factory) as session:
        _hierarchy(session)
        seed_demo(session)
    versions.bump(redis_conn, ["units", "cases", "alerts", "risks"])
    app = create_app(
        Settings(
            data_dir=tmp_path / "var",
            database_url=database_url,
            redis_url=redis_url,
            auth_required=False,
            **settings,
        ),
        pages=PageRegistry([MAP_PAGE]),  # the map alone, whatever else is at /
    )
    server = Server(app.server)
    server.start()
    yield server
    server.stop()
    services(app.server).close()


@pytest.fixture
def served(engine, session_factory, database_url, redis_url, redis_conn, tmp_path) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    yield from serve_map_page(session_factory, database_url, redis_url, redis_conn, tmp_path)


def test_map_smoke(served: Server, session_factory, redis_conn, tmp_path, browser) -> None:  # type: ignore[no-untyped-def]
    # the session's one Chromium (conftest's ``browser``): a second sync_playwright in the same session
    # fails ("Sync API inside the asyncio loop") once another browser test has started the first
    origin = served.url
    page, log = open_page(browser)
    requested, errors = log.requests, log.console_errors
    try:
        page.add_init_script("window.__alerts = []; window.alert = (m) => window.__alerts.push(String(m));")
        # the server is stopped on purpose below: failed fetches then are expected, not errors
        page.goto(origin + "/")

        # streets filled (the district fits the screen at street zoom), labelled in Chinese
        page.wait_for_function("document.querySelectorAll('path.unit-street').length >= 2", timeout=30000)
        page.wait_for_function("document.querySelectorAll('path.unit-district').length == 1", timeout=30000)
        page.wait_for_selector(".case-cluster", timeout=30000)
        page.wait_for_selector("path.alert-area", timeout=30000)
        page.wait_for_selector(".risk-marker", timeout=30000)
        labels = page.locator(".unit-label-street .name").all_inner_texts()
        assert any(label.endswith(("街道", "镇")) for label in labels), labels
        # labels never pile up nor touch: of two shown labels closer than LABEL_GAP_X side by side, one is
        # hidden (assets/gridcc_map.js: declutter)
        page.wait_for_timeout(800)
        clashes = label_clashes(page)
        assert clashes == [], clashes
        assert page.evaluate(SHOWN_LABELS) >= 10
        assert page.locator(".gridcc-synthetic-note").inner_text() == "边界为示意（合成），非官方界线"
        legend = page.locator(".gridcc-legend").inner_text()
        assert "在办案件数" in legend
        assert "按网格/社区定位（位置近似）" in legend  # the dashed ring of a case without a point
        assert page.locator(".leaflet-control-layers").inner_text().count("预警") >= 1
        page.wait_for_timeout(1500)  # let labels and counts settle for the picture
        shot = (
            REPO / "screenshots" / "map.png" if os.environ.get("GRIDCC_SCREENSHOTS") else tmp_path / "map.png"
        )
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot))

        # feed text is text: the lonely case titled with markup, drawn as a single marker
        with session_factory() as session:
            xss_id = session.scalar(select(Case.id).where(Case.title == XSS))
        page.locator(f"path.case-{xss_id}").click(force=True)
        assert page.locator(".leaflet-popup-content .popup-title").inner_text() == XSS
        assert page.locator(".leaflet-popup-content img").count() == 0
        assert page.locator(".leaflet-popup-content a.popup-link").get_attribute("href").startswith("/cases/")
        assert page.evaluate("window.__alerts") == []
        page.keyboard.press("Escape")

        # zoom in to a community-sized view: grids come by viewport bbox
        page.focus(".leaflet-container")
        wrap = page.locator(".gridcc-map-wrap")
        for _ in range(8):
            if "lod-grid" in (wrap.get_attribute("class") or ""):
                break
            page.keyboard.press("Equal")
            page.wait_for_timeout(700)
        page.wait_for_function("document.querySelectorAll('path.unit-grid').length > 0", timeout=30000)
        assert any("/layers/grids.pbf?bbox=" in url for url in requested)
        assert not any("/layers/units/grid" in url for url in requested)

        # the server goes away and comes back: the tick keeps going and picks up a new version
        errors_before = len(errors)
        served.stop()
        page.wait_for_timeout(2500)
        served.start()
        versions.bump(redis_conn, ["cases"])
        new_version = versions.read(redis_conn)["cases"]
        page.wait_for_function(
            "v => performance.getEntriesByType('resource').some(e => e.name.includes('cases.pbf?v=' + v))",
            arg=new_version,
            timeout=30000,
        )
        # while the server was down the browser logs failed fetches; nothing else may be an error
        down_errors = [e for e in errors[errors_before:] if "Failed to load resource" not in e]
    finally:
        page.context.close()

    assert log.offsite == [] and log.page_errors == []
    assert errors[:errors_before] == []
    assert down_errors == []
