"""Open311 GeoReport v2 ``service_requests`` responses (XML, the standard's required format, or JSON).

Bytes in, :class:`~workers.feeds.records.ParseResult` out; no network, no database.

What real servers send, and what this parser does with it:

- every value is stripped; empty elements are "not given";
- ``service_request_id`` may be an integer or a string; it is kept as text. A record without one is
  rejected (quarantined by the ingest with the reason);
- times carry any UTC offset and are converted to UTC; a time without an offset (some servers send
  ``2025-03-01 09:30:00``) is read as Asia/Shanghai, UTC+08:00 (our feeds are Chinese; China has had
  no daylight saving since 1991). ``requested_datetime`` is required; any date that is present but
  unparseable or impossible (2025-02-30) rejects the record;
- ``lat``/``long`` (``lon`` also accepted) must both be numbers in range when given; a record with no
  location is kept with ``lon``/``lat`` ``None`` (placed later by grid code or address). ``0``,``0``
  is many 311 systems' "no location" and is read as none, not as a point in the Gulf of Guinea; so is
  a point outside the plausible ``area`` (by default :data:`CHINA`, a box around the country): such a
  case too is placed by its grid code or address;
- ``status``: our state names (reported … returned, ``in progress`` spelt any way), their Chinese
  labels (待受理 … 退回), ``open`` (kept as ``open``: the ingest interprets it) and ``closed``. Any
  other word keeps the record as ``open``; the feed's own word is always kept in ``source_status``;
- the simulators' extensions ``priority``, ``grid_code``, ``satisfaction`` and
  ``accepted_datetime``, ``resolved_datetime`` are read when present;
- duplicate ids in one document are all kept, in document order: the ingest upserts by
  ``(feed, external_id)``, so the later one wins and nothing is doubled;
- feed text (descriptions with ``<script>`` and all) is kept verbatim as plain text. Escaping it is
  the display's job.
- every record is its own unit of failure: one that cannot be read (a time that overflows, a
  description nested 50,000 levels deep in XML or JSON, any error while reading it) is rejected
  alone, and the page's other records go in. Whether a record read can be *stored* is checked by the
  poll (:mod:`workers.feeds.storable`).

The standard's error document (``<errors><error><code/><description/></error></errors>``, or the
JSON list of ``{code, description}``) becomes ``ParseResult.feed_error``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from data.states import STATES

from . import _json, xmlsafe
from ._times import BadTime, format_query_time, parse_optional, parse_time
from .records import CaseRecord, DocumentRejected, ParseResult, Rejection

_PRIORITIES = {"urgent": "urgent", "normal": "normal", "complex": "complex"}
_PRIORITIES.update({"紧急": "urgent", "一般": "normal", "复杂": "complex"})
# The status words Chinese feeds send (what they say, not what we show: the screens' words are in data.text).
_STATUS_WORDS = {
    "待受理": "reported",
    "已受理": "accepted",
    "已交办": "assigned",
    "处置中": "in_progress",
    "已办结": "resolved",
    "已归档": "closed",
    "退回": "returned",
}
_SATISFACTION = {"satisfied": "satisfied", "basic": "basic", "unsatisfied": "unsatisfied"}
_SATISFACTION.update({"满意": "satisfied", "基本满意": "basic", "不满意": "unsatisfied"})
MEDIA_URL_LENGTH = 500  # case.media_url


class Bounds(NamedTuple):
    """A lon/lat box (WGS-84 degrees), edges included."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def contains(self, lon: float, lat: float) -> bool:
        return self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat


# Mainland China, Hainan, Taiwan and the South China Sea islands, rounded outwards (73.5–135.1 E,
# 3.8–53.6 N): a point outside it cannot be a case of a Chinese deployment.
CHINA = Bounds(73.0, 3.0, 136.0, 54.0)


class BadRecord(ValueError):
    """One record cannot be accepted; the message is the quarantine reason."""


def parse(body: bytes, fmt: str | None = None, area: Bounds | None = CHINA) -> ParseResult:
    """Parse a ``service_requests`` response. ``fmt`` is ``"xml"``, ``"json"`` or None (detect);
    ``area`` is where a point is plausible (``None``: anywhere on Earth).

    Raises :class:`DocumentRejected` when the document as a whole is unusable.
    """
    kind = (fmt or detect_format(body)).lower()
    if kind == "xml":
        items, error = _xml_items(body)
    elif kind == "json":
        items, error = _json_items(body)
    else:
        raise ValueError(f"unknown Open311 format {fmt!r}: use 'xml' or 'json'")
    result = ParseResult(feed_error=error)
    for fields, raw in items:
        try:
            if isinstance(fields, str):  # the record could not even be read: the reason
                raise BadRecord(fields)
            if fields is None:
                raise BadRecord("record is not a JSON object")
            result.cases.append(record_from_fields(fields, raw, area))
        except Exception as exc:  # noqa: BLE001 - one record's fault (BadRecord, or an overflow, a
            # recursion, a bug) costs that record only; the page's other records go in
            result.rejections.append(Rejection(reason=_reason(exc), raw=raw, external_id=_record_id(fields)))
    return result


def _reason(exc: Exception) -> str:
    if isinstance(exc, BadRecord):
        return str(exc)
    return f"record could not be read ({type(exc).__name__}): {exc}"


def _record_id(fields: Any) -> str | None:
    if not isinstance(fields, dict):
        return None
    try:
        return _clean(fields.get("service_request_id"))[:250] or None
    except Exception:  # noqa: BLE001 - an id too deep to print is no id
        return None


def detect_format(body: bytes) -> str:
    """``"xml"`` or ``"json"`` from the first meaningful byte; :class:`DocumentRejected` otherwise."""
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        return "xml"
    if head in (b"[", b"{"):
        return "json"
    if not head:
        raise DocumentRejected("empty document")
    raise DocumentRejected("neither XML nor JSON: an Open311 response starts with '<', '[' or '{'")


def build_query(
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    updated_after: datetime | None = None,
    page: int | None = None,
    page_size: int | None = None,
) -> dict[str, str]:
    """The standard's ``GET requests`` query parameters, times as ISO-8601 with an explicit offset.

    Datetimes must be timezone-aware (a naive one raises ``ValueError``); pages count from 1.
    """
    query: dict[str, str] = {}
    for key, when in (("start_date", start_date), ("end_date", end_date), ("updated_after", updated_after)):
        if when is not None:
            query[key] = format_query_time(when)
    for key, number in (("page", page), ("page_size", page_size)):
        if number is not None:
            if number < 1:
                raise ValueError(f"{key} must be at least 1, got {number}")
            query[key] = str(number)
    return query


def map_status(word: str) -> str:
    """The feed's status word as our state, ``"open"``, or ``"closed"`` (see the module docstring)."""
    key = word.strip()
    if key in _STATUS_WORDS:
        return _STATUS_WORDS[key]
    norm = key.lower().replace("-", "_").replace(" ", "_")
    if norm in STATES or norm in ("open", "closed"):
        return norm
    return "open"


def _media_url(fields: Mapping[str, Any]) -> str:
    """The request's ``media_url`` when it is an http(s) URL of at most 500 characters, else "" (a
    ``javascript:`` or ``data:`` link never reaches a page's ``href``)."""
    url = _clean(fields.get("media_url"))
    if len(url) > MEDIA_URL_LENGTH or not url.lower().startswith(("http://", "https://")):
        return ""
    return url if not any(c.isspace() or c in '<>"' for c in url) else ""


def record_from_fields(fields: Mapping[str, Any], raw: str, area: Bounds | None = CHINA) -> CaseRecord:
    """One request's fields (element or key name → value) as a CaseRecord, or :class:`BadRecord`."""
    ext = _clean(fields.get("service_request_id"))
    if not ext:
        raise BadRecord("missing or empty service_request_id")
    requested = _required_time(fields, "requested_datetime")
    lon, lat = _location(fields, area)
    source_status = _clean(fields.get("status"))
    return CaseRecord(
        external_id=ext,
        status=map_status(source_status) if source_status else "open",
        source_status=source_status,
        requested_at=requested,
        updated_at=_time(fields, "updated_datetime"),
        expected_at=_time(fields, "expected_datetime"),
        accepted_at=_time(fields, "accepted_datetime"),
        resolved_at=_time(fields, "resolved_datetime"),
        category_code=_clean(fields.get("service_code")),
        category_name=_clean(fields.get("service_name")),
        description=_clean(fields.get("description")),
        address=_clean(fields.get("address")),
        lon=lon,
        lat=lat,
        grid_code=_clean(fields.get("grid_code")),
        priority=_PRIORITIES.get(_clean(fields.get("priority")).lower(), "normal"),
        department=_clean(fields.get("agency_responsible")),
        satisfaction=_SATISFACTION.get(_clean(fields.get("satisfaction")).lower()),
        media_url=_media_url(fields),
        raw=raw,
    )


# --- document shapes -------------------------------------------------------------------------------

# (the record's fields, or None when it is not an object, or the reason it could not be read; its raw text)
Items = list[tuple[dict[str, Any] | str | None, str]]


def _xml_items(body: bytes) -> tuple[Items, str | None]:
    root = xmlsafe.parse(body)
    name = xmlsafe.local(root.tag)
    if name == "errors":
        return [], _error_text(
            (xmlsafe.child_text(e, "code"), xmlsafe.child_text(e, "description"))
            for e in xmlsafe.children(root, "error")
        )
    if name == "request":  # a lone request, as some servers answer requests/<id>.xml
        requests = [root]
    elif name == "service_requests":
        requests = xmlsafe.children(root, "request")
    else:
        raise DocumentRejected(f"not an Open311 response: root element <{name}>")
    items: Items = []
    for req in requests:
        fields: dict[str, Any] = {}
        for child in req:
            key = xmlsafe.local(child.tag)
            if key and key not in fields:
                fields[key] = child.text or ""
        try:
            raw = xmlsafe.serialise(req)
        except RecursionError:  # an element nested too deeply to write back out: this record only
            ident = fields.get("service_request_id") or ""
            raw = f"<request><service_request_id>{ident.strip()[:250]}</service_request_id>…</request>"
            items.append(("record nested too deeply to be read", raw))
            continue
        items.append((fields, raw))
    return items, None


def _json_items(body: bytes) -> tuple[Items, str | None]:
    doc = _json.load_records(body, "service_requests")
    if isinstance(doc, dict):
        if isinstance(doc.get("errors"), list):
            doc = doc["errors"]
        elif isinstance(doc.get("service_requests"), list):
            doc = doc["service_requests"]
        elif "service_request_id" in doc:
            doc = [doc]
        else:
            raise DocumentRejected("not an Open311 response: a JSON object without service_requests")
    if not isinstance(doc, list):
        raise DocumentRejected(f"not an Open311 response: JSON {type(doc).__name__}, expected a list")
    if doc and all(_is_error(item) for item in doc):
        return [], _error_text((_clean(e.get("code")), _clean(e.get("description"))) for e in doc)
    items: Items = []
    for item in doc:
        if isinstance(item, _json.TooDeep):
            items.append(("record nested too deeply to be read", item.raw))
            continue
        raw = json.dumps(item, ensure_ascii=False)
        items.append((item if isinstance(item, dict) else None, raw))
    return items, None


def _is_error(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    return "description" in item and "code" in item and "service_request_id" not in item


def _error_text(errors: Iterable[tuple[str, str]]) -> str:
    parts = [f"{code}: {desc}" if code else desc for code, desc in errors]
    return "; ".join(p for p in parts if p) or "Open311 error document without a description"


# --- field readers ---------------------------------------------------------------------------------


def _clean(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | str):
        return str(value).strip()
    return json.dumps(value, ensure_ascii=False)


def _required_time(fields: Mapping[str, Any], key: str) -> datetime:
    text = _clean(fields.get(key))
    if not text:
        raise BadRecord(f"missing {key}")
    try:
        return parse_time(text)
    except BadTime as exc:
        raise BadRecord(f"{key}: {exc}") from None
    except OverflowError:  # 0001-01-01T00:00:00 without an offset, say: before year 1 in UTC
        raise BadRecord(f"{key} {text} is out of range") from None


def _time(fields: Mapping[str, Any], key: str) -> datetime | None:
    try:
        return parse_optional(_clean(fields.get(key)))
    except BadTime as exc:
        raise BadRecord(f"{key}: {exc}") from None
    except OverflowError:  # 0001-01-01T00:00:00 without an offset, say: before year 1 in UTC
        raise BadRecord(f"{key} {_clean(fields.get(key))} is out of range") from None


def _location(fields: Mapping[str, Any], area: Bounds | None) -> tuple[float | None, float | None]:
    lat_text = _clean(fields.get("lat"))
    lon_text = _clean(fields.get("long")) or _clean(fields.get("lon"))
    if not lat_text and not lon_text:
        return None, None
    if not lat_text or not lon_text:
        raise BadRecord(f"incomplete location: lat={lat_text!r} long={lon_text!r} (give both or neither)")
    lat = _number("lat", lat_text)
    lon = _number("long", lon_text)
    if not -90 <= lat <= 90:
        raise BadRecord(f"lat out of range (-90..90): {lat_text}")
    if not -180 <= lon <= 180:
        raise BadRecord(f"long out of range (-180..180): {lon_text}")
    if (lon == 0 and lat == 0) or (area is not None and not area.contains(lon, lat)):
        return None, None  # "no location" (0,0), or nowhere a case of ours can be
    return lon, lat


def _number(key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadRecord(f"{key} is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise BadRecord(f"{key} is not a finite number: {text!r}")
    return value
