"""An open wall and what feeds it, in parts that can each be restarted: a SQLite database, a private
embedded Redis and ``gunicorn`` serving the dashboard (sign-in off: the wall as an unattended display) on
a fixed port, plus what a browser test or a benchmark needs to watch a new case reach the wall's map.

Used by ``tests/browser/test_wall_long_poll.py`` (the wall keeps updating through restarts of the web
server and of Redis) and ``benchmarks/bench_wall_push.py`` (new case → marker, and a hundred walls).
Lighter than ``tests.stack.Demo``: no simulators, no workers, nothing but the web server and Redis,
so that each can be stopped and started again on its own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy.orm import Session, sessionmaker

from data.models import Case, CaseEvent
from data.redis_server import EmbeddedRedis, connect
from layers import versions

CHROMIUM = os.environ.get("GRIDCC_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [  # as tests/browser/conftest.py
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
PROBE_ZOOM = 17  # past the cluster maxZoom (16): every case its own marker, class case-<id>

# Leaflet is a global: keep a handle on every map made, so that the view can be moved
KEEP_MAPS = """
(() => {
  let real;
  Object.defineProperty(window, 'L', {
    configurable: true,
    get() { return real; },
    set(v) {
      real = v;
      if (v && v.Map && v.Map.addInitHook) {
        v.Map.addInitHook(function () { (window.__maps = window.__maps || []).push(this); });
      }
    },
  });
})();
"""

MOVE_TO = """([lat, lon, zoom]) => {
  const maps = (window.__maps || []).filter((m) => m._container && m._container.isConnected);
  maps.sort((a, b) => b._container.clientWidth * b._container.clientHeight
                    - a._container.clientWidth * a._container.clientHeight);
  if (!maps.length) return false;
  maps[0].setView([lat, lon], zoom, {animate: false});
  return maps[0].getZoom();
}"""

# the first animation frame after the marker .case-<id> entered the DOM: window.__seen (epoch ms)
WATCH = """(id) => {
  window.__seen = null;
  const sel = '.case-' + id;
  const done = () => requestAnimationFrame(() => { window.__seen = Date.now(); });
  if (document.querySelector(sel)) { done(); return; }
  const obs = new MutationObserver(() => {
    if (document.querySelector(sel)) { obs.disconnect(); done(); }
  });
  obs.observe(document.body, {childList: true, subtree: true});
}"""


# A page's timeline of new cases, kept in the page (every time is epoch ms, at the next animation frame
# for a marker): window.__firstSeen[id] when the marker .case-<id> first entered the DOM (caught even
# if before the caller knows the id); window.__versionsAt the end of each /api/versions answer and
# window.__versionsSeen [{t, cases}] each answer's cases version as the page read it; window.__casesLayer
# [{t, v}] the end of each cases layer fetch (/layers/cases…?v=). Shared by benchmarks/bench_wall_push.py
# and benchmarks/bench_latency.py (read with :func:`timeline`).
FIRST_SEEN = """() => {
  if (window.__firstSeen) return;
  window.__firstSeen = {};
  const note = (el) => {
    if (!el.classList) return;
    for (const c of el.classList) {
      const m = /^case-(\\d+)$/.exec(c);
      if (m && !(m[1] in window.__firstSeen)) {
        window.__firstSeen[m[1]] = 0;
        requestAnimationFrame(() => { window.__firstSeen[m[1]] = Date.now(); });
      }
    }
  };
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) {
      if (n.nodeType !== 1) continue;
      note(n);
      n.querySelectorAll && n.querySelectorAll('[class*="case-"]').forEach(note);
    }
  }).observe(document.body, {childList: true, subtree: true});
  window.__versionsAt = [];
  window.__casesLayer = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const t = performance.timeOrigin + e.responseEnd;
      if (e.name.includes('/api/versions')) window.__versionsAt.push(t);
      const m = /\\/layers\\/cases\\.[a-z]+\\?(?:.*&)?v=(\\d+)/.exec(e.name);
      if (m) window.__casesLayer.push({t: t, v: Number(m[1])});
    }
  }).observe({type: 'resource', buffered: false});
  window.__versionsSeen = [];
  const real = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : (input && input.url) || '';
    const p = real.apply(this, arguments);
    if (url.includes('/api/versions')) {
      p.then((r) => r.clone().json()).then((v) => {
        if (v && typeof v.cases === 'number') window.__versionsSeen.push({t: Date.now(), cases: v.cases});
      }).catch(() => {});
    }
    return p;
  };
}"""


def timeline(page: Any, case_id: int | str, since_ms: float, cases_version: int) -> dict[str, float | None]:
    """From a page where :data:`FIRST_SEEN` runs: epoch ms at which the page read a cases version ≥
    ``cases_version`` from /api/versions ("knows"), finished fetching a cases layer of such a version
    ("layer"), and drew the marker of ``case_id`` ("marker"), each the first one after ``since_ms``
    (None: not yet)."""
    got = page.evaluate(
        """([id, since, v]) => {
          const first = (xs) => xs.length ? Math.min(...xs) : null;
          return {
            knows: first((window.__versionsSeen || []).filter((e) => e.t >= since && e.cases >= v)
              .map((e) => e.t)),
            layer: first((window.__casesLayer || []).filter((e) => e.t >= since && e.v >= v).map((e) => e.t)),
            marker: ((window.__firstSeen || {})[String(id)]) || null,
          };
        }""",
        [str(case_id), since_ms, cases_version],
    )
    return {k: (float(v) if v else None) for k, v in got.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Web:
    """``gunicorn dashboard.wsgi:create_wsgi()`` on a fixed localhost port; :meth:`restart` keeps it."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 1, threads: int = 24) -> None:
        self.env = env
        self.port = free_port()
        self.log_path = log
        self.workers = workers
        self.threads = threads
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 120) -> None:
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        argv = [gunicorn, "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers)]
        argv += ["--threads", str(self.threads), "--worker-class", "gthread", "--timeout", "120"]
        argv += ["--graceful-timeout", "2", "dashboard.wsgi:create_wsgi()"]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}); see {self.log_path}")
            try:
                if httpx.get(self.url + "api/versions", timeout=5).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.url} did not answer; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def pids(self) -> list[int]:
        """The master and its workers (for CPU accounting)."""
        import psutil

        if self.proc is None:
            return []
        master = psutil.Process(self.proc.pid)
        return [master.pid, *(c.pid for c in master.children(recursive=True))]


class Live:
    """The database (already made), a private Redis and the web servers of one wall setup."""

    def __init__(self, folder: Path, database_url: str, district: str = "500151") -> None:
        self.folder = folder
        self.database_url = database_url
        self.redis = EmbeddedRedis(folder / "redis.sock", folder)
        self.redis_url = self.redis.url
        self.district = district
        self.webs: list[Web] = []

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDCC_")}
        env.update(
            GRIDCC_DATA_DIR=str(self.folder),
            GRIDCC_DATABASE_URL=self.database_url,
            GRIDCC_REDIS_URL=self.redis_url,
            GRIDCC_AUTH_REQUIRED="false",
            GRIDCC_DEFAULT_DISTRICT=self.district,
        )
        env.update(extra)  # GRIDCC_REDIS_URL=…?db=1, say: a server with a keyspace of its own
        return env

    def web(self, name: str, workers: int = 1, threads: int = 24, **extra: str) -> Web:
        web = Web(self.env(**extra), self.folder / f"web-{name}.log", workers, threads)
        web.start()
        self.webs.append(web)
        return web

    def start_redis(self) -> redis.Redis:
        self.redis.start()
        return connect(self.redis_url)

    def restart_redis(self) -> None:
        """Stop Redis (it saves what it holds, as a service restart does) and start it again."""
        self.redis.stop()
        self.redis.start()

    def close(self) -> None:
        for web in self.webs:
            web.stop()
        self.redis.stop()


def insert_case(factory: sessionmaker[Session], grid: str, lon: float, lat: float) -> int:
    """A new open case in ``grid`` at (lon, lat), committed; its id. The caller bumps the versions."""
    now = datetime.now(UTC)
    with factory() as session:
        case = Case(
            feed_name="wall-live",
            external_id=uuid.uuid4().hex,
            source="12345",
            category_code="city.clutter",
            category_name="乱堆乱放",
            status="reported",
            source_status="reported",
            title="新案件",
            description="上墙测试的案件。",
            address="测试地址",
            lon=lon,
            lat=lat,
            placement="point",
            requested_at=now,
            is_open=True,
            created_at=now,
            modified_at=now,
        )
        case.set_place(grid)
        session.add(case)
        session.flush()
        session.add(CaseEvent(case_id=case.id, at=now, kind="created", to_status="reported", actor="test"))
        session.commit()
        return int(case.id)


def commit_and_bump(
    factory: sessionmaker[Session], conn: redis.Redis, grid: str, lon: float, lat: float
) -> int:
    """What the ingest does for a new case: commit it, then bump ``cases`` and ``kpis``. The push
    endpoint (``POST /open311/v2/requests``, branch ``push``) will do the same through the ingest: point
    :func:`benchmarks.bench_wall_push.file_case` at it when it lands."""
    case_id = insert_case(factory, grid, lon, lat)
    versions.bump(conn, ["cases", "kpis"])
    return case_id


def open_wall(pw: Any, url: str, on_response: Callable[[Any], None] | None = None) -> tuple[Any, Any]:
    """A headless Chromium (1920×1080) on the wall, map handles kept; (browser, page). ``on_response``
    sees every response from the first one on."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    return browser, wall_page(browser, url, on_response)[1]


def wall_page(browser: Any, url: str, on_response: Callable[[Any], None] | None = None) -> tuple[Any, Any]:
    """The wall in a new context of a running ``browser`` (the tests' shared one: a second Playwright
    cannot start beside it); (context, page), map handles kept."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN", bypass_csp=True)
    context.add_init_script(KEEP_MAPS)
    page = context.new_page()
    if on_response is not None:
        page.on("response", on_response)
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function("() => (window.__maps || []).length > 0", timeout=120000)
    page.wait_for_selector(".case-cluster, .case-marker", timeout=120000)
    return context, page
