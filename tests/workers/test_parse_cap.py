"""CAP 1.2: the conformance documents, our own Chinese alerts, areas in the right order, rejections."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from workers.feeds import cap
from workers.feeds.records import AlertRecord, DocumentRejected

from ._feed_helpers import conformance, feed


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def one(body: bytes) -> AlertRecord:
    result = cap.parse(body)
    assert result.rejections == [] and result.cases == []
    (alert,) = result.alerts
    return alert


def test_canada_update_with_two_areas() -> None:
    a = one(conformance("cap/canada.cap"))
    assert a.external_id == "2.49.0.1.124.6bddbc91.2012"
    assert a.msg_type == "Update"
    assert a.references == ("2.49.0.1.124.a3f342a4.2012", "2.49.0.1.124.60f31a3a.2012")
    assert (a.event, a.kind, a.severity, a.colour) == ("thunderstorm", "weather", "Minor", "blue")
    assert (a.urgency, a.certainty) == ("Past", "Observed")
    assert a.sent == utc(2012, 5, 2, 23, 21, 4)
    assert a.onset == utc(2012, 5, 2, 23, 20)  # <effective>, no <onset>
    assert a.expires == utc(2012, 5, 3, 0, 20)
    assert a.headline == "severe thunderstorm watch"  # the first (en-CA) info: no zh-CN one
    assert a.area_desc == "Windsor - Leamington - Essex County; Chatham-Kent - Rondeau Park"
    assert a.geometry is not None and a.geometry["type"] == "MultiPolygon"
    first_ring = a.geometry["coordinates"][0][0]
    assert first_ring[0] == [-82.9314, 42.3481]  # CAP "42.3481,-82.9314" is lat,lon
    assert first_ring[0] == first_ring[-1] and len(first_ring) == 17
    assert a.geometry["coordinates"][1][0][0] == [-81.5498, 42.3564]
    assert ("profile:CAP-CP:Location:0.3", "3537064") in a.geocodes
    assert len(a.geocodes) == 13


def test_australia_circle_and_html_in_description_kept_as_text() -> None:
    a = one(conformance("cap/australia.cap"))
    assert a.external_id == "tag:www.rfs.nsw.gov.au2011-10-06:40184"
    assert (a.msg_type, a.references) == ("Alert", ())
    assert (a.event, a.kind, a.severity, a.colour) == ("Fire", "fire", "Minor", "blue")
    assert a.sent == utc(2011, 10, 5, 13, 4)  # +10:00
    assert a.expires == utc(2011, 10, 6, 13, 4)
    assert "Out of Control<br />TYPE" in a.description
    # two en-AU blocks, alike but for their geocode: they add to each other (CAP 1.2 §3.2.2)
    assert a.geocodes == (
        ("http://www.iso.org/iso/country_codes.html", "AU-NSW"),
        ("http://www.psma.com.au/?product=postcode-boundaries", "2642"),
    )
    assert a.geometry is not None and a.geometry["type"] == "Polygon"
    ring = a.geometry["coordinates"][0]
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    # centre -35.3888,147.0598, radius 25 km: ~0.2246° of latitude, more degrees of longitude
    assert math.isclose((max(lats) + min(lats)) / 2, -35.3888, abs_tol=1e-4)
    assert math.isclose((max(lons) + min(lons)) / 2, 147.0598, abs_tol=1e-4)
    assert math.isclose(max(lats) - (-35.3888), 25 / 111.32, rel_tol=1e-3)
    assert math.isclose(max(lons) - 147.0598, 25 / (111.32 * math.cos(math.radians(-35.3888))), rel_tol=1e-3)


def test_earthquake_in_iso8859_1_with_signature() -> None:
    a = one(conformance("cap/earthquake-iso8859-1.cap"))
    assert a.external_id == "USGS-earthquakes-usB000D5T4.3947362.7.20121014T225304.360Z.0"
    assert a.headline == "EQ 4.6 Usulután, Usulután, El Salvador - PRELIMINARY REPORT"
    assert (a.severity, a.colour, a.kind) == ("Unknown", "", "geo")
    assert a.onset == utc(2012, 10, 14, 22, 40, 56)
    assert a.geometry == {"type": "Point", "coordinates": [-88.783, 12.747]}  # radius 0.0


def test_tsunami_update_extreme_red_without_shapes() -> None:
    a = one(conformance("cap/wcatwc-warning.cap"))
    assert (a.external_id, a.msg_type, a.references) == ("PAAQ-2-lqw6d6", "Update", ("PAAQ-1-lqw6d6",))
    assert (a.severity, a.colour, a.urgency, a.certainty) == ("Extreme", "red", "Immediate", "Likely")
    assert a.onset == utc(2011, 9, 2, 11, 36, 50) and a.expires == utc(2011, 9, 2, 12, 36, 50)
    assert a.geometry is None
    assert a.geocodes == (("UGC", "AKZ185"), ("UGC", "AKZ187"))


def test_invalid_cap_is_rejected_by_the_schema() -> None:
    with pytest.raises(DocumentRejected) as err:
        cap.parse(conformance("cap/invalid.cap"))
    assert str(err.value).startswith("CAP schema violation at /alert:")
    assert "scope" in str(err.value)


def test_update_without_references_is_rejected() -> None:
    with pytest.raises(DocumentRejected, match="CAP Update without references"):
        cap.parse(conformance("cap/canada_errors.cap"))


def test_xee_is_rejected() -> None:
    with pytest.raises(DocumentRejected, match="XML external entity / DTD forbidden"):
        cap.parse(conformance("cap/xee.cap"))


def test_chinese_update_picks_zh_cn_and_keeps_lon_lat_order() -> None:
    a = one(feed("cap_zh_update.xml"))
    assert a.msg_type == "Update"
    assert a.references == ("CQ-TL-QX-20250701-0001", "CQ-TL-QX-20250630-0009")
    assert (a.event, a.kind, a.severity, a.colour) == ("暴雨", "weather", "Severe", "orange")
    assert a.headline == "铜梁区气象台升级发布暴雨橙色预警信号"
    assert a.description.endswith("<script>alert(1)</script>")
    assert a.sent == utc(2025, 7, 1, 0, 30)
    assert (a.onset, a.expires) == (utc(2025, 7, 1, 1, 0), utc(2025, 7, 2, 1, 0))
    assert a.area_desc == "巴川街道; 东城街道"
    assert a.geocodes == (("GB/T 2260", "500151001"), ("GB/T 2260", "500151002"))
    assert a.geometry is not None and a.geometry["type"] == "MultiPolygon"
    # asymmetric triangle "29.80,106.00 29.80,106.10 29.90,106.10": lon first in GeoJSON
    assert a.geometry["coordinates"][0] == [[[106.0, 29.8], [106.1, 29.8], [106.1, 29.9], [106.0, 29.8]]]
    # the second area's ring, also lon,lat
    second = a.geometry["coordinates"][1][0]
    assert second[0] == [106.05, 29.85] and second[1] == [106.12, 29.86]


def test_cancel_without_info() -> None:
    a = one(feed("cap_cancel.xml"))
    assert (a.external_id, a.msg_type, a.references) == (
        "CQ-TL-QX-20250701-0003",
        "Cancel",
        ("CQ-TL-QX-20250701-0002",),
    )
    assert (a.severity, a.colour, a.geometry, a.event) == ("Unknown", "", None, "")


def test_circle_becomes_a_closed_polygon_scaled_by_latitude() -> None:
    a = one(feed("cap_circle.xml"))
    assert (a.kind, a.severity, a.colour) == ("landslide", "Extreme", "red")
    assert a.geometry is not None and a.geometry["type"] == "Polygon"
    ring = a.geometry["coordinates"][0]
    assert len(ring) == 65 and ring[0] == ring[-1]
    assert ring[0] == pytest.approx([106.0 + 2 / (111.32 * math.cos(math.radians(29.9))), 29.9])
    assert ring[16] == pytest.approx([106.0, 29.9 + 2 / 111.32])
    for lon, lat in ring:  # every vertex about 2 km from the centre
        dy = (lat - 29.9) * 111.32
        dx = (lon - 106.0) * 111.32 * math.cos(math.radians(29.9))
        assert math.hypot(dx, dy) == pytest.approx(2.0, rel=1e-3)


def test_cap_1_1_is_accepted() -> None:
    a = one(feed("cap11_alert.xml"))
    assert (a.event, a.kind, a.severity, a.colour) == ("高温", "weather", "Moderate", "yellow")
    assert a.geocodes == (("GB/T 2260", "500151"),)


CAP_HEAD = (
    '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>T-1</identifier><sender>s</sender>'
    "<sent>2025-07-01T08:00:00+08:00</sent><status>Actual</status><msgType>{msg}</msgType>"
    "<scope>Public</scope>{refs}<info><category>Met</category><event>大风</event><urgency>Expected</urgency>"
    "<severity>{sev}</severity><certainty>Likely</certainty><area><areaDesc>A</areaDesc>{shape}</area>"
    "</info></alert>"
)


def doc(msg: str = "Alert", refs: str = "", sev: str = "Moderate", shape: str = "") -> bytes:
    return CAP_HEAD.format(msg=msg, refs=refs, sev=sev, shape=shape).encode()


@pytest.mark.parametrize(
    ("severity", "colour"),
    [("Minor", "blue"), ("Moderate", "yellow"), ("Severe", "orange"), ("Extreme", "red"), ("Unknown", "")],
)
def test_severity_colours(severity: str, colour: str) -> None:
    assert one(doc(sev=severity)).colour == colour


@pytest.mark.parametrize(
    ("shape", "reason"),
    [
        ("<polygon>29.8,106.0 29.9,106.1</polygon>", "polygon needs at least 4 points"),
        ("<polygon>106.0,29.8 106.1,29.8 106.1,29.9 106.0,29.8</polygon>", "latitude out of range"),
        ("<polygon>29.8;106.0 29.8;106.1 29.9;106.1 29.8;106.0</polygon>", "is not 'lat,lon'"),
        ("<circle>29.8,106.0</circle>", "is not 'lat,lon radius_km'"),
        ("<circle>29.8,106.0 -3</circle>", "must be a non-negative number"),
        ("<circle>29.8,east 3</circle>", "is not numeric"),
    ],
)
def test_bad_shapes_reject_the_document(shape: str, reason: str) -> None:
    with pytest.raises(DocumentRejected, match=reason):
        cap.parse(doc(shape=shape))


def test_polygon_and_circle_together_make_a_collection() -> None:
    polygon = "<polygon>29.8,106.0 29.8,106.1 29.9,106.1 29.8,106.0</polygon>"
    a = one(doc(shape=polygon + "<circle>29.85,106.05 0</circle>"))
    assert a.geometry is not None and a.geometry["type"] == "GeometryCollection"
    assert [g["type"] for g in a.geometry["geometries"]] == ["Polygon", "Point"]
    assert a.geometry["geometries"][1]["coordinates"] == [106.05, 29.85]


def test_unclosed_polygon_is_closed() -> None:
    a = one(doc(shape="<polygon>29.8,106.0 29.8,106.1 29.9,106.1</polygon>"))
    assert a.geometry == {
        "type": "Polygon",
        "coordinates": [[[106.0, 29.8], [106.1, 29.8], [106.1, 29.9], [106.0, 29.8]]],
    }


def test_cancel_references_must_be_triples() -> None:
    with pytest.raises(DocumentRejected, match="is not 'sender,identifier,sent'"):
        cap.parse(doc(msg="Cancel", refs="<references>T-0</references>"))
    ok = one(doc(msg="Cancel", refs="<references> s,T-0,2025-07-01T07:00:00+08:00 </references>"))
    assert ok.references == ("T-0",)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'<alert xmlns="http://www.incident.com/cap/1.0"/>', "CAP 1.0 is not supported"),
        (b"<alert><identifier>x</identifier></alert>", "not a CAP 1.2 alert: namespace '(none)'"),
        (b'<feed xmlns="http://www.w3.org/2005/Atom"/>', "not a CAP alert: root element <feed>"),
    ],
)
def test_other_documents_are_rejected(body: bytes, reason: str) -> None:
    with pytest.raises(DocumentRejected, match=reason.replace("(", r"\(").replace(")", r"\)")):
        cap.parse(body)
