"""The built-in outbound connector ``signed-json``: ``POST`` the message's JSON to the department's URL
with its message id, idempotency key, timestamp and HMAC-SHA256 signature (``docs/loop.md``).

Requests go through the feeds' outbound guard (:mod:`workers.feeds.outbound`): only to the endpoint's
own host, no redirect followed, no internal address unless the endpoint's own host is one. A 2xx is a
delivery; 408, 429, 5xx and network errors are retried; any other status is refused for good.
"""

from __future__ import annotations

import threading
import time

import httpx

from data.loop import signing
from data.loop.endpoints import EndpointConfig
from data.redact import redact_text, redact_url

from ..feeds.outbound import Outbound, OutboundRefused, guarded_transport, redact_library_logs
from .registry import DeliveryError

RETRYABLE = frozenset({408, 425, 429})
USER_AGENT = "gridcc-loop/1"


class SignedJson:
    name = "signed-json"

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str], tuple[Outbound, httpx.Client]] = {}
        self._lock = threading.Lock()
        redact_library_logs()

    def _client(self, endpoint: EndpointConfig, url: str | None = None) -> tuple[Outbound, httpx.Client]:
        """The guarded client for ``url`` (the endpoint's own by default): requests only to its host."""
        url = url or endpoint.url
        key = (endpoint.department, url)
        with self._lock:
            found = self._clients.get(key)
            if found is None:
                rules = Outbound.of(f"endpoint:{endpoint.department}", url)
                client = httpx.Client(
                    transport=guarded_transport(rules), follow_redirects=False, trust_env=False
                )
                found = self._clients[key] = (rules, client)
            return found

    def send(self, endpoint: EndpointConfig, message_id: str, body: bytes) -> str | None:
        secret = endpoint.secret()
        if not secret:
            raise DeliveryError(
                f"no secret in ${endpoint.secret_env} for {endpoint.department}", permanent=True
            )
        rules, client = self._client(endpoint)
        try:
            rules.check_url(endpoint.url)
        except OutboundRefused as exc:
            raise DeliveryError(exc.reason, permanent=True) from None
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            signing.MESSAGE_ID: message_id,
            signing.IDEMPOTENCY_KEY: message_id,
            **signing.signed_headers(secret, stamp, body),
        }
        try:
            response = client.post(endpoint.url, content=body, headers=headers, timeout=endpoint.timeout)
        except OutboundRefused as exc:
            raise DeliveryError(exc.reason, permanent=True) from None
        except httpx.HTTPError as exc:
            reason = redact_text(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            raise DeliveryError(f"{redact_url(endpoint.url)}: {reason}") from None
        if 200 <= response.status_code < 300:
            return None
        status = response.status_code
        snippet = redact_text(response.text[:200].strip())
        permanent = 400 <= status < 500 and status not in RETRYABLE
        raise DeliveryError(f"{redact_url(endpoint.url)}: HTTP {status} {snippet}".strip(), permanent)
