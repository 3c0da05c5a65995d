"""Shapes real CAP and Open311 documents come in (gridcc issue 9, findings 14–17 and the two decisions):
several same-language ``<info>`` blocks, an empty ``<polygon/>``, a non-``Actual`` status, an Update
whose urgency is ``Past``, Open311 ``0,0`` and far-away points, times without an offset."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workers.feeds import cap, open311
from workers.feeds.parsers import parse
from workers.feeds.records import AlertRecord

from ._feed_helpers import conformance, feed


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def one(body: bytes) -> AlertRecord:
    result = cap.parse(body)
    assert result.rejections == [] and result.cases == []
    (alert,) = result.alerts
    return alert


# --- 14: several <info> blocks in the same language add to each other -----------------------------


def test_same_language_infos_add_their_areas_and_the_other_language_is_left_out() -> None:
    a = one(feed("cap_multi_info.xml"))
    # every zh-CN block's areas, each once (the 巴川街道 area is named by two blocks); none of en-US
    assert a.area_desc == "巴川街道; 东城街道; 南城街道"
    assert a.geocodes == (("GB/T 2260", "500151001"), ("GB/T 2260", "500151002"), ("GB/T 2260", "500151003"))
    assert a.geometry is not None and a.geometry["type"] == "MultiPolygon"
    assert [ring[0][0] for ring in a.geometry["coordinates"]] == [[106.001, 29.801], [106.011, 29.801]]
    # the worst block leads: highest severity, most urgent, most certain; its event and headline
    assert (a.severity, a.colour, a.urgency, a.certainty) == ("Severe", "orange", "Immediate", "Observed")
    assert (a.event, a.headline) == ("水库泄洪", "全德水库泄洪预警（东城街道）")
    # the alert spans every block: earliest onset, latest expiry
    assert (a.onset, a.expires) == (utc(2025, 7, 5, 1), utc(2025, 7, 5, 12))
    # each distinct description once, in document order
    assert a.description == (
        "玄天湖水库10时起泄洪，巴川街道沿河低洼处注意避让。\n\n全德水库9时起加大泄洪流量，东城街道沿河群众立即转移。"
    )


def test_repeated_same_language_blocks_add_only_what_is_new() -> None:
    """australia.cap (a real RFS alert) has two en-AU blocks, the same but for their geocode (the state,
    then the postcode): one circle, both geocodes."""
    a = one(conformance("cap/australia.cap"))
    assert a.geometry is not None and a.geometry["type"] == "Polygon"
    assert a.geocodes == (
        ("http://www.iso.org/iso/country_codes.html", "AU-NSW"),
        ("http://www.psma.com.au/?product=postcode-boundaries", "2642"),
    )
    assert a.area_desc == "Yerong Creek Structure Fire"


def test_a_block_without_language_is_en_us_and_not_merged_with_zh_cn() -> None:
    body = _doc(
        infos=[
            _info("", "Minor", "29.801,106.001 29.801,106.009 29.809,106.009 29.801,106.001", "A"),
            _info("<language>zh-CN</language>", "Moderate", "", "B"),
            _info("<language>zh-cn</language>", "Severe", "", "C"),
        ]
    )
    a = one(body)
    assert (a.area_desc, a.severity, a.geometry) == ("B; C", "Severe", None)


# --- 15: an empty polygon is skipped --------------------------------------------------------------


def test_empty_polygons_are_skipped_and_the_geocodes_kept() -> None:
    a = one(feed("cap_empty_polygon.xml"))
    assert a.area_desc == "南城街道; 巴川街道"
    assert a.geocodes == (("GB/T 2260", "500151003"), ("GB/T 2260", "500151001"))
    ring = [[106.001, 29.801], [106.009, 29.801], [106.009, 29.809], [106.001, 29.809], [106.001, 29.801]]
    assert a.geometry == {"type": "Polygon", "coordinates": [ring]}


EMPTY_SHAPES = ["<polygon/>", "<polygon> \n\t </polygon>", "<circle/>", "<circle>  </circle>"]


@pytest.mark.parametrize("shape", EMPTY_SHAPES)
def test_an_alert_whose_only_shape_is_empty_is_kept_without_geometry(shape: str) -> None:
    a = one(_doc(infos=[_info("<language>zh-CN</language>", "Moderate", "", "巴川街道", shape=shape)]))
    assert (a.area_desc, a.geometry) == ("巴川街道", None)


# --- 16: Test / Exercise / System / Draft are not real alerts --------------------------------------


def test_an_exercise_is_not_an_alert_but_a_noted_rejection() -> None:
    result = parse("cap", feed("cap_status_exercise.xml"))
    assert result.alerts == []
    (note,) = result.rejections
    assert note.reason == "status Exercise: not a real alert"
    # named (so the poller does not count it as an unreadable document) and kept whole for the operator
    assert note.external_id == "CQ-TL-YJ-20250710-0001"
    assert "【演练】" in note.raw


@pytest.mark.parametrize("status", ["Test", "System", "Draft", "Exercise"])
def test_every_non_actual_status_is_left_off_the_wall(status: str) -> None:
    result = cap.parse(_doc(status=status, infos=[_info("<language>zh-CN</language>", "Extreme", "", "A")]))
    assert result.alerts == []
    assert [r.reason for r in result.rejections] == [f"status {status}: not a real alert"]


def test_a_non_actual_message_is_still_validated_first() -> None:
    body = _doc(status="Test", infos=[_info("<language>zh-CN</language>", "Catastrophic", "", "A")])
    assert "CAP schema violation" in parse("cap", body).rejections[0].reason


# --- an Update whose urgency is Past is an all-clear ----------------------------------------------


def test_update_with_past_urgency_ends_the_alert_it_references() -> None:
    a = one(feed("cap_update_past.xml"))
    assert (a.msg_type, a.urgency, a.references) == ("Update", "Past", ("CQ-TL-QX-20250701-0002",))
    assert a.ends and a.headline == "铜梁区气象台解除暴雨橙色预警信号"
    assert one(feed("cap_cancel.xml")).ends  # a Cancel, as before
    assert not one(feed("cap_zh_update.xml")).ends  # an Update still in force
    assert not one(conformance("cap/earthquake-iso8859-1.cap")).ends  # an Alert about a past event


# --- 17: Open311 0,0 and implausible points are "no location" ------------------------------------


def test_open311_zero_zero_and_far_away_points_are_no_location() -> None:
    result = open311.parse(feed("open311_no_location.json"))
    assert result.rejections == []
    by_id = {c.external_id: c for c in result.cases}
    for rid in ("3001", "3002", "3003", "3004"):
        assert (by_id[rid].lon, by_id[rid].lat) == (None, None), rid
    assert by_id["3001"].grid_code == "500151001001001"  # placed by its grid later
    assert by_id["3002"].address == "铜梁区巴川街道中山路12号"  # or by its address
    assert (by_id["3005"].lon, by_id["3005"].lat) == (106.0562, 29.8443)


def test_open311_xml_zero_zero_is_no_location() -> None:
    result = open311.parse(feed("open311_no_location.xml"))
    by_id = {c.external_id: c for c in result.cases}
    assert (by_id["4001"].lon, by_id["4001"].lat, by_id["4001"].grid_code) == (None, None, "500151001001002")
    assert (by_id["4002"].lon, by_id["4002"].lat) == (106.0562, 29.8443)


def test_the_plausible_area_is_a_parameter() -> None:
    """The conformance document (San Francisco) parses; its points are read lon/lat correctly when no
    area limits them, and are no location for a deployment in China (the default)."""
    world = open311.parse(conformance("open311/service_requests.xml"), area=None)
    assert (world.cases[0].lon, world.cases[0].lat) == (-122.4651145, 37.762221815)
    here = open311.parse(conformance("open311/service_requests.xml"))
    assert [(c.lon, c.lat) for c in here.cases] == [(None, None), (None, None)]
    assert here.rejections == [] and len(here.cases) == 2
    # 0,0 stays "no location" whatever the area
    zero = open311.parse(
        b'[{"service_request_id": "z", "requested_datetime": "2025-03-01T00:00:00Z", "lat": 0, "long": 0}]',
        area=None,
    )
    assert (zero.cases[0].lon, zero.cases[0].lat) == (None, None)


# --- times without an offset are Asia/Shanghai ------------------------------------------------------


def test_times_without_an_offset_are_china_time() -> None:
    by_id = {c.external_id: c for c in open311.parse(feed("open311_no_location.json")).cases}
    assert by_id["3005"].requested_at == utc(2025, 3, 5, 1, 20)  # "2025-03-05 09:20:00"
    assert by_id["3005"].updated_at == utc(2025, 3, 5, 1, 30)  # "2025-03-05T09:30:00"
    xml = {c.external_id: c for c in open311.parse(feed("open311_no_location.xml")).cases}
    assert xml["4002"].requested_at == utc(2025, 3, 5, 1, 10)
    # CAP's schema demands the offset: a CAP time without one is a schema violation, not a guess
    naive = _doc(infos=[_info("<language>zh-CN</language>", "Minor", "", "A")]).replace(
        b"2025-07-01T08:00:00+08:00", b"2025-07-01T08:00:00"
    )
    assert "CAP schema violation at /alert/sent" in parse("cap", naive).rejections[0].reason


# --- helpers ---------------------------------------------------------------------------------------


def _info(language: str, severity: str, polygon: str, desc: str, shape: str = "") -> str:
    poly = f"<polygon>{polygon}</polygon>" if polygon else ""
    return (
        f"<info>{language}<category>Met</category><event>大风</event><urgency>Expected</urgency>"
        f"<severity>{severity}</severity><certainty>Likely</certainty>"
        f"<area><areaDesc>{desc}</areaDesc>{poly}{shape}</area></info>"
    )


def _doc(infos: list[str], status: str = "Actual") -> bytes:
    return (
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>T-1</identifier><sender>s</sender>'
        f"<sent>2025-07-01T08:00:00+08:00</sent><status>{status}</status><msgType>Alert</msgType>"
        f"<scope>Public</scope>{''.join(infos)}</alert>"
    ).encode()
