"""parsers.parse: dispatch by protocol; document failures become one Rejection, never an exception."""

from __future__ import annotations

import pytest

from workers.feeds.parsers import parse

from ._feed_helpers import conformance, feed


def test_dispatches_each_protocol() -> None:
    assert len(parse("open311", conformance("open311/service_requests.xml")).cases) == 2
    assert len(parse("open311", feed("open311_messy.json"), "application/json; charset=utf-8").cases) == 4
    assert [a.external_id for a in parse("cap", conformance("cap/canada.cap")).alerts] == [
        "2.49.0.1.124.6bddbc91.2012"
    ]
    assert len(parse("sensor", feed("sensors.json")).alerts) == 6


def test_mislabelled_content_type_does_not_matter() -> None:
    result = parse("open311", conformance("open311/service_requests.xml"), "application/json")
    assert [c.external_id for c in result.cases] == ["638344", "638349"]


@pytest.mark.parametrize(
    ("protocol", "body", "reason"),
    [
        ("cap", conformance("cap/invalid.cap"), "CAP schema violation"),
        ("cap", conformance("cap/canada_errors.cap"), "CAP Update without references"),
        ("cap", conformance("cap/xee.cap"), "XML external entity / DTD forbidden"),
        ("cap", b"<alert>", "malformed XML"),
        ("open311", b"{nope", "malformed JSON"),
        ("open311", b"<!DOCTYPE x [<!ENTITY a 'b'>]><service_requests/>", "DTD forbidden"),
        ("sensor", b"[1, 2]", "not a sensor alarm document"),
    ],
)
def test_document_failures_become_one_rejection(protocol: str, body: bytes, reason: str) -> None:
    result = parse(protocol, body)
    assert result.cases == [] and result.alerts == []
    (rejection,) = result.rejections
    assert rejection.external_id is None
    assert reason in rejection.reason
    assert rejection.raw == body.decode("utf-8", errors="replace")


def test_unknown_protocol_raises() -> None:
    with pytest.raises(ValueError, match="unknown feed protocol 'rss'"):
        parse("rss", b"<rss/>")
