"""Storing one batch of parsed records, inside the caller's transaction: the part of a commit that a
poll (``workers.jobs.poll``) and a push (``workers.jobs.push``) share.

Each record is its own unit of failure: cases and alerts are upserted through :mod:`.isolate` (those
the database refuses are quarantined with its words), and every rejection — the parser's, the screen's,
the database's — goes to the quarantine once. What happens to the feed's cursor and health is the
caller's: a push must never move the poll's cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from ..feeds.config import FeedConfig
from ..feeds.records import CaseRecord, Rejection
from . import isolate
from .alerts import AlertIngest
from .batch import Batch
from .cases import CaseIngest, Counts
from .placement import Placer
from .quarantine import quarantine, refused


@dataclass
class Stored:
    counts: Counts
    changed: set[str]  # the layers whose version must move
    unstorable: list[Rejection]  # records read but not storable (screened or refused by the database)
    new_unstorable: int  # quarantine rows those added
    rejections: list[Rejection] = field(default_factory=list)  # every record quarantined, with its reason
    stored_cases: list[str] = field(default_factory=list)  # external ids of the cases that went in
    stored_alerts: list[str] = field(default_factory=list)


def store_batch(
    session: Session,
    config: FeedConfig,
    placer: Placer,
    batch: Batch,
    now: datetime,
    echo_before: datetime | None = None,
    phone_key: bytes | None = None,
) -> Stored:
    """Upsert the batch's cases and alerts and quarantine its rejections (the caller commits).
    ``phone_key``: the key of the reporters' phone hashes (:class:`workers.ingest.cases.CaseIngest`)."""
    cases = [c for r in batch.results for c in r.cases]
    alerts = [a for r in batch.results for a in r.alerts]

    def ingest(part: Sequence[CaseRecord]) -> Counts:  # a fresh ingest per part: a refused part leaves none
        return CaseIngest(session, config, placer, now, echo_before, phone_key).run(part)

    counts, bad_cases = isolate.each(session, cases, ingest)
    alert_counts, bad_alerts = isolate.each(
        session, alerts, lambda part: AlertIngest(session, config.name, placer, now).run(part)
    )
    isolate.merge(counts, alert_counts)
    unstorable = [*batch.unstorable, *(refused(case, why) for case, why in bad_cases)]
    unstorable += [refused(alert, why) for alert, why in bad_alerts]
    screened = {id(r) for r in batch.unstorable}
    others = [r for r in batch.rejections if id(r) not in screened]
    new_unstorable = quarantine(session, config.name, unstorable, now)
    counts.quarantined = quarantine(session, config.name, others, now) + new_unstorable
    refused_cases = {id(c) for c, _ in bad_cases}
    refused_alerts = {id(a) for a, _ in bad_alerts}
    return Stored(
        counts=counts,
        changed={"feeds"} | counts.layers | alert_counts.layers,
        unstorable=unstorable,
        new_unstorable=new_unstorable,
        rejections=[*others, *unstorable],
        stored_cases=[c.external_id for c in cases if id(c) not in refused_cases],
        stored_alerts=[a.external_id for a in alerts if id(a) not in refused_alerts],
    )
