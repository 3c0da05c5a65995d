"""``ingest_pushed(...)``: one document a department or reporting app pushed (an RQ job on the
``gridcc-push`` queue, which every worker serves first; the web tier, ``dashboard.push``, enqueues it
by name and waits for its answer).

The document goes through what a polled one does — the feed's adapter's parse
(:func:`workers.protocols.base.adapter_for`), the storable screen, and :func:`workers.ingest.store.
store_batch` (validation, placement, quarantine, upsert) in ONE transaction — and the layer versions
move. The job takes the feed's poll lock (waiting a bounded time), so a record that arrives by poll
and by push at the same moment is upserted once, not raced into two rows. A push never moves the
poll's cursor or validators: the poll still reads everything the department publishes, and what it
reads again is an unchanged upsert.

A *strict* push (Open311 ``POST requests``) also refuses, into the quarantine with its reason, a case
whose service code is not in the catalogue or whose location is not in the district: the client is
there to be told, unlike a polled feed's record, which is stored unplaced.

An ATOM index pushed on a CAP feed names alerts on the department's own server: it is a nudge, and the
job enqueues a poll of the feed at once (the poll fetches with the feed's outbound rules; a pushed
document never makes gridcc fetch a URL of its choosing).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from rq import get_current_job
from sqlalchemy import select

from data.models import Alert, Case, FeedHealth, utcnow
from data.push.queue import FATE_KEY, RESULT_TTL
from data.seed import load_catalogue
from layers import versions

from ..feeds.config import FeedConfigError, find_feed, sync_feeds
from ..feeds.fetch import Page
from ..feeds.records import CaseRecord, Rejection
from ..ingest.batch import Batch
from ..ingest.placement import Placer, cached_placer
from ..ingest.store import store_batch
from ..queues import enqueue_poll
from ..runtime import Runtime, get_runtime
from .poll import LOCK_PREFIX, LOCK_TTL

log = logging.getLogger(__name__)

LOCK_WAIT = 8.0  # seconds a push waits for a poll of the same feed to finish (the web waits 10)


def ingest_pushed(
    feed_name: str,
    body: bytes,
    content_type: str | None,
    client_name: str,
    strict: bool = False,
    reporter: dict[str, str] | None = None,
    protocol: str | None = None,
) -> dict[str, Any]:
    """The RQ job (primitive arguments): store what ``client_name`` pushed to ``feed_name``
    (``protocol``: what the client meant to push; a feed of another protocol refuses it). Nothing is
    stored when the web tier gave up waiting before this job started (:data:`data.push.queue.FATE_KEY`):
    the client was told so."""
    job = get_current_job()  # the fate is claimed first, before a cold worker builds its runtime
    if job is not None and not job.connection.set(
        FATE_KEY.format(job_id=job.id), "taken", nx=True, ex=RESULT_TTL
    ):
        return {"status": "abandoned", "error": "the web tier stopped waiting before a worker took it"}
    return run_push(get_runtime(), feed_name, body, content_type, client_name, strict, reporter, protocol)


def run_push(
    rt: Runtime,
    feed_name: str,
    body: bytes,
    content_type: str | None,
    client_name: str,
    strict: bool = False,
    reporter: dict[str, str] | None = None,
    protocol: str | None = None,
) -> dict[str, Any]:
    try:
        config = find_feed(rt.feeds(), feed_name)
    except FeedConfigError as exc:
        return {"status": "unknown_feed", "error": str(exc)}
    if protocol is not None and config.protocol != protocol:
        why = f"this key writes to feed {feed_name}, which takes {config.protocol}, not {protocol}"
        return {"status": "wrong_protocol", "error": why}
    lock = rt.redis.lock(LOCK_PREFIX + feed_name, timeout=LOCK_TTL, thread_local=False)
    if not lock.acquire(blocking=True, blocking_timeout=LOCK_WAIT):
        return {"status": "busy", "error": f"feed {feed_name} is being polled; try again"}
    try:
        return _push(rt, config, body, content_type, client_name, strict, reporter or {})
    finally:
        try:
            lock.release()
        except Exception:  # noqa: BLE001 - an expired lock is only worth a line in the log
            log.warning("push lock of %s expired before the push ended", feed_name)


def _push(
    rt: Runtime,
    config: Any,
    body: bytes,
    content_type: str | None,
    client_name: str,
    strict: bool,
    reporter: dict[str, str],
) -> dict[str, Any]:
    now = utcnow()
    batch = Batch(clock=now)
    batch.add_page(config.protocol, Page(body, content_type, f"push:{client_name}"))
    links = sum(len(r.index_links) for r in batch.results)
    with rt.session_factory() as session, session.begin():
        next(r for r in sync_feeds(session, rt.feeds()) if r.name == config.name)
        health = session.get(FeedHealth, config.name)
        if health is None:
            health = FeedHealth(feed_name=config.name)
            session.add(health)
        placer = cached_placer(rt.cache, session, rt.redis)
        if strict:
            _screen(batch, placer)
        if reporter:
            _reporter(batch, reporter)
        stored = store_batch(session, config, placer, batch, now, phone_key=rt.phone_search_key())
        counts = stored.counts
        for name in ("received", "new", "updated", "ignored", "quarantined"):
            setattr(health, name, (getattr(health, name) or 0) + getattr(counts, name))
        health.newest_record_at = max(filter(None, (health.newest_record_at, counts.newest)), default=None)
        session.flush()
        answer = _answer(session, config.name, stored.stored_cases, stored.stored_alerts, stored.rejections)
    versions.bump(rt.redis, sorted(stored.changed))
    answer.update(status="ok", feed=config.name, counts=counts.as_dict())
    if links:
        enqueue_poll(rt.redis, config.name)
        answer.update(status="index", links=links)
    return answer


def _screen(batch: Batch, placer: Placer) -> None:
    """A strict push: a case with a service code not in the catalogue, or that cannot be placed in the
    district (its point outside every grid, no known grid code or address), is quarantined."""
    codes = {row["code"] for row in load_catalogue()["category"]}
    for result in batch.results:
        keep: list[CaseRecord] = []
        places = placer.place(
            [(c.lon, c.lat) for c in result.cases],
            [c.grid_code for c in result.cases],
            [c.address for c in result.cases],
        )
        for case, place in zip(result.cases, places, strict=True):
            if case.category_code not in codes:
                why = f"service_code {case.category_code!r} is not one of this server's services"
            elif place.method == "unplaced":
                why = "the location is outside the district (no grid holds the point, grid code or address)"
            else:
                keep.append(case)
                continue
            rejection = Rejection(reason=why, raw=case.raw, external_id=case.external_id)
            result.rejections.append(rejection)
            batch.rejections.append(rejection)
        result.cases = keep


def _reporter(batch: Batch, reporter: dict[str, str]) -> None:
    """The reporter's name, phone and email (Open311 ``first_name`` … ``email``): kept as personal data,
    masked on the screens (``data.masking``), never in the record's raw text."""
    name = (reporter.get("name") or "").strip()[:100] or None
    phone = (reporter.get("phone") or "").strip()[:30] or None
    email = (reporter.get("email") or "").strip()[:254] or None
    for result in batch.results:
        result.cases = [
            replace(c, reporter_name=name, reporter_phone=phone, reporter_email=email) for c in result.cases
        ]


def _answer(
    session: Any, feed: str, cases: list[str], alerts: list[str], rejections: list[Rejection]
) -> dict[str, Any]:
    stored: list[dict[str, Any]] = []
    if cases:
        rows = session.execute(
            select(Case.id, Case.external_id).where(Case.feed_name == feed, Case.external_id.in_(cases))
        ).all()
        stored += [{"kind": "case", "id": r.id, "external_id": r.external_id} for r in rows]
    if alerts:
        rows = session.execute(
            select(Alert.id, Alert.external_id).where(Alert.feed_name == feed, Alert.external_id.in_(alerts))
        ).all()
        stored += [{"kind": "alert", "id": r.id, "external_id": r.external_id} for r in rows]
    quarantined = [{"external_id": r.external_id, "reason": r.reason[:500]} for r in rejections]
    return {"stored": stored, "quarantined": quarantined}


__all__ = ["ingest_pushed", "run_push"]
