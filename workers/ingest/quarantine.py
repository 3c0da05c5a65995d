"""The quarantine: rejected records and unreadable documents, kept with their reason and raw text for
the operator — once per feed and content (the sha256 of the raw text), however often a feed sends the
same thing again (a page that stays broken is re-read on every poll until it is skipped).

Written inside the caller's transaction."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Quarantine
from data.redact import redact_text

from ..feeds.records import AlertRecord, CaseRecord, Rejection

CHUNK = 500
EXTERNAL_ID_LENGTH = 250  # quarantine.external_id
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL (PostgreSQL) and lone surrogates (any driver)


def storable(text: str) -> str:
    """``text`` with what no database can store (NUL, lone surrogates) replaced by U+FFFD, so the
    record that held them can itself be quarantined."""
    return _UNSTORABLE.sub("\ufffd", text)


def refused(record: CaseRecord | AlertRecord, reason: str) -> Rejection:
    """A record the database refused, as a rejection to quarantine."""
    return Rejection(reason=reason, raw=record.raw, external_id=record.external_id)


def content_hash(rejection: Rejection) -> str:
    """The sha256 of the raw text (of the reason when there is no raw text to tell two apart)."""
    text = rejection.raw if rejection.raw else f"\x00{rejection.external_id}\x00{rejection.reason}"
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def _stored(session: Session, feed_name: str, hashes: Iterable[str]) -> dict[str, Quarantine]:
    wanted = sorted(set(hashes))
    found: dict[str, Quarantine] = {}
    for start in range(0, len(wanted), CHUNK):
        stmt = select(Quarantine).where(
            Quarantine.feed_name == feed_name, Quarantine.content_hash.in_(wanted[start : start + CHUNK])
        )
        for row in session.scalars(stmt):
            found.setdefault(row.content_hash or "", row)
    return found


def _row(feed_name: str, rejection: Rejection, reason: str, digest: str, now: datetime) -> Quarantine:
    external_id = storable(rejection.external_id)[:EXTERNAL_ID_LENGTH] if rejection.external_id else None
    return Quarantine(
        feed_name=feed_name,
        at=now,
        external_id=external_id,
        reason=storable(redact_text(reason)),  # reasons name URLs: never with their keys
        raw=storable(rejection.raw),
        content_hash=digest,
    )


def quarantine(session: Session, feed_name: str, rejections: Sequence[Rejection], now: datetime) -> int:
    """Keep the rejections this feed has not sent before; returns how many rows were added."""
    digests = [content_hash(r) for r in rejections]
    seen = set(_stored(session, feed_name, digests))
    added = 0
    for rejection, digest in zip(rejections, digests, strict=True):
        if digest in seen:
            continue
        seen.add(digest)
        session.add(_row(feed_name, rejection, rejection.reason, digest, now))
        added += 1
    return added


def note(session: Session, feed_name: str, rejection: Rejection, reason: str, now: datetime) -> bool:
    """Quarantine ``rejection`` with ``reason``, or give the stored row of the same content that reason
    (and ``now`` as its time). Returns whether a row was added."""
    digest = content_hash(rejection)
    row = _stored(session, feed_name, [digest]).get(digest)
    if row is None:
        session.add(_row(feed_name, rejection, reason, digest, now))
        return True
    row.reason, row.at = storable(redact_text(reason)), now
    return False
