"""The quarantine row of a push the web tier refused (issue #12): a bad or unknown key, a body too large,
a form the standard does not allow, an XML document posted where a form is expected …

A refusal the workers made (an unknown service code, a place outside the district, an unreadable CAP
document) is quarantined by the workers' own ingest; the web tier keeps one row for each refusal it
makes itself, so that every refused push that carried a body leaves exactly one row, with

- ``feed_name``: the key's feed, or :data:`PUSH_FEED` when the key is missing, unknown or revoked;
- ``reason``: the reason the client was told;
- ``raw``: the body's first :data:`RAW_CHARS` characters (bytes that are not UTF-8 replaced), with every
  push token (``gcp_…``) and every secret-named pair, JSON member and XML element masked
  (:func:`data.redact.redact_payload`) — the body is only stored, never parsed or run.

The same body refused twice for one feed is one row (its ``content_hash``, as the workers' quarantine;
the tokens masked first, so the same body sent with two unknown keys is one row too).

Nobody can fill the table: before a new row is written, a Redis counter per client address and minute
must allow it (:data:`PER_ADDRESS` rows a minute), and the rows of unknown keys have a second counter
for all addresses together (:data:`UNKNOWN_PER_MINUTE`). A refusal over either cap is answered all the
same and counted (``gridcc:push:refusals:dropped``), but leaves no row. A push refused by its key's rate
limit (429) or for lack of a worker (503) leaves none either: it was not judged, and keeping it would
turn the rate limit into a database write per request.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from datetime import datetime

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Quarantine
from ..redact import MASK, redact_payload

PUSH_FEED = "push"  # the quarantine's feed for a push whose key is missing, unknown or revoked
RAW_CHARS = 4096  # characters of a refused body kept
READ_BYTES = 16 * 1024  # bytes of a body read for it (never the whole of an oversized one)
REASON_CHARS = 1000
PER_ADDRESS = 10  # rows a client address may leave in a minute
UNKNOWN_PER_MINUTE = 60  # rows all pushes with unknown keys may leave in a minute
KEEP_STATUSES = frozenset({400, 403, 404, 409, 413, 415})
ADDRESS_KEY = "gridcc:push:refusals:{address}:{window}"
UNKNOWN_KEY = "gridcc:push:refusals:unknown:{window}"
DROPPED_KEY = "gridcc:push:refusals:dropped"
_TOKEN = re.compile(r"gcp_[A-Za-z0-9_\-]*")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def raw_text(body: bytes | str) -> str:
    """What the quarantine keeps of a refused body: at most :data:`RAW_CHARS` characters, secrets out."""
    text = body if isinstance(body, str) else body[:READ_BYTES].decode("utf-8", errors="replace")
    text = _TOKEN.sub(f"gcp_{MASK}", text)  # before any cut: a token cut short is still masked
    return _UNSTORABLE.sub("\ufffd", redact_payload(text)[:RAW_CHARS])


def allowed(conn: redis.Redis, address: str, unknown_key: bool, now: float | None = None) -> bool:
    """Whether one more row may be written for a refusal from ``address`` (and count it): the address's
    refusals this minute (every one asked about, kept or not) within :data:`PER_ADDRESS`, and for an
    unknown key all the rows of unknown keys this minute within :data:`UNKNOWN_PER_MINUTE`."""
    window = int((now if now is not None else time.time()) // 60)
    ok = _within(conn, ADDRESS_KEY.format(address=address[:64] or "-", window=window), PER_ADDRESS)
    if ok and unknown_key:
        ok = _within(conn, UNKNOWN_KEY.format(window=window), UNKNOWN_PER_MINUTE)
    if not ok:
        conn.incr(DROPPED_KEY)
    return ok


def _within(conn: redis.Redis, key: str, limit: int) -> bool:
    pipe = conn.pipeline()
    pipe.incr(key)
    pipe.expire(key, 120)
    return int(pipe.execute()[0]) <= limit


def keep(
    session: Session, feed_name: str, reason: str, raw: str, now: datetime, admit: Callable[[], bool]
) -> bool:
    """Quarantine a refused push (``raw`` from :func:`raw_text`) unless this feed has the same body
    already or ``admit()`` (asked only for a new row: :func:`allowed`) says no; whether a row was added.
    Written in the caller's transaction."""
    digest = hashlib.sha256(raw.encode("utf-8", errors="surrogatepass")).hexdigest()
    found = session.scalar(
        select(Quarantine.id).where(Quarantine.feed_name == feed_name, Quarantine.content_hash == digest)
    )
    if found is not None or not admit():
        return False
    clean = _UNSTORABLE.sub("\ufffd", redact_payload(reason))[:REASON_CHARS]
    session.add(
        Quarantine(feed_name=feed_name, at=now, external_id=None, reason=clean, raw=raw, content_hash=digest)
    )
    return True
