"""The wall (``/``) in headless Chromium beside a plain Leaflet page loading the same features.

    python benchmarks/bench_wall.py [--city] [--cases 100000] [--runs 3] [--probes 3] [--navigation-only]

For the demo district 500151 (its generated hierarchy and a year of ``make_sample`` cases, the shape of
the demo's simulated history) and, with ``--city``, for the whole city (all 38 districts from
``data.geo.generate`` and ``--cases`` open cases spread over them), in a temporary folder (SQLite, a
private embedded Redis), this measures:

1. **time to first full render**, navigation start → the "fully rendered" condition below, median of
   ``--runs`` page loads, each in a freshly launched Chromium (cold browser cache). The first load after
   the server starts (cold server-side caches) is measured and printed apart;
2. **bytes sent to the browser** until that moment: response bodies (decoded) and transfer size (what
   went over the wire, headers included), all of it and the map data alone (gridcc: ``/layers/…``;
   baseline: the two ``.geojson`` URLs);
3. **new case → marker**: the map is moved to a grid at zoom 17 (past the cluster ``maxZoom`` of 16, so
   every case draws as its own marker, CSS class ``case-<id>``), a case is inserted into the database in
   that grid and the ``cases``/``kpis`` layer versions bumped with ``layers.versions.bump`` (exactly what
   the ingest does after its commit); the time runs from just before the commit to the first animation
   frame after the marker ``.case-<id>`` entered the DOM (a MutationObserver), with no reload.

The **baseline** (``benchmarks/baseline/``) is a plain Leaflet 1.9 page (vendored; the script fetches it
with ``npm pack leaflet@1.9.4`` when missing) that loads every unit of every level and every open case as
plain GeoJSON (no level of detail, no clustering, no geobuf; Leaflet's default SVG renderer) and
re-fetches the cases GeoJSON every second. Both are served by gunicorn (2 processes × 8 threads, as
``gridcc web``) against the same database.

First of all, **navigation** (the only measure with ``--navigation-only``): the duty officer's pages —
the wall ``/``, ``/duty`` and the first open case's page — and the baseline page, each ``--runs`` times
(the pages taking turns, after one load of each to fill the servers' caches): in a freshly launched
Chromium a *cold* load (empty HTTP cache), then a *warm second navigation* to the same URL in the same
browser (its cache filled by the first load, as when moving between pages all day); each from navigation
start to the page's "fully rendered" condition, with the warm load's requests that went to the server
(a 304 counts, a cache hit does not). The table gives each page's median beside the plain page's of the
same run. ``/duty`` is rendered when its case table has rows (or says it has none) and its map is drawn
as the wall's is below (unit paths of the current level, case markers); a case page when its timeline
has events and its map has the case's grid and marker (two SVG paths).

"Fully rendered" (gridcc): checked on every animation frame until all of these hold — the unit layer of
the current level of detail has SVG paths (``path.unit-<level>``, the level read from the map wrapper's
``lod-<level>`` class); the cases layer has cluster markers or case markers (``.case-cluster,
.case-marker``); if the page has KPI numbers (``.kpi-value``), each shows its text (a number, or "—"
when there is nothing to rate) and at least one a digit; if it has plotly charts (``.dash-graph``),
each has drawn its ``.main-svg``. Baseline: both GeoJSON layers added to the map and one animation
frame passed (SVG paths are created synchronously by ``addData``).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis
from sqlalchemy import case as sql_case
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from data import migrate
from data.db import make_engine, make_sessionmaker
from data.geo.generate import generate
from data.geo.reference import Reference
from data.models import AdminUnit, Case, CaseEvent
from data.redis_server import EmbeddedRedis, connect
from data.sample import make_sample
from data.seed import seed_catalogue
from layers import versions

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "baseline"
LEAFLET = BASELINE / "leaflet"
LEAFLET_VERSION = "1.9.4"
DISTRICT = "500151"
DISTRICT_YEAR_CASES = 6200  # the seed district's yearly volume (DESIGN §3: 6,195 received a year)
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
VIEWPORT = {"width": 1920, "height": 1080}
PROBE_ZOOM = 17
MODES = ("view", "zoomed")
AFTER_MS = 1500  # a new case's map traffic is counted until it is drawn and this much longer

# Leaflet is a global: keep a handle on every map made, so the benchmark can move the view. And keep
# every Resource Timing entry (the bytes are counted from them).
KEEP_MAPS = """
(() => {
  performance.setResourceTimingBufferSize(100000);
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

WALL_RENDERED = """() => {
  const q = (s) => document.querySelectorAll(s);
  const wrap = document.querySelector('.gridcc-map-wrap');
  if (!wrap) return false;
  const level = (wrap.className.match(/lod-(\\w+)/) || [])[1] || 'district';
  if (q('path.unit-' + level).length === 0) return false;
  if (q('.case-cluster, .case-marker').length === 0) return false;
  const kpis = q('.kpi-value');
  for (const k of kpis) if (!k.textContent.trim()) return false;
  if (kpis.length && ![...kpis].some((k) => /\\d/.test(k.textContent))) return false;
  for (const g of q('.dash-graph')) if (!g.querySelector('.main-svg')) return false;
  return performance.now();
}"""

BASELINE_RENDERED = "() => window.__ready || false"

# /duty: the case table has rows (or says it has none) and its map is drawn as the wall's is
DUTY_RENDERED = """() => {
  const q = (s) => document.querySelectorAll(s);
  if (q('.ag-row').length === 0 && q('.ag-overlay-no-rows-center').length === 0) return false;
  const wrap = document.querySelector('.gridcc-map-wrap');
  if (!wrap) return false;
  const level = (wrap.className.match(/lod-(\\w+)/) || [])[1] || 'district';
  if (q('path.unit-' + level).length === 0) return false;
  if (q('.case-cluster, .case-marker').length === 0) return false;
  return performance.now();
}"""

# a case page: its timeline and its map (the grid outline and the case's own marker)
CASE_RENDERED = """() => {
  if (document.querySelectorAll('.case-event').length === 0) return false;
  if (document.querySelectorAll('.case-map path.leaflet-interactive').length < 2) return false;
  return performance.now();
}"""

MOVE_TO = """([lat, lon, zoom]) => {
  const maps = (window.__maps || []).filter((m) => m._container && m._container.isConnected);
  maps.sort((a, b) => b._container.clientWidth * b._container.clientHeight
                    - a._container.clientWidth * a._container.clientHeight);
  if (!maps.length) return false;
  maps[0].setView([lat, lon], zoom, {animate: false});
  return maps[0].getZoom();
}"""

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

WATCH_REDRAW = """(version) => {
  window.__seen = null;
  // the cases layer (whole: cases.pbf?v=N) or, for a scope whose cases come by view, the view's
  // aggregates (cases/agg/<level>.json?bbox=…&v=N) or cases (cases.pbf?bbox=…&v=N) at the new version
  const isNew = (name) => {
    if (!name.includes('/layers/cases')) return false;
    try { return new URL(name).searchParams.get('v') === String(version); } catch (e) { return false; }
  };
  const pane = document.querySelector('.leaflet-map-pane');  // bubbles sit in a pane of their own
  const loaded = () => performance.getEntriesByType('resource').some((e) => isNew(e.name));
  const obs = new MutationObserver((records) => {
    if (!loaded()) return;
    const isCluster = (n) => n.classList && n.classList.contains('case-cluster');
    const added = records.some((r) => [...r.addedNodes].some(isCluster));
    if (!added) return;
    obs.disconnect();
    requestAnimationFrame(() => { window.__seen = Date.now(); });
  });
  obs.observe(pane, {childList: true, subtree: true});
}"""

ENTRIES = """(until) => {
  const nav = performance.getEntriesByType('navigation');
  return [...nav, ...performance.getEntriesByType('resource')]
    .filter((e) => e.startTime <= until)
    .map((e) => [e.name, e.transferSize, e.encodedBodySize]);
}"""

# map data fetched in a window of page time: [from, from + span]
FETCHED_SINCE = """([from, span]) => performance.getEntriesByType('resource')
  .filter((e) => e.startTime >= from && e.startTime <= from + span)
  .map((e) => [e.name, e.encodedBodySize])"""

SETTLED = "() => new Promise((r) => requestAnimationFrame(() => setTimeout(() => r(true), 0)))"


# ------------------------------------------------------------------------------------------ data
@dataclass
class Dataset:
    name: str
    url: str
    units: dict[str, int]
    cases: int
    open_cases: int
    seconds: float


def vendor_leaflet(dest: Path = LEAFLET) -> None:
    """Leaflet's dist files and licence from the npm registry (``npm pack``), once."""
    if (dest / "leaflet.js").exists() and (dest / "leaflet.css").exists():
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", f"leaflet@{LEAFLET_VERSION}"], cwd=tmp, check=True, capture_output=True
        )
        with tarfile.open(Path(tmp) / f"leaflet-{LEAFLET_VERSION}.tgz") as tar:
            tar.extractall(tmp, filter="data")
        dest.mkdir(parents=True, exist_ok=True)
        for name, target in (("dist/leaflet.js", "leaflet.js"), ("dist/leaflet.css", "leaflet.css")):
            shutil.copy(Path(tmp) / "package" / name, dest / target)
        shutil.copy(Path(tmp) / "package" / "LICENSE", dest / "LICENSE")
    print(f"vendored leaflet {LEAFLET_VERSION} into {dest}")


def _counts(session: Session) -> tuple[dict[str, int], int, int]:
    rows = session.execute(select(AdminUnit.level, func.count()).group_by(AdminUnit.level))
    units = {level: int(n) for level, n in rows}
    total = session.scalar(select(func.count()).select_from(Case)) or 0
    opened = session.scalar(select(func.count()).select_from(Case).where(Case.is_open.is_(True))) or 0
    return units, total, opened


def _reopen(session: Session, now: datetime) -> None:
    """Every case open (in progress), overdue when past its deadline: the city's open-case load."""
    session.execute(
        update(Case)
        .where(Case.is_open.is_(False))
        .values(
            status="in_progress",
            source_status="in_progress",
            is_open=True,
            resolved_at=None,
            closed_at=None,
            satisfaction=None,
            due_soon=False,
            overdue=sql_case((Case.deadline_at < now, True), else_=False),
        )
    )


def build_dataset(folder: Path, city: bool, open_cases: int) -> Dataset:
    """A fresh SQLite database: the district (a year of sample cases) or the city (``open_cases`` open
    cases spread over the districts by their number of grids)."""
    started = time.perf_counter()
    name = "city" if city else "district"
    url = f"sqlite:///{folder / (name + '.db')}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)
    now = datetime.now(UTC)
    codes = Reference.read().district_codes() if city else [DISTRICT]
    with factory() as session:
        seed_catalogue(session)
        t = time.perf_counter()
        stats = generate(session, codes, grids_per_community=7)
        session.commit()
        print(f"  [{name}] units: {stats.units:,} ({time.perf_counter() - t:.0f} s)", flush=True)
        t = time.perf_counter()
        if city:
            per_district = session.execute(
                select(AdminUnit.district_code, func.count())
                .where(AdminUnit.level == "grid")
                .group_by(AdminUnit.district_code)
            )
            grids = {str(code): int(n) for code, n in per_district}
            total = sum(grids.values())
            for i, code in enumerate(sorted(grids)):
                share = round(open_cases * grids[code] / total)
                make_sample(session, code, share, now, seed=i + 1, n_alerts=3, n_risks=10)
            _reopen(session, now)
        else:
            make_sample(session, DISTRICT, DISTRICT_YEAR_CASES, now, seed=1)
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
        units, total_cases, opened = _counts(session)
        print(
            f"  [{name}] cases: {total_cases:,} ({opened:,} open; {time.perf_counter() - t:.0f} s)",
            flush=True,
        )
    engine.dispose()
    return Dataset(name, url, units, total_cases, opened, time.perf_counter() - started)


# ------------------------------------------------------------------------------------------ servers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gunicorn:
    """``gunicorn APP`` on a free localhost port (2 processes × 8 threads, as ``gridcc web``)."""

    def __init__(self, app: str, env: dict[str, str], log: Path, extra: list[str] | None = None) -> None:
        self.port = free_port()
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        argv = [gunicorn, "--bind", f"127.0.0.1:{self.port}", "--workers", "2", "--threads", "8"]
        argv += ["--worker-class", "gthread", "--timeout", "900", *(extra or []), app]
        self.log = log.open("ab")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def wait(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}); see {self.log.name}")
            try:
                if httpx.get(self.url, timeout=60).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.url} did not answer; see {self.log.name}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# ------------------------------------------------------------------------------------------ browser
def is_gridcc_map(url: str) -> bool:
    return urlsplit(url).path.startswith("/layers/")


def is_baseline_map(url: str) -> bool:
    return urlsplit(url).path.endswith(".geojson")


@dataclass
class Target:
    name: str
    url: str
    rendered: str  # JS: the "fully rendered" condition, returning performance.now() when it holds
    is_map: Callable[[str], bool]
    clustered: bool  # at the page's own view, does a new case hide in a cluster?


@dataclass
class Render:
    ms: float | None  # None: not rendered within the timeout
    net: dict[str, Any]


def net_totals(entries: list[list[Any]], is_map: Callable[[str], bool]) -> dict[str, Any]:
    """Sums over the Resource Timing entries that went to the network (``transferSize`` > 0; a URL the
    map loaded into the browser cache before handing it to a layer is read a second time from there)."""
    out: dict[str, Any] = {"requests": 0, "body": 0, "transfer": 0, "map_body": 0, "map_transfer": 0}
    sizes = []
    for url, transfer, body in entries:
        if not transfer:
            continue
        out["requests"] += 1
        out["body"] += body
        out["transfer"] += transfer
        sizes.append((body, urlsplit(url).path))
        if is_map(url):
            out["map_body"] += body
            out["map_transfer"] += transfer
    out["largest"] = sorted(sizes, reverse=True)[:5]
    return out


class Browser:
    """A freshly launched Chromium with a new, empty profile (cold disk cache, as a wall's kiosk browser
    has on its first start) and one 1920×1080 page."""

    def __init__(self, pw: Any) -> None:
        self.profile = tempfile.mkdtemp(prefix="gridcc-bench-chromium-")
        self.context = pw.chromium.launch_persistent_context(
            self.profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport=VIEWPORT,
            locale="zh-CN",
            bypass_csp=True,  # the measuring waits run through eval, which the app's CSP forbids
        )
        self.context.add_init_script(KEEP_MAPS)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()

    def close(self) -> None:
        self.context.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def render(browser: Browser, target: Target, timeout_s: float) -> Render:
    """Navigate and wait for the target's "fully rendered" condition (checked on every frame); then the
    bytes of every request begun before that moment (once they have all finished)."""
    page = browser.page
    page.goto(target.url, wait_until="commit")
    try:
        handle = page.wait_for_function(target.rendered, polling="raf", timeout=timeout_s * 1000)
        ms: float | None = float(handle.json_value())
    except Exception as exc:  # noqa: BLE001 - playwright's TimeoutError: reported as "not rendered"
        if "Timeout" not in type(exc).__name__:
            raise
        ms = None
    until = ms if ms is not None else timeout_s * 1000
    entries: list[list[Any]] = page.evaluate(ENTRIES, until)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # requests still in flight at that moment: wait for them
        page.wait_for_timeout(2000)
        later: list[list[Any]] = page.evaluate(ENTRIES, until)
        if len(later) == len(entries):
            break
        entries = later
    return Render(ms, net_totals(entries, target.is_map))


@dataclass
class Probe:
    grid: str
    lon: float
    lat: float


def probes(session: Session, n: int, seed: int) -> list[Probe]:
    """``n`` random grids (label points) of the stored districts."""
    rng = random.Random(seed)
    rows = session.execute(
        select(AdminUnit.code, AdminUnit.label_lon, AdminUnit.label_lat).where(AdminUnit.level == "grid")
    ).all()
    return [Probe(r.code, float(r.label_lon), float(r.label_lat)) for r in rng.sample(rows, n)]


def insert_probe(session: Session, probe: Probe) -> Case:
    """A new open case in the probe's grid (flushed, not committed), with its ``created`` event."""
    now = datetime.now(UTC)
    case = Case(
        feed_name="bench-probe",
        external_id=uuid.uuid4().hex,
        source="12345",
        category_code="city.clutter",
        category_name="乱堆乱放",
        status="reported",
        source_status="reported",
        title="基准测试：新案件",
        description="基准测试插入的案件。",
        address="基准测试地址",
        lon=probe.lon,
        lat=probe.lat,
        placement="point",
        requested_at=now,
        is_open=True,
        created_at=now,
        modified_at=now,
    )
    case.set_place(probe.grid)
    session.add(case)
    session.flush()
    event = CaseEvent(case_id=case.id, at=now, kind="created", to_status="reported", actor="bench")
    session.add(event)
    session.flush()
    return case


def latency(
    browser: Browser,
    target: Target,
    factory: sessionmaker[Session],
    conn: redis.Redis,
    spots: list[Probe],
    timeout_s: float,
    zoomed: bool,
) -> tuple[list[float | None], list[float | None]]:
    """New case in the database → on the open page, one probe per spot (ms; None = timeout), and the map
    data the page fetched from the commit until it was drawn plus :data:`AFTER_MS` (bytes; None = timeout).

    ``zoomed``: the view is first moved to the spot's grid at zoom 17 and the probe is the case's own
    marker (``.case-<id>``). Otherwise the page keeps its own view: a marker on the baseline; on a
    clustered map, the clusters redrawn from the new version of the cases layer."""
    page = browser.page
    out: list[float | None] = []
    fetched: list[float | None] = []
    for spot in spots:
        if zoomed:
            page.evaluate(MOVE_TO, [spot.lat, spot.lon, PROBE_ZOOM])
            page.wait_for_timeout(3000)  # let the view settle (grids by viewport, markers at this zoom)
        page.evaluate(SETTLED)
        with factory() as session:
            probe = insert_probe(session, spot)
            if zoomed or not target.clustered:
                page.evaluate(WATCH, probe.id)
            else:
                page.evaluate(WATCH_REDRAW, versions.read(conn)["cases"] + 1)
            page.wait_for_timeout(random.uniform(0, 1000))  # not in step with the 1 s tick
            mark = float(page.evaluate("() => performance.now()"))
            t0 = time.time() * 1000
            session.commit()
            versions.bump(conn, ["cases", "kpis"])  # what the ingest does after its commit
        try:
            seen = page.wait_for_function("() => window.__seen", polling=50, timeout=timeout_s * 1000)
            ms = float(seen.json_value()) - t0
            out.append(ms)
            page.wait_for_timeout(AFTER_MS + 500)  # let what started in the window finish
            entries = page.evaluate(FETCHED_SINCE, [mark, ms + AFTER_MS])
            fetched.append(float(sum(size for name, size in entries if target.is_map(name))))
        except Exception as exc:  # noqa: BLE001 - playwright's TimeoutError
            if "Timeout" not in type(exc).__name__:
                raise
            out.append(None)
            fetched.append(None)
            page.evaluate(SETTLED)
    return out, fetched


# ------------------------------------------------------------------------------------------ report
@dataclass
class Result:
    first: Render | None = None
    runs: list[Render] = field(default_factory=list)
    latency: dict[str, list[float | None]] = field(default_factory=dict)  # by mode: "view", "zoomed"
    fetched: dict[str, list[float | None]] = field(default_factory=dict)  # map bytes per probe, by mode

    def render_ms(self) -> float | None:
        done = [r.ms for r in self.runs if r.ms is not None]
        return statistics.median(done) if len(done) == len(self.runs) and done else None

    def net(self, key: str) -> float | None:
        values = [r.net[key] for r in self.runs if r.ms is not None]
        return statistics.median(values) if values else None

    def fetched_bytes(self, mode: str) -> float | None:
        got = self.fetched.get(mode, [])
        done = [v for v in got if v is not None]
        return statistics.median(done) if done and len(done) == len(got) else None

    def latency_ms(self, mode: str) -> float | None:
        got = self.latency.get(mode, [])
        done = [v for v in got if v is not None]
        return statistics.median(done) if done and len(done) == len(got) else None


def _ms(v: float | None, timeout_s: float) -> str:
    return f"> {timeout_s:.0f} s" if v is None else (f"{v / 1000:.2f} s" if v >= 1000 else f"{v:.0f} ms")


def _bytes(v: float | None) -> str:
    if v is None:
        return "—"
    for unit, size in (("MB", 1e6), ("kB", 1e3)):
        if v >= size:
            return f"{v / size:.2f} {unit}"
    return f"{v:.0f} B"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    r = a / b
    return f"{r:.3f}" if r >= 0.01 else f"{r:.2g}"  # tiny ratios keep two significant digits


def table(name: str, dataset: Dataset, gridcc: Result, base: Result, args: argparse.Namespace) -> str:
    units = ", ".join(
        f"{dataset.units.get(lv, 0):,} {lv}" for lv in ("district", "street", "community", "grid")
    )
    lines = [
        f"## {name}: {units}; {dataset.open_cases:,} open cases ({dataset.cases:,} in all)",
        "",
        "| measure | gridcc `/` | baseline (plain Leaflet) | gridcc / baseline |",
        "|---|---:|---:|---:|",
    ]
    rt, pt = args.render_timeout, args.probe_timeout

    def row(label: str, a: float | None, b: float | None, fmt: Callable[[float | None], str]) -> None:
        lines.append(f"| {label} | {fmt(a)} | {fmt(b)} | {_ratio(a, b)} |")

    first_a = gridcc.first.ms if gridcc.first else None
    first_b = base.first.ms if base.first else None
    row(
        f"first full render, median of {args.runs} (cold browser)",
        gridcc.render_ms(),
        base.render_ms(),
        lambda v: _ms(v, rt),
    )
    row("first load after server start (cold server caches)", first_a, first_b, lambda v: _ms(v, rt))
    row("bytes until rendered: bodies, all", gridcc.net("body"), base.net("body"), _bytes)
    row("bytes until rendered: transfer, all", gridcc.net("transfer"), base.net("transfer"), _bytes)
    row("bytes until rendered: bodies, map data", gridcc.net("map_body"), base.net("map_body"), _bytes)
    row(
        "bytes until rendered: transfer, map data",
        gridcc.net("map_transfer"),
        base.net("map_transfer"),
        _bytes,
    )
    row(
        "requests until rendered",
        gridcc.net("requests"),
        base.net("requests"),
        lambda v: "—" if v is None else f"{v:.0f}",
    )
    row(
        f"new case in DB → on the map at the page's own view, median of {args.probes}",
        gridcc.latency_ms("view"),
        base.latency_ms("view"),
        lambda v: _ms(v, pt),
    )
    row(
        f"new case in DB → its marker, zoomed to its grid, median of {args.probes}",
        gridcc.latency_ms("zoomed"),
        base.latency_ms("zoomed"),
        lambda v: _ms(v, pt),
    )
    for mode, where in (("view", "at the page's own view"), ("zoomed", "zoomed to its grid")):
        row(
            f"map data fetched for one new case, {where} (bodies, until drawn + {AFTER_MS / 1000:g} s)",
            gridcc.fetched_bytes(mode),
            base.fetched_bytes(mode),
            _bytes,
        )
    runs = lambda r: ", ".join(_ms(x.ms, rt) for x in r.runs)  # noqa: E731
    lines += ["", f"- render runs: gridcc {runs(gridcc)}; baseline {runs(base)}"]
    for mode in MODES:
        each = lambda r: ", ".join(_ms(v, pt) for v in r.latency.get(mode, []))  # noqa: E731, B023
        lines.append(f"- latency probes ({mode}): gridcc {each(gridcc)}; baseline {each(base)}")
    lines += [
        f"- data built in {dataset.seconds:.0f} s",
    ]
    for label, result in (("gridcc", gridcc), ("baseline", base)):
        if result.runs:
            top = ", ".join(f"`{path}` {_bytes(size)}" for size, path in result.runs[-1].net["largest"])
            lines.append(f"- largest responses, {label} (last run): {top}")
    return "\n".join(lines)


@dataclass
class Servers:
    """The wall and the baseline page served against one dataset, with the wall's Redis."""

    web: dict[str, Gunicorn]
    conn: redis.Redis
    factory: sessionmaker[Session]
    units_file: Path


@contextmanager
def servers(dataset: Dataset, folder: Path) -> Iterator[Servers]:
    """gunicorn for the wall (sign-in off: an unattended display) and for the baseline, both answering,
    on an embedded Redis; all stopped on exit."""
    from baseline.server import export_units

    engine = make_engine(dataset.url)
    factory = make_sessionmaker(engine)
    units_file = folder / f"{dataset.name}-units.geojson"
    with factory() as session:
        n = export_units(session, units_file)
    print(
        f"  [{dataset.name}] baseline units GeoJSON: {n:,} features, {units_file.stat().st_size / 1e6:.1f} MB"
    )
    data_dir = folder / f"{dataset.name}-var"
    data_dir.mkdir(exist_ok=True)
    embedded = EmbeddedRedis(data_dir / "redis.sock", data_dir)
    redis_url = embedded.start()
    conn = connect(redis_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDCC_")}
    env.update(
        GRIDCC_DATA_DIR=str(data_dir),
        GRIDCC_DATABASE_URL=dataset.url,
        GRIDCC_REDIS_URL=redis_url,
        GRIDCC_AUTH_REQUIRED="false",  # the wall as an unattended display; the baseline has no sign-in either
        BASELINE_DATABASE_URL=dataset.url,
        BASELINE_UNITS_FILE=str(units_file),
        PYTHONPATH=str(HERE),
    )
    web = {
        "gridcc": Gunicorn("dashboard.wsgi:create_wsgi()", env, folder / "gridcc-web.log"),
        "baseline": Gunicorn("baseline.server:create_app()", env, folder / "baseline-web.log"),
    }
    try:
        for server in web.values():
            server.wait()
        yield Servers(web, conn, factory, units_file)
    finally:
        for server in web.values():
            server.stop()
        conn.close()
        embedded.stop()
        engine.dispose()


# ------------------------------------------------------------------------------------------ navigation
@dataclass
class Navigation:
    """One page, cold then warm: ``cold`` is the first load in a fresh browser, ``warm`` the second
    navigation to the same URL in that browser (its HTTP cache filled by the first); ``requests`` the
    warm load's requests that went to the server (``transferSize`` > 0: a 304 counts, a cache hit not)."""

    cold: list[float | None] = field(default_factory=list)
    warm: list[float | None] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)

    @staticmethod
    def median(values: list[float | None]) -> float | None:
        done = [v for v in values if v is not None]
        return statistics.median(done) if done and len(done) == len(values) else None


def nav_targets(web: dict[str, Gunicorn], case_id: int) -> list[Target]:
    """The duty officer's pages and the plain Leaflet page."""
    root = web["gridcc"].url
    return [
        Target("gridcc `/`", root, WALL_RENDERED, is_gridcc_map, clustered=True),
        Target("gridcc `/duty`", root + "duty", DUTY_RENDERED, is_gridcc_map, clustered=True),
        Target(f"gridcc `/cases/{case_id}`", f"{root}cases/{case_id}", CASE_RENDERED, is_gridcc_map, True),
        Target("baseline (plain Leaflet)", web["baseline"].url, BASELINE_RENDERED, is_baseline_map, False),
    ]


def navigate(browser: Browser, target: Target, timeout_s: float) -> tuple[float | None, int]:
    """Navigation start → the target's "fully rendered" condition (ms; None: timeout), and how many
    requests of that load went to the server."""
    page = browser.page
    page.goto(target.url, wait_until="commit")
    try:
        handle = page.wait_for_function(target.rendered, polling="raf", timeout=timeout_s * 1000)
        ms: float | None = float(handle.json_value())
    except Exception as exc:  # noqa: BLE001 - playwright's TimeoutError: reported as "not rendered"
        if "Timeout" not in type(exc).__name__:
            raise
        ms = None
    entries: list[list[Any]] = page.evaluate(ENTRIES, ms if ms is not None else timeout_s * 1000)
    return ms, sum(1 for _, transfer, _ in entries if transfer)


def measure_navigation(up: Servers, args: argparse.Namespace, pw: Any, name: str) -> dict[str, Navigation]:
    """Each page ``--runs`` times (the pages taking turns): a fresh browser, a cold load, then a second
    navigation to the same URL (the warm load)."""
    with up.factory() as session:
        case_id = session.scalar(select(Case.id).where(Case.is_open.is_(True)).order_by(Case.id)) or 1
    pages = nav_targets(up.web, case_id)
    out = {t.name: Navigation() for t in pages}
    for target in pages:  # once each first: the servers' caches filled, as for a duty officer's day
        browser = Browser(pw)
        try:
            navigate(browser, target, args.render_timeout)
        finally:
            browser.close()
    for i in range(args.runs):
        for target in pages:
            browser = Browser(pw)
            try:
                cold, _ = navigate(browser, target, args.render_timeout)
                browser.page.wait_for_timeout(500)  # the first load's late requests settle
                warm, requests = navigate(browser, target, args.render_timeout)
            finally:
                browser.close()
            got = out[target.name]
            got.cold.append(cold)
            got.warm.append(warm)
            got.requests.append(requests)
            rt = args.render_timeout
            print(
                f"  [{name}] {target.name} run {i + 1}: cold {_ms(cold, rt)}, warm {_ms(warm, rt)} "
                f"({requests} requests)",
                flush=True,
            )
    return out


def nav_table(name: str, nav: dict[str, Navigation], args: argparse.Namespace) -> str:
    rt = args.render_timeout
    base = nav["baseline (plain Leaflet)"]
    base_cold, base_warm = Navigation.median(base.cold), Navigation.median(base.warm)
    lines = [
        f"## {name}: navigation, median of {args.runs} (cold: a fresh browser; warm: the second "
        "navigation to the same URL)",
        "",
        "| page | cold render | cold / plain | warm second navigation | warm / plain | warm requests |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for page, got in nav.items():
        cold, warm = Navigation.median(got.cold), Navigation.median(got.warm)
        requests = statistics.median(got.requests) if got.requests else None
        lines.append(
            f"| {page} | {_ms(cold, rt)} | {_ratio(cold, base_cold)} | {_ms(warm, rt)} | "
            f"{_ratio(warm, base_warm)} | {'—' if requests is None else f'{requests:.0f}'} |"
        )
    lines.append("")
    for page, got in nav.items():
        runs = ", ".join(f"{_ms(c, rt)} / {_ms(w, rt)}" for c, w in zip(got.cold, got.warm, strict=True))
        lines.append(f"- {page} (cold / warm): {runs}")
    return "\n".join(lines)


def targets(web: dict[str, Gunicorn]) -> list[Target]:
    return [
        Target("gridcc", web["gridcc"].url, WALL_RENDERED, is_gridcc_map, clustered=True),
        Target("baseline", web["baseline"].url, BASELINE_RENDERED, is_baseline_map, clustered=False),
    ]


def measure(
    dataset: Dataset, folder: Path, args: argparse.Namespace, pw: Any
) -> tuple[Result, Result, dict[str, Navigation]]:
    with servers(dataset, folder) as up:
        nav = measure_navigation(up, args, pw, dataset.name)
        if args.navigation_only:
            return Result(), Result(), nav
        with up.factory() as session:
            spots = probes(session, args.probes * 2 * len(MODES), seed=7)
        pages = targets(up.web)
        results = {t.name: Result() for t in pages}
        for i in range(args.runs + 1):  # the two pages take turns, so load on the machine hits both alike
            for target in pages:
                browser = Browser(pw)
                try:
                    got = render(browser, target, args.render_timeout)
                finally:
                    browser.close()
                if i == 0:
                    results[target.name].first = got
                else:
                    results[target.name].runs.append(got)
                print(
                    f"  [{dataset.name}] {target.name} render {i}: {_ms(got.ms, args.render_timeout)}",
                    flush=True,
                )
        for k, target in enumerate(pages):
            browser = Browser(pw)
            try:
                if render(browser, target, args.render_timeout).ms is None:
                    results[target.name].latency = {mode: [None] * args.probes for mode in MODES}
                    continue
                for j, mode in enumerate(MODES):
                    first = (2 * k + j) * args.probes
                    mine = spots[first : first + args.probes]
                    ms, got = latency(
                        browser, target, up.factory, up.conn, mine, args.probe_timeout, mode == "zoomed"
                    )
                    results[target.name].latency[mode] = ms
                    results[target.name].fetched[mode] = got
                    got_ms = ", ".join(_ms(v, args.probe_timeout) for v in ms)
                    print(f"  [{dataset.name}] {target.name} latency ({mode}): {got_ms}", flush=True)
            finally:
                browser.close()
        return results["gridcc"], results["baseline"], nav


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", action="store_true", help="also the whole city (38 districts)")
    parser.add_argument("--cases", type=int, default=100_000, help="open cases over the city")
    parser.add_argument("--runs", type=int, default=3, help="page loads per page (cold browser each)")
    parser.add_argument("--probes", type=int, default=3, help="new-case latency probes per page")
    parser.add_argument("--render-timeout", type=float, default=120, help="seconds")
    parser.add_argument("--probe-timeout", type=float, default=60, help="seconds")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--navigation-only",
        action="store_true",
        help="only the navigation table (cold and warm loads of /, /duty, a case page and the plain page)",
    )
    args = parser.parse_args()
    vendor_leaflet()
    sys.path.insert(0, str(HERE))
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="gridcc-bench-wall-"))
    started = time.perf_counter()
    out = [
        f"# bench_wall — {datetime.now(UTC).astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Chromium {CHROMIUM}; load average at start {os.getloadavg()[0]:.1f}",
        "",
    ]
    try:
        with sync_playwright() as pw:
            for city in [False, True] if args.city else [False]:
                dataset = build_dataset(folder, city, args.cases)
                gridcc, base, nav = measure(dataset, folder, args, pw)
                name = "whole city (38 districts)" if city else f"district {DISTRICT} 铜梁区"
                tables = [nav_table(name, nav, args)]
                if not args.navigation_only:
                    tables.insert(0, table(name, dataset, gridcc, base, args))
                for text_ in tables:
                    out += [text_, ""]
                    print("\n" + text_ + "\n", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder}")
    out.append(f"total {time.perf_counter() - started:.0f} s")
    print("\n".join(out))


if __name__ == "__main__":
    main()
