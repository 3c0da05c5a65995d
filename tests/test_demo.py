"""`gridcc demo` started in a subprocess: it answers HTTP, runs real Redis and RQ worker processes,
stops every process it started on SIGTERM, and reuses its data on a second start."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

pytestmark = pytest.mark.slow


def _free_port_range(count: int) -> int:
    for _ in range(200):
        base = random.randint(20000, 40000)
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


class Demo:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port_range(1)
        self.sim_port = _free_port_range(20)
        self.lines: list[str] = []
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 240) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDCC_")}
        env.update(
            GRIDCC_DATA_DIR=str(self.data_dir),
            GRIDCC_PORT=str(self.port),
            GRIDCC_SIMULATOR_PORT=str(self.sim_port),
        )
        self.lines = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gridcc", "demo"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        up = threading.Event()

        def read() -> None:
            assert self.proc and self.proc.stdout
            for line in self.proc.stdout:
                self.lines.append(line.rstrip())
                if line.startswith("gridcc is up:"):
                    up.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not up.is_set():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("demo did not come up:\n" + "\n".join(self.lines))
            time.sleep(0.2)
        url = next(line for line in self.lines if line.startswith("gridcc is up:")).split(": ", 1)[1]
        return url.strip()

    def descendants(self) -> list[psutil.Process]:
        """Every process the demo started (children run in their own sessions, so match by parent)."""
        assert self.proc
        return psutil.Process(self.proc.pid).children(recursive=True)

    def stop(self, timeout: float = 60) -> int:
        assert self.proc
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = Demo(tmp_path / "var")
    yield d
    if d.proc and d.proc.poll() is None:
        for child in d.descendants():
            child.kill()
        d.proc.kill()


def test_demo_serves_runs_workers_and_stops_cleanly(demo: Demo) -> None:
    url = demo.start()
    assert url == f"http://127.0.0.1:{demo.port}/"
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    assert "gridcc" in response.text.lower() or "dash" in response.text.lower()

    # real Redis and real RQ worker processes
    redis_line = next(line for line in demo.lines if line.strip().startswith("redis"))
    redis_url = redis_line.split()[1]
    rq = Path(sys.executable).parent / "rq"
    deadline = time.monotonic() + 30
    while True:
        info = subprocess.run([str(rq), "info", "--url", redis_url], capture_output=True, text=True)
        workers = [line for line in info.stdout.splitlines() if "gridcc-worker-" in line]
        if len(workers) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(workers) >= 2, info.stdout + info.stderr
    names = {p.name() for p in demo.descendants()}
    assert any("redis-server" in n for n in names), names

    children = demo.descendants()
    assert len(children) >= 6  # redis, simulators, 2 workers, cron, web (+ gunicorn workers)
    assert demo.stop() == 0
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, [(p.pid, p.name()) for p in alive]
    assert "stopped" in demo.lines[-1]


def test_second_start_reuses_the_data(demo: Demo) -> None:
    demo.start()
    assert any("generated district" in line for line in demo.lines)
    assert demo.stop() == 0
    demo.start()
    assert not any("generated district" in line for line in demo.lines)
    assert httpx.get(f"http://127.0.0.1:{demo.port}/", timeout=10).status_code == 200
    assert demo.stop() == 0
