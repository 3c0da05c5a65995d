"""An admin pauses and resumes a feed (``/feeds`` or ``gridcc feeds disable|enable``), audited.

A pause is the database's own (``feed.paused_at``, ``feed.paused_by``): the feeds file's ``enabled``
still says whether the feed exists for polling at all, and syncing the file leaves a pause alone. While
paused, ``poll_feed`` returns without fetching, and the screens show the feed as paused (never as
stale). Each change writes a ``feed_change`` audit row (who, what, when, from where); the caller checks
that the actor may (an admin, or the console) and commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from data.models import Feed, utcnow

from .audit import audit
from .users import UserError


class FeedNotFound(UserError):
    """No feed row of that name (a feed gets its row from the feeds file, on its first poll)."""


def set_feed_paused(
    session: Session,
    name: str,
    paused: bool,
    *,
    actor: str,
    remote_addr: str = "",
    now: datetime | None = None,
) -> bool:
    """Pause (``paused=True``) or resume the feed; ``False`` when it already was so (nothing written)."""
    row = session.get(Feed, name, with_for_update=True)
    if row is None:
        raise FeedNotFound(f"no feed named {name!r}")
    if (row.paused_at is not None) == paused:
        return False
    now = now or utcnow()
    if paused:
        row.paused_at, row.paused_by = now, actor[:100]
    else:
        row.paused_at, row.paused_by = None, None
    audit(session, actor, "feed_change", f"feed:{name}", "paused" if paused else "resumed", remote_addr, now)
    return True
