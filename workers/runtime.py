"""The per-process runtime of the jobs: settings, engine, session factory, Redis client, caches.

A job is an entry point: it builds the runtime from ``Settings()`` (the ``GRIDCC_*`` environment)
the first time it runs in a process and reuses it afterwards. Nothing is built at import time; a
forked child builds its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from data.db import make_engine, make_sessionmaker
from data.loop.endpoints import EndpointCache, EndpointConfig
from data.redis_server import connect
from data.settings import Settings

from .feeds.config import FeedConfig, load_feeds


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    redis: redis.Redis
    pid: int = field(default_factory=os.getpid)
    cache: dict[str, Any] = field(default_factory=dict)  # per-process caches (grid locator ...)
    _feeds: tuple[Path, float, list[FeedConfig]] | None = None
    _endpoints: EndpointCache | None = None

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        if not settings.redis_url:
            raise RuntimeError("GRIDCC_REDIS_URL is not set: the jobs need the Redis the workers use")
        engine = make_engine(settings, role="worker")
        return cls(settings, engine, make_sessionmaker(engine), connect(settings.redis_url))

    def phone_search_key(self) -> bytes:
        """The key of the reporters' phone hashes (made once per process: it may read a file)."""
        key = self.cache.get("phone_search_key")
        if not isinstance(key, bytes):
            key = self.cache["phone_search_key"] = self.settings.phone_search_key_bytes()
        return key

    def feeds(self) -> list[FeedConfig]:
        """The feeds file, re-read when it changes on disk."""
        path = self.settings.effective_feeds_file
        mtime = path.stat().st_mtime if path.exists() else -1.0
        if self._feeds is None or self._feeds[0] != path or self._feeds[1] != mtime:
            self._feeds = (path, mtime, load_feeds(path))
        return self._feeds[2]

    def endpoints(self) -> dict[str, EndpointConfig]:
        """The departments' endpoints (``[[endpoint]]`` in the feeds file), re-read when it changes."""
        path = self.settings.effective_feeds_file
        if self._endpoints is None or self._endpoints.path != path:
            self._endpoints = EndpointCache(path)
        return self._endpoints.get()

    def close(self) -> None:
        self.engine.dispose()
        self.redis.close()


_RUNTIME: Runtime | None = None


def get_runtime() -> Runtime:
    """This process's runtime, built on first use from the environment."""
    global _RUNTIME
    if _RUNTIME is None or _RUNTIME.pid != os.getpid():
        _RUNTIME = Runtime.build(Settings())
    return _RUNTIME


def set_runtime(runtime: Runtime | None) -> None:
    """Use this runtime in this process (in-process callers: tests, benchmarks); the caller closes it."""
    global _RUNTIME
    _RUNTIME = runtime
