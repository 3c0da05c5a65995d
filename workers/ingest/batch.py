"""What one poll fetched and parsed, and — for Open311's paged fetch — how far its cursor may move.

Open311 pages come oldest first (``updated_after`` paging), so when page k of a fetch cannot be read,
pages 1…k−1 go in and the cursor may move to their newest record: whatever page k held is no older
and is asked for again by the next poll. Paging stops at the unreadable page. If the readable pages
were not oldest first, where page k's records sit cannot be known, and the cursor does not move.

A page the poll has already stopped at too often (:mod:`.held`) is passed over instead: paging goes
on past it, and the pages after it say where it ended (their oldest record; with none after it, the
server's ``Date`` on its answer). Passing over needs a readable page after it and records in time
order; without them the poll stops there as before, and says why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from ..feeds import storable
from ..feeds.fetch import Page
from ..feeds.records import CaseRecord, ParseResult, Rejection
from .cases import record_time


@dataclass(frozen=True)
class BadPage:
    """An Open311 page that could not be read."""

    number: int  # its page number in this poll
    url: str
    reason: str  # "document rejected (<url>): <why>"
    rejection: Rejection  # the whole document, for the quarantine
    date: datetime | None  # the server's Date on the answer
    place: datetime | None  # where a stop at it leaves the cursor


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else None


@dataclass
class Batch:
    """Everything one poll fetched and parsed."""

    clock: datetime | None = None  # the poll's clock: records that cannot be stored are screened out
    results: list[ParseResult] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    unstorable: list[Rejection] = field(default_factory=list)  # those of the rejections screened out
    feed_errors: list[str] = field(default_factory=list)
    bad_documents: list[str] = field(default_factory=list)
    # Open311 paging
    pages: int = 0
    newest: datetime | None = None  # the newest record of the readable pages
    ordered: bool = True  # their records came oldest first
    stop: BadPage | None = None  # the unreadable page paging stopped at
    skipped: BadPage | None = None  # the unreadable page passed over
    after_skip: bool = False  # a readable page came after the one passed over
    first_after_skip: datetime | None = None  # the oldest record after it
    unskippable: str | None = None  # why a page due to be passed over could not be

    def _parse(self, protocol: str, page: Page) -> tuple[ParseResult, str | None]:
        """Parse one page; the second value is the reason when the whole document was rejected."""
        from ..feeds.parsers import parse

        result = parse(protocol, page.body, page.content_type)
        if self.clock is not None:  # a record the database would refuse is quarantined on its own
            moved = storable.screen(result, self.clock)
            self.unstorable.extend(result.rejections[len(result.rejections) - moved :])
        self.results.append(result)
        if result.feed_error:
            self.feed_errors.append(result.feed_error)
        whole = not result.cases and not result.alerts and not result.index_links
        if whole and result.rejections and all(r.external_id is None for r in result.rejections):
            return result, f"document rejected ({page.url}): {result.rejections[0].reason}"
        return result, None

    def add_page(self, protocol: str, page: Page) -> int:
        """Parse one page (CAP, sensors); returns how many records it held."""
        result, rejected = self._parse(protocol, page)
        self.rejections.extend(result.rejections)
        if rejected:
            self.bad_documents.append(rejected)
        return len(result.cases) + len(result.alerts) + len(result.rejections)

    def add_open311_page(
        self, page: Page, page_size: int, previous: datetime | None, pass_over: Callable[[str | None], bool]
    ) -> int:
        """Parse one Open311 page; returns the count that steers the paging: the records it held, 0 to
        stop at an unreadable page, ``page_size`` to go on past one. ``pass_over(place)`` says whether
        the page the poll would stop at, leaving its cursor at ``place``, is due to be passed over."""
        self.pages += 1
        result, rejected = self._parse("open311", page)
        if rejected is None:
            self.rejections.extend(result.rejections)
            self._saw(result.cases)
            if self.skipped is not None and self.stop is None:
                self.after_skip = True
            return len(result.cases) + len(result.rejections)
        place = self.held_cursor(previous)
        bad = BadPage(self.pages, page.url, rejected, result.rejections[0], _date(page.date), place)
        self.bad_documents.append(rejected)
        if self.skipped is None and self.stop is None and pass_over(cursor_text(place)):
            self.skipped = bad
            return page_size
        self.stop = bad
        self.rejections.append(bad.rejection)
        return 0

    def _saw(self, records: Iterable[CaseRecord]) -> None:
        for record in records:
            when = record_time(record)
            if self.newest is not None and when < self.newest:
                self.ordered = False
            if self.newest is None or when > self.newest:
                self.newest = when
            if self.skipped is not None and (self.first_after_skip is None or when < self.first_after_skip):
                self.first_after_skip = when

    def held_cursor(self, previous: datetime | None) -> datetime | None:
        """Where the cursor may go when paging stops at an unreadable page now."""
        if not self.ordered:
            return previous
        return max(filter(None, (self.newest, previous)), default=None)

    def finish(self) -> None:
        """After the fetch: a page passed over without a readable page after it, or with records out of
        time order, is a stop after all (its records' place cannot be known)."""
        skipped = self.skipped
        if skipped is None:
            return
        why = None
        if not self.after_skip:
            why = f"page {skipped.number + 1}, after it, could not be read either"
        elif not self.ordered:
            why = "the feed's records do not come oldest first"
        elif self.first_after_skip is None and skipped.date is None:
            why = "no record came after it and its answer has no Date to tell when it was made"
        if why is None:
            return
        self.unskippable = why
        self.stop, self.skipped = skipped, None
        self.rejections.append(skipped.rejection)

    def skip_end(self) -> datetime | None:
        """Where the page passed over ended: the oldest record after it, else its answer's Date."""
        if self.skipped is None:
            return None
        return self.first_after_skip or self.skipped.date

    def cursor(self, previous: datetime | None) -> datetime | None:
        """The cursor after this poll (call :meth:`finish` first)."""
        if self.stop is None and self.skipped is None:
            return max(filter(None, (self.newest, previous)), default=None)
        if not self.ordered:
            return previous
        return max(filter(None, (self.newest, previous, self.skip_end())), default=None)

    @property
    def records(self) -> int:
        return sum(len(r.cases) + len(r.alerts) for r in self.results)


def cursor_text(value: datetime | None) -> str | None:
    """A cursor as the feed row keeps it (ISO-8601 UTC)."""
    return value.astimezone(UTC).isoformat() if value is not None else None


def parse_cursor(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
