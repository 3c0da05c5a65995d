"""The feeds file: validation messages that name the entry and the field; syncing the feed rows;
``feed_status``; ``gridcc feeds list`` and ``gridcc feeds quarantine``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from data import text
from data.feed_status import feed_status
from data.models import Feed, FeedHealth, Quarantine
from data.settings import Settings
from gridcc.cli import main
from workers.feeds.config import FeedConfigError, load_feeds, sync_feeds

GOOD = """
[[feed]]
name = "hotline12345"
department = "hotline12345"
protocol = "open311"
url = "http://127.0.0.1:8600/requests.xml"
interval = 5
api_key_env = "HOTLINE_API_KEY"

[[feed]]
name = "weather"
department = "weather"
protocol = "cap"
url = "http://127.0.0.1:8610/cap/index.atom"
interval = 30
enabled = false
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_API_KEY", "s3cret")
    hotline, weather = load_feeds(write(tmp_path, GOOD))
    assert (hotline.name, hotline.protocol, hotline.interval, hotline.timeout, hotline.page_size) == (
        "hotline12345", "open311", 5, 10.0, 200,
    )  # fmt: skip
    assert hotline.api_key() == "s3cret" and hotline.enabled and hotline.basic_auth() is None
    assert weather.enabled is False


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        ("interval = 30\n", ["feed #2 ('weather')", "field 'interval'", "greater than or equal to 1"]),
        ('protocol = "cap"', ["feed #2 ('weather')", "field 'protocol'"]),
        ('department = "weather"', ["feed #2 ('weather')", "field 'department'", "unknown department"]),
        ('name = "weather"', ["feed #2 ('hotline12345')", "field 'name'", "duplicate of feed #1"]),
        ('url = "http://127.0.0.1:8610/cap/index.atom"', ["feed #2 ('weather')", "field 'url'"]),
        ("enabled = false", ["feed #2 ('weather')", "field 'colour'", "unknown field"]),
    ],
)
def test_bad_entry_names_entry_and_field(tmp_path: Path, replace: str, expected: list[str]) -> None:
    substitutes = {
        "interval = 30\n": "interval = 0\n",
        'protocol = "cap"': 'protocol = "smtp"',
        'department = "weather"': 'department = "nobody"',
        'name = "weather"': 'name = "hotline12345"',
        'url = "http://127.0.0.1:8610/cap/index.atom"': 'url = "ftp://x/y"',
        "enabled = false": 'enabled = false\ncolour = "red"',
    }
    text = GOOD.replace(replace, substitutes[replace])
    with pytest.raises(FeedConfigError) as info:
        load_feeds(write(tmp_path, text))
    for part in expected:
        assert part in str(info.value)


def test_missing_field_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(FeedConfigError, match=r"feed #1 \('x'\): .*field 'url': required"):
        load_feeds(
            write(tmp_path, '[[feed]]\nname = "x"\ndepartment = "police"\nprotocol = "cap"\ninterval = 3\n')
        )
    with pytest.raises(FeedConfigError, match="not valid TOML"):
        load_feeds(write(tmp_path, "[[feed]\nname ="))
    with pytest.raises(FeedConfigError, match="no such feeds file"):
        load_feeds(tmp_path / "missing.toml")


def test_sync_keeps_cursor(tmp_path: Path, session_factory) -> None:  # type: ignore[no-untyped-def]
    configs = load_feeds(write(tmp_path, GOOD))
    with session_factory() as session, session.begin():
        sync_feeds(session, configs)
        row = session.get(Feed, "hotline12345")
        row.cursor, row.etag = "2026-01-01T00:00:00+00:00", '"abc"'
    changed = write(tmp_path, GOOD.replace("interval = 5", "interval = 7"))
    with session_factory() as session, session.begin():
        sync_feeds(session, load_feeds(changed)[:1])
    with session_factory() as session:
        row = session.get(Feed, "hotline12345")
        assert (row.interval_s, row.cursor, row.etag) == (7, "2026-01-01T00:00:00+00:00", '"abc"')
        assert session.get(Feed, "weather").enabled is False  # no longer in the file


class _Feed:
    interval_s = 10


def test_feed_status() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert feed_status(None, _Feed(), now) == "never"
    ok = FeedHealth(last_success_at=now - timedelta(seconds=5), consecutive_failures=0)
    assert feed_status(ok, _Feed(), now) == "ok"
    failing = FeedHealth(
        last_success_at=now - timedelta(seconds=15), last_error_at=now, consecutive_failures=1
    )
    assert feed_status(failing, _Feed(), now) == "failing"
    stale = FeedHealth(last_success_at=now - timedelta(seconds=31), consecutive_failures=0)
    assert feed_status(stale, _Feed(), now) == "stale"
    dead = FeedHealth(last_error_at=now, consecutive_failures=3)
    assert feed_status(dead, _Feed(), now) == "stale"
    assert feed_status(ok, _Feed(), now, enabled=False) == "disabled"


def test_feeds_list_and_quarantine_commands(tmp_path: Path, settings: Settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, GOOD)
    now = datetime.now(UTC)
    with session_factory() as session, session.begin():
        sync_feeds(session, load_feeds(path))
        session.add(
            FeedHealth(
                feed_name="hotline12345", last_poll_at=now, last_success_at=now - timedelta(seconds=1),
                consecutive_failures=0, newest_record_at=now - timedelta(hours=3), received=1234, new=1000,
                updated=200, ignored=30, quarantined=4,
            )
        )  # fmt: skip
        session.add(
            Quarantine(feed_name="hotline12345", external_id="Q9", reason="bad date '2026-02-30'", raw="{}")
        )
    runner = CliRunner(
        env={
            "GRIDCC_FEEDS_FILE": str(path),
            "GRIDCC_DATABASE_URL": settings.effective_database_url,
            "GRIDCC_DATA_DIR": str(settings.data_dir),
            "GRIDCC_LANGUAGE": "en",
        }
    )
    result = runner.invoke(main, ["feeds", "list"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    hotline = next(line for line in lines if "hotline12345" in line)
    for part in ("open311", "5 s", text.label("feed_status", "ok", "en"), "1234", "1000", "200", "30", "4"):
        assert part in hotline
    # the time since the last success (1 s, or 2 s on a slow run), then the newest record's age
    assert " 1 s │" in hotline or " 2 s │" in hotline
    assert " 3 h │" in hotline
    header = next(line for line in lines if "since success" in line)
    assert header.index("since success") < header.index("newest record") < header.index("received")
    weather = next(line for line in lines if line.startswith("│ weather"))
    assert text.label("feed_status", "disabled", "en") in weather and "no" in weather

    result = runner.invoke(main, ["feeds", "quarantine", "--feed", "hotline12345"])
    assert result.exit_code == 0, result.output
    assert "Q9" in result.output and "bad date '2026-02-30'" in result.output
