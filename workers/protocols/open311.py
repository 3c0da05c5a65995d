"""Open311 GeoReport v2 (cases): ``GET requests`` paged by ``updated_after``, pages oldest first.

The adapter owns the paged fetch (the cursor minus the poll's overlap, ``page_size``, the ``api_key``
to the feed's own origin, the budget and a page that repeats an earlier one), the parsing
(:mod:`workers.feeds.open311`), the ordered-page cursor rules of :mod:`workers.ingest.batch` (pages are
read while the fetch pages, so an unreadable page stops it) and what a page that stays unreadable does
(:mod:`workers.ingest.held`).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.orm import Session

from data.models import Case, FeedHealth

from ..feeds import open311
from ..feeds.config import FeedConfig
from ..feeds.fetch import (
    UNLIMITED,
    Budget,
    Cursor,
    FetchError,
    FetchResult,
    KnownDocument,
    Page,
    PageCounter,
    Spent,
    conditional,
    get,
    keep_validators,
    page_of,
    size_text,
)
from ..feeds.outbound import Outbound
from ..feeds.records import ParseResult
from ..ingest import held
from ..ingest.batch import Batch
from .base import FeedProtocol


class Open311(FeedProtocol):
    name = "open311"
    summary = "Open311 GeoReport v2 service requests (cases), paged by updated_after"
    record_model: ClassVar[type[Case]] = Case
    record_time = "source_updated_at"

    def fetch(
        self,
        client: httpx.Client,
        config: FeedConfig,
        cursor: Cursor,
        *,
        count: PageCounter,
        known: KnownDocument,
        max_bytes: int,
        budget: Budget,
        rules: Outbound,
    ) -> FetchResult:
        return fetch_open311(client, config, cursor, count, max_bytes, budget, rules)

    def parse(self, body: bytes, content_type: str | None) -> ParseResult:
        # Content-Type is advisory: servers label JSON text/xml and the reverse; the first byte decides.
        return open311.parse(body, None)

    def read_page(
        self, batch: Batch, page: Page, config: FeedConfig, previous: datetime | None, pass_over: Any
    ) -> int:
        return batch.add_open311_page(page, config.page_size, previous, pass_over)

    def read_pages(self, batch: Batch, fetched: FetchResult) -> None:
        batch.finish()  # every page was read while paging

    def next_cursor(
        self, batch: Batch, fetched: FetchResult, newest: datetime | None, previous: datetime | None
    ) -> datetime | None:
        # never past a page that could not be read (see workers.ingest.batch)
        if fetched.truncated and not batch.ordered:
            return previous  # stopped early, records unordered: the unread pages may be older
        return batch.cursor(previous)

    def settle(
        self,
        session: Session,
        health: FeedHealth,
        feed_name: str,
        batch: Batch,
        cursor: str | None,
        tz: ZoneInfo,
        now: datetime,
    ) -> tuple[str | None, int]:
        return held.settle(session, health, feed_name, batch, cursor, tz, now)

    def health_note(self, short: str | None, batch: Batch) -> str | None:
        if short and not batch.ordered:
            short += "; records not oldest first, so the cursor stayed (raise GRIDCC_FEED_POLL_MAX_*)"
        return short


def fetch_open311(
    client: httpx.Client,
    config: FeedConfig,
    cursor: Cursor,
    count: PageCounter,
    max_bytes: int,
    budget: Budget = UNLIMITED,
    rules: Outbound | None = None,
) -> FetchResult:
    """``GET requests`` with ``updated_after`` from the cursor, page by page until a short page, a
    page that repeats an earlier one, or the end of the ``budget``.

    ``count(page)`` says how many records the page held; fewer than ``page_size`` ends the paging. The
    caller counts a page it cannot read as empty, so paging stops there (or as full, to go on past it).
    """
    rules = rules or config.outbound()
    result = FetchResult()
    spent = Spent()
    seen: dict[bytes, int] = {}  # sha256 of a page's body → its page number
    params: dict[str, Any] = {"page_size": config.page_size}
    if cursor.cursor:
        params["updated_after"] = cursor.cursor
    api_key = config.api_key()
    if api_key:
        params["api_key"] = api_key  # config.url is the feed's own origin; a redirect elsewhere drops it
    number = 0
    while True:
        number += 1
        if spent.pages >= budget.pages:
            result.stop(f"poll budget of {budget.pages} pages reached; the next poll goes on")
            return result
        # The first page is read whole (up to max_bytes); later ones only while the byte budget lasts.
        limit = max_bytes if number == 1 else min(max_bytes, budget.bytes - spent.bytes)
        if limit <= 0:
            result.stop(f"poll budget of {size_text(budget.bytes)} reached; the next poll goes on")
            return result
        params["page"] = number
        headers = conditional(cursor) if number == 1 else None
        try:
            response = get(client, config, config.url, limit, params, headers, rules)
        except FetchError as exc:
            if exc.too_large and limit < max_bytes:
                result.requests += 1
                result.stop(
                    f"poll budget of {size_text(budget.bytes)} reached at page {number}; "
                    "the next poll goes on"
                )
                return result
            raise
        result.requests += 1
        if number == 1:
            if response.status_code == 304:
                result.not_modified = True
                result.etag, result.last_modified = cursor.etag, cursor.last_modified
                return result
            keep_validators(result, response)
        digest = hashlib.sha256(response.body).digest()
        if digest in seen and budget.stop_at_repeat:
            result.stop(
                f"page {number} repeats page {seen[digest]} (the server seems to ignore 'page'): "
                "paging stopped"
            )
            return result
        seen[digest] = number
        spent.pages += 1
        spent.bytes += len(response.body)
        result.bytes = spent.bytes
        page = page_of(response)
        del response
        result.pages.append(page)
        held = count(page)
        spent.records += held
        if held < config.page_size:
            return result
        if spent.records >= budget.records:
            result.stop(f"poll budget of {budget.records} records reached; the next poll goes on")
            return result
