"""CAP 1.2 (alerts): one CAP document, or an ATOM/RSS index whose documents not yet stored are fetched
one by one (each link checked by the outbound rules; a refused one is quarantined, not fetched)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx
from sqlalchemy.orm import Session

from data.redact import redact_url

from ..feeds import cap, cap_index
from ..feeds.config import FeedConfig
from ..feeds.fetch import (
    UNLIMITED,
    Budget,
    Cursor,
    FetchError,
    FetchResult,
    KnownDocument,
    PageCounter,
    conditional,
    get,
    keep_validators,
    page_of,
    size_text,
)
from ..feeds.outbound import Outbound, OutboundRefused
from ..feeds.records import ParseResult
from ..ingest.alerts import known_documents
from .base import FeedProtocol

MAX_CAP_DOCUMENTS = 200  # safety cap on documents fetched from one CAP index


class Cap(FeedProtocol):
    name = "cap"
    summary = "CAP 1.2 alerts: one document, or an ATOM/RSS index of them"

    def fetch(
        self,
        client: httpx.Client,
        config: FeedConfig,
        cursor: Cursor,
        *,
        count: PageCounter,
        known: KnownDocument,
        max_bytes: int,
        budget: Budget,
        rules: Outbound,
    ) -> FetchResult:
        return fetch_cap(client, config, cursor, known, max_bytes, budget, rules)

    def known_documents(self, session: Session, feed_name: str) -> KnownDocument:
        return document_known(known_documents(session, feed_name))

    def parse(self, body: bytes, content_type: str | None) -> ParseResult:
        if cap_index.is_index(body):
            return ParseResult(index_links=cap_index.parse_index(body))
        return cap.parse(body)


def document_known(known: set[str]) -> KnownDocument:
    """Whether an index entry (by identifier, else by link) names a document in ``known``."""

    def check(key: str) -> bool:
        if key in known:
            return True
        stem = PurePosixPath(unquote(urlsplit(key).path)).stem
        return bool(stem) and stem in known

    return check


def _entry_link(entry: Any) -> tuple[str | None, str | None]:
    """(identifier, link) of one index entry, whatever shape the index parser gives it."""
    if isinstance(entry, str):
        return None, entry
    if isinstance(entry, dict):
        return entry.get("identifier") or entry.get("id"), entry.get("url") or entry.get("link")
    ident = getattr(entry, "identifier", None) or getattr(entry, "id", None)
    link = getattr(entry, "url", None) or getattr(entry, "link", None) or getattr(entry, "href", None)
    return ident, link


def _document_key(ident: str | None, url: str) -> str:
    """What a refused document is quarantined as: its identifier, else its file's stem (the full URL,
    redacted, is in the reason)."""
    stem = PurePosixPath(unquote(urlsplit(url).path)).stem
    return (ident or stem or redact_url(url))[:250]


def fetch_cap(
    client: httpx.Client,
    config: FeedConfig,
    cursor: Cursor,
    known: KnownDocument,
    max_bytes: int,
    budget: Budget = UNLIMITED,
    rules: Outbound | None = None,
) -> FetchResult:
    """A CAP document, or an ATOM/RSS index whose documents not yet stored are fetched one by one.

    ``known(key)`` says whether a document (by its identifier, or by its link when the index names
    no identifier) is stored already. A link the outbound rules refuse (another host, an internal
    address, directly or by a redirect) is not fetched but listed in ``refused``.
    """
    rules = rules or config.outbound()
    result = FetchResult()
    response = get(client, config, config.url, max_bytes, None, conditional(cursor), rules)
    result.requests = 1
    if response.status_code == 304:
        result.not_modified = True
        result.etag, result.last_modified = cursor.etag, cursor.last_modified
        return result
    keep_validators(result, response)
    first = page_of(response)
    result.bytes = len(first.body)
    if not cap_index.is_index(first.body):
        result.pages.append(first)
        return result
    for entry in cap_index.parse_index(first.body, response.url):
        ident, link = _entry_link(entry)
        if not link:
            continue
        absolute = urljoin(response.url, link)
        if known(ident or absolute) or (ident is None and known(link)):
            continue
        if len(result.pages) >= min(MAX_CAP_DOCUMENTS, budget.pages, budget.records):
            result.stop(f"poll budget of {len(result.pages)} documents reached; the next poll goes on")
            break
        room = budget.bytes - result.bytes
        if room <= 0:
            result.stop(f"poll budget of {size_text(budget.bytes)} reached; the next poll goes on")
            break
        try:
            rules.check_url(absolute)
            doc = get(client, config, absolute, min(max_bytes, room), rules=rules)
        except OutboundRefused as exc:
            result.refused.append((_document_key(ident, absolute), exc.reason))
            continue
        except FetchError as exc:
            if exc.refused:
                result.refused.append((_document_key(ident, absolute), exc.reason))
                continue
            if exc.too_large and room < max_bytes:
                result.stop(f"poll budget of {size_text(budget.bytes)} reached; the next poll goes on")
                break
            raise
        result.requests += 1
        result.bytes += len(doc.body)
        result.pages.append(page_of(doc))
    return result
