"""What each simulator answers, independent of the HTTP server: routing, conditional GET
(ETag / If-None-Match, Last-Modified / If-Modified-Since), the fault modes, health and control."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from . import capxml, faults, open311
from .cases import CaseBook
from .sensors import SensorBoard
from .specs import Catalogue, SimSpec
from .weather import WeatherOffice

if TYPE_CHECKING:
    from .desk import Desk

XML = "application/xml; charset=utf-8"
JSON = "application/json; charset=utf-8"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""
    base_url: str = ""


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, value: Any) -> Response:
    return Response(status, json.dumps(value, ensure_ascii=False).encode(), JSON)


class FeedApp:
    """The common part: ``/_health``, ``/_control/faults`` and the fault modes around the data routes."""

    def __init__(
        self,
        spec: SimSpec,
        clock: Callable[[], datetime],
        tz: ZoneInfo,
        fault_mode: str = "none",
        slow_seconds: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self.spec = spec
        self.clock = clock
        self.tz = tz
        self.faults = faults.FaultSwitch(fault_mode, rng)
        self.slow_seconds = slow_seconds
        self.stopping = threading.Event()
        self._rng = rng or random.Random()
        self.desk: Desk | None = None  # the department's instruction desk (/loop/…), when it has one

    @property
    def name(self) -> str:
        return self.spec.name

    def handle(self, req: Request) -> Response:
        if req.path == "/_health":
            return json_response(200, {"ok": True, "feed": self.name})
        if req.path == "/_control/faults":
            return self._control(req)
        if req.path.startswith("/loop/") and self.desk is not None:
            drawn = self.faults.draw()
            return self.desk.handle(req, drawn if drawn in ("refuse", "slow", "error500") else "none")
        mode = self.faults.draw() if req.method in ("GET", "HEAD") else "none"
        if mode == "slow" and self.stopping.wait(self.slow_seconds):
            return Response(503, b"shutting down")
        if mode == "refuse":
            return Response(0)  # the server drops the connection without an answer
        if mode == "error500":
            return Response(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>", "text/html")
        try:
            res = self.route(req, mode)
        except open311.BadRequest as exc:
            fmt = "json" if req.path.endswith(".json") else "xml"
            return Response(
                exc.code, open311.render_errors(exc.code, str(exc), fmt), JSON if fmt == "json" else XML
            )
        if res is None:
            return Response(404, f"not found: {req.path[:100]}".encode())
        if mode == "malformed" and res.status == 200:
            res.body = faults.malformed(res.body)
            res.headers.pop("ETag", None)
        return res

    def _control(self, req: Request) -> Response:
        if req.method == "GET":
            return json_response(200, {"feed": self.name, "mode": self.faults.mode})
        if req.method != "POST":
            return Response(405, b"method not allowed")
        try:
            mode = json.loads(req.body or b"{}").get("mode", "")
            self.faults.set(str(mode))
        except (ValueError, AttributeError) as exc:
            return json_response(400, {"error": str(exc)})
        return json_response(200, {"feed": self.name, "mode": mode})

    def route(self, req: Request, mode: str) -> Response | None:
        raise NotImplementedError

    def shuffle(self, items: list[Any], mode: str, previous: Callable[[Any], Any | None]) -> list[Any]:
        """Apply ``repeat`` (every item twice) or ``out_of_order`` (stale versions, shuffled)."""
        if mode == "repeat":
            return [x for x in items for _ in (0, 1)]
        if mode == "out_of_order":
            # the current versions shuffled, then stale versions of some of them after their newer ones
            current = list(items)
            self._rng.shuffle(current)
            stale = [p for p in (previous(x) for x in items) if p is not None]
            self._rng.shuffle(stale)
            return current + stale
        return items


def conditional(req: Request, res: Response, last_modified: datetime | None, now: datetime) -> Response:
    """Add ETag and Last-Modified; answer 304 when the client's copy is current.

    HTTP dates have whole seconds, the state has microseconds: Last-Modified is only given (and
    If-Modified-Since only honoured) once the second of the last change is over, so a change later
    in that same second can never be answered with 304.
    """
    etag = '"' + hashlib.sha1(res.body, usedforsecurity=False).hexdigest()[:24] + '"'
    res.headers["ETag"] = etag
    res.headers["Cache-Control"] = "no-cache"
    second = last_modified.astimezone(UTC).replace(microsecond=0) if last_modified else None
    if second is not None and (now - second).total_seconds() >= 1:
        res.headers["Last-Modified"] = format_datetime(second, usegmt=True)
    else:
        second = None
    inm = req.headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        if etag in tags or "*" in tags:
            return Response(304, b"", res.content_type, res.headers)
        return res
    ims = req.headers.get("If-Modified-Since")
    if ims and second is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return res
        if since.tzinfo is not None and second <= since:
            return Response(304, b"", res.content_type, res.headers)
    return res


class Open311App(FeedApp):
    """An Open311 department. ``POST requests`` files a case: on the 12345 hotline for anyone (citizens);
    on another department only with its ``api_key`` (given: the department takes requests, e.g. gridcc's
    交办 through the ``open311`` connector), deduplicated on ``attribute[gridcc_message_id]`` or the
    ``Idempotency-Key`` header — the same key answers with the request filed the first time."""

    def __init__(
        self, spec: SimSpec, book: CaseBook, catalogue: Catalogue, api_key: str = "", **kw: Any
    ) -> None:
        super().__init__(spec, **kw)
        self.book = book
        self.catalogue = catalogue
        self.agency = catalogue.departments.get(spec.department, spec.department)
        self.api_key = api_key
        self.posts = {"filed": 0, "duplicates": 0, "refused": 0}

    def route(self, req: Request, mode: str) -> Response | None:
        m = re.fullmatch(r"/(requests|services)(?:/([^/]+))?\.(xml|json)", req.path)
        if not m:
            return None
        what, one, fmt = m.groups()
        ctype = JSON if fmt == "json" else XML
        if what == "services":
            body = open311.render_services(self.catalogue.for_spec(self.spec), fmt)
            return conditional(req, Response(200, body, ctype), None, self.clock())
        if req.method == "POST" and one is None:
            return self._post(req, fmt)
        if req.method not in ("GET", "HEAD"):
            raise open311.BadRequest(f"{req.method} is not offered here", 405)
        if one is not None:
            row = self.book.get(urllib.parse.unquote(one))
            rows = [row] if row and row["feed"] == self.name else []
            if not rows:
                raise open311.BadRequest(f"service_request_id not found: {one[:60]}", 404)
        else:
            rows = self.book.find(self.name, open311.parse_query(req.query, self.tz))
        rows = self.shuffle(rows, mode, CaseBook.previous_version)
        records = [open311.request_fields(r, self.spec, self.agency, self.tz) for r in rows]
        res = Response(200, open311.render_requests(records, fmt), ctype)
        return conditional(req, res, self.book.last_modified(self.name), self.clock())

    def _post(self, req: Request, fmt: str) -> Response:
        if self.spec.name != "hotline12345" and not self.api_key:
            raise open311.BadRequest("this department does not take requests", 405)
        ctype = req.headers.get("Content-Type", "")
        try:
            if "json" in ctype:
                raw = json.loads(req.body or b"{}")
                if not isinstance(raw, dict):
                    raise open311.BadRequest("the JSON body must be an object")
                form = {str(k): "" if v is None else str(v) for k, v in raw.items()}
            else:
                parsed = urllib.parse.parse_qs(req.body.decode("utf-8"), keep_blank_values=True)
                form = {k: v[-1] for k, v in parsed.items()}
        except (UnicodeDecodeError, ValueError) as exc:
            if isinstance(exc, open311.BadRequest):
                raise
            raise open311.BadRequest("the body is neither a form nor JSON") from None
        if self.api_key and not hmac.compare_digest(form.get("api_key", "").encode(), self.api_key.encode()):
            self.posts["refused"] += 1
            raise open311.BadRequest("api_key is missing or wrong", 403)
        key = form.get("attribute[gridcc_message_id]") or req.headers.get("Idempotency-Key") or ""
        if len(key) > 100:
            raise open311.BadRequest("the idempotency key is longer than 100 characters")
        fields, notice = open311.validate_post(form, self.catalogue, self.book.district)
        rid, new = self.book.file_posted(fields, self.clock(), self.spec.name, key)
        self.posts["filed" if new else "duplicates"] += 1
        body = open311.render_post_answer(rid, notice, fmt)
        return Response(201 if new else 200, body, JSON if fmt == "json" else XML)


class CapApp(FeedApp):
    """A weather office's CAP feed. ``POST /_control/warnings`` moves it by hand, for a drill or a test
    (预警叫应): ``{"event": "暴雨", "severity": "Severe"}`` issues a warning (``"circle": false`` forces a
    polygon), ``{"update": "<id>", "severity": "Extreme"}`` updates one, ``{"cancel": "<id>"}`` cancels
    one; the answer names the warning and the CAP message's identifier."""

    def __init__(self, spec: SimSpec, office: WeatherOffice, **kw: Any) -> None:
        super().__init__(spec, **kw)
        self.office = office

    def _warnings(self, req: Request) -> Response:
        if req.method != "POST":
            return Response(405, b"method not allowed")
        try:
            doc = json.loads(req.body or b"{}")
            if not isinstance(doc, dict):
                raise ValueError("a JSON object is expected")
            now = self.clock()
            severity = doc.get("severity")
            if severity is not None and severity not in capxml.SEVERITY_COLOUR:
                raise ValueError(f"severity: one of {', '.join(capxml.SEVERITY_COLOUR)}")
            if doc.get("cancel"):
                warning = str(doc["cancel"])
                identifier = self.office.cancel(now, warning)
            elif doc.get("update"):
                warning = str(doc["update"])
                identifier = self.office.update(now, warning, severity)
            else:
                circle = doc.get("circle")
                warning = identifier = self.office.issue(
                    now, doc.get("event"), severity, circle if isinstance(circle, bool) else None
                )
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            return json_response(400, {"error": str(exc)[:300]})
        return json_response(200, {"warning": warning, "identifier": identifier})

    def route(self, req: Request, mode: str) -> Response | None:
        if req.path == "/_control/warnings":
            return self._warnings(req)
        if req.path == "/cap/index.atom":
            entries = self.shuffle(self.office.index_entries(self.clock()), mode, lambda e: None)
            updated = self.office.last_modified() or self.clock()
            title = f"{self.office.sender_name}预警信号"
            body = capxml.render_index(entries, req.base_url, title, updated, self.tz)
            res = Response(200, body, "application/atom+xml; charset=utf-8")
            return conditional(req, res, self.office.last_modified(), self.clock())
        m = re.fullmatch(r"/cap/alerts/([A-Za-z0-9._-]+)\.xml", req.path)
        if m:
            doc = self.office.document(m.group(1))
            if doc is None:
                return None
            return conditional(
                req, Response(200, doc, "application/cap+xml; charset=utf-8"), None, self.clock()
            )
        return None


class SensorApp(FeedApp):
    def __init__(self, spec: SimSpec, board: SensorBoard, **kw: Any) -> None:
        super().__init__(spec, **kw)
        self.board = board

    def route(self, req: Request, mode: str) -> Response | None:
        if req.path != "/alarms.json":
            return None
        raw = (req.query.get("since") or [""])[-1].strip()
        since = open311.parse_time(raw, "since", self.tz) if raw else None
        alarms = self.shuffle(self.board.alarms(since), mode, SensorBoard.previous_version)
        res = json_response(200, {"alarms": alarms})
        return conditional(req, res, self.board.last_modified(), self.clock())
