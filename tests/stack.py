"""A real gridcc stack for tests: ``gridcc demo`` in a subprocess on free ports and a private data dir."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from data import text
from tests.ports import free_port_range


class Demo:
    """``gridcc demo`` in a subprocess; ``start()`` returns the URL it printed."""

    def __init__(self, data_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.extra_env = extra_env or {}
        self.port = free_port_range(1)
        self.sim_port = free_port_range(20)
        self.lines: list[str] = []
        self.lang = text.DEFAULT
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 240) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDCC_")}
        env.update(
            GRIDCC_DATA_DIR=str(self.data_dir),
            GRIDCC_PORT=str(self.port),
            GRIDCC_SIMULATOR_PORT=str(self.sim_port),
        )
        env.update(self.extra_env)
        self.lang = env.get("GRIDCC_LANGUAGE", text.DEFAULT)  # the demo's console speaks it
        up_prefix = self.say("cli_demo_up", url="")
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
                if line.startswith(up_prefix):
                    up.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not up.is_set():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("demo did not come up:\n" + "\n".join(self.lines))
            time.sleep(0.2)
        url = next(line for line in self.lines if line.startswith(up_prefix))[len(up_prefix) :]
        return url.strip()

    def say(self, key: str, **values: object) -> str:
        """What the demo's console prints for ``key`` (the text catalogue, in the demo's language)."""
        return text.t(key, self.lang, **values)

    def descendants(self) -> list[psutil.Process]:
        """Every process the demo started (children run in their own sessions, so match by parent)."""
        assert self.proc
        return psutil.Process(self.proc.pid).children(recursive=True)

    def stop(self, timeout: float = 60) -> int:
        assert self.proc
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def accounts(self) -> dict[str, dict[str, str]]:
        """The demo's accounts by user name (``password``, ``role``, ``scope``), from the file the demo
        writes on its first start (``<data_dir>/demo-accounts.json``)."""
        data = json.loads((self.data_dir / "demo-accounts.json").read_text(encoding="utf-8"))
        return {a["username"]: a for a in data["accounts"]}

    def password(self, username: str) -> str:
        return self.accounts()[username]["password"]

    @property
    def wall_link(self) -> str:
        """The wall display's sign-in link the demo printed (and kept in its accounts file)."""
        data = json.loads((self.data_dir / "demo-accounts.json").read_text(encoding="utf-8"))
        return str(data["wall_link"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def redis_url(self) -> str:
        return f"unix://{(self.data_dir / 'redis.sock').resolve()}"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{(self.data_dir / 'gridcc.db').resolve()}"

    def simulator_url(self, index: int = 0) -> str:
        """The base URL of the n-th simulator (0 is the 12345 hotline)."""
        return f"http://127.0.0.1:{self.sim_port + index}"

    def find_child(self, match: Callable[[psutil.Process], bool]) -> psutil.Process | None:
        """The first process the demo started that ``match`` accepts (one gone meanwhile is passed over)."""
        for proc in self.descendants():
            try:
                if match(proc):
                    return proc
            except psutil.NoSuchProcess:
                continue
        return None

    def child(self, name: str) -> psutil.Process | None:
        """The supervised process whose command line contains ``name`` (e.g. "web")."""
        return self.find_child(lambda proc: name in " ".join(proc.cmdline()))

    def redis_server(self) -> psutil.Process | None:
        """The demo's ``redis-server``."""
        return self.find_child(lambda proc: "redis-server" in proc.name())

    def kill_all(self) -> None:
        if self.proc and self.proc.poll() is None:
            for child in self.descendants():
                child.kill()
            self.proc.kill()
