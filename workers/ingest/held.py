"""A cursor held by an unreadable Open311 page, and the page passed over when it holds too long.

Each poll that stops at an unreadable page (see :mod:`.batch`) leaves the cursor at the last readable
record before it; ``feed_health.bad_page_cursor`` / ``bad_page_polls`` count the polls in a row that
stopped at the same place. The :data:`BAD_PAGE_ATTEMPTS`-th poll that would stop there passes over
the page instead, so that one page that stays broken cannot hold a feed up for ever: its records are
lost, and the feed's error and the page's quarantine row say so — which page, the time range of the
records lost and the ids still legible in it.

Every poll that stops at a bad page, or passes over one, is a failed poll for the feed's health.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from data.models import FeedHealth

from .batch import BadPage, Batch
from .quarantine import note

BAD_PAGE_ATTEMPTS = 3  # polls stopped at the same unreadable page; the last of them passes over it
MAX_IDS = 20  # ids named in a skip message

_JSON_ID = re.compile(r'"service_request_id"\s*:\s*(?:"([^"\\]{1,100})"|(\d{1,30})(?=\s*[,}\]]))')
_XML_ID = re.compile(r"<service_request_id>\s*([^<]{1,100}?)\s*</service_request_id>")


@dataclass(frozen=True)
class Hold:
    """Where an unreadable page has held the cursor, and for how many polls in a row."""

    cursor: str | None = None
    polls: int = 0

    @classmethod
    def of(cls, health: FeedHealth | None) -> Hold:
        if health is None or not health.bad_page_polls:
            return cls()
        return cls(health.bad_page_cursor, health.bad_page_polls)

    def polls_at(self, place: str | None) -> int:
        """Polls in a row held at ``place`` so far."""
        return self.polls if self.polls and self.cursor == place else 0

    def due(self, place: str | None) -> bool:
        """Whether a poll that would stop at ``place`` now passes over the page instead."""
        return self.polls_at(place) + 1 >= BAD_PAGE_ATTEMPTS


def legible_ids(raw: str) -> list[str]:
    """The Open311 ids still legible in an unreadable page (JSON or XML), in order, once each."""
    found = [a or b for a, b in _JSON_ID.findall(raw)] + [x.strip() for x in _XML_ID.findall(raw)]
    return list(dict.fromkeys(i for i in found if i))


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).isoformat(timespec="seconds") if value is not None else "the feed's beginning"


def _ids(raw: str) -> str:
    ids = legible_ids(raw)
    if not ids:
        return ""
    more = f" and {len(ids) - MAX_IDS} more" if len(ids) > MAX_IDS else ""
    return f" (ids legible in it: {', '.join(ids[:MAX_IDS])}{more})"


def skip_message(page: BadPage, end: datetime | None, ends_at_record: bool, tz: ZoneInfo) -> str:
    """The feed error and quarantine reason of a page passed over."""
    until = f"before {_when(end, tz)}" if ends_at_record else f"up to {_when(end, tz)} (the feed's clock)"
    return (
        f"page {page.number} skipped after {BAD_PAGE_ATTEMPTS} attempts: records updated after "
        f"{_when(page.place, tz)} and {until} were not ingested{_ids(page.rejection.raw)}; {page.reason}"
    )


def stop_message(page: BadPage, polls: int, unskippable: str | None, tz: ZoneInfo) -> str:
    """The feed error of a poll that stopped at an unreadable page."""
    where = _when(page.place, tz)
    if unskippable:
        return (
            f"{page.reason} — page {page.number}: cursor held at {where} for {polls} polls; "
            f"not skipped: {unskippable}"
        )
    return (
        f"{page.reason} — page {page.number}: cursor held at {where} "
        f"(attempt {polls} of {BAD_PAGE_ATTEMPTS}; skipped at attempt {BAD_PAGE_ATTEMPTS})"
    )


def settle(
    session: Session,
    health: FeedHealth,
    feed_name: str,
    batch: Batch,
    cursor: str | None,
    tz: ZoneInfo,
    now: datetime,
) -> tuple[str | None, int]:
    """Record the bad pages of an Open311 poll whose cursor is now ``cursor``: the held count on the
    feed's health, the page passed over in the quarantine. Returns the feed error (None when every page
    was read) and how many quarantine rows were added."""
    messages: list[str] = []
    added = 0
    if batch.skipped is not None:
        end = batch.skip_end()
        message = skip_message(batch.skipped, end, batch.first_after_skip is not None, tz)
        added += note(session, feed_name, batch.skipped.rejection, message, now)
        messages.append(message)
    if batch.stop is not None:
        polls = Hold.of(health).polls_at(cursor) + 1
        health.bad_page_cursor, health.bad_page_polls = cursor, polls
        messages.append(stop_message(batch.stop, polls, batch.unskippable, tz))
    else:
        health.bad_page_cursor, health.bad_page_polls = None, 0
    return ("; ".join(messages) or None), added
