"""A small world for the loop's tests: the catalogue, two streets, accounts of every role, a case in
each street (with a reporter's name and phone that must never leave gridcc)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rq import Queue
from sqlalchemy.orm import Session, sessionmaker

from data.auth import create_user, get_user
from data.db import transaction
from data.models import Case, UserAccount
from data.seed import seed_catalogue
from data.settings import Settings
from tests.layers.hierarchy import add_case, build_hierarchy
from tests.workers._rq_stack import Stack
from tests.workers.test_poll_support import make_runtime, worker_env
from workers.queues import QUEUES
from workers.runtime import Runtime

NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai
PASSWORD = "correct horse 9"
STREET_1, STREET_2 = "500151001", "500151002"


@dataclass
class World:
    factory: sessionmaker[Session]
    settings: Settings
    mine: int  # a case in street 1
    theirs: int  # a case in street 2

    def user(self, session: Session, name: str) -> UserAccount:
        user = get_user(session, name)
        assert user is not None
        return user


def make_world(factory: sessionmaker[Session], settings: Settings) -> World:
    with transaction(factory) as session:
        seed_catalogue(session)
        grids = build_hierarchy(session)
        create_user(session, "duty1", PASSWORD, "duty", STREET_1)
        create_user(session, "duty2", PASSWORD, "duty", STREET_2)
        create_user(session, "leader1", PASSWORD, "leader", "500151")
        create_user(session, "wall1", PASSWORD, "wall", "500151")
        create_user(session, "admin1", PASSWORD, "admin", "500151")
        mine = add_case(session, grids[0], external_id="mine")
        theirs = add_case(session, next(g for g in grids if g.startswith(STREET_2)), external_id="theirs")
        for case in (mine, theirs):
            case.reporter_name, case.reporter_phone = "张三", "13812345678"
            case.department_code, case.category_code, case.priority = (
                "city_management",
                "city.clutter",
                "normal",
            )
        session.flush()
        ids = (mine.id, theirs.id)
    return World(factory, settings, *ids)


@pytest.fixture
def world(session_factory: sessionmaker[Session], settings: Settings) -> World:
    return make_world(session_factory, settings)


def case_of(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    assert case is not None
    return case


@dataclass
class RqWorld:
    world: World
    runtime: Runtime
    stack: Stack


@pytest.fixture
def rq_world(database_url: str, engine: object, redis_url: str, tmp_path: Path) -> Iterator[RqWorld]:
    """The world on a Runtime for real ``rq worker`` processes (``rq_world.stack.worker(name)``), with
    the desks' secrets and short loop timings in the workers' environment."""
    from tests.loop._loop_helpers import ENV

    rt = make_runtime(database_url, redis_url, tmp_path / "feeds.toml", tmp_path / "var")
    world = make_world(rt.session_factory, rt.settings)
    for queue in QUEUES:
        Queue(queue, connection=rt.redis).empty()
    s = rt.settings
    env = worker_env(s.effective_database_url, s.redis_url, s.effective_feeds_file, s.data_dir)
    env.update(
        ENV, GRIDCC_LOOP_RETRY_BASE_SECONDS="0.3", GRIDCC_LOOP_RETRY_MAX="30", GRIDCC_LOOP_LEASE_SECONDS="2"
    )
    stack = Stack(env, s.redis_url, tmp_path)
    try:
        yield RqWorld(world, rt, stack)
    finally:
        stack.stop()
        for queue in QUEUES:
            Queue(queue, connection=rt.redis).empty()
        rt.close()
