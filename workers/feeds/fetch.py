"""Fetching a feed over HTTP (httpx): timeouts, conditional requests, cursors, paging, credentials.

Fetch only moves bytes: it never parses a record's content (a ``count`` callback tells it how many
records an Open311 page held, so that it knows when to stop paging) and never touches the database.
Network problems raise :class:`FetchError`, so the job fails and RQ retries it.

What a poll fetches (one document, Open311's pages, a CAP index and its documents) is decided by the
feed's protocol adapter (:mod:`workers.protocols`, found through :mod:`.registry`); this module is the
HTTP under them: :func:`get` (redirects, credentials, caps), :func:`fetch_document`, the budget.

Every body is streamed and read up to ``max_bytes`` (``Settings.feed_max_bytes``): an answer whose
``Content-Length`` is larger is refused before its body is read, and one that streams past the cap is
cut off there. Either is a :class:`FetchError` ("response larger than 32 MiB"), like any fetch error:
nothing of the poll is ingested and the cursor stays where it was.

**A budget per poll** (:class:`Budget`: pages, bytes, records; ``GRIDCC_FEED_POLL_MAX_*``): paging stops
when one is spent, and when a page's body repeats an earlier page of the same poll (a server that
ignores ``page`` would otherwise be read until a cap, the same records over and over). Such a poll is
*short*: what was read goes in, the poll counts as a success and :attr:`FetchResult.short` says why it
stopped (kept in the feed's health as a note); the next poll goes on from the cursor. A poll that stops
early cannot know what the unread pages held, so on a feed whose records are not oldest first the
cursor does not move (see ``workers.jobs.poll``).

**Where it fetches** (:mod:`.outbound`): redirects are followed here, not by httpx, at most
:data:`MAX_REDIRECTS` hops, each checked like the first URL (own host or ``allow_hosts``; the address
checked when connecting). Credentials — the ``api_key``, HTTP basic auth — go to the feed's own origin
only: a hop to another origin (even ``http`` → ``https`` on the same host: configure the final URL) is
sent without them, and without any key-like query value. A CAP index
link the rules refuse is not fetched: it is listed in :attr:`FetchResult.refused` (quarantined with its
reason, no body). Every error text names URLs with their secrets redacted (:mod:`data.redact`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from data.redact import is_secret_name, redact_text, redact_url

from . import registry
from .config import FeedConfig
from .outbound import Outbound, OutboundRefused, guarded_transport, redact_library_logs

if TYPE_CHECKING:
    from data.settings import Settings

MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "gridcc-feed-poller/0.1"
ERROR_SNIPPET_BYTES = 1024  # of an error answer's body, read for its message
KIB = 1024
MIB = 1024 * KIB


class FetchError(Exception):
    """The feed could not be read (connection refused, timeout, HTTP error status): retry later."""

    def __init__(
        self,
        feed: str,
        reason: str,
        status: int | None = None,
        *,
        too_large: bool = False,
        refused: bool = False,
    ) -> None:
        reason = redact_text(reason)  # it names URLs: their keys never reach the health row or a log
        super().__init__(f"{feed}: {reason}")
        self.feed = feed
        self.reason = reason
        self.status = status
        self.too_large = too_large  # the answer was larger than the cap it was read with
        self.refused = refused  # the outbound rules refused it (nothing was fetched)


@dataclass(frozen=True)
class Budget:
    """How much one poll may fetch: pages (requests), bytes of bodies, records; and whether a page that
    repeats an earlier one ends the paging (off only to measure what it saves: benchmarks)."""

    pages: int
    bytes: int
    records: int
    stop_at_repeat: bool = True

    @classmethod
    def of(cls, settings: Settings) -> Budget:
        return cls(settings.feed_poll_max_pages, settings.feed_poll_max_bytes, settings.feed_poll_max_records)


UNLIMITED = Budget(10**9, 2**62, 10**12)


@dataclass
class Spent:
    pages: int = 0
    bytes: int = 0
    records: int = 0


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
    truncated: bool = False  # stopped early (a budget, a repeated page, a cap); the next poll continues
    short: str | None = None  # why it stopped early, for the feed's health
    refused: list[tuple[str | None, str]] = field(default_factory=list)  # (identifier, reason): not fetched
    bytes: int = 0  # of the bodies read

    def stop(self, why: str) -> None:
        self.truncated = True
        self.short = why


PageCounter = Callable[[Page], int]
KnownDocument = Callable[[str], bool]


def make_client(config: FeedConfig, rules: Outbound | None = None) -> httpx.Client:
    """A client whose connections go only where ``rules`` allow; no credentials of its own (they are
    given per request, to the feed's own origin) and no redirects of its own (see :func:`_get`)."""
    redact_library_logs()
    return httpx.Client(
        timeout=httpx.Timeout(config.timeout),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        transport=guarded_transport(rules or config.outbound()),
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
            too_large=True,
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
                too_large=True,
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


def _cross_origin(url: httpx.URL) -> httpx.URL:
    """``url`` without key-like query values (a hop to another origin carries no credential)."""
    params = [(k, v) for k, v in url.params.multi_items() if not is_secret_name(k)]
    return url.copy_with(params=params) if len(params) != len(url.params.multi_items()) else url


def get(
    client: httpx.Client,
    config: FeedConfig,
    url: str,
    max_bytes: int,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    rules: Outbound | None = None,
) -> Answer:
    """GET ``url``, following at most :data:`MAX_REDIRECTS` redirects, each hop checked by ``rules``;
    the basic auth goes to the feed's own origin only."""
    rules = rules or config.outbound()
    request = client.build_request("GET", url, params=params, headers=headers)
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            rules.check_url(str(request.url))
            own = rules.same_origin(str(request.url))
            auth = config.basic_auth() if own else None
            response = client.send(request, stream=True, auth=auth, follow_redirects=False)
            try:
                if response.status_code in REDIRECTS and "location" in response.headers:
                    target = request.url.join(response.headers["location"])
                    if not rules.same_origin(str(target)):
                        target = _cross_origin(target)
                    kept = headers if rules.same_origin(str(target)) else None
                    request = client.build_request("GET", target, headers=kept)
                    continue
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
            finally:
                response.close()
        raise FetchError(config.name, f"more than {MAX_REDIRECTS} redirects from {url}")
    except OutboundRefused as exc:
        raise FetchError(config.name, exc.reason, refused=True) from None
    except httpx.InvalidURL as exc:  # a Location that is no URL
        raise FetchError(config.name, f"invalid redirect from {url}: {exc}") from None
    except httpx.TimeoutException as exc:
        why = f"timed out after {config.timeout:g} s ({type(exc).__name__})"
        raise FetchError(config.name, why) from None
    except httpx.HTTPError as exc:
        # from None: the chained httpx error would put the URL with its key into the job's traceback
        raise FetchError(config.name, f"{type(exc).__name__}: {exc}") from None


def conditional(cursor: Cursor) -> dict[str, str]:
    headers = {}
    if cursor.etag:
        headers["If-None-Match"] = cursor.etag
    if cursor.last_modified:
        headers["If-Modified-Since"] = cursor.last_modified
    return headers


def page_of(answer: Answer) -> Page:
    """The page, its URL redacted: it is named in reasons that are stored and shown."""
    return Page(
        answer.body, answer.headers.get("content-type"), redact_url(answer.url), answer.headers.get("date")
    )


def keep_validators(result: FetchResult, response: Answer) -> None:
    result.etag = response.headers.get("etag")
    result.last_modified = response.headers.get("last-modified")


def fetch_document(
    client: httpx.Client,
    config: FeedConfig,
    cursor: Cursor,
    max_bytes: int,
    rules: Outbound | None = None,
    params: dict[str, Any] | None = None,
) -> FetchResult:
    """One document: a conditional ``GET`` of the feed's URL with ``params`` (304: nothing new)."""
    result = FetchResult()
    response = get(client, config, config.url, max_bytes, params, conditional(cursor), rules)
    result.requests = 1
    if response.status_code == 304:
        result.not_modified = True
        result.etag, result.last_modified = cursor.etag, cursor.last_modified
        return result
    keep_validators(result, response)
    result.pages.append(page_of(response))
    return result


def fetch(
    config: FeedConfig,
    cursor: Cursor,
    count: PageCounter,
    known: KnownDocument = lambda _key: False,
    client: httpx.Client | None = None,
    *,
    max_bytes: int,
    budget: Budget = UNLIMITED,
) -> FetchResult:
    """Fetch whatever is new on one feed, within ``budget``, the way its protocol's adapter does
    (:mod:`.registry`; an unknown protocol is :class:`.registry.UnknownProtocol`). Raises
    :class:`FetchError` on network trouble, on an answer larger than ``max_bytes`` and when the feed's
    own URL (or a redirect from it) goes where the outbound rules refuse."""
    adapter = registry.get(config.protocol)
    rules = config.outbound()
    own = client is None
    client = client or make_client(config, rules)
    try:
        result: FetchResult = adapter.fetch(
            client, config, cursor, count=count, known=known, max_bytes=max_bytes, budget=budget, rules=rules
        )
        return result
    finally:
        if own:
            client.close()
