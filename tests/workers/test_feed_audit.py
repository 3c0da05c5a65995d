"""The feeds file's changes to the feed rows are audited (actor ``catalogue``), each once."""

from __future__ import annotations

from typing import Any

from data.auth import audit_rows
from data.models import Feed
from workers.feeds.config import _update, _wanted, parse_feeds, sync_feeds

HOTLINE = {
    "name": "hotline12345",
    "department": "hotline12345",
    "protocol": "open311",
    "url": "http://127.0.0.1:8600/requests.xml",
    "interval": 5,
}
WEATHER = {
    "name": "weather",
    "department": "weather",
    "protocol": "cap",
    "url": "http://127.0.0.1:8610/cap/index.atom",
    "interval": 30,
    "enabled": False,
}


def configs(*feeds: dict[str, Any]) -> list[Any]:
    return parse_feeds({"feed": [dict(f) for f in feeds]})


def changes(session_factory: Any) -> list[tuple[str, str, str, str]]:
    with session_factory() as session:
        rows = audit_rows(session, action="feed_change", limit=1000)
    return [(r.actor, r.target, r.detail, r.remote_addr) for r in reversed(rows)]


def test_added_changed_and_dropped_feeds_are_audited_once(session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as session, session.begin():
        sync_feeds(session, configs(HOTLINE, WEATHER), source="/etc/gridcc/feeds.toml")
    added = changes(session_factory)
    assert [(a, t, r) for a, t, _d, r in added] == [
        ("catalogue", "feed:hotline12345", "/etc/gridcc/feeds.toml"),
        ("catalogue", "feed:weather", "/etc/gridcc/feeds.toml"),
    ]
    assert added[0][2] == (
        "added: department=hotline12345; protocol=open311; url=http://127.0.0.1:8600/requests.xml; "
        "interval=5; enabled=True"
    )

    with session_factory() as session, session.begin():  # the same file again: nothing to say
        sync_feeds(session, configs(HOTLINE, WEATHER))
    assert len(changes(session_factory)) == 2

    with session_factory() as session, session.begin():
        session.get(Feed, "hotline12345").cursor = "2026-01-01T00:00:00+00:00"  # type: ignore[union-attr]
    moved = dict(HOTLINE, url="http://10.0.0.9/requests.xml", interval=7)
    with session_factory() as session, session.begin():
        sync_feeds(session, configs(moved, dict(WEATHER, enabled=True)))
    with session_factory() as session:
        row = session.get(Feed, "hotline12345")
        assert row is not None and (row.url, row.interval_s, row.cursor) == (moved["url"], 7, None)
    assert [d for _a, _t, d, _r in changes(session_factory)[2:]] == [
        "url: http://127.0.0.1:8600/requests.xml → http://10.0.0.9/requests.xml; interval: 5 → 7",
        "enabled: False → True",
    ]

    with session_factory() as session, session.begin():  # weather leaves the file
        sync_feeds(session, configs(moved))
    last = changes(session_factory)[-1]
    assert last[:3] == ("catalogue", "feed:weather", "no longer in the feeds file: enabled: True → False")
    with session_factory() as session, session.begin():
        sync_feeds(session, configs(moved))
    assert len(changes(session_factory)) == 5


def test_two_syncs_of_one_edit_write_one_audit_row(session_factory) -> None:  # type: ignore[no-untyped-def]
    """A worker that read the row before another worker synced the same edit neither overwrites it
    blindly nor audits the change a second time."""
    with session_factory() as session, session.begin():
        sync_feeds(session, configs(HOTLINE))
    edited = configs(dict(HOTLINE, interval=9))
    with session_factory() as slow:
        stale = slow.get(Feed, "hotline12345")  # read before the other worker's commit
        assert stale is not None and stale.interval_s == 5
        with session_factory() as fast, fast.begin():
            sync_feeds(fast, edited)
        _update(slow, stale, _wanted(edited[0]), "feeds file")
        slow.commit()
    details = [d for _a, _t, d, _r in changes(session_factory)]
    assert details[1:] == ["interval: 5 → 9"]
    with session_factory() as session:
        assert session.get(Feed, "hotline12345").interval_s == 9  # type: ignore[union-attr]
