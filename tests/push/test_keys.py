"""Push keys (issue #12): ``gridcc keys create|list|revoke`` — the token printed once, only its hash
kept, each change audited, a revoked key refused — and the demo's keys, made once and kept mode 600."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from data.auth import audit_rows
from data.db import make_engine, make_sessionmaker
from data.models import PushKey
from data.push.keys import authenticate, hash_token
from data.settings import Settings
from gridcc.cli import main
from gridcc.cli.demo_keys import ensure_demo_keys, plan
from tests.workers.test_poll_support import open311_feed, write_feeds


def _settings(tmp_path: Path, database_url: str) -> Settings:
    feeds = write_feeds(tmp_path / "feeds.toml", [open311_feed("http://127.0.0.1:9", name="grid_patrol")])
    return Settings(data_dir=tmp_path / "var", database_url=database_url, feeds_file=feeds, language="en")


def test_keys_are_made_listed_and_revoked_on_the_console(
    tmp_path: Path, database_url: str, engine: object
) -> None:
    settings = _settings(tmp_path, database_url)
    runner = CliRunner()
    made = runner.invoke(
        main,
        ["keys", "create", "patrol_app", "--app", "网格通", "--feed", "grid_patrol", "--rate", "60"],
        obj=settings,
    )
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    assert token.startswith("gcp_") and len(token) > 40
    factory = make_sessionmaker(make_engine(settings))
    with factory() as session:
        key = session.scalars(select(PushKey)).one()
        assert key.key_hash == hash_token(token) and token not in (key.key_hash, key.key_prefix)
        assert (key.kind, key.owner, key.feed_name, key.protocols, key.rate_per_minute) == (
            "app", "网格通", "grid_patrol", "open311", 60,
        )  # fmt: skip
        assert authenticate(session, token) is not None
    listed = runner.invoke(main, ["keys", "list"], obj=settings)
    assert listed.exit_code == 0 and "patrol_app" in listed.output and token not in listed.output
    for argv, words in (
        (["keys", "create", "x", "--feed", "grid_patrol"], "exactly one"),
        (["keys", "create", "x", "--app", "a", "--feed", "nope"], "no feed named"),
        (["keys", "create", "patrol_app", "--app", "a", "--feed", "grid_patrol"], "exists already"),
        (["keys", "revoke", "nope"], "no key named"),
    ):
        refused = runner.invoke(main, argv, obj=settings)
        assert refused.exit_code == 1 and words in refused.output, (argv, refused.output)
    assert runner.invoke(main, ["keys", "revoke", "patrol_app"], obj=settings).exit_code == 0
    with factory() as session:
        assert authenticate(session, token) is None  # revoked: refused like an unknown key
        actions = [(r.action, r.target) for r in audit_rows(session) if r.action.startswith("push_key")]
        assert actions == [
            ("push_key_revoke", "push_key:patrol_app"),
            ("push_key_create", "push_key:patrol_app"),
        ]


def test_the_demo_makes_its_keys_once_and_keeps_them_mode_600(
    tmp_path: Path, database_url: str, engine: object
) -> None:
    settings = _settings(tmp_path, database_url)
    first = ensure_demo_keys(settings)
    path = tmp_path / "var" / "demo-keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    kept = json.loads(path.read_text())
    names = [p[0] for p in plan()]
    assert sorted(kept) == sorted(names) and first.created == names
    assert {"hotline12345", "weather", "sensors", "demo_app"} <= set(kept)
    assert any(kept["demo_app"] in line for line in first.lines("en"))
    again = ensure_demo_keys(settings)
    assert again.created == [] and json.loads(path.read_text()) == kept
    assert all(kept[name] not in line for line in again.lines("en") for name in kept)
    factory = make_sessionmaker(make_engine(settings))
    with factory() as session:
        app = authenticate(session, kept["demo_app"])
        assert app is not None and (app.kind, app.feed_name) == ("app", "hotline12345")
        sensors = authenticate(session, kept["sensors"])
        assert sensors is not None and (sensors.owner, sensors.protocols) == ("emergency", "sensor")
