"""ATOM / RSS indexes of CAP documents: the links, safely, and nothing fetched."""

from __future__ import annotations

import pytest

from workers.feeds import cap_index
from workers.feeds.parsers import parse
from workers.feeds.records import DocumentRejected

from ._feed_helpers import conformance, feed


def test_atom_index_links() -> None:
    body = feed("cap_index_atom.xml")
    assert cap_index.is_index(body)
    # the CAP-typed link wins over the HTML one; file: links are dropped; duplicates once; relative kept
    assert cap_index.parse_index(body) == ["https://alerts.example.cn/cap/0002.xml", "cap/dz-0001.xml"]


def test_atom_relative_links_resolved_against_base() -> None:
    links = cap_index.parse_index(
        feed("cap_index_atom.xml"), base_url="https://alerts.example.cn/feeds/index.atom"
    )
    assert links == [
        "https://alerts.example.cn/cap/0002.xml",
        "https://alerts.example.cn/feeds/cap/dz-0001.xml",
    ]


def test_rss_index_links() -> None:
    body = feed("cap_index_rss.xml")
    assert cap_index.is_index(body)
    assert cap_index.parse_index(body) == [
        "https://alerts.example.cn/cap/0002.xml",
        "https://alerts.example.cn/cap/gw-0001.xml",  # the enclosure, not the HTML link
        "https://alerts.example.cn/cap/guid-0001.xml",
    ]


@pytest.mark.parametrize("name", ["cap/canada.cap", "cap/xee.cap", "open311/service_requests.xml"])
def test_other_documents_are_not_indexes(name: str) -> None:
    assert not cap_index.is_index(conformance(name))


def test_index_with_a_dtd_is_rejected() -> None:
    body = b'<!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]><feed xmlns="http://www.w3.org/2005/Atom"/>'
    assert not cap_index.is_index(body)
    with pytest.raises(DocumentRejected, match="DTD forbidden"):
        cap_index.parse_index(body)


def test_parse_index_of_a_non_index_is_rejected() -> None:
    with pytest.raises(DocumentRejected, match="not an ATOM or RSS index"):
        cap_index.parse_index(conformance("cap/canada.cap"))


def test_dispatcher_returns_index_links_for_cap() -> None:
    result = parse("cap", feed("cap_index_rss.xml"))
    assert (result.alerts, result.rejections) == ([], [])
    assert len(result.index_links) == 3
