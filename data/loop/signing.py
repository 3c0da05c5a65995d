"""HMAC-SHA256 signatures over ``<timestamp>.<body>``, the same both ways (see ``docs/loop.md``).

Outbound (gridcc → department) and inbound (department → gridcc) requests carry:

- ``X-Gridcc-Timestamp``: Unix seconds when the request was signed;
- ``X-Gridcc-Signature``: ``sha256=`` + hex HMAC-SHA256 with the department's secret over the
  timestamp's ASCII digits, a ``.``, and the body's bytes exactly as sent.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP = "X-Gridcc-Timestamp"
SIGNATURE = "X-Gridcc-Signature"
MESSAGE_ID = "X-Gridcc-Message-Id"
IDEMPOTENCY_KEY = "Idempotency-Key"
DEPARTMENT = "X-Gridcc-Department"
PREFIX = "sha256="


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Gridcc-Signature`` value for ``body`` signed at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return PREFIX + mac.hexdigest()


def valid(secret: str, timestamp: str, body: bytes, given: str | None) -> bool:
    """Whether ``given`` is the signature of ``body`` at ``timestamp`` (constant-time comparison)."""
    if not secret or not given:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body).encode(), given.strip().encode())


def signed_headers(secret: str, timestamp: str, body: bytes) -> dict[str, str]:
    return {TIMESTAMP: timestamp, SIGNATURE: signature(secret, timestamp, body)}
