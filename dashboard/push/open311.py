"""gridcc as an Open311 GeoReport v2 server, under ``/open311/v2/`` (XML and JSON, as FixMyStreet
serves them): ``GET services``, ``GET services/<code>``, ``POST requests``, ``GET requests``,
``GET requests/<id>``.

A posted request is checked here for what the standard requires (a key, a service code, a location,
a description within 4,000 characters, an http(s) media URL) and turned into the GeoReport JSON a
polled feed would send, with an id of gridcc's making (``push-<key id>-<random>``); the workers then
parse, screen, place, quarantine and upsert it like a polled record (``workers.jobs.push``). The
answer carries the case's gridcc id as ``service_request_id``.

A key reads back only what it filed, or — a department's key — the cases of its department; an id
outside that is "not found", as an unknown one is.
"""

from __future__ import annotations

import json
import math
import secrets
from datetime import datetime
from typing import Any

from flask import Blueprint, Request, Response, request
from sqlalchemy import Select, or_, select
from werkzeug.exceptions import RequestEntityTooLarge

from data.models import Case, utcnow
from data.settings import Settings

from . import georeport
from .gate import Client, Refused, admit, client_for, count, ingest, token_of

BASE = "/open311/v2"
MAX_DESCRIPTION = 4000  # the standard's limit on a request's description
HARD_LIMIT = 1024 * 1024  # no form larger than this is read, whatever the key (before it is known)
LIST_LIMIT = 1000  # the most requests one GET answers (the standard's default window is 90 days)
REQUEST_FIELDS = (
    "service_code", "lat", "long", "address_string", "address_id", "description", "media_url",
    "first_name", "last_name", "phone", "email", "device_id", "account_id",
)  # fmt: skip


def _fmt(fmt: str) -> str | None:
    return fmt if fmt in georeport.FORMATS else None


def _form(req: Request) -> dict[str, str]:
    """The posted fields: a form (urlencoded or multipart), or a JSON object. XML is not read here."""
    if req.mimetype == "application/json":
        doc = json.loads(req.get_data(cache=True) or b"null")
        if not isinstance(doc, dict):
            raise Refused(400, "a JSON body must be an object of the request's fields")
        return {str(k): "" if v is None else str(v) for k, v in doc.items() if not isinstance(v, dict | list)}
    if req.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {k: v for k, v in req.form.items()}
    raise Refused(400, "POST requests takes form fields (application/x-www-form-urlencoded) or JSON")


def _location(form: dict[str, str]) -> dict[str, Any]:
    lat, lon = form.get("lat", "").strip(), form.get("long", "").strip()
    address = form.get("address_string", "").strip()
    grid = form.get(f"attribute[{georeport.GRID_ATTRIBUTE}]", "").strip()
    where: dict[str, Any] = {}
    if lat or lon:
        try:
            lat_n, lon_n = float(lat), float(lon)
        except ValueError:
            raise Refused(400, "lat and long must both be decimal degrees (WGS-84)") from None
        if not (
            math.isfinite(lat_n) and math.isfinite(lon_n) and -90 <= lat_n <= 90 and -180 <= lon_n <= 180
        ):
            raise Refused(400, "lat must be within -90..90 and long within -180..180")
        where.update(lat=lat_n, long=lon_n)
    if address:
        where["address"] = address[:300]
    if grid:
        if not grid.isascii() or not grid.isdigit() or len(grid) > 20:
            raise Refused(400, f"attribute[{georeport.GRID_ATTRIBUTE}] must be a grid code (digits)")
        where["grid_code"] = grid
    if not where:
        raise Refused(400, "a location is required: lat and long, address_string, or attribute[grid_code]")
    return where


def _record(client: Client, form: dict[str, str]) -> dict[str, Any]:
    code = form.get("service_code", "").strip()
    if not code:
        raise Refused(400, "service_code is required")
    description = form.get("description", "")
    if len(description) > MAX_DESCRIPTION:
        raise Refused(400, f"description is longer than {MAX_DESCRIPTION} characters")
    media = form.get("media_url", "").strip()
    if media and (not media.startswith(("http://", "https://")) or len(media) > 500):
        raise Refused(400, "media_url must be an http:// or https:// URL of at most 500 characters")
    now = utcnow().isoformat()
    record: dict[str, Any] = {
        "service_request_id": f"{client.filed_prefix}{secrets.token_hex(8)}",
        "status": "open",
        "service_code": code[:40],
        "description": description,
        "requested_datetime": now,
        "updated_datetime": now,
        **_location(form),
    }
    if media:
        record["media_url"] = media
    if client.kind == "department":
        record["agency_responsible"] = client.owner
    return record


def _reporter(form: dict[str, str]) -> dict[str, str]:
    name = " ".join(p for p in (form.get("last_name", "").strip(), form.get("first_name", "").strip()) if p)
    return {"name": name, "phone": form.get("phone", "").strip()} if name or form.get("phone") else {}


def _visible(client: Client) -> Select[Case]:
    """The cases ``client`` may read: those it filed; a department's key also its department's."""
    filed = (Case.feed_name == client.feed_name) & Case.external_id.startswith(
        client.filed_prefix, autoescape=True
    )
    if client.kind == "department":
        return select(Case).where(or_(filed, Case.department_code == client.owner))
    return select(Case).where(filed)


def _iso(value: datetime | None, settings: Settings) -> str:
    return value.astimezone(settings.tz).isoformat(timespec="seconds") if value else ""


def _row(case: Case, settings: Settings) -> dict[str, Any]:
    return {
        "service_request_id": str(case.id),
        "status": "open" if case.is_open else "closed",
        "status_notes": case.status,
        "service_name": case.category_name,
        "service_code": case.category_code or "",
        "description": case.description,
        "agency_responsible": case.department_code or "",
        "service_notice": "",
        "requested_datetime": _iso(case.requested_at, settings),
        "updated_datetime": _iso(case.source_updated_at or case.modified_at, settings),
        "expected_datetime": _iso(case.deadline_at, settings),
        "address": case.address,
        "address_id": "",
        "zipcode": "",
        "lat": "" if case.lat is None else case.lat,
        "long": "" if case.lon is None else case.lon,
        "media_url": "",
    }


def _when(name: str) -> datetime | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(400, f"{name} must be an ISO-8601 time with its offset") from None
    if value.tzinfo is None:
        raise Refused(400, f"{name} must carry its UTC offset")
    return value


def register(blueprint: Blueprint, settings: Settings) -> None:
    from ..services import services as live

    def refused(fmt: str, exc: Refused, client: Client | None = None) -> Response:
        if client is not None and exc.outcome is None and exc.status == 400:
            count(client, "bad")
        return georeport.errors(fmt, exc.status, exc.reason)

    @blueprint.get(f"{BASE}/services.<fmt>")
    def service_list(fmt: str) -> Response:
        kind = _fmt(fmt)
        if kind is None:
            return georeport.errors("json", 404, "format must be json or xml")
        return georeport.document(kind, "services", "service", georeport.services())

    @blueprint.get(f"{BASE}/services/<path:name>")
    def service_definition(name: str) -> Response:
        code, _, fmt = name.rpartition(".")
        kind = _fmt(fmt)
        if kind is None:
            return georeport.errors("json", 404, "format must be json or xml")
        if code not in georeport.service_codes():
            return georeport.errors(kind, 404, f"service_code {code!r} not found")
        return georeport.single(kind, "service_definition", georeport.definition(code))

    @blueprint.post(f"{BASE}/requests.<fmt>")
    def post_request(fmt: str) -> Response:
        kind = _fmt(fmt)
        if kind is None:
            return georeport.errors("json", 404, "format must be json or xml")
        client: Client | None = None
        try:
            if (request.content_length or 0) > HARD_LIMIT:
                raise Refused(413, f"the body is larger than {HARD_LIMIT} bytes")
            token = token_of(request)
            if token:
                client = client_for(token)
                admit(request, client, "open311")
            form = _form(request)
            if client is None:
                client = client_for(token_of(request, form))
                admit(request, client, "open311")
            record = _record(client, form)
            body = json.dumps([record], ensure_ascii=False).encode()
            answer = ingest(
                client, body, "application/json", strict=True, reporter=_reporter(form), protocol="open311"
            )
        except RequestEntityTooLarge:
            if client is not None:
                count(client, "size")
            return georeport.errors(kind, 413, "the body is too large")
        except (ValueError, UnicodeDecodeError):
            if client is not None:
                count(client, "bad")
            return georeport.errors(kind, 400, "the body cannot be read as a form or a JSON object")
        except Refused as exc:
            return refused(kind, exc, client)
        return _posted(kind, client, answer)

    def _posted(kind: str, client: Client, answer: dict[str, Any]) -> Response:
        cases = [s for s in answer.get("stored", []) if s.get("kind") == "case"]
        if answer.get("status") == "busy":
            return georeport.errors(kind, 503, str(answer.get("error", "busy")))
        if answer.get("status") != "ok" or not cases:
            reasons = [q["reason"] for q in answer.get("quarantined", [])] or [
                answer.get("error", "not stored")
            ]
            count(client, "bad")
            return georeport.errors(kind, 400, "; ".join(str(r) for r in reasons)[:1000])
        count(client, "accepted")
        rows = [{"service_request_id": str(c["id"]), "service_notice": "", "account_id": ""} for c in cases]
        return georeport.document(kind, "service_requests", "request", rows)

    @blueprint.get(f"{BASE}/requests.<fmt>")
    def list_requests(fmt: str) -> Response:
        kind = _fmt(fmt)
        if kind is None:
            return georeport.errors("json", 404, "format must be json or xml")
        client: Client | None = None
        try:
            client = client_for(token_of(request))
            admit(request, client, "open311", body=False)
            stmt = _visible(client)
            ids = [i for i in request.args.get("service_request_id", "").split(",") if i.strip()]
            if ids:
                if not all(i.strip().isascii() and i.strip().isdigit() for i in ids):
                    raise Refused(400, "service_request_id must be gridcc's numeric ids, comma-separated")
                stmt = stmt.where(Case.id.in_([int(i) for i in ids[:LIST_LIMIT]]))
            else:
                codes = [c for c in request.args.get("service_code", "").split(",") if c.strip()]
                if codes:
                    stmt = stmt.where(Case.category_code.in_(codes[:100]))
                wanted = {w.strip().lower() for w in request.args.get("status", "").split(",") if w.strip()}
                if wanted - {"open", "closed"}:
                    raise Refused(400, "status must be open, closed or both (comma-separated)")
                if len(wanted) == 1:
                    stmt = stmt.where(Case.is_open.is_("open" in wanted))
                start, end = _when("start_date"), _when("end_date")
                if start is not None:
                    stmt = stmt.where(Case.requested_at >= start)
                if end is not None:
                    stmt = stmt.where(Case.requested_at <= end)
            stmt = stmt.order_by(Case.requested_at.desc(), Case.id.desc()).limit(LIST_LIMIT)
            with live().sessions() as session:
                rows = [_row(c, settings) for c in session.scalars(stmt)]
        except Refused as exc:
            return refused(kind, exc, client)
        count(client, "accepted")
        return georeport.document(kind, "service_requests", "request", rows)

    @blueprint.get(f"{BASE}/requests/<string:name>")
    def one_request(name: str) -> Response:
        rid, _, fmt = name.rpartition(".")
        kind = _fmt(fmt)
        if kind is None:
            return georeport.errors("json", 404, "format must be json or xml")
        client: Client | None = None
        try:
            client = client_for(token_of(request))
            admit(request, client, "open311", body=False)
            if not (rid.isascii() and rid.isdigit()):
                raise Refused(404, f"service_request_id {rid[:40]!r} not found")
            with live().sessions() as session:
                case = session.scalar(_visible(client).where(Case.id == int(rid)))
                if case is None:  # unknown, or not this key's: the same answer
                    raise Refused(404, f"service_request_id {rid} not found")
                rows = [_row(case, settings)]
        except Refused as exc:
            return refused(kind, exc, client)
        count(client, "accepted")
        return georeport.document(kind, "service_requests", "request", rows)
