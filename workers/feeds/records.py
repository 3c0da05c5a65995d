"""Normalised records: what a parser produces and the ingest job consumes.

Parsers never touch the network or the database; they turn bytes into these records and rejections.
Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CaseRecord:
    external_id: str
    status: str  # our state (data.states.STATES), or "open" when the feed only says open
    source_status: str  # the feed's own word, kept verbatim (trimmed)
    requested_at: datetime
    updated_at: datetime | None = None
    expected_at: datetime | None = None
    accepted_at: datetime | None = None  # the simulators' accepted_datetime extension (受理时间)
    resolved_at: datetime | None = None  # the resolved_datetime extension (办结时间)
    category_code: str = ""  # the feed's service_code
    category_name: str = ""
    description: str = ""
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    grid_code: str = ""  # when the feed names the grid / community / street instead of a point
    priority: str = "normal"
    department: str = ""  # agency_responsible
    satisfaction: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    reporter_email: str | None = None  # personal data (a pushed request's ``email``)
    media_url: str = ""  # Open311 ``media_url``: an http(s) link to the reporter's photo, or ""
    raw: str = ""

    def to_json(self) -> dict[str, Any]:
        """The `gridcc feeds parse` form: ISO-8601 UTC times, no raw payload, no personal data."""
        d = asdict(self)
        for key in ("raw", "reporter_name", "reporter_phone", "reporter_email"):
            d.pop(key)
        for key in ("requested_at", "updated_at", "expected_at", "accepted_at", "resolved_at"):
            d[key] = _iso(d[key])
        return d


@dataclass(frozen=True)
class AlertRecord:
    external_id: str
    msg_type: str  # Alert | Update | Cancel | Ack | Error
    kind: str  # weather | fence | noise | landslide | smoke | thermal | other
    event: str
    severity: str  # Extreme | Severe | Moderate | Minor | Unknown
    colour: str  # red | orange | yellow | blue | "" (unknown)
    urgency: str = ""
    certainty: str = ""
    sent: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    headline: str = ""
    description: str = ""
    area_desc: str = ""
    geometry: dict[str, Any] | None = None  # GeoJSON geometry, lon/lat order
    geocodes: tuple[tuple[str, str], ...] = ()
    references: tuple[str, ...] = ()  # external ids of the alerts an Update / Cancel acts on
    raw: str = ""

    @property
    def ends(self) -> bool:
        """An all-clear: a ``Cancel``, or an ``Update`` whose urgency is ``Past`` (the event is over);
        either ends the alerts it references."""
        return self.msg_type == "Cancel" or (self.msg_type == "Update" and self.urgency == "Past")

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("raw")
        for key in ("sent", "onset", "expires"):
            d[key] = _iso(d[key])
        d["references"] = list(self.references)
        d["geocodes"] = [list(g) for g in self.geocodes]
        return d


@dataclass(frozen=True)
class Rejection:
    """A record (or a whole document) that could not be accepted, with the reason and the raw text."""

    reason: str
    raw: str = ""
    external_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"external_id": self.external_id, "reason": self.reason}


@dataclass
class ParseResult:
    cases: list[CaseRecord] = field(default_factory=list)
    alerts: list[AlertRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    feed_error: str | None = None  # e.g. an Open311 <errors> document: the feed itself failed
    index_links: list[str] = field(default_factory=list)  # a CAP ATOM/RSS index: the alerts it names


class DocumentRejected(Exception):
    """The whole document is unusable (malformed, forbidden XML construct, schema failure)."""


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")
