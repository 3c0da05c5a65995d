"""One entry point for every feed protocol: bytes in, :class:`ParseResult` out, never an exception.

``parse(protocol, body, content_type)`` hands the body to the protocol's adapter
(:mod:`.registry`: ``"open311"``, ``"cap"``, ``"sensor"`` and any registered since). A document that
cannot be used as a whole (malformed, forbidden XML construct, schema violation, not the expected kind
of document) becomes a single :class:`Rejection` with ``external_id=None``, so the ingest quarantines
it like a bad record. Only an unknown protocol raises (:class:`.registry.UnknownProtocol`, a
``ValueError``): that is a configuration error, not bad input.

For ``cap``, an ATOM/RSS index is recognised and its links returned in ``ParseResult.index_links``
(nothing is fetched here; the poller fetches each link and parses it as ``cap``).

``content_type`` is accepted for the poller's convenience but only advisory: Open311 servers label
JSON ``text/xml`` and the reverse, so the body itself decides between XML and JSON.
"""

from __future__ import annotations

from . import registry
from .records import DocumentRejected, ParseResult, Rejection

RAW_LIMIT = 64 * 1024  # a rejected document's raw text kept for the quarantine, at most


def parse(protocol: str, body: bytes, content_type: str | None = None) -> ParseResult:
    """Parse a feed document of the given protocol (see the module docstring)."""
    adapter = registry.get(protocol)
    try:
        result: ParseResult = adapter.parse(body, content_type)
        return result
    except DocumentRejected as exc:
        return _rejected(str(exc), body)
    except Exception as exc:  # noqa: BLE001 - a parser bug must quarantine the document, not kill the poll
        return _rejected(f"internal parser error ({type(exc).__name__}): {exc}", body)


def _rejected(reason: str, body: bytes) -> ParseResult:
    raw = ""
    if isinstance(body, bytes | bytearray):
        raw = bytes(body[:RAW_LIMIT]).decode("utf-8", errors="replace")
    return ParseResult(rejections=[Rejection(reason=reason, raw=raw, external_id=None)])
