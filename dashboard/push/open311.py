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
from urllib.parse import parse_qsl

from flask import Blueprint, Request, Response, request
from sqlalchemy import Select, or_, select
from werkzeug.exceptions import RequestEntityTooLarge

from data.models import Case, utcnow
from data.push.refusals import READ_BYTES
from data.settings import Settings

from . import georeport
from .gate import Client, Refused, admit, client_for, count, ingest, keep_refusal, token_of

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


def _raw(form: dict[str, str] | None, read: list[bytes]) -> bytes | str:
    """What the quarantine keeps of a refused request: its fields as JSON when they were read (a form's
    text is easier to read so than percent-encoded), else the start of its body (:data:`READ_BYTES`,
    read now if it was not read: never the whole of a body refused for its size)."""
    if read:
        head = read[0][:READ_BYTES]
    else:
        try:
            head = request.stream.read(READ_BYTES)
        except RequestEntityTooLarge:
            head = b""
    if form is None and request.mimetype == "application/x-www-form-urlencoded" and head:
        form = dict(parse_qsl(head[:READ_BYTES].decode("utf-8", errors="replace"), keep_blank_values=True))
    if form is not None:
        return json.dumps({k: v[:READ_BYTES] for k, v in form.items()}, ensure_ascii=False)
    return head[:READ_BYTES]


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
    if media and (
        not media.lower().startswith(("http://", "https://"))
        or len(media) > 500
        or any(c.isspace() or c in '<>"' for c in media)
    ):
        raise Refused(400, "media_url must be an http:// or https:// URL of at most 500 characters")
    email = form.get("email", "").strip()
    if email and (len(email) > 254 or "@" not in email[1:-1] or any(c.isspace() or c in "<>" for c in email)):
        raise Refused(400, "email must be an email address of at most 254 characters")
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
    """The reporter's name, phone and email: personal data, handed to the worker beside the record (never
    in its raw text, which the quarantine keeps)."""
    name = " ".join(p for p in (form.get("last_name", "").strip(), form.get("first_name", "").strip()) if p)
    who = {"name": name, "phone": form.get("phone", "").strip(), "email": form.get("email", "").strip()}
    return who if any(who.values()) else {}


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
        "media_url": case.media_url or "",
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

    def refused(fmt: str, exc: Refused, client: Client | None = None, raw: bytes | str = b"") -> Response:
        if client is not None and exc.outcome is None and exc.status == 400:
            count(client, "bad")
        keep_refusal(request, client, exc, raw)
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
        kind = _fmt(fmt) or "json"
        client: Client | None = None
        form: dict[str, str] | None = None
        read: list[bytes] = []  # the body, once read (the quarantine row of a refusal keeps its start)
        try:
            if _fmt(fmt) is None:
                raise Refused(404, "format must be json or xml")
            token = token_of(request)
            if token:  # a key in the header is judged before the body is read
                client = client_for(token)
                admit(request, client, "open311")
            if (request.content_length or 0) > HARD_LIMIT:
                raise Refused(413, f"the body is larger than {HARD_LIMIT} bytes")
            # read once, at most HARD_LIMIT bytes whatever the client says; the form is parsed from it
            request.max_content_length = request.max_form_memory_size = HARD_LIMIT
            read.append(request.get_data(cache=True))
            form = _form(request)
            if client is None:
                client = client_for(token_of(request, form))
                admit(request, client, "open311")
            record = _record(client, form)
            body = json.dumps([record], ensure_ascii=False).encode()
            answer = ingest(
                client, body, "application/json", strict=True, reporter=_reporter(form), protocol="open311"
            )
            _stored(answer)
        except RequestEntityTooLarge:
            if client is not None:
                count(client, "size")
            return refused(kind, Refused(413, "the body is too large", "size"), client, _raw(form, read))
        except (ValueError, UnicodeDecodeError):
            if client is not None:
                count(client, "bad")
            exc = Refused(400, "the body cannot be read as a form or a JSON object", "bad")
            return refused(kind, exc, client, _raw(form, read))
        except Refused as exc:
            return refused(kind, exc, client, _raw(form, read))
        assert client is not None  # the workers stored it: a key was admitted
        count(client, "accepted")
        cases = [s for s in answer["stored"] if s.get("kind") == "case"]
        rows = [{"service_request_id": str(c["id"]), "service_notice": "", "account_id": ""} for c in cases]
        return georeport.document(kind, "service_requests", "request", rows)

    def _stored(answer: dict[str, Any]) -> None:
        """:class:`Refused` unless the workers stored the request (``kept``: they quarantined it)."""
        cases = [s for s in answer.get("stored", []) if s.get("kind") == "case"]
        if answer.get("status") == "busy":
            raise Refused(503, str(answer.get("error", "busy")), "busy")
        if answer.get("status") != "ok" or not cases:
            quarantined = answer.get("quarantined", [])
            reasons = [q["reason"] for q in quarantined] or [answer.get("error", "not stored")]
            raise Refused(400, "; ".join(str(r) for r in reasons)[:1000], kept=bool(quarantined))

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
