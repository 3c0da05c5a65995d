"""``poll_feed(name)``: one poll of one department feed (an RQ job; primitive arguments).

Lock (per feed, in Redis; a poll that finds it taken returns at once) → fetch with the feed's cursor
→ parse → upsert the whole batch, its quarantined rejections, the feed's new cursor and its health in
ONE transaction → bump the versions of the layers that changed. A crash anywhere before the commit
leaves nothing behind and the next poll redoes the batch. Network errors are recorded in the feed's
health and re-raised, so RQ retries the job with backoff.

The job never names a protocol: what differs between protocols (how to fetch and page, which documents
are known, how pages are read, where the cursor goes, what an unreadable page does) is asked of the
feed's adapter (:mod:`workers.protocols`, found in :mod:`workers.feeds.registry`).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from redis.exceptions import LockError
from rq import get_current_job
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Feed, FeedHealth, utcnow
from data.redact import redact_text
from layers import versions

from ..feeds._times import CLOCK_SKEW
from ..feeds.config import FeedConfig, find_feed, sync_feeds
from ..feeds.fetch import Budget, Cursor, FetchError, FetchResult, KnownDocument, Page, fetch
from ..feeds.records import Rejection
from ..heartbeat import heartbeat
from ..ingest import isolate
from ..ingest.batch import Batch, cursor_text, parse_cursor
from ..ingest.cases import Counts
from ..ingest.held import Hold
from ..ingest.placement import cached_placer
from ..ingest.quarantine import storable as storable_text
from ..ingest.store import store_batch
from ..protocols.base import FeedProtocol, adapter_for
from ..queues import POLL_RETRY_INTERVALS, POLL_RETRY_MAX, enqueue_delivery
from ..runtime import Runtime, get_runtime

log = logging.getLogger(__name__)

LOCK_PREFIX = "gridcc:lock:poll:"
SKIPPED_KEY = "gridcc:poll:skipped"  # hash: feed name → polls that found the lock taken


# The poll asks for updates a little before its cursor: a record stamped in the same second as the
# newest one seen, but committed after the last poll, is not lost to a strict ``updated_after``.
CURSOR_OVERLAP = timedelta(seconds=5)


# A poll's lock lives LOCK_TTL seconds past its last heartbeat; a thread renews it every HEARTBEAT_S
# while the poll runs (through a long HTTP request or commit too). A worker killed in the middle of a
# poll frees its feed within LOCK_TTL, not after the whole poll's worst case.
LOCK_TTL = 15
HEARTBEAT_S = 5.0


def poll_feed(name: str) -> dict[str, Any]:
    """The RQ job: poll the feed called ``name`` from the feeds file."""
    return run_poll(get_runtime(), name)


def run_poll(rt: Runtime, name: str) -> dict[str, Any]:
    config = find_feed(rt.feeds(), name)
    if not config.enabled:
        return {"feed": name, "status": "disabled"}
    with rt.session_factory() as session:  # an admin's pause (/feeds, `gridcc feeds disable`): no fetch
        if session.scalar(select(Feed.paused_at).where(Feed.name == name)) is not None:
            return {"feed": name, "status": "paused"}
    # not thread-local: the heartbeat thread renews the token this thread took
    lock = rt.redis.lock(LOCK_PREFIX + name, timeout=LOCK_TTL, blocking=False, thread_local=False)
    if not lock.acquire(blocking=False):
        rt.redis.hincrby(SKIPPED_KEY, name, 1)
        return {"feed": name, "status": "locked"}
    try:
        with heartbeat(lock, HEARTBEAT_S, name):
            return _poll(rt, config)
    finally:
        try:
            lock.release()
        except LockError:
            log.warning("poll lock of %s expired before the poll ended", name)


def _start(
    rt: Runtime, config: FeedConfig, adapter: FeedProtocol, clock: datetime
) -> tuple[Cursor, KnownDocument, Hold]:
    with rt.session_factory() as session, session.begin():
        # the whole file: a feed row is disabled only when the file no longer lists it
        row = next(r for r in sync_feeds(session, rt.feeds()) if r.name == config.name)
        health = session.get(FeedHealth, config.name)
        if health is None:
            session.add(FeedHealth(feed_name=config.name))
        _unstick(session, config, adapter, row, health, clock)
        known = adapter.known_documents(session, config.name)
        return Cursor(row.cursor, row.etag, row.last_modified), known, Hold.of(health)


def _unstick(
    session: Session,
    config: FeedConfig,
    adapter: FeedProtocol,
    row: Feed,
    health: FeedHealth | None,
    clock: datetime,
) -> None:
    """A cursor past the poll's clock (left by a record stamped in the future, before such records were
    quarantined) would ask the feed for nothing ever again: it goes back to the newest record stored
    that is not in the future (the feed's beginning when there is none)."""
    limit = clock + CLOCK_SKEW
    cursor = parse_cursor(row.cursor)
    newest = health.newest_record_at if health is not None else None
    if (cursor is None or cursor <= limit) and (newest is None or newest <= limit):
        return
    stored = adapter.newest_stored(session, config.name, limit)
    if cursor is not None and cursor > limit:
        log.warning("feed %s: cursor %s is in the future; reset to %s", config.name, row.cursor, stored)
        row.cursor, row.etag, row.last_modified = cursor_text(stored), None, None
    if health is not None and newest is not None and newest > limit:
        health.newest_record_at = stored


def _poll(rt: Runtime, config: FeedConfig) -> dict[str, Any]:
    started = time.monotonic()
    clock = utcnow()  # the poll's own clock: no record time or cursor may pass it (plus CLOCK_SKEW)
    adapter = adapter_for(config.protocol)
    cursor, known, hold = _start(rt, config, adapter, clock)
    batch = Batch(clock=clock)
    previous = parse_cursor(cursor.cursor)

    def count(page: Page) -> int:
        return adapter.read_page(batch, page, config, previous, hold.due)

    asked = (
        Cursor(cursor_text(previous - CURSOR_OVERLAP), cursor.etag, cursor.last_modified)
        if previous
        else cursor
    )
    try:
        fetched = fetch(
            config,
            asked,
            count,
            known,
            max_bytes=rt.settings.feed_max_bytes,
            budget=Budget.of(rt.settings),
        )
    except FetchError as exc:
        _record_failure(rt, config, exc.reason, time.monotonic() - started)
        _arm_retry()
        raise
    adapter.read_pages(batch, fetched)  # those not read while paging
    # A link the outbound rules refused was not fetched: quarantined with the reason, no body.
    batch.rejections.extend(Rejection(f"not fetched: {why}", "", key) for key, why in fetched.refused)
    try:
        counts, changed, bad_pages = _commit(rt, config, adapter, fetched, batch, time.monotonic() - started)
    except Exception as exc:  # a commit that still fails: said on the feed's health, retried with backoff
        reason = redact_text(f"commit failed: {isolate.describe(exc)}")
        _record_failure(rt, config, reason, time.monotonic() - started)
        _arm_retry()
        raise
    if changed:
        versions.bump(rt.redis, changed)
    if counts.calls:  # 预警叫应 written with the alerts: delivered now, not at the next cron run
        enqueue_delivery(rt.redis)
    summary: dict[str, Any] = {"feed": config.name, "status": "ok", **counts.as_dict()}
    summary.update(requests=fetched.requests, not_modified=fetched.not_modified)
    if fetched.short:
        summary["short"] = fetched.short
    if batch.feed_errors:
        summary["status"] = "feed_error"
        summary["error"] = "; ".join(batch.feed_errors)
    elif bad_pages:
        summary["status"] = "held" if batch.stop is not None else "skipped"
        summary["error"] = bad_pages
    return summary


def _commit(
    rt: Runtime, config: FeedConfig, adapter: FeedProtocol, fetched: FetchResult, batch: Batch, elapsed: float
) -> tuple[Counts, set[str], str | None]:
    """Ingest the batch, move the cursor, record the feed's health, all in one transaction; returns the
    counts, the layers changed and the error of the pages that could not be read (if any)."""
    now = utcnow()
    changed: set[str] = {"feeds"}
    with rt.session_factory() as session, session.begin():
        row = session.get(Feed, config.name)
        health = session.get(FeedHealth, config.name)
        assert row is not None and health is not None
        previous = parse_cursor(row.cursor)
        placer = cached_placer(rt.cache, session, rt.redis)
        stored = store_batch(session, config, placer, batch, now, previous, rt.phone_search_key())
        counts, unstorable, new_unstorable = stored.counts, stored.unstorable, stored.new_unstorable
        changed |= stored.changed

        # The cursor moves only with the records it covers, in this same transaction, as the protocol
        # says (on Open311, never past a page that could not be read: see workers.ingest.batch).
        newest = adapter.next_cursor(batch, fetched, counts.newest, previous)
        if newest is not None and batch.clock is not None:  # never past the poll's own clock
            newest = min(newest, batch.clock + CLOCK_SKEW)
        if newest is not None and not batch.feed_errors:
            row.cursor = cursor_text(newest)
        # The validators of an answer that could not be read must not be sent back: the server would
        # answer 304 to them, and what the garbled document held would wait for the feed's next change.
        if not fetched.not_modified and not batch.feed_errors and not batch.bad_documents:
            row.etag, row.last_modified = fetched.etag, fetched.last_modified

        bad_pages, noted = adapter.settle(
            session, health, config.name, batch, row.cursor, rt.settings.tz, now
        )
        counts.quarantined += noted
        health.last_poll_at = now
        health.last_duration_s = elapsed + (utcnow() - now).total_seconds()
        for name in ("received", "new", "updated", "ignored", "quarantined"):
            setattr(health, name, (getattr(health, name) or 0) + getattr(counts, name))
        health.newest_record_at = max(filter(None, (health.newest_record_at, counts.newest)), default=None)
        every_page_bad = bool(batch.bad_documents) and len(batch.bad_documents) == len(batch.results)
        if batch.feed_errors or every_page_bad or bad_pages:
            reason = "; ".join([*batch.feed_errors, *filter(None, [bad_pages])]) or batch.bad_documents[0]
            health.last_error_at = now
            health.last_error = redact_text(reason)[:2000]
            health.consecutive_failures = (health.consecutive_failures or 0) + 1
        else:
            health.last_success_at = now
            health.consecutive_failures = 0
            if new_unstorable:  # the data flows, but the feed sent records that cannot be kept: say so
                health.last_error_at = now
                health.last_error = unstorable_note(unstorable)
            note = adapter.health_note(fetched.short, batch)
            health.note = redact_text(note)[:2000] or None
    return counts, changed, bad_pages


def unstorable_note(rejections: list[Rejection]) -> str:
    """The feed's last error after a poll that quarantined records it could not store."""
    shown = "; ".join(f"{r.external_id or '?'}: {r.reason}" for r in rejections[:5])
    more = f"; and {len(rejections) - 5} more" if len(rejections) > 5 else ""
    return storable_text(f"{len(rejections)} record(s) quarantined, not storable: {shown}{more}")[:2000]


def _record_failure(rt: Runtime, config: FeedConfig, reason: str, elapsed: float) -> None:
    now = utcnow()
    with rt.session_factory() as session, session.begin():
        health = session.get(FeedHealth, config.name)
        if health is None:
            health = FeedHealth(feed_name=config.name)
            session.add(health)
        health.last_poll_at = now
        health.last_error_at = now
        health.last_error = redact_text(reason)[:2000]
        health.consecutive_failures = (health.consecutive_failures or 0) + 1
        health.last_duration_s = elapsed
    versions.bump(rt.redis, ["feeds"])


def _arm_retry() -> None:
    """Give a job enqueued without a retry policy (``rq cron`` cannot set one) the poll's policy."""
    job = get_current_job()
    if job is not None and job.retries_left is None:
        job.retries_left = POLL_RETRY_MAX
        job.retry_intervals = list(POLL_RETRY_INTERVALS)
