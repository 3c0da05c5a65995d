"""A world for the push tests: the small hierarchy of the feed tests (two grids of 巴川街道), a feeds file
with an Open311, a CAP and a sensor feed (the CAP one on a real local feed server, so that the same
alert can also be polled), push keys of every kind, the real app (sign-in on) and a real ``rq worker``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rq import Queue, Worker
from sqlalchemy import func, select

from data.db import transaction
from data.models import Alert, Case, Quarantine
from data.push.keys import create_key, revoke_key
from data.push.queue import PUSH_QUEUE
from data.settings import Settings
from tests.workers._rq_stack import Stack, wait_until
from tests.workers.test_poll_support import (
    feed_server,
    make_hierarchy,
    make_runtime,
    open311_feed,
    worker_env,
    write_feeds,
)
from workers.queues import QUEUES
from workers.runtime import Runtime

# name: (kind, owner, feed, protocol)
KEYS = {
    "hotline": ("department", "hotline12345", "hotline", "open311"),
    "police": ("department", "police", "hotline", "open311"),
    "app": ("app", "demo_app", "hotline", "open311"),
    "other_app": ("app", "other_app", "hotline", "open311"),
    "weather": ("department", "weather", "weather", "cap"),
    "sensors": ("department", "emergency", "sensors", "sensor"),
    "revoked": ("app", "old_app", "hotline", "open311"),
    "small": ("app", "small_app", "hotline", "open311"),
}


@dataclass
class PushWorld:
    client: Any
    runtime: Runtime
    tokens: dict[str, str]
    cap_state: Any
    stack: Stack
    server: Any  # the Flask app, for a real HTTP server when a client library needs one

    def counts(self) -> tuple[int, int, int]:
        with self.runtime.session_factory() as session:
            return tuple(  # type: ignore[return-value]
                session.scalar(select(func.count()).select_from(m)) or 0 for m in (Case, Alert, Quarantine)
            )

    def quarantine(self) -> list[Quarantine]:
        with self.runtime.session_factory() as session:
            return list(session.scalars(select(Quarantine).order_by(Quarantine.id)))


@pytest.fixture
def push_world(database_url: str, engine: object, redis_url: str, tmp_path: Path) -> Iterator[PushWorld]:
    from dashboard.app import create_app
    from dashboard.map.page import PAGE as MAP_PAGE
    from dashboard.page import PageRegistry
    from dashboard.services import services

    with feed_server() as (base, state):
        feeds = write_feeds(
            tmp_path / "feeds.toml",
            [
                open311_feed("http://127.0.0.1:9"),
                {"name": "weather", "department": "weather", "protocol": "cap",
                 "url": f"{base}/cap/index.atom", "interval": 1, "timeout": 5},
                {"name": "sensors", "department": "emergency", "protocol": "sensor",
                 "url": "http://127.0.0.1:9/alarms.json", "interval": 1, "timeout": 5},
            ],
        )  # fmt: skip
        rt = make_runtime(database_url, redis_url, feeds, tmp_path / "var")
        tokens: dict[str, str] = {}
        with transaction(rt.session_factory) as session:
            make_hierarchy(session)
            for name, (kind, owner, feed, protocol) in KEYS.items():
                limits = {"rate_per_minute": 3, "max_body_bytes": 2048} if name == "small" else {}
                made = create_key(session, name, kind, owner, feed, (protocol,), actor="test", **limits)
                tokens[name] = made.token
            revoke_key(session, "revoked", actor="test")
        stale = [*rt.redis.keys("gridcc:push:rate:*"), *rt.redis.keys("gridcc:push:refusals:*")]
        rt.redis.delete("gridcc:push:counts", *stale)
        for queue in QUEUES:
            Queue(queue, connection=rt.redis).empty()
        settings = Settings(
            data_dir=tmp_path / "var", database_url=database_url, redis_url=redis_url,
            feeds_file=feeds, auth_required=True,
        )  # fmt: skip
        app = create_app(settings, pages=PageRegistry([MAP_PAGE]))
        s = rt.settings
        stack = Stack(
            worker_env(s.effective_database_url, s.redis_url, s.effective_feeds_file, s.data_dir),
            s.redis_url,
            tmp_path,
        )
        proc = stack.worker("push")
        # a push waits 10 s for a worker: the worker must be up before the first one (a loaded machine
        # takes seconds to start a Python process)
        wait_until(
            lambda: proc.poll() is not None or bool(Worker.all(queue=Queue(PUSH_QUEUE, connection=rt.redis))),
            120,
            "the push worker",
        )
        try:
            yield PushWorld(app.server.test_client(), rt, tokens, state, stack, app.server)
        finally:
            stack.stop()
            for queue in QUEUES:
                Queue(queue, connection=rt.redis).empty()
            services(app.server).close()
            rt.close()
