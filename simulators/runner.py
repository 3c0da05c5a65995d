"""All simulators in one process: one ``ThreadingHTTPServer`` (and thread) per department on
127.0.0.1, one port each, plus the clock thread that moves the simulation on."""

from __future__ import annotations

import logging
import random
import re
import threading
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from . import feedsfile
from .apps import CapApp, FeedApp, Open311App, Request, Response, SensorApp
from .desk import Behaviour, Desk
from .engine import Config, Simulation
from .places import District
from .specs import SPECS, Catalogue, SimSpec
from .specs import load as load_catalogue
from .store import Store

log = logging.getLogger(__name__)
MAX_BODY = 1 << 20
_HOST_OK = re.compile(r"[A-Za-z0-9.\-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


class App(Protocol):
    """What a server answers with: a feed simulator (:class:`FeedApp`) or a department desk alone."""

    @property
    def name(self) -> str: ...

    def handle(self, req: Request) -> Response: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gridcc-simulator/1"
    # headers and body are written apart: without TCP_NODELAY a kept-alive client waits ~40 ms per
    # answer for the delayed ACK (Nagle)
    disable_nagle_algorithm = True
    timeout = 30
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's names)
        self._serve()

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length > 0 else b""
        host = self.headers.get("Host", "")
        if not _HOST_OK.fullmatch(host):
            host = "{}:{}".format(*self.server.server_address[:2])
        req = Request(
            self.command,
            url.path,
            urllib.parse.parse_qs(url.query, keep_blank_values=True),
            self.headers,  # type: ignore[arg-type]
            body,
            f"http://{host}",
        )
        try:
            res = self.server.app.handle(req)
        except Exception:
            log.exception("%s: error answering %s %s", self.server.app.name, self.command, self.path)
            self.send_error(500)
            return
        if res.status == 0:  # a fault: drop the connection without an answer
            self.close_connection = True
            return
        self.send_response(res.status)
        self.send_header("Content-Type", res.content_type)
        self.send_header("Content-Length", str(len(res.body)))
        for key, value in res.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD" and res.status != 304:
            self.wfile.write(res.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("%s " + format, self.server.app.name, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        super().__init__(address, _Handler)


class Serving:
    """One app on its own server and thread (a desk alone, for tests and benchmarks):
    ``with Serving(desk) as url: …``."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = _Server((host, port), app)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, name=f"serve-{app.name}", daemon=True
        )

    def __enter__(self) -> str:
        self._thread.start()
        return self.url

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


class SimulatorSet:
    """Start and stop every simulator in this process (``gridcc simulators`` and the tests).

    ``with SimulatorSet(district, config) as sims: sims.urls["hotline12345"]``
    """

    def __init__(
        self,
        district: District,
        config: Config,
        catalogue: Catalogue | None = None,
        clock: Callable[[], datetime] | None = None,
        specs: tuple[SimSpec, ...] = SPECS,
    ) -> None:
        self.district = district
        self.config = config
        self.catalogue = catalogue or load_catalogue()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.specs = specs
        self.store: Store | None = None
        self.simulation: Simulation | None = None
        self.apps: dict[str, FeedApp] = {}
        self.urls: dict[str, str] = {}
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    def start(self) -> SimulatorSet:
        self.store = Store(self.config.state_path)
        sim = self.simulation = Simulation(self.store, self.district, self.catalogue, self.config)
        sim.start(self.clock())
        try:
            for i, spec in enumerate(self.specs):
                app = self._app(spec, sim)
                port = self.config.port_base + i if self.config.port_base else 0
                try:
                    server = _Server((self.config.host, port), app)
                except OSError as exc:
                    raise OSError(
                        f"{spec.name}: cannot listen on {self.config.host}:{port}: {exc.strerror}"
                    ) from exc
                self._servers.append(server)
                self.apps[spec.name] = app
                self.urls[spec.name] = f"http://{self.config.host}:{server.server_address[1]}"
                self._spawn(server.serve_forever, f"sim-{spec.name}")
        except BaseException:
            self.stop()
            raise
        if self.config.live:
            self._spawn(self._run_clock, "sim-clock")
        return self

    def _app(self, spec: SimSpec, sim: Simulation) -> FeedApp:
        kw: dict[str, Any] = {
            "clock": self.clock,
            "tz": sim.tz,
            "fault_mode": self.config.faults.get(spec.name, "none"),
            "slow_seconds": self.config.slow_seconds,
        }
        app: FeedApp
        if spec.protocol == "open311":
            key = self.config.open311_keys.get(spec.department, "")
            app = Open311App(spec, sim.book, self.catalogue, api_key=key, **kw)
        elif spec.protocol == "cap":
            app = CapApp(spec, sim.office, **kw)
        else:
            app = SensorApp(spec, sim.board, **kw)
        secret = self.config.loop_secrets.get(spec.department)
        taken = {a.desk.department for a in self.apps.values() if a.desk is not None}
        if secret and spec.department not in taken:  # one desk per department, on its first simulator
            seed = None if self.config.seed is None else self.config.seed + len(self.apps)
            app.desk = Desk(
                spec.department,
                secret,
                self.config.answer_url,
                Behaviour(scale=self.config.answer_scale),
                rng=random.Random(seed),
                slow_seconds=self.config.slow_seconds,
                book=sim.book,
                clock=self.clock,
            ).start()
        return app

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _run_clock(self) -> None:
        assert self.simulation is not None
        while not self._stop.wait(self.config.tick):
            try:
                self.simulation.step(self.clock())
            except Exception:
                log.exception("simulation step failed; continuing")

    def step(self, now: datetime | None = None) -> dict[str, int]:
        """Move the simulation to ``now`` (tests with ``live=False``)."""
        assert self.simulation is not None, "not started"
        return self.simulation.step(now or self.clock())

    def set_fault(self, name: str, mode: str) -> None:
        self.apps[name].faults.set(mode)

    def write_feeds_file(self, path: Path) -> None:
        """The feeds file for the servers as they actually listen (ephemeral ports included)."""
        desks = {spec.name for spec in self.specs if self.apps[spec.name].desk is not None}
        feedsfile.write_text_atomically(Path(path), feedsfile.feeds_toml(self.urls, desks))

    def stop(self) -> None:
        self._stop.set()
        for app in self.apps.values():
            app.stopping.set()
            if app.desk is not None:
                app.desk.stop()
        stoppers = [threading.Thread(target=server.shutdown) for server in self._servers]
        for t in stoppers:  # each shutdown waits for its server's poll interval: wait for all at once
            t.start()
        for t in stoppers:
            t.join()
        for server in self._servers:
            server.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._servers.clear()
        self._threads.clear()
        if self.store is not None:
            self.store.close()
            self.store = None

    def __enter__(self) -> SimulatorSet:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
