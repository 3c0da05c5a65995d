"""The app's connections (database engine, session factory, Redis client), made lazily from Settings and
kept on the Flask app (``app.extensions["gridcc"]``): nothing is created at import time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar, cast

import redis
from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from data.db import make_engine, make_sessionmaker
from data.redis_server import EmbeddedRedis, connect
from data.settings import Settings

from .version_watch import VersionWatch

EXTENSION = "gridcc"
T = TypeVar("T")


class Services:
    """One per Flask app. Thread-safe lazy construction (gunicorn runs threads)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._redis: redis.Redis | None = None
        self._embedded: EmbeddedRedis | None = None
        self._watch: VersionWatch | None = None
        self._remembered: dict[str, tuple[float, object]] = {}

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = make_engine(self.settings, role="web")
            return self._engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        engine = self.engine
        with self._lock:
            if self._sessions is None:
                self._sessions = make_sessionmaker(engine)
            return self._sessions

    @property
    def redis(self) -> redis.Redis:
        """A client for ``settings.redis_url``; with none set, the embedded server in the data dir
        (reused when one already answers there, as under ``gridcc demo``)."""
        with self._lock:
            if self._redis is None:
                url = self.settings.redis_url
                if not url:
                    self._embedded = EmbeddedRedis.for_settings(self.settings)
                    url = self._embedded.start()
                self._redis = connect(
                    url, socket_timeout=5, socket_connect_timeout=2, health_check_interval=30
                )
            return self._redis

    def remembered(self, name: str, ttl_s: float, make: Callable[[], T]) -> T:
        """``make()``, kept in this process for ``ttl_s`` seconds: for what every request needs, which
        changes only with an administrator's command (the deployment's districts), so that a hundred
        walls' ticks do not each ask the database."""
        now = time.monotonic()
        with self._lock:
            got = self._remembered.get(name)
        if got is not None and now - got[0] < ttl_s:
            return cast(T, got[1])
        value = make()
        with self._lock:
            self._remembered[name] = (now, value)
        return value

    @property
    def watch(self) -> VersionWatch:
        """The process's :class:`~dashboard.version_watch.VersionWatch` (its listener starts with the
        first long poll)."""
        conn = self.redis
        with self._lock:
            if self._watch is None:
                self._watch = VersionWatch(conn, self.settings.long_poll_slots)
            return self._watch

    def close(self) -> None:
        with self._lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
            if self._redis is not None:
                self._redis.close()
                self._redis = None
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
                self._sessions = None
            if self._embedded is not None:
                self._embedded.stop()
                self._embedded = None


def install(server: Flask, settings: Settings) -> Services:
    services = Services(settings)
    server.extensions[EXTENSION] = services
    return services


def services(app: Flask | None = None) -> Services:
    """The Services of the given app, or of the app handling the current request."""
    target = app if app is not None else current_app
    return cast(Services, target.extensions[EXTENSION])
