"""Where a feed may fetch from: its own origin, the hosts its entry allows, and no internal address.

A feed's URL, a redirect's ``Location`` and every link a CAP index names are decided by people outside:
left alone, the poller would fetch ``http://169.254.169.254/…`` or ``http://127.0.0.1:6379/`` for them
and store what came back. Two checks stand in the way:

- **By name**, before a request is sent (:meth:`Outbound.check_url`): the URL's host must be the
  feed's own (the host of its configured ``url``) or one of its ``allow_hosts``; the scheme http or https.
- **By address**, when the connection is made (:class:`GuardedBackend`, the transport's network
  backend): the host is resolved once, every address it resolves to is checked, and the socket is
  opened to a checked address (so a name that resolves differently a moment later — DNS rebinding —
  cannot slip past). Loopback, link-local (169.254/16, fe80::/10: cloud metadata), private (10/8,
  172.16/12, 192.168/16, fc00::/7, 100.64/10), multicast, unspecified and reserved addresses are
  refused — unless the feed's own configured host is itself in that kind of range (the demo's
  simulators, a department server on the intranet): a feed on 127.0.0.1 may reach loopback, one on
  10.1.2.3 private addresses, and nothing else internal.

A refusal is :class:`OutboundRefused` (an ``httpx.HTTPError`` when raised inside the transport, so it
reaches the fetcher like any network error): nothing is requested and no body is read.

Credentials (the Open311 ``api_key``, HTTP basic auth) go only to the feed's own origin
(:meth:`Outbound.same_origin`); see :mod:`.fetch`.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from httpcore._backends.sync import SyncBackend

from data.redact import redact_text, redact_url

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# The kinds of address a feed reaches only when its own host is of the same kind.
KINDS = ("loopback", "link-local", "private", "multicast", "unspecified", "reserved")


class OutboundRefused(httpx.TransportError):
    """A fetch the feed may not make (another host, an internal address); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def address_kind(address: Address) -> str | None:
    """The internal kind of ``address`` (one of :data:`KINDS`), ``None`` for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_kind(address.ipv4_mapped)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_private or address in ipaddress.ip_network("100.64.0.0/10"):
        return "private"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (an IP literal: itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[Address] = []
    for *_rest, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in seen:
            seen.append(address)
    return seen


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


@dataclass(frozen=True)
class Outbound:
    """The outbound rules of one feed: its own origin, the other hosts it allows, the internal kinds of
    address its own host is of (and so may reach)."""

    feed: str
    origin: tuple[str, str, int]
    allow_hosts: frozenset[str]
    internal_ok: frozenset[str]

    @classmethod
    def of(cls, feed: str, url: str, allow_hosts: Iterable[str] = ()) -> Outbound:
        origin = _origin(url)
        kinds: set[str] = set()
        try:
            for address in resolve(origin[1], origin[2]):
                kind = address_kind(address)
                if kind is not None:
                    kinds.add(kind)
        except OSError:
            pass  # not resolvable now: the connection will fail on its own, and nothing internal is allowed
        return cls(feed, origin, frozenset(h.lower() for h in allow_hosts), frozenset(kinds))

    def same_origin(self, url: str) -> bool:
        """Whether ``url`` is on the feed's own origin (scheme, host, port): credentials go there only."""
        return _origin(url) == self.origin

    def check_url(self, url: str) -> None:
        """:class:`OutboundRefused` unless ``url`` is http(s) on the feed's own host or an allowed one."""
        scheme, host, _port = _origin(url)
        if scheme not in ("http", "https"):
            raise OutboundRefused(f"refused {redact_url(url)}: only http and https are fetched")
        if host != self.origin[1] and host not in self.allow_hosts:
            raise OutboundRefused(
                f"refused {redact_url(url)}: host {host} is not the feed's own ({self.origin[1]}) "
                "nor in its allow_hosts"
            )

    def check_address(self, host: str, address: Address) -> None:
        kind = address_kind(address)
        if kind is not None and kind not in self.internal_ok:
            raise OutboundRefused(
                f"refused {host} ({address}): a {kind} address, and the feed's own host is not one"
            )


class GuardedBackend(SyncBackend):
    """httpcore's network backend, connecting only to addresses :meth:`Outbound.check_address` allows."""

    def __init__(self, rules: Outbound) -> None:
        self.rules = rules

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        for address in addresses:
            self.rules.check_address(host, address)  # every one: the OS may pick any of them
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address for {host}")


def guarded_transport(rules: Outbound) -> httpx.HTTPTransport:
    """An httpx transport whose connections go through :class:`GuardedBackend` (no proxy from the
    environment: a proxy would make the connection for us, past the check)."""
    transport = httpx.HTTPTransport(trust_env=False)
    pool = transport._pool
    assert isinstance(pool, httpcore.ConnectionPool)
    pool._network_backend = GuardedBackend(rules)
    return transport


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message with its URLs' keys and passwords masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact_library_logs() -> None:
    """Install :class:`RedactingFilter` on the HTTP libraries' loggers (once): httpx logs every request's
    URL, the ``api_key`` included, at INFO."""
    # a logger's filters see only its own records: every logger of theirs that names URLs or headers
    for name in ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
