"""Open311 GeoReport v2 service_requests: the conformance file, real-world mess, bad records, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from workers.feeds import open311
from workers.feeds.records import DocumentRejected

from ._feed_helpers import conformance, feed


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_conformance_service_requests() -> None:
    # area=None: San Francisco's points are read as they are (by default they are no place of ours)
    result = open311.parse(conformance("open311/service_requests.xml"), area=None)
    assert result.rejections == [] and result.feed_error is None
    first, second = result.cases
    assert first.external_id == "638344"
    assert (first.status, first.source_status) == ("closed", "closed")
    assert first.requested_at == utc(2010, 4, 14, 14, 37, 38)  # 06:37:38-08:00
    assert first.updated_at == utc(2010, 4, 14, 14, 37, 38)
    assert first.expected_at == utc(2010, 4, 15, 14, 37, 38)
    assert (first.category_code, first.category_name) == ("006", "Sidewalk and Curb Issues")
    assert first.description == "" and first.department == ""
    assert first.address == "8TH AVE and JUDAH ST"
    assert (first.lon, first.lat) == (-122.4651145, 37.762221815)
    assert "<media_url>" in first.raw
    assert second.external_id == "638349"
    assert (second.status, second.source_status) == ("open", "open")
    assert second.requested_at == utc(2010, 4, 19, 14, 37, 38)


def test_json_mess_is_normalised() -> None:
    result = open311.parse(feed("open311_messy.json"))
    cases = {(c.external_id, c.source_status): c for c in result.cases}
    c = cases[("1001", "处置中")]
    assert c.status == "in_progress"
    assert c.category_code == "CG-01" and c.category_name == "占道经营"
    assert c.department == "区城市管理局" and c.address == "铜梁区巴川街道中山路12号"
    assert c.requested_at == utc(2025, 3, 1, 1, 30)
    assert c.updated_at == utc(2025, 3, 1, 4, 30)  # +05:30
    assert c.expected_at == utc(2025, 3, 6, 9, 30)
    assert c.accepted_at == utc(2025, 3, 1, 1, 45)
    assert c.resolved_at is None  # not resolved yet: no resolved_datetime
    assert (c.lon, c.lat) == (106.0562, 29.8443)
    assert (c.priority, c.grid_code, c.satisfaction) == ("urgent", "500151001001001", None)


def test_integer_ids_become_text() -> None:
    result = open311.parse(b'[{"service_request_id": 42, "requested_datetime": "2025-03-01T00:00:00Z"}]')
    assert [c.external_id for c in result.cases] == ["42"]


def test_script_in_description_is_kept_as_plain_text() -> None:
    result = open311.parse(feed("open311_messy.json"))
    c = next(c for c in result.cases if c.source_status == "in progress")
    assert c.description == "<script>alert(1)</script> 夜间施工噪声"


def test_naive_time_is_china_time_and_missing_location_is_allowed() -> None:
    result = open311.parse(feed("open311_messy.json"))
    c = next(c for c in result.cases if c.source_status == "in progress")
    assert c.status == "in_progress"
    assert c.requested_at == utc(2025, 3, 1, 13, 15)  # 21:15 taken as +08:00
    assert (c.lon, c.lat, c.address) == (None, None, "")


def test_unknown_status_keeps_the_record_open_with_the_word() -> None:
    result = open311.parse(feed("open311_messy.json"))
    c = next(c for c in result.cases if c.external_id == "1003")
    assert (c.status, c.source_status) == ("open", "escalated")
    assert c.requested_at == utc(2025, 3, 2, 16, 0)  # -08:00
    assert (c.lon, c.lat) == (106.06, 29.85)  # numbers given as strings
    assert (c.satisfaction, c.priority) == ("satisfied", "complex")


def test_duplicate_ids_are_all_kept_in_order() -> None:
    result = open311.parse(feed("open311_messy.json"))
    dupes = [c for c in result.cases if c.external_id == "1002"]
    assert [c.status for c in dupes] == ["in_progress", "resolved"]


def test_bad_records_are_rejected_with_reasons_and_the_rest_goes_in() -> None:
    result = open311.parse(feed("open311_messy.json"))
    assert sorted({c.external_id for c in result.cases}) == ["1001", "1002", "1003"]
    reasons = {r.external_id: r.reason for r in result.rejections}
    assert reasons[None] == "missing or empty service_request_id"
    assert reasons["1005"].startswith("requested_datetime: unparseable timestamp '2025-02-30T09:30:00+08:00'")
    assert reasons["1006"] == "lat out of range (-90..90): 129.8"
    assert reasons["1007"] == "lat is not a number: 'north'"
    assert reasons["1008"].startswith("updated_datetime: unparseable timestamp 'yesterday'")
    assert len(result.rejections) == 5
    raw = next(r.raw for r in result.rejections if r.external_id == "1006")
    assert '"lat": 129.8' in raw


def test_xml_mess_and_rejections() -> None:
    result = open311.parse(feed("open311_messy.xml"))
    good = {c.external_id: c for c in result.cases}
    assert sorted(good) == ["2001", "2005"]
    c = good["2001"]
    assert (c.status, c.source_status) == ("accepted", "已受理")
    assert c.category_name == "井盖缺失"
    assert c.description == "龙城路<b>井盖</b>缺失 & 有积水"
    assert (c.lon, c.lat, c.updated_at, c.expected_at) == (None, None, None, None)
    assert c.grid_code == "500151002005003"
    r = good["2005"]
    assert (r.status, r.satisfaction, r.accepted_at) == ("returned", "unsatisfied", utc(2025, 3, 3, 0, 0))
    reasons = {x.external_id: x.reason for x in result.rejections}
    assert reasons[None] == "missing or empty service_request_id"
    assert reasons["2003"].startswith("requested_datetime: unparseable timestamp")
    assert reasons["2004"] == "long out of range (-180..180): -200.5"
    assert "<service_request_id>2004</service_request_id>" in next(
        x.raw for x in result.rejections if x.external_id == "2004"
    )


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("reported", "reported"),
        ("Accepted", "accepted"),
        ("assigned", "assigned"),
        ("in_progress", "in_progress"),
        ("In Progress", "in_progress"),
        ("in-progress", "in_progress"),
        ("resolved", "resolved"),
        ("closed", "closed"),
        ("returned", "returned"),
        ("open", "open"),
        ("待受理", "reported"),
        ("已受理", "accepted"),
        ("已交办", "assigned"),
        ("处置中", "in_progress"),
        ("已办结", "resolved"),
        ("已归档", "closed"),
        ("退回", "returned"),
        ("acknowledged", "open"),
        ("", "open"),
    ],
)
def test_status_mapping(word: str, state: str) -> None:
    assert open311.map_status(word) == state


def test_xml_errors_document_becomes_feed_error() -> None:
    result = open311.parse(feed("open311_errors.xml"))
    assert result.cases == [] and result.rejections == []
    assert result.feed_error == (
        "403: Invalid api_key received -- can't proceed with create_request.; 404: jurisdiction_id not found"
    )


def test_json_errors_document_becomes_feed_error() -> None:
    result = open311.parse(feed("open311_errors.json"))
    assert result.feed_error == "400: start_date 不能晚于 end_date"


def test_empty_list_is_an_empty_result() -> None:
    result = open311.parse(b"[]")
    assert (result.cases, result.rejections, result.feed_error) == ([], [], None)
    assert open311.parse(b"<service_requests/>").cases == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'[{"service_request_id": 1,', "malformed JSON: Expecting property name enclosed in double quotes"),
        (b"<service_requests><request></service_requests>", "malformed XML: mismatched tag at line 1"),
        (b"<html><body>502 Bad Gateway</body></html>", "not an Open311 response: root element <html>"),
        (b"502 Bad Gateway", "neither XML nor JSON"),
        (b'{"status": "ok"}', "not an Open311 response"),
        (b"", "empty document"),
    ],
)
def test_unusable_documents_are_rejected(body: bytes, reason: str) -> None:
    with pytest.raises(DocumentRejected) as err:
        open311.parse(body)
    assert str(err.value).startswith(reason)


def test_build_query_formats_the_standard_parameters() -> None:
    from datetime import timedelta, timezone

    cst = timezone(timedelta(hours=8))
    query = open311.build_query(
        start_date=datetime(2025, 3, 1, 8, 0, tzinfo=cst),
        end_date=utc(2025, 3, 2),
        updated_after=datetime(2025, 3, 1, 9, 30, 15, 500, tzinfo=cst),
        page=2,
        page_size=500,
    )
    assert query == {
        "start_date": "2025-03-01T00:00:00+00:00",
        "end_date": "2025-03-02T00:00:00+00:00",
        "updated_after": "2025-03-01T01:30:15+00:00",
        "page": "2",
        "page_size": "500",
    }
    assert open311.build_query() == {}
    with pytest.raises(ValueError, match="naive datetime"):
        open311.build_query(updated_after=datetime(2025, 3, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="page must be at least 1"):
        open311.build_query(page=0)


def test_resolved_datetime_extension_is_read() -> None:
    body = (
        b'[{"service_request_id": "9", "status": "closed", "requested_datetime": "2025-03-01T08:00:00+08:00",'
        b' "accepted_datetime": "2025-03-01T08:10:00+08:00",'
        b' "resolved_datetime": "2025-03-02T10:00:00+08:00",'
        b' "updated_datetime": "2025-03-03T09:00:00+08:00"}]'
    )
    (c,) = open311.parse(body).cases
    assert c.resolved_at == utc(2025, 3, 2, 2, 0)
    assert c.to_json()["resolved_at"] == "2025-03-02T02:00:00Z"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://example.org/p.jpg", True),
        ("http://example.org/photo?id=1", True),
        ("javascript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
        ('https://example.org/"><script>', False),
        ("https://example.org/" + "x" * 500, False),
    ],
)
def test_media_url_is_kept_only_as_an_http_link(url: str, kept: bool) -> None:
    body = (
        b'[{"service_request_id": "m1", "requested_datetime": "2025-03-01T08:00:00+08:00", "media_url": '
        + json.dumps(url).encode()
        + b"}]"
    )
    (c,) = open311.parse(body).cases
    assert c.media_url == (url if kept else "")
