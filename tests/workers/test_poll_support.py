"""Helpers for the feed tests: a small grid hierarchy, a real local HTTP feed server, feeds files.

The server speaks the agreed simulator protocol (Open311 ``GET /requests.json`` with
``updated_after``, ``page``, ``page_size``, ETag/If-None-Match; CAP ``/cap/index.atom`` and
``/cap/alerts/<id>.xml``) and can misbehave on demand (500s, garbage, a stalled page).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import shapely
from shapely.geometry import box
from sqlalchemy.orm import Session

from data.models import AdminUnit
from data.seed import seed_catalogue
from data.settings import Settings
from workers.runtime import Runtime

CST = timezone(timedelta(hours=8))
DISTRICT, STREET, COMMUNITY = "500151", "500151001", "500151001001"
GRID_A, GRID_B = COMMUNITY + "001", COMMUNITY + "002"
# Grid A: lon 106.00–106.01, grid B: lon 106.01–106.02; both lat 29.80–29.81.
POINT_A = (106.005, 29.805)
POINT_B = (106.015, 29.805)


def test_support_module_has_no_tests() -> None:
    """(This module holds helpers; the line keeps pytest from warning about an empty file.)"""


def make_hierarchy(session: Session) -> None:
    """Seed the catalogue and one district → street → community → two square grids."""
    seed_catalogue(session)
    shapes = {
        DISTRICT: ("铜梁区", "district", None, box(105.9, 29.7, 106.2, 30.0)),
        STREET: ("巴川街道", "street", DISTRICT, box(106.0, 29.8, 106.02, 29.81)),
        COMMUNITY: ("玄天湖社区", "community", STREET, box(106.0, 29.8, 106.02, 29.81)),
        GRID_A: ("第一网格", "grid", COMMUNITY, box(106.0, 29.8, 106.01, 29.81)),
        GRID_B: ("第二网格", "grid", COMMUNITY, box(106.01, 29.8, 106.02, 29.81)),
    }
    for code, (name, level, parent, geom) in shapes.items():
        minx, miny, maxx, maxy = geom.bounds
        unit = AdminUnit(
            code=code, name=name, level=level, parent_code=parent, geometry=shapely.to_wkb(geom),
            min_lon=minx, min_lat=miny, max_lon=maxx, max_lat=maxy, synthetic=True,
        )  # fmt: skip
        unit.set_place(code)
        session.add(unit)
        session.flush()


def iso(value: datetime) -> str:
    return value.astimezone(CST).isoformat(timespec="seconds")


def request(
    rid: str,
    updated: datetime,
    status: str = "accepted",
    point: tuple[float, float] | None = POINT_A,
    requested: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One Open311 request (JSON form) with the simulators' extensions."""
    rec: dict[str, Any] = {
        "service_request_id": rid,
        "status": status,
        "service_code": "city.clutter",
        "service_name": "乱堆乱放",
        "description": f"楼道堆放杂物 {rid}",
        "address": "铜梁区巴川街道玄天湖社区",
        "requested_datetime": iso(requested or updated),
        "updated_datetime": iso(updated),
        "priority": "normal",
    }
    if point is not None:
        rec["long"], rec["lat"] = point
    rec.update(extra)
    return rec


CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"


def cap_alert(
    identifier: str,
    sent: datetime,
    msg_type: str = "Alert",
    references: tuple[str, ...] = (),
    severity: str = "Severe",
    polygon: str = "29.801,106.001 29.801,106.009 29.809,106.009 29.809,106.001 29.801,106.001",
    expires: datetime | None = None,
    headline: str = "铜梁区气象台发布暴雨橙色预警信号",
) -> bytes:
    refs = " ".join(f"qx@tl,{r},{iso(sent - timedelta(hours=1))}" for r in references)
    ref_el = f"<references>{refs}</references>" if refs else ""
    exp = expires or sent + timedelta(hours=12)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="{CAP_NS}">
  <identifier>{identifier}</identifier><sender>qx@tl</sender><sent>{iso(sent)}</sent>
  <status>Actual</status><msgType>{msg_type}</msgType><scope>Public</scope>{ref_el}
  <info><language>zh-CN</language><category>Met</category><event>暴雨</event>
    <urgency>Expected</urgency><severity>{severity}</severity><certainty>Likely</certainty>
    <expires>{iso(exp)}</expires><headline>{headline}</headline>
    <area><areaDesc>巴川街道</areaDesc><polygon>{polygon}</polygon></area>
  </info>
</alert>""".encode()


class FeedState:
    """What the server serves, shared with its handler threads."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.cap: dict[str, tuple[datetime, bytes]] = {}
        self.mode = "ok"  # ok | error500 | garbage | stall
        self.stall_page = 2
        self.stalled = threading.Event()  # set when a request is being held
        self.release = threading.Event()
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()

    def put(self, *records: dict[str, Any]) -> None:
        with self.lock:
            for rec in records:
                self.records[rec["service_request_id"]] = rec

    def put_cap(self, identifier: str, sent: datetime, body: bytes) -> None:
        with self.lock:
            self.cap[identifier] = (sent, body)

    def requests_page(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        after = query.get("updated_after", [None])[0]
        page = int(query.get("page", ["1"])[0])
        size = int(query.get("page_size", ["1000"])[0])
        with self.lock:
            rows = list(self.records.values())
        if after:
            cut = datetime.fromisoformat(after)
            rows = [r for r in rows if datetime.fromisoformat(r["updated_datetime"]) > cut]
        rows.sort(key=lambda r: (datetime.fromisoformat(r["updated_datetime"]), r["service_request_id"]))
        return rows[(page - 1) * size : page * size]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *_args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        state = self.server.state
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        with state.lock:
            state.hits[url.path] = state.hits.get(url.path, 0) + 1
        if url.path == "/_health":
            return self._send(200, b'{"ok": true}', "application/json")
        if state.mode == "error500":
            return self._send(500, b"internal error", "text/plain")
        if state.mode == "garbage":
            return self._send(200, b"<service_requests><request><oops", "text/xml")
        if url.path == "/requests.json":
            page = int(query.get("page", ["1"])[0])
            if state.mode == "stall" and page >= state.stall_page:
                state.stalled.set()
                state.release.wait(60)
            rows = state.requests_page(query)
            body = json.dumps(rows, ensure_ascii=False).encode()
            etag = '"' + hashlib.sha1(body + self.path.encode()).hexdigest() + '"'
            if self.headers.get("If-None-Match") == etag:
                return self._send(304, b"", "application/json", {"ETag": etag})
            return self._send(200, body, "application/json; charset=utf-8", {"ETag": etag})
        if url.path == "/cap/index.atom":
            return self._send(200, self._atom(), "application/atom+xml")
        if url.path.startswith("/cap/alerts/") and url.path.endswith(".xml"):
            ident = url.path[len("/cap/alerts/") : -4]
            with state.lock:
                found = state.cap.get(ident)
            if found is None:
                return self._send(404, b"not found", "text/plain")
            return self._send(200, found[1], "application/cap+xml")
        return self._send(404, b"not found", "text/plain")

    def _atom(self) -> bytes:
        with self.server.state.lock:
            items = sorted(self.server.state.cap.items(), key=lambda kv: kv[1][0], reverse=True)
        entries = "".join(
            f"<entry><id>{ident}</id><title>{ident}</title><updated>{iso(sent)}</updated>"
            f'<link rel="alternate" type="application/cap+xml" href="/cap/alerts/{ident}.xml"/></entry>'
            for ident, (sent, _b) in items
        )
        now = iso(datetime.now(UTC))
        return (
            '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<id>urn:test:cap</id><title>cap</title><updated>{now}</updated>{entries}</feed>"
        ).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FeedState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


@contextmanager
def feed_server() -> Iterator[tuple[str, FeedState]]:
    """A running server: yields its base URL and its state."""
    state = FeedState()
    server = _Server(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


def write_feeds(path: Path, feeds: list[dict[str, Any]]) -> Path:
    lines = []
    for feed in feeds:
        lines.append("[[feed]]")
        for key, value in feed.items():
            lines.append(f"{key} = {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def open311_feed(base: str, name: str = "hotline", **extra: Any) -> dict[str, Any]:
    feed = {
        "name": name, "department": "hotline12345", "protocol": "open311",
        "url": f"{base}/requests.json", "interval": 1, "timeout": 5, "page_size": 50,
    }  # fmt: skip
    feed.update(extra)
    return feed


def make_runtime(database_url: str, redis_url: str, feeds_file: Path, data_dir: Path) -> Runtime:
    settings = Settings(
        data_dir=data_dir, database_url=database_url, redis_url=redis_url, feeds_file=feeds_file
    )
    return Runtime.build(settings)


def worker_env(database_url: str, redis_url: str, feeds_file: Path, data_dir: Path) -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.update(
        GRIDCC_DATABASE_URL=database_url,
        GRIDCC_REDIS_URL=redis_url,
        GRIDCC_FEEDS_FILE=str(feeds_file),
        GRIDCC_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
    )
    return env
