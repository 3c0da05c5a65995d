"""Outbound fetches are bounded (issue 9, finding 6): a feed fetches only its own host and the hosts its
``allow_hosts`` names; redirects to loopback, link-local (169.254.169.254) and private addresses are
refused unless the feed's own host is one; a CAP index naming a document on another host is not
fetched but quarantined with the reason (no body stored); credentials go to the feed's own origin only.

Against real local HTTP servers in threads: an "internal" server stands for what an attacker wants
read (it records every request it gets, so "refused" means "never asked")."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from data.models import Quarantine
from data.settings import Settings
from workers.feeds.config import FeedConfig
from workers.feeds.fetch import Cursor, FetchError, fetch
from workers.jobs.poll import run_poll
from workers.runtime import Runtime

from ._feed_helpers import QuietHandler, serving
from .test_poll_support import cap_alert, make_hierarchy, open311_feed, write_feeds

INTERNAL = b"INTERNAL-ONLY: db password hunter2"
KEY = "K3y-outbound-5c1e"
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@dataclass
class Seen:
    requests: list[dict[str, str]] = field(default_factory=list)  # path + headers of each request
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(QuietHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        with self.server.seen.lock:
            self.server.seen.requests.append(
                {"path": self.path, **{k.lower(): v for k, v in self.headers.items()}}
            )
        route = self.server.routes.get(self.path.split("?", 1)[0])
        if route is None:
            return self._send(200, INTERNAL, {"Content-Type": "application/json"})
        status, body, headers = route(self.path)
        return self._send(status, body, headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__((host, 0), _Handler)
        self.seen = Seen()
        self.routes: dict[str, Any] = {}


@pytest.fixture
def own() -> Iterator[tuple[str, _Server]]:
    srv = _Server()
    with serving(srv) as base:
        yield base, srv


@pytest.fixture
def internal() -> Iterator[tuple[int, _Server]]:
    """The server an attacker wants read, on loopback; reached by the name ``localhost``."""
    srv = _Server()
    with serving(srv):
        yield srv.server_address[1], srv


def _redirect(location: str) -> Any:
    return lambda _path: (302, b"", {"Location": location})


def _feed(base: str, **extra: Any) -> FeedConfig:
    return FeedConfig.model_validate(open311_feed(base, timeout=2, page_size=3, **extra))


def _fetch(config: FeedConfig) -> Any:
    return fetch(config, Cursor(), lambda page: 0, max_bytes=1 << 20)


def test_address_kinds() -> None:
    from workers.feeds.outbound import Outbound, OutboundRefused, address_kind

    kinds = {
        a: address_kind(ipaddress.ip_address(a))
        for a in ("127.0.0.1", "169.254.169.254", "10.1.2.3", "192.168.1.1", "0.0.0.0", "224.0.0.1",
                  "::1", "fe80::1", "::ffff:127.0.0.1", "100.64.0.1", "8.8.8.8")
    }  # fmt: skip
    assert kinds == {
        "127.0.0.1": "loopback", "169.254.169.254": "link-local", "10.1.2.3": "private",
        "192.168.1.1": "private", "0.0.0.0": "unspecified", "224.0.0.1": "multicast", "::1": "loopback",
        "fe80::1": "link-local", "::ffff:127.0.0.1": "loopback", "100.64.0.1": "private", "8.8.8.8": None,
    }  # fmt: skip
    rules = Outbound.of("f", "http://127.0.0.1:1/x")
    assert rules.internal_ok == {"loopback"}
    with pytest.raises(OutboundRefused, match="a private address"):
        rules.check_address("h", ipaddress.ip_address("10.0.0.1"))


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/admin",
        "http://[fe80::1]/",
        "http://0.0.0.0:1/",
    ],
)
@pytest.mark.parametrize("allowed", [False, True])
def test_a_redirect_to_an_internal_address_is_refused(
    own: tuple[str, _Server], target: str, allowed: bool
) -> None:
    """Not allowed: refused by name (not the feed's host). Allowed by name: refused by address (the
    feed's own host is loopback, which lets it reach loopback and nothing else internal)."""
    base, srv = own
    srv.routes["/requests.json"] = _redirect(target)
    host = target.split("/")[2].rsplit(":", 1)[0] if "[" not in target else "fe80::1"
    config = _feed(base, **({"allow_hosts": [host]} if allowed else {}))
    with pytest.raises(FetchError) as caught:
        _fetch(config)
    assert caught.value.refused, caught.value.reason
    assert caught.value.reason.startswith("refused ")
    assert ("address" in caught.value.reason) if allowed else ("allow_hosts" in caught.value.reason)


def _own_ip() -> str | None:
    """A non-loopback address of this machine (the feed's "own" host in the loopback test)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            ip = str(s.getsockname()[0])
        except OSError:
            return None
    return None if ipaddress.ip_address(ip).is_loopback else ip


def test_a_redirect_to_loopback_is_refused_when_the_feed_is_not_on_loopback(
    internal: tuple[int, _Server],
) -> None:
    ip = _own_ip()
    if ip is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    port, secret = internal
    srv = _Server("0.0.0.0")  # noqa: S104 - a test server, reached on this machine's own address
    srv.routes["/requests.json"] = _redirect(f"http://localhost:{port}/")
    with serving(srv):
        config = _feed(f"http://{ip}:{srv.server_address[1]}", allow_hosts=["localhost"])
        with pytest.raises(FetchError) as caught:
            _fetch(config)
    assert caught.value.refused and "a loopback address" in caught.value.reason, caught.value.reason
    assert secret.seen.requests == []  # never connected


def test_a_redirect_to_another_host_is_refused_and_nothing_is_read(
    own: tuple[str, _Server], internal: tuple[int, _Server]
) -> None:
    base, srv = own
    port, secret = internal
    srv.routes["/requests.json"] = _redirect(f"http://localhost:{port}/internal")
    with pytest.raises(FetchError) as caught:
        _fetch(_feed(base))
    assert caught.value.refused
    assert (
        f"refused http://localhost:{port}/internal: host localhost is not the feed's own"
        in caught.value.reason
    )
    assert secret.seen.requests == []


def test_redirects_are_followed_a_few_times_on_the_feed_s_own_host(own: tuple[str, _Server]) -> None:
    base, srv = own
    srv.routes["/requests.json"] = _redirect("/moved.json")
    srv.routes["/moved.json"] = lambda _p: (200, b"[]", {"Content-Type": "application/json"})
    assert _fetch(_feed(base)).pages[0].body == b"[]"
    srv.routes["/requests.json"] = _redirect("/requests.json")  # a loop
    with pytest.raises(FetchError, match="more than 5 redirects"):
        _fetch(_feed(base))
    assert len(srv.seen.requests) == 2 + 6


def test_credentials_are_not_sent_to_a_redirected_host(
    own: tuple[str, _Server], internal: tuple[int, _Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other host is allowed (``allow_hosts``): it is fetched, but without the api_key (even when the
    redirect echoes it) and without the basic auth."""
    base, srv = own
    port, other = internal
    monkeypatch.setenv("OUTBOUND_KEY", KEY)
    monkeypatch.setenv("OUTBOUND_USER", "feeduser")
    monkeypatch.setenv("OUTBOUND_PASS", "pa55-outbound")
    srv.routes["/requests.json"] = lambda path: (
        302, b"", {"Location": f"http://localhost:{port}/requests.json?" + path.split("?", 1)[1]}
    )  # fmt: skip
    other.routes["/requests.json"] = lambda _p: (200, b"[]", {"Content-Type": "application/json"})
    config = _feed(
        base,
        allow_hosts=["localhost"],
        api_key_env="OUTBOUND_KEY",
        username_env="OUTBOUND_USER",
        password_env="OUTBOUND_PASS",
    )
    result = _fetch(config)
    assert result.pages[0].body == b"[]"
    (first,) = srv.seen.requests
    assert f"api_key={KEY}" in first["path"] and first["authorization"].startswith("Basic ")
    (hop,) = other.seen.requests
    assert "page_size=3" in hop["path"]  # the rest of the query went along
    assert KEY not in hop["path"] and "api_key" not in hop["path"]
    assert "authorization" not in hop


def test_a_feed_on_loopback_still_reaches_its_own_host(own: tuple[str, _Server]) -> None:
    """The demo's simulators run on 127.0.0.1: the feed's own (loopback) host keeps working."""
    base, srv = own
    srv.routes["/requests.json"] = lambda _p: (200, b"[]", {"Content-Type": "application/json"})
    assert _fetch(_feed(base)).pages[0].body == b"[]"


# --- a CAP index naming documents elsewhere ---------------------------------------------------------


def _index(links: list[str]) -> bytes:
    entries = "".join(
        f"<entry><id>{link.rsplit('/', 1)[-1][:-4]}</id><title>t</title>"
        "<updated>2026-01-01T00:00:00Z</updated>"
        f'<link rel="alternate" type="application/cap+xml" href="{link}"/></entry>'
        for link in links
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>urn:test</id><title>cap</title><updated>2026-01-01T00:00:00Z</updated>{entries}</feed>"
    ).encode()


@pytest.fixture
def runtime(database_url: str, engine: object, redis_url: str, tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        redis_url=redis_url,
        feeds_file=tmp_path / "feeds.toml",
    )
    rt = Runtime.build(settings)
    with rt.session_factory() as session, session.begin():
        make_hierarchy(session)
    yield rt
    rt.close()


@pytest.mark.parametrize("allowed", [False, True])
def test_a_cap_index_naming_another_host_is_refused_and_quarantined_without_a_body(
    runtime: Runtime, own: tuple[str, _Server], internal: tuple[int, _Server], allowed: bool
) -> None:
    base, srv = own
    port, other = internal
    good = cap_alert("GOOD-1", T0)
    srv.routes["/cap/index.atom"] = lambda _p: (
        200, _index(["/cap/alerts/GOOD-1.xml", f"http://localhost:{port}/cap/alerts/ELSEWHERE-1.xml"]),
        {"Content-Type": "application/atom+xml"},
    )  # fmt: skip
    srv.routes["/cap/alerts/GOOD-1.xml"] = lambda _p: (200, good, {"Content-Type": "application/cap+xml"})
    other.routes["/cap/alerts/ELSEWHERE-1.xml"] = lambda _p: (
        200, cap_alert("ELSEWHERE-1", T0, headline="INTERNAL-ONLY"), {"Content-Type": "application/cap+xml"}
    )  # fmt: skip
    feed = {
        "name": "warn", "department": "weather", "protocol": "cap", "url": f"{base}/cap/index.atom",
        "interval": 1, "timeout": 2, **({"allow_hosts": ["localhost"]} if allowed else {}),
    }  # fmt: skip
    write_feeds(runtime.settings.effective_feeds_file, [feed])
    summary = run_poll(runtime, "warn")
    with runtime.session_factory() as session:
        rows = list(session.scalars(select(Quarantine)))
    if allowed:
        assert [r["path"] for r in other.seen.requests] == ["/cap/alerts/ELSEWHERE-1.xml"]
        assert summary["new"] == 2 and rows == []
        return
    assert other.seen.requests == []  # never asked
    assert summary["new"] == 1 and summary["quarantined"] == 1
    (row,) = rows
    assert row.external_id == "ELSEWHERE-1" and row.raw == ""
    assert row.reason.startswith(f"not fetched: refused http://localhost:{port}/cap/alerts/ELSEWHERE-1.xml: ")
    assert "host localhost is not the feed's own (127.0.0.1) nor in its allow_hosts" in row.reason
    assert run_poll(runtime, "warn")["quarantined"] == 0  # refused again next time, noted once


@pytest.mark.parametrize("location", ["http://[::1", "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO"])
def test_a_redirect_to_no_url_or_another_scheme_is_a_fetch_error(
    own: tuple[str, _Server], location: str
) -> None:
    base, srv = own
    srv.routes["/requests.json"] = _redirect(location)
    with pytest.raises(FetchError) as caught:
        _fetch(_feed(base))
    # (httpx itself finds a Location that is no URL while reading the answer)
    assert caught.value.reason.startswith(
        ("invalid redirect from ", "RemoteProtocolError: Invalid URL in location", "refused ")
    ), caught.value.reason
