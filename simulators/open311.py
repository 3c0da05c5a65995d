"""Open311 GeoReport v2 as the simulators speak it: request lists (XML and JSON), the service list,
error documents, the query parameters of ``GET requests`` and the body of ``POST requests``.

Extension elements beside the standard's: ``priority``, ``grid_code``, ``accepted_datetime``,
``resolved_datetime``, ``satisfaction``. XML is built with ``xml.etree`` so every text is escaped.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .cases import Query
from .places import District
from .specs import Catalogue, Category, SimSpec
from .store import from_ts, ts

MAX_PAGE_SIZE = 1000
STATUS_GROUPS = {
    "open": ("reported", "accepted", "assigned", "in_progress", "returned"),
    "closed": ("resolved", "closed"),
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadRequest(ValueError):
    """A request the simulator refuses, with the Open311 error code to answer with."""

    def __init__(self, description: str, code: int = 400) -> None:
        super().__init__(description)
        self.code = code


def format_time(value: str | None, utc: bool, tz: ZoneInfo) -> str:
    """Stored UTC text as ISO-8601 with seconds, in +08:00 (or ``Z`` for departments that use UTC)."""
    if not value:
        return ""
    when = from_ts(value).replace(microsecond=0)
    if utc:
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return when.astimezone(tz).isoformat()


def resolved_at(row: dict[str, Any]) -> str | None:
    """When a resolved or closed request was last resolved (办结时间), from its plan; else None."""
    if row["status"] not in ("resolved", "closed"):
        return None
    steps = json.loads(row["plan"])[: int(row["applied"])]
    at = next((at for state, at, _sat in reversed(steps) if state == "resolved"), None)
    return ts(datetime.fromisoformat(at)) if at else None


def request_fields(
    row: dict[str, Any], spec: SimSpec, agency: str, tz: ZoneInfo
) -> list[tuple[str, str | float | None]]:
    """One request as ordered (element, value) pairs; None = an empty element."""
    expected = None
    if row["accepted_at"]:
        expected = from_ts(row["accepted_at"]) + timedelta(hours=int(row["limit_hours"]))
    fields: list[tuple[str, str | float | None]] = [
        ("service_request_id", row["id"]),
        ("status", row["status"]),
        ("status_notes", row["status_notes"]),
        ("service_name", row["service_name"]),
        ("service_code", row["service_code"]),
        ("description", row["description"]),
        ("agency_responsible", agency),
        ("service_notice", row["service_notice"] or None),
        ("requested_datetime", format_time(row["requested_at"], spec.utc, tz)),
        ("updated_datetime", format_time(row["updated_at"], spec.utc, tz)),
        (
            "expected_datetime",
            format_time(expected.strftime("%Y-%m-%dT%H:%M:%S.%f"), spec.utc, tz) if expected else None,
        ),
        ("address", row["address"] or None),
        ("address_id", None),
        ("zipcode", None),
        ("lat", row["lat"]),
        ("long", row["lon"]),
        ("media_url", None),
        ("priority", row["priority"]),
    ]
    if row["grid_code"]:
        fields.append(("grid_code", row["grid_code"]))
    if row["accepted_at"]:
        fields.append(("accepted_datetime", format_time(row["accepted_at"], spec.utc, tz)))
    resolved = resolved_at(row)
    if resolved:
        fields.append(("resolved_datetime", format_time(resolved, spec.utc, tz)))
    if row["satisfaction"]:
        fields.append(("satisfaction", row["satisfaction"]))
    return fields


def render_requests(rows: list[list[tuple[str, str | float | None]]], fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(
            [{k: v for k, v in r if v is not None or k not in ("lat", "long")} for r in rows],
            ensure_ascii=False,
        ).encode()
    root = ET.Element("service_requests")
    for r in rows:
        el = ET.SubElement(root, "request")
        for key, value in r:
            ET.SubElement(el, key).text = None if value is None else str(value)
    return _xml(root)


def render_services(categories: list[Category], fmt: str) -> bytes:
    items = [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": f"{c.name}（{c.name_en}）",
            "metadata": False,
            "type": "realtime",
            "keywords": c.name_en.lower(),
            "group": c.code.split(".")[0],
        }
        for c in categories
    ]
    if fmt == "json":
        return json.dumps(items, ensure_ascii=False).encode()
    root = ET.Element("services")
    for item in items:
        el = ET.SubElement(root, "service")
        for key, value in item.items():
            ET.SubElement(el, key).text = str(value).lower() if isinstance(value, bool) else str(value)
    return _xml(root)


def render_errors(code: int, description: str, fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps([{"code": code, "description": description}], ensure_ascii=False).encode()
    root = ET.Element("errors")
    err = ET.SubElement(root, "error")
    ET.SubElement(err, "code").text = str(code)
    ET.SubElement(err, "description").text = description
    return _xml(root)


def render_post_answer(rid: str, notice: str, fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(
            [{"service_request_id": rid, "service_notice": notice}], ensure_ascii=False
        ).encode()
    root = ET.Element("service_requests")
    el = ET.SubElement(root, "request")
    ET.SubElement(el, "service_request_id").text = rid
    ET.SubElement(el, "service_notice").text = notice
    return _xml(root)


def _xml(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def parse_time(value: str, name: str, tz: ZoneInfo) -> datetime:
    try:
        when = datetime.fromisoformat(value.strip().replace(" ", "+", 1) if "T" in value else value.strip())
    except ValueError:
        raise BadRequest(f"{name}: not an ISO-8601 date-time: {value[:40]!r}") from None
    return (when if when.tzinfo else when.replace(tzinfo=tz)).astimezone(UTC)


def parse_query(params: dict[str, list[str]], tz: ZoneInfo) -> Query:
    """The query string of ``GET requests``; raises :class:`BadRequest` for a bad value."""

    def one(name: str) -> str | None:
        values = params.get(name)
        return values[-1] if values and values[-1].strip() else None

    def integer(name: str, default: int, lo: int, hi: int) -> int:
        raw = one(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest(f"{name} must be an integer") from None
        if not lo <= value <= hi:
            raise BadRequest(f"{name} must be between {lo} and {hi}")
        return value

    def times(name: str) -> datetime | None:
        raw = one(name)
        return parse_time(raw, name, tz) if raw else None

    def words(name: str) -> tuple[str, ...]:
        raw = one(name)
        return tuple(w.strip() for w in raw.split(",") if w.strip()) if raw else ()

    status: list[str] = []
    for word in words("status"):
        status.extend(STATUS_GROUPS.get(word, (word,)))
    return Query(
        start=times("start_date"),
        end=times("end_date"),
        updated_after=times("updated_after"),
        status=tuple(status),
        service_codes=words("service_code"),
        ids=words("service_request_id"),
        page=integer("page", 1, 1, 1_000_000),
        page_size=integer("page_size", 200, 1, MAX_PAGE_SIZE),
    )


def validate_post(
    form: dict[str, str], catalogue: Catalogue, district: District
) -> tuple[dict[str, Any], str]:
    """Check a posted request; returns the case fields and the service notice.

    A point outside the district is accepted (citizens mis-tap maps) but not placed in a grid, and
    the notice says so; the command centre then places it by its address.
    """
    code = (form.get("service_code") or "").strip()
    if not code:
        raise BadRequest("service_code is required")
    if code not in catalogue.categories:
        raise BadRequest(f"service_code not found: {code[:60]}")
    description = _CONTROL.sub("", form.get("description") or "").strip()
    if len(description) > 4000:
        raise BadRequest("description is longer than 4000 characters")
    address = _CONTROL.sub("", form.get("address_string") or "").strip()[:300]
    lat_raw, lon_raw = (form.get("lat") or "").strip(), (form.get("long") or "").strip()
    lon = lat = None
    if lat_raw or lon_raw:
        try:
            lat, lon = float(lat_raw), float(lon_raw)
        except ValueError:
            raise BadRequest("lat and long must both be decimal degrees") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) or lat != lat or lon != lon:
            raise BadRequest("lat/long out of range")
    if lon is None and not address:
        raise BadRequest("a location is required: lat and long, or address_string")
    fields: dict[str, Any] = {
        "service_code": code,
        "description": description,
        "address": address,
        "lon": None if lon is None else round(lon, 7),
        "lat": None if lat is None else round(lat, 7),
        "grid_code": "",
    }
    priority = (form.get("priority") or "").strip()
    if priority:
        if priority not in ("urgent", "normal", "complex"):
            raise BadRequest("priority must be urgent, normal or complex")
        fields["priority"] = priority
    notice = "已登记，将按时限办理并回访"
    if lon is not None and lat is not None:
        unit = district.leaf_at(lon, lat) if district.contains(lon, lat) else None
        if unit is None:
            notice = f"坐标不在{district.name}范围内，将按地址核实转办"
        else:
            fields["grid_code"] = unit.code
    fields["service_notice"] = notice
    return fields, notice
