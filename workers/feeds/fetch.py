"""Fetching a feed over HTTP (httpx): timeouts, conditional requests, cursors, paging, credentials.

Fetch only moves bytes: it never parses a record's content (a ``count`` callback tells it how many
records an Open311 page held, so that it knows when to stop paging) and never touches the database.
Network problems raise :class:`FetchError`, so the job fails and RQ retries it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpx

from .config import FeedConfig

MAX_PAGES = 1000  # safety cap on Open311 paging; the next poll continues from the cursor
MAX_CAP_DOCUMENTS = 200  # safety cap on documents fetched from one CAP index
USER_AGENT = "gridcc-feed-poller/0.1"


class FetchError(Exception):
    """The feed could not be read (connection refused, timeout, HTTP error status): retry later."""

    def __init__(self, feed: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"{feed}: {reason}")
        self.feed = feed
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Cursor:
    """What the feed row remembers between polls."""

    cursor: str | None = None  # Open311 updated_after / sensor since (ISO-8601 UTC)
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Page:
    body: bytes
    content_type: str | None
    url: str


@dataclass
class FetchResult:
    pages: list[Page] = field(default_factory=list)
    not_modified: bool = False  # 304 on the first request: nothing new
    etag: str | None = None  # validators of the first response, to send next time
    last_modified: str | None = None
    requests: int = 0
    truncated: bool = False  # stopped at a safety cap; the next poll continues


PageCounter = Callable[[Page], int]
KnownDocument = Callable[[str], bool]


def make_client(config: FeedConfig) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(config.timeout),
        auth=config.basic_auth(),
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
    )


def _get(
    client: httpx.Client,
    config: FeedConfig,
    url: str,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    try:
        response = client.get(url, params=params, headers=headers)
    except httpx.TimeoutException as exc:
        raise FetchError(config.name, f"timed out after {config.timeout:g} s ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise FetchError(config.name, f"{type(exc).__name__}: {exc}") from exc
    if response.status_code == 304:
        return response
    if response.status_code >= 400:
        snippet = response.text[:200].strip().replace("\n", " ")
        raise FetchError(
            config.name, f"HTTP {response.status_code} from {url}: {snippet}", response.status_code
        )
    return response


def _conditional(cursor: Cursor) -> dict[str, str]:
    headers = {}
    if cursor.etag:
        headers["If-None-Match"] = cursor.etag
    if cursor.last_modified:
        headers["If-Modified-Since"] = cursor.last_modified
    return headers


def _page(response: httpx.Response) -> Page:
    return Page(response.content, response.headers.get("content-type"), str(response.url))


def _validators(result: FetchResult, response: httpx.Response) -> None:
    result.etag = response.headers.get("etag")
    result.last_modified = response.headers.get("last-modified")


def fetch_open311(
    client: httpx.Client, config: FeedConfig, cursor: Cursor, count: PageCounter, max_pages: int = MAX_PAGES
) -> FetchResult:
    """``GET requests`` with ``updated_after`` from the cursor, page by page until a short page."""
    result = FetchResult()
    params: dict[str, Any] = {"page_size": config.page_size}
    if cursor.cursor:
        params["updated_after"] = cursor.cursor
    api_key = config.api_key()
    if api_key:
        params["api_key"] = api_key
    for number in range(1, max_pages + 1):
        params["page"] = number
        headers = _conditional(cursor) if number == 1 else None
        response = _get(client, config, config.url, params, headers)
        result.requests += 1
        if number == 1:
            if response.status_code == 304:
                result.not_modified = True
                result.etag, result.last_modified = cursor.etag, cursor.last_modified
                return result
            _validators(result, response)
        page = _page(response)
        result.pages.append(page)
        if count(page) < config.page_size:
            return result
    result.truncated = True
    return result


def fetch_sensor(client: httpx.Client, config: FeedConfig, cursor: Cursor) -> FetchResult:
    """``GET alarms.json?since=<cursor>``."""
    result = FetchResult()
    params = {"since": cursor.cursor} if cursor.cursor else None
    response = _get(client, config, config.url, params, _conditional(cursor))
    result.requests = 1
    if response.status_code == 304:
        result.not_modified = True
        result.etag, result.last_modified = cursor.etag, cursor.last_modified
        return result
    _validators(result, response)
    result.pages.append(_page(response))
    return result


def _entry_link(entry: Any) -> tuple[str | None, str | None]:
    """(identifier, link) of one index entry, whatever shape the index parser gives it."""
    if isinstance(entry, str):
        return None, entry
    if isinstance(entry, dict):
        return entry.get("identifier") or entry.get("id"), entry.get("url") or entry.get("link")
    ident = getattr(entry, "identifier", None) or getattr(entry, "id", None)
    link = getattr(entry, "url", None) or getattr(entry, "link", None) or getattr(entry, "href", None)
    return ident, link


def fetch_cap(client: httpx.Client, config: FeedConfig, cursor: Cursor, known: KnownDocument) -> FetchResult:
    """A CAP document, or an ATOM/RSS index whose documents not yet stored are fetched one by one.

    ``known(key)`` says whether a document (by its identifier, or by its link when the index names
    no identifier) is stored already.
    """
    from .cap_index import is_index, parse_index

    result = FetchResult()
    response = _get(client, config, config.url, None, _conditional(cursor))
    result.requests = 1
    if response.status_code == 304:
        result.not_modified = True
        result.etag, result.last_modified = cursor.etag, cursor.last_modified
        return result
    _validators(result, response)
    first = _page(response)
    if not is_index(first.body):
        result.pages.append(first)
        return result
    for entry in parse_index(first.body, first.url):
        ident, link = _entry_link(entry)
        if not link:
            continue
        absolute = urljoin(first.url, link)
        if known(ident or absolute) or (ident is None and known(link)):
            continue
        if len(result.pages) >= MAX_CAP_DOCUMENTS:
            result.truncated = True
            break
        doc = _get(client, config, absolute)
        result.requests += 1
        result.pages.append(_page(doc))
    return result


def fetch(
    config: FeedConfig,
    cursor: Cursor,
    count: PageCounter,
    known: KnownDocument = lambda _key: False,
    client: httpx.Client | None = None,
) -> FetchResult:
    """Fetch whatever is new on one feed. Raises :class:`FetchError` on network trouble."""
    own = client is None
    client = client or make_client(config)
    try:
        if config.protocol == "open311":
            return fetch_open311(client, config, cursor, count)
        if config.protocol == "cap":
            return fetch_cap(client, config, cursor, known)
        return fetch_sensor(client, config, cursor)
    finally:
        if own:
            client.close()
