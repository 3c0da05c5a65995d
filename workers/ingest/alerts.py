"""Upserting parsed alerts (CAP warnings, sensor alarms) inside the caller's transaction.

- ``Alert``: inserted once per ``(feed_name, external_id)``; the same message again with the same
  content is ignored; a sensor alarm re-sent with new content (a level change, say) updates the row.
- ``Update``: replaces the content of each alert named in ``references``, keeping its state unless
  it had expired (then it is ``new`` again) or it raises the severity (黄→橙, any raise): then a
  ``raised`` event says so and an acknowledged (or linked) alert is ``new`` again, to be acknowledged
  at the new level; its escalation clock restarts (``raised_at``). A lowering or same-level Update
  keeps the acknowledgement; ``Cancel`` sets it ``cancelled``, and so does an
  all-clear ``Update`` (urgency ``Past``, :attr:`AlertRecord.ends`) after replacing its content. The
  identifiers of the Update/Cancel messages applied to an alert are appended to its ``references``
  column, so a message is applied once and a CAP index never fetches it twice. An Update or Cancel
  naming no alert we hold is stored as an alert of its own (it is the best knowledge we have).
- Each change is an ``alert_event``; a warning's area is intersected with the grids and stored as
  ``alert_grid`` rows; the alert's place columns hold the grid of its centre.
- 预警叫应: then each alert touched is synced with its calls (:func:`data.loop.calls.sync_alert`), in
  the same transaction: a warning at 黄 or above calls its covered grids' workers (outbox messages), an
  Update that raises the level calls them again, a Cancel ends the calling. ``counts.calls`` counts the
  messages written; the poll asks the workers to deliver them at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from data.loop.calls import sync_alert
from data.models import SEVERITY_RANK, Alert, AlertEvent, AlertGrid

from ..feeds.records import AlertRecord
from .cases import Counts
from .placement import Placer

CONTENT_FIELDS = (
    "kind", "event", "severity", "colour", "urgency", "certainty", "headline", "description", "area_desc",
)  # fmt: skip


def _geometry(record: AlertRecord) -> BaseGeometry | None:
    if not record.geometry:
        return None
    try:
        geom = shape(record.geometry)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return None if geom.is_empty else geom


def known_documents(session: Session, feed_name: str) -> set[str]:
    """Identifiers of every alert message of this feed already stored or applied."""
    rows = session.execute(
        select(Alert.external_id, Alert.references).where(Alert.feed_name == feed_name)
    ).all()
    known: set[str] = set()
    for external_id, references in rows:
        known.add(external_id)
        known.update((references or "").split())
    return known


class AlertIngest:
    def __init__(self, session: Session, feed_name: str, placer: Placer, now: datetime) -> None:
        self.session = session
        self.feed_name = feed_name
        self.placer = placer
        self.now = now
        self.counts = Counts()
        self._known: set[str] | None = None
        self._touched: dict[int, Alert] = {}  # the alerts this run changed (by object id): synced with calls

    def run(self, records: Sequence[AlertRecord]) -> Counts:
        self.counts.received += len(records)
        for record in records:
            self.counts.saw(record.sent)
            if record.msg_type in ("Update", "Cancel"):
                self._amend(record)
            elif record.msg_type == "Alert":
                self._alert(record)
            else:  # Ack, Error: nothing to show
                self.counts.ignored += 1
        self.session.flush()
        if self.counts.new or self.counts.updated:
            self.counts.layers.update({"alerts", "kpis"})
        for alert in self._touched.values():
            synced = sync_alert(self.session, alert, self.now)
            if synced.changed:
                self.counts.layers.add("alerts")  # the wall's 叫应 chip and the map's called grids
                self.counts.calls += len(synced.messages)
        self.session.flush()
        return self.counts

    def _find(self, external_ids: Sequence[str]) -> list[Alert]:
        if not external_ids:
            return []
        stmt = select(Alert).where(Alert.feed_name == self.feed_name, Alert.external_id.in_(external_ids))
        return list(self.session.scalars(stmt))

    def _applied(self, record: AlertRecord) -> bool:
        if self._known is None:
            self._known = known_documents(self.session, self.feed_name)
        if record.external_id in self._known:
            return True
        self._known.add(record.external_id)
        return False

    def _event(self, alert: Alert, kind: str, detail: str = "") -> None:
        alert.events.append(AlertEvent(kind=kind, at=self.now, detail=detail, actor=f"feed:{self.feed_name}"))

    def _set_content(self, alert: Alert, record: AlertRecord) -> None:
        self._touched[id(alert)] = alert
        for name in CONTENT_FIELDS:
            setattr(alert, name, getattr(record, name))
        alert.sent_at = record.sent
        alert.onset = record.onset
        alert.expires = record.expires
        geom = _geometry(record)
        alert.geometry = shapely.to_wkb(geom) if geom is not None else None
        centre = geom.centroid if geom is not None and geom.geom_type != "Point" else geom
        alert.lon = centre.x if centre is not None else None
        alert.lat = centre.y if centre is not None else None
        placement = self.placer.place([(alert.lon, alert.lat)], [""], [record.area_desc])[0]
        alert.set_place(placement.code)
        self._grids(alert, geom)

    def _grids(self, alert: Alert, geom: BaseGeometry | None) -> None:
        if alert.id is not None:
            self.session.execute(delete(AlertGrid).where(AlertGrid.alert_id == alert.id))
        else:
            self.session.add(alert)
            self.session.flush()
        codes = self.placer.areas.covering(geom) if geom is not None and geom.geom_type != "Point" else []
        if not codes and alert.grid_code:
            codes = [alert.grid_code]
        self.session.add_all(AlertGrid(alert_id=alert.id, grid_code=code) for code in codes)

    def _replace(self, alert: Alert, record: AlertRecord) -> None:
        """New content over an existing alert; a raise of the severity makes it loud again."""
        before, before_colour = alert.severity, alert.colour
        self._set_content(alert, record)
        self._event(alert, "updated", record.external_id)
        if SEVERITY_RANK.get(alert.severity, 0) <= SEVERITY_RANK.get(before, 0):
            return
        alert.raised_at = self.now
        alert.escalated_at = None  # escalates again if left unacknowledged at the new level
        if alert.state in ("acknowledged", "linked"):
            alert.state = "new"
            alert.acknowledged_by = None
            alert.acknowledged_at = None
        self._event(alert, "raised", f"{before_colour or before}→{alert.colour or alert.severity}")

    def _same(self, alert: Alert, record: AlertRecord) -> bool:
        geom = _geometry(record)
        wkb = shapely.to_wkb(geom) if geom is not None else None
        return (
            all(getattr(alert, n) == getattr(record, n) for n in CONTENT_FIELDS)
            and alert.expires == record.expires
            and alert.onset == record.onset
            and alert.geometry == wkb
        )

    def _alert(self, record: AlertRecord) -> None:
        found = self._find([record.external_id])
        if found:
            alert = found[0]
            if self._same(alert, record):
                self.counts.ignored += 1
                return
            self._replace(alert, record)
            self.counts.updated += 1
            return
        alert = Alert(
            feed_name=self.feed_name,
            external_id=record.external_id,
            msg_type="Alert",
            references="",
            state="expired" if record.expires is not None and record.expires < self.now else "new",
            events=[],
        )
        self._set_content(alert, record)
        self._event(alert, "created", record.headline or record.event)
        self.counts.new += 1

    def _amend(self, record: AlertRecord) -> None:
        if self._applied(record):
            self.counts.ignored += 1
            return
        targets = self._find(list(record.references))
        if not targets:  # nothing to amend: keep the message itself
            self._orphan(record)
            return
        for alert in targets:
            alert.references = " ".join([*alert.references.split(), record.external_id])
            alert.msg_type = record.msg_type
            if record.ends:
                if record.msg_type == "Update":  # an all-clear Update: its own words replace the alert's
                    self._set_content(alert, record)
                if alert.state != "cancelled":
                    alert.state = "cancelled"
                self._event(alert, "cancelled", record.external_id)
                self._touched[id(alert)] = alert
            else:
                self._replace(alert, record)
                if alert.state == "expired" and (alert.expires is None or alert.expires > self.now):
                    alert.state = "new"
        self.counts.updated += 1

    def _orphan(self, record: AlertRecord) -> None:
        alert = Alert(
            feed_name=self.feed_name,
            external_id=record.external_id,
            msg_type=record.msg_type,
            references=" ".join(record.references),
            state="cancelled" if record.ends else "new",
            events=[],
        )
        self._set_content(alert, record)
        self._event(alert, "created", f"{record.msg_type} of unknown {' '.join(record.references)}")
        self.counts.new += 1
