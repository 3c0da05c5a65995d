"""Fetching a feed over HTTP (httpx): timeouts, conditional requests, cursors, paging, credentials.

Fetch only moves bytes: it never parses a record's content (a ``count`` callback tells it how many
records an Open311 page held, so that it knows when to stop paging) and never touches the database.
Network problems raise :class:`FetchError`, so the job fails and RQ retries it.

Every body is streamed and read up to ``max_bytes`` (``Settings.feed_max_bytes``): an answer whose
``Content-Length`` is larger is refused before its body is read, and one that streams past the cap is
cut off there. Either is a :class:`FetchError` ("response larger than 32 MiB"), like any fetch error:
nothing of the poll is ingested and the cursor stays where it was.
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
ERROR_SNIPPET_BYTES = 1024  # of an error answer's body, read for its message
KIB = 1024
MIB = 1024 * KIB


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
    date: str | None = None  # the answer's Date header: when, by the server's clock, it was made


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, its body read (at most ``max_bytes`` of it)."""

    status_code: int
    headers: httpx.Headers
    url: str
    body: bytes


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


def size_text(n: int) -> str:
    """``32 MiB``, ``512 KiB``, ``1000 bytes``."""
    if n >= MIB and n % MIB == 0:
        return f"{n // MIB} MiB"
    if n >= KIB and n % KIB == 0:
        return f"{n // KIB} KiB"
    return f"{n} bytes"


def _declared_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length", "").strip()
    return int(value) if value.isdigit() else None


def _read(response: httpx.Response, config: FeedConfig, max_bytes: int) -> bytes:
    """The body, streamed; :class:`FetchError` as soon as it is known to be larger than ``max_bytes``."""
    url = str(response.url)
    declared = _declared_length(response)
    if declared is not None and declared > max_bytes:
        raise FetchError(
            config.name,
            f"response larger than {size_text(max_bytes)} from {url} "
            f"(Content-Length {declared} bytes; not read)",
        )
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > max_bytes:
            raise FetchError(
                config.name,
                f"response larger than {size_text(max_bytes)} from {url} "
                f"(stopped reading after {total} bytes)",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _snippet(response: httpx.Response) -> str:
    """The start of an error answer's body, for its message (the rest is never read)."""
    head = b""
    for chunk in response.iter_bytes():
        head += chunk
        if len(head) >= ERROR_SNIPPET_BYTES:
            break
    text = head[:ERROR_SNIPPET_BYTES].decode(response.encoding or "utf-8", errors="replace")
    return text[:200].strip().replace("\n", " ")


def _get(
    client: httpx.Client,
    config: FeedConfig,
    url: str,
    max_bytes: int,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    try:
        with client.stream("GET", url, params=params, headers=headers) as response:
            if response.status_code == 304:
                return Answer(304, response.headers, str(response.url), b"")
            if response.status_code >= 400:
                raise FetchError(
                    config.name,
                    f"HTTP {response.status_code} from {response.url}: {_snippet(response)}",
                    response.status_code,
                )
            body = _read(response, config, max_bytes)
            return Answer(response.status_code, response.headers, str(response.url), body)
    except httpx.TimeoutException as exc:
        raise FetchError(config.name, f"timed out after {config.timeout:g} s ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise FetchError(config.name, f"{type(exc).__name__}: {exc}") from exc


def _conditional(cursor: Cursor) -> dict[str, str]:
    headers = {}
    if cursor.etag:
        headers["If-None-Match"] = cursor.etag
    if cursor.last_modified:
        headers["If-Modified-Since"] = cursor.last_modified
    return headers


def _page(answer: Answer) -> Page:
    return Page(answer.body, answer.headers.get("content-type"), answer.url, answer.headers.get("date"))


def _validators(result: FetchResult, response: Answer) -> None:
    result.etag = response.headers.get("etag")
    result.last_modified = response.headers.get("last-modified")


def fetch_open311(
    client: httpx.Client,
    config: FeedConfig,
    cursor: Cursor,
    count: PageCounter,
    max_bytes: int,
    max_pages: int = MAX_PAGES,
) -> FetchResult:
    """``GET requests`` with ``updated_after`` from the cursor, page by page until a short page.

    ``count(page)`` says how many records the page held; fewer than ``page_size`` ends the paging. The
    caller counts a page it cannot read as empty, so paging stops there (or as full, to go on past it).
    """
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
        response = _get(client, config, config.url, max_bytes, params, headers)
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


def fetch_sensor(client: httpx.Client, config: FeedConfig, cursor: Cursor, max_bytes: int) -> FetchResult:
    """``GET alarms.json?since=<cursor>``."""
    result = FetchResult()
    params = {"since": cursor.cursor} if cursor.cursor else None
    response = _get(client, config, config.url, max_bytes, params, _conditional(cursor))
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


def fetch_cap(
    client: httpx.Client, config: FeedConfig, cursor: Cursor, known: KnownDocument, max_bytes: int
) -> FetchResult:
    """A CAP document, or an ATOM/RSS index whose documents not yet stored are fetched one by one.

    ``known(key)`` says whether a document (by its identifier, or by its link when the index names
    no identifier) is stored already.
    """
    from .cap_index import is_index, parse_index

    result = FetchResult()
    response = _get(client, config, config.url, max_bytes, None, _conditional(cursor))
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
        doc = _get(client, config, absolute, max_bytes)
        result.requests += 1
        result.pages.append(_page(doc))
    return result


def fetch(
    config: FeedConfig,
    cursor: Cursor,
    count: PageCounter,
    known: KnownDocument = lambda _key: False,
    client: httpx.Client | None = None,
    *,
    max_bytes: int,
) -> FetchResult:
    """Fetch whatever is new on one feed. Raises :class:`FetchError` on network trouble and on an
    answer larger than ``max_bytes``."""
    own = client is None
    client = client or make_client(config)
    try:
        if config.protocol == "open311":
            return fetch_open311(client, config, cursor, count, max_bytes)
        if config.protocol == "cap":
            return fetch_cap(client, config, cursor, known, max_bytes)
        return fetch_sensor(client, config, cursor, max_bytes)
    finally:
        if own:
            client.close()
