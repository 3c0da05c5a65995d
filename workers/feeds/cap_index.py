"""ATOM and RSS indexes of CAP alerts: the links they name, nothing fetched.

Warning services often publish an index (an ATOM feed or an RSS channel) whose entries point at the
CAP documents. :func:`parse_index` returns those links in document order, without duplicates:

- ATOM ``<entry>``: the ``<link>`` whose ``type`` names CAP/XML (``application/cap+xml`` …), else the
  ``rel="alternate"`` (or rel-less) link, else the first link with an ``href``;
- RSS ``<item>``: ``<enclosure url=…>``, else ``<link>``, else a ``<guid>`` that is a permalink URL.

The index is parsed by :mod:`workers.feeds.xmlsafe` like any other feed document. Only ``http`` and
``https`` links are returned (a ``file:`` or ``ftp:`` link in an index would make the fetcher read
what the document chooses). Relative links are resolved against ``base_url`` when one is given, and
returned as they are otherwise (the caller resolves them against the index's URL). A malformed
link is left out; the index's other links are returned.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - only the Element type; parsing is in xmlsafe
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

from . import xmlsafe
from .records import DocumentRejected

ATOM = "http://www.w3.org/2005/Atom"
_CAP_TYPES = ("cap", "xml")


def is_index(body: bytes) -> bool:
    """True when the document is an ATOM feed or an RSS channel (and parses safely)."""
    try:
        root = xmlsafe.parse(body)
    except DocumentRejected:
        return False
    return _kind(root) is not None


def parse_index(body: bytes, base_url: str | None = None) -> list[str]:
    """The CAP document links an ATOM/RSS index names; :class:`DocumentRejected` if it is not one."""
    root = xmlsafe.parse(body)
    kind = _kind(root)
    if kind is None:
        raise DocumentRejected(f"not an ATOM or RSS index: root element <{xmlsafe.local(root.tag)}>")
    found = _atom_links(root) if kind == "atom" else _rss_links(root)
    links: list[str] = []
    for href in found:
        try:
            url = _absolute(href, base_url)
        except ValueError:  # one malformed link ("http://[bad") costs only itself
            continue
        if url and url not in links:
            links.append(url)
    return links


def _kind(root: ET.Element) -> str | None:
    name = xmlsafe.local(root.tag)
    if name == "feed" and xmlsafe.namespace(root.tag) == ATOM:
        return "atom"
    if name in ("rss", "RDF"):
        return "rss"
    return None


def _atom_links(root: ET.Element) -> list[str]:
    out: list[str] = []
    for entry in xmlsafe.children(root, "entry"):
        links = [link for link in xmlsafe.children(entry, "link") if (link.get("href") or "").strip()]
        chosen = _first(lk for lk in links if any(t in (lk.get("type") or "").lower() for t in _CAP_TYPES))
        if chosen is None:  # (an Element with no children is falsy: compare with None, never use `or`)
            chosen = _first(lk for lk in links if (lk.get("rel") or "alternate") == "alternate")
        if chosen is None:
            chosen = _first(iter(links))
        if chosen is not None:
            out.append((chosen.get("href") or "").strip())
    return out


def _rss_links(root: ET.Element) -> list[str]:
    channel = next(iter(xmlsafe.children(root, "channel")), root)
    # RSS 2.0 puts items in the channel, RSS 1.0 (RDF) beside it
    items = xmlsafe.children(channel, "item") or xmlsafe.children(root, "item")
    out: list[str] = []
    for item in items:
        enclosure = next(iter(xmlsafe.children(item, "enclosure")), None)
        guid = next(iter(xmlsafe.children(item, "guid")), None)
        if enclosure is not None and (enclosure.get("url") or "").strip():
            out.append((enclosure.get("url") or "").strip())
        elif xmlsafe.child_text(item, "link"):
            out.append(xmlsafe.child_text(item, "link"))
        elif guid is not None and guid.get("isPermaLink", "true") != "false" and xmlsafe.text(guid):
            out.append(xmlsafe.text(guid))
    return out


def _first(elements: Iterator[ET.Element]) -> ET.Element | None:
    return next(elements, None)


def _absolute(href: str, base_url: str | None) -> str | None:
    url = urljoin(base_url, href) if base_url else href
    parts = urlsplit(url)
    if not parts.scheme and not base_url:
        return url  # relative: for the caller to resolve against the index URL
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url
