"""What a feed protocol is: :class:`FeedProtocol`, the base of every adapter.

An adapter owns everything its protocol needs, so that the poll job (:mod:`workers.jobs.poll`) never
names a protocol:

- **fetching** (:meth:`FeedProtocol.fetch`) with its cursor and validators, paging, the documents it
  knows already (:meth:`~FeedProtocol.known_documents`) — by default one conditional ``GET`` of the
  feed's URL with :meth:`~FeedProtocol.query` as its query;
- **parsing** (:meth:`~FeedProtocol.parse`: bytes in, records out; a document it cannot use raises
  :class:`workers.feeds.records.DocumentRejected`, which :mod:`workers.feeds.parsers` turns into one
  quarantined rejection);
- **the poll's side**: reading each page into the batch (:meth:`~FeedProtocol.read_page`,
  :meth:`~FeedProtocol.read_pages`), where the cursor goes (:meth:`~FeedProtocol.next_cursor`), what a
  bad page does (:meth:`~FeedProtocol.settle`), what its records are stored as (:attr:`record_model`).

The defaults are those of a protocol that sends one document of alerts per poll (the sensor alarms).
A new protocol subclasses this, overrides what differs, and is registered in
:mod:`workers.feeds.registry` (one line in ``BUILTINS``, or :func:`workers.feeds.registry.register`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import Alert, Case, FeedHealth

from ..feeds import registry
from ..feeds.config import FeedConfig
from ..feeds.fetch import Budget, Cursor, FetchResult, KnownDocument, Page, PageCounter, fetch_document
from ..feeds.outbound import Outbound
from ..feeds.records import ParseResult
from ..ingest.batch import Batch

if TYPE_CHECKING:
    from sqlalchemy.orm import InstrumentedAttribute


def _nothing_known(_key: str) -> bool:
    return False


class FeedProtocol:
    """One feed protocol (subclass it; see the module docstring)."""

    name: ClassVar[str]  # as the feeds file's ``protocol`` names it
    summary: ClassVar[str] = ""  # one line for the CLI's help
    record_model: ClassVar[type[Case] | type[Alert]] = Alert  # what its records are stored as
    record_time: ClassVar[str] = "sent_at"  # the column of ``record_model`` its cursor follows

    # -- fetching ------------------------------------------------------------------------------------

    def query(self, cursor: Cursor) -> dict[str, Any] | None:
        """The query of the default one-document fetch (none)."""
        return None

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
        """What is new on the feed. ``count(page)`` is for a protocol that reads its pages while it
        pages (it says how many records a page held); ``known(key)`` whether a document is stored."""
        return fetch_document(client, config, cursor, max_bytes, rules, self.query(cursor))

    def known_documents(self, session: Session, feed_name: str) -> KnownDocument:
        """Which documents of the feed are stored already, read at the start of a poll (none)."""
        return _nothing_known

    # -- parsing -------------------------------------------------------------------------------------

    def parse(self, body: bytes, content_type: str | None) -> ParseResult:
        """One document's records (raise ``DocumentRejected`` for a document that cannot be used)."""
        raise NotImplementedError

    # -- the poll's side -----------------------------------------------------------------------------

    def read_page(
        self,
        batch: Batch,
        page: Page,
        config: FeedConfig,
        previous: datetime | None,
        pass_over: Any,
    ) -> int:
        """Read one page into the batch while the fetch pages (the ``count`` of :meth:`fetch`)."""
        return batch.add_page(self.name, page)

    def read_pages(self, batch: Batch, fetched: FetchResult) -> None:
        """After the fetch: read the pages it fetched (those not read while paging)."""
        for page in fetched.pages:
            batch.add_page(self.name, page)

    def next_cursor(
        self, batch: Batch, fetched: FetchResult, newest: datetime | None, previous: datetime | None
    ) -> datetime | None:
        """The cursor after the poll (``newest``: the newest record stored; the poll then keeps it
        within its own clock)."""
        return max(filter(None, (newest, previous)), default=None)

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
        """What the pages that could not be read do to the feed: its error (None: none) and how many
        quarantine rows that added. By default an unreadable document is quarantined like a record."""
        return None, 0

    def health_note(self, short: str | None, batch: Batch) -> str | None:
        """The note kept on the feed's health after a poll that stopped early (``short``: why)."""
        return short

    def newest_stored(self, session: Session, feed_name: str, limit: datetime) -> datetime | None:
        """The newest time of this feed's stored records that is not after ``limit``."""
        model = self.record_model
        column: InstrumentedAttribute[Any] = getattr(model, self.record_time)
        return session.scalar(select(func.max(column)).where(model.feed_name == feed_name, column <= limit))


def adapter_for(name: str) -> FeedProtocol:
    """The registered adapter of protocol ``name`` (:class:`workers.feeds.registry.UnknownProtocol`)."""
    adapter = registry.get(name)
    if not isinstance(adapter, FeedProtocol):
        raise TypeError(
            f"feed protocol {name!r} is registered with {type(adapter).__name__}, not a FeedProtocol"
        )
    return adapter
