"""One entry point for every feed protocol: bytes in, :class:`ParseResult` out, never an exception.

``parse(protocol, body, content_type)`` dispatches on ``"open311"``, ``"cap"`` or ``"sensor"``. A
document that cannot be used as a whole (malformed, forbidden XML construct, schema violation, not
the expected kind of document) becomes a single :class:`Rejection` with ``external_id=None``, so the
ingest quarantines it like a bad record. Only an unknown protocol raises (``ValueError``): that is a
configuration error, not bad input.

For ``cap``, an ATOM/RSS index is recognised and its links returned in ``ParseResult.index_links``
(nothing is fetched here; the poller fetches each link and parses it as ``cap``).

``content_type`` is accepted for the poller's convenience but only advisory: Open311 servers label
JSON ``text/xml`` and the reverse, so the body itself decides between XML and JSON.
"""

from __future__ import annotations

from collections.abc import Callable

from . import cap, cap_index, open311, sensor
from .records import DocumentRejected, ParseResult, Rejection

PROTOCOLS = ("open311", "cap", "sensor")
RAW_LIMIT = 64 * 1024  # a rejected document's raw text kept for the quarantine, at most


def parse(protocol: str, body: bytes, content_type: str | None = None) -> ParseResult:
    """Parse a feed document of the given protocol (see the module docstring)."""
    handler = _HANDLERS.get(protocol)
    if handler is None:
        raise ValueError(f"unknown feed protocol {protocol!r}: use one of {', '.join(PROTOCOLS)}")
    try:
        return handler(body, content_type)
    except DocumentRejected as exc:
        return _rejected(str(exc), body)
    except Exception as exc:  # noqa: BLE001 - a parser bug must quarantine the document, not kill the poll
        return _rejected(f"internal parser error ({type(exc).__name__}): {exc}", body)


def _open311(body: bytes, content_type: str | None) -> ParseResult:
    # Content-Type is advisory: servers label JSON text/xml and the reverse; the body's first byte decides.
    return open311.parse(body, None)


def _cap(body: bytes, content_type: str | None) -> ParseResult:
    if cap_index.is_index(body):
        return ParseResult(index_links=cap_index.parse_index(body))
    return cap.parse(body)


def _sensor(body: bytes, content_type: str | None) -> ParseResult:
    return sensor.parse(body)


_HANDLERS: dict[str, Callable[[bytes, str | None], ParseResult]] = {
    "open311": _open311,
    "cap": _cap,
    "sensor": _sensor,
}


def _rejected(reason: str, body: bytes) -> ParseResult:
    raw = ""
    if isinstance(body, bytes | bytearray):
        raw = bytes(body[:RAW_LIMIT]).decode("utf-8", errors="replace")
    return ParseResult(rejections=[Rejection(reason=reason, raw=raw, external_id=None)])
