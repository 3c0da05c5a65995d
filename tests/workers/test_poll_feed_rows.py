"""Polling one feed keeps every other feed of the file enabled; a feed dropped from the file is disabled."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from data.models import Feed
from workers.jobs.poll import run_poll

from .test_poll_support import feed_server, make_hierarchy, make_runtime, open311_feed, write_feeds


def _enabled(rt: object) -> dict[str, bool]:
    with rt.session_factory() as session:  # type: ignore[attr-defined]
        return {f.name: f.enabled for f in session.scalars(select(Feed))}


def test_polling_one_feed_leaves_the_others_enabled(
    database_url: str, engine: object, redis_url: str, tmp_path: Path
) -> None:
    with feed_server() as (base, _state):
        path = write_feeds(tmp_path / "feeds.toml", [open311_feed(base, "alpha"), open311_feed(base, "beta")])
        rt = make_runtime(database_url, redis_url, path, tmp_path / "var")
        with rt.session_factory() as session, session.begin():
            make_hierarchy(session)
        assert run_poll(rt, "alpha")["feed"] == "alpha"
        assert run_poll(rt, "beta")["feed"] == "beta"
        assert run_poll(rt, "alpha")["feed"] == "alpha"
        assert _enabled(rt) == {"alpha": True, "beta": True}

        write_feeds(path, [open311_feed(base, "alpha")])  # beta leaves the file
        run_poll(rt, "alpha")
        assert _enabled(rt) == {"alpha": True, "beta": False}
        rt.close()
