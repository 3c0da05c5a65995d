"""The simulators against the project's real poll job (in-process, real database, real Redis): what
the simulators serve is what the workers ingest — history, a posted case placed in its grid, state
changes, and the fault modes doing no harm."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, func, select

from data.db import make_sessionmaker, transaction
from data.models import Case, Feed, Quarantine
from data.seed import seed_catalogue
from data.settings import Settings
from tests.simulators.test_support import Env, environment, post
from workers.feeds.fetch import FetchError
from workers.jobs.poll import run_poll
from workers.runtime import Runtime


@pytest.fixture
def env(engine: Engine, tmp_path: Path) -> Iterator[Env]:
    with transaction(make_sessionmaker(engine)) as session:
        seed_catalogue(session)
    yield from environment(engine, tmp_path)


@pytest.fixture
def runtime(env: Env, engine: Engine, settings: Settings, redis_url: str, redis_conn: redis.Redis) -> Runtime:
    feeds = settings.data_dir / "feeds.toml"
    env.sims.write_feeds_file(feeds)
    s = settings.model_copy(update={"redis_url": redis_url, "feeds_file": feeds})
    return Runtime(s, engine, make_sessionmaker(engine), redis_conn)


def _cases(rt: Runtime, feed: str) -> dict[str, Case]:
    with rt.session_factory() as session:
        return {c.external_id: c for c in session.scalars(select(Case).where(Case.feed_name == feed))}


def test_the_workers_ingest_what_the_simulators_serve(env: Env, runtime: Runtime) -> None:
    sims, clock = env.sims, env.clock
    assert sims.store is not None
    summary = run_poll(runtime, "hotline12345")
    assert summary["status"] == "ok", summary
    served = sims.store.scalar("SELECT count(*) FROM request WHERE feed = 'hotline12345'")
    stored = _cases(runtime, "hotline12345")
    assert len(stored) == served
    with runtime.session_factory() as session:
        quarantined = session.execute(select(func.count()).select_from(Quarantine)).scalar_one()
    assert quarantined == 0

    # a case filed by hand is in the database after the next poll, placed in its grid
    form = {"service_code": "safety.gas", "lat": "29.86", "long": "106.03", "description": "楼道有燃气味"}
    status, body = post(
        f"{sims.urls['hotline12345']}/requests.json",
        urllib.parse.urlencode(form).encode(),
        "application/x-www-form-urlencoded",
    )
    assert status == 201
    rid = body.decode().split('"service_request_id": "')[1].split('"')[0]
    assert run_poll(runtime, "hotline12345")["status"] == "ok"
    case = _cases(runtime, "hotline12345")[rid]
    assert case.status == "reported" and case.grid_code == "500151001002002"
    assert case.category_code == "safety.gas"

    # state changes flow through
    clock.now += timedelta(hours=2)
    sims.step(clock.now)
    assert run_poll(runtime, "hotline12345")["status"] == "ok"
    row = sims.simulation.book.get(rid)  # type: ignore[union-attr]
    assert row is not None and _cases(runtime, "hotline12345")[rid].status == row["status"] != "reported"


@pytest.mark.parametrize("mode", ["repeat", "out_of_order"])
def test_repeated_and_out_of_order_records_change_nothing(env: Env, runtime: Runtime, mode: str) -> None:
    sims = env.sims
    assert run_poll(runtime, "police")["status"] == "ok"
    before = {k: (c.status, c.source_updated_at) for k, c in _cases(runtime, "police").items()}
    sims.set_fault("police", mode)
    with transaction(runtime.session_factory) as session:  # poll from the start again
        feed = session.scalar(select(Feed).where(Feed.name == "police"))
        assert feed is not None
        feed.cursor, feed.etag, feed.last_modified = None, None, None
    summary = run_poll(runtime, "police")
    assert summary["status"] == "ok", summary
    assert summary["received"] > len(before) and summary["new"] == summary["updated"] == 0
    after = {k: (c.status, c.source_updated_at) for k, c in _cases(runtime, "police").items()}
    assert after == before


def test_a_failing_feed_is_reported_and_others_go_on(env: Env, runtime: Runtime) -> None:
    env.sims.set_fault("justice", "error500")
    with pytest.raises(FetchError):
        run_poll(runtime, "justice")
    assert run_poll(runtime, "civil_affairs")["status"] == "ok"
    assert _cases(runtime, "justice") == {}
    assert _cases(runtime, "civil_affairs")
