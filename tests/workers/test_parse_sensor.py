"""Sensor alarms: every family valid and invalid, severities, cleared alarms as Cancel."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from workers.feeds import sensor
from workers.feeds.records import DocumentRejected

from ._feed_helpers import feed


def test_every_family_parses() -> None:
    result = sensor.parse(feed("sensors.json"))
    assert result.rejections == []
    alerts = {a.external_id: a for a in result.alerts}
    assert list(alerts) == [
        "FENCE-20250701-0001",
        "NOISE-20250701-0001",
        "SLIDE-20250702-0001",
        "SMOKE-20250702-0001",
        "THERM-20250702-0001",
        "NOISE-20250701-0001:cleared",
    ]
    fence = alerts["FENCE-20250701-0001"]
    assert (fence.kind, fence.event, fence.msg_type) == ("fence", "电子围栏入侵", "Alert")
    assert (fence.severity, fence.colour, fence.urgency, fence.certainty) == (
        "Severe",
        "orange",
        "Immediate",
        "Observed",
    )
    assert fence.geometry == {"type": "Point", "coordinates": [106.0481, 29.8512]}
    assert fence.sent == datetime(2025, 6, 30, 18, 14, 5, tzinfo=UTC)
    assert fence.headline == "电子围栏入侵：玄天湖水库一级保护区（围栏 F-XTH-01）"
    assert fence.area_desc == "铜梁区巴川街道玄天湖水库大坝"
    assert "抓拍 http://10.0.0.17/snap/0001.jpg" in fence.description

    noise = alerts["NOISE-20250701-0001"]
    assert (noise.kind, noise.event, noise.severity, noise.colour) == (
        "noise",
        "噪声超标",
        "Moderate",
        "yellow",
    )
    assert noise.headline == "噪声超标：68.5 分贝（限值 55 分贝），持续 25 分钟"

    slide = alerts["SLIDE-20250702-0001"]
    assert (slide.kind, slide.severity, slide.colour) == ("landslide", "Extreme", "red")
    assert "位移 42.3 毫米（阈值 30）" in slide.headline and "降雨 118 毫米（阈值 100）" in slide.headline

    smoke = alerts["SMOKE-20250702-0001"]
    assert (smoke.kind, smoke.event) == ("smoke", "烟感火警")
    assert smoke.headline == "烟感火警：营盘路88号3栋（烟雾浓度 12.5 %obs/m，温度 61 ℃）"

    thermal = alerts["THERM-20250702-0001"]
    assert (thermal.kind, thermal.severity, thermal.colour) == ("thermal", "Minor", "blue")
    assert thermal.sent == datetime(2025, 7, 2, 14, 0, tzinfo=UTC)

    cleared = alerts["NOISE-20250701-0001:cleared"]
    assert (cleared.msg_type, cleared.references, cleared.urgency) == (
        "Cancel",
        ("NOISE-20250701-0001",),
        "Past",
    )
    assert cleared.headline.startswith("已解除：噪声超标")


def test_invalid_alarms_are_rejected_one_by_one_with_pydantic_messages() -> None:
    result = sensor.parse(feed("sensors_invalid.json"))
    assert [a.external_id for a in result.alerts] == ["OK-1"]
    reasons = {r.external_id: r.reason for r in result.rejections}
    assert len(result.rejections) == 10
    assert "Input tag 'earthquake' found using 'family' does not match" in reasons["BAD-1"]
    assert reasons["BAD-2"] == "fence.fence_id: Field required"
    assert reasons["BAD-3"].startswith("noise.level: Input should be a valid integer")
    assert (
        "landslide.occurred_at: Input should be a valid datetime or date, day value is outside"
        in reasons["BAD-4"]
    )
    assert reasons["BAD-5"] == "smoke.lon: Input should be less than or equal to 180"
    assert reasons["BAD-6"] == "thermal.lat: Input should be greater than or equal to -90"
    assert "db_level 50.0 is not over limit_db 55.0" in reasons["BAD-7"]
    assert "smoke.level: Input should be less than or equal to 4" in reasons["BAD-8"]
    assert "smoke.status: Input should be 'active' or 'cleared'" in reasons["BAD-8"]
    assert reasons["BAD-9"] == "fence.occurred_at: Input should have timezone info"
    assert reasons[None] == "alarm is not a JSON object"
    raw = next(r.raw for r in result.rejections if r.external_id == "BAD-5")
    assert json.loads(raw)["lon"] == 206.05


def test_noise_under_minimum_duration_is_rejected() -> None:
    alarm = {
        "alarm_id": "N-2", "family": "noise", "device_id": "D", "occurred_at": "2025-07-01T23:20:00+08:00",
        "lon": 106.0, "lat": 29.8, "level": 1, "status": "active",
        "db_level": 70, "limit_db": 55, "duration_minutes": 3,
    }  # fmt: skip
    result = sensor.parse(json.dumps({"alarms": [alarm]}).encode())
    assert "duration_minutes 3 is under min_duration_minutes 5" in result.rejections[0].reason


def test_smoke_without_any_reading_is_rejected() -> None:
    alarm = {
        "alarm_id": "S-2", "family": "smoke", "device_id": "D", "occurred_at": "2025-07-01T23:20:00+08:00",
        "lon": 106.0, "lat": 29.8, "level": 3, "status": "active", "detector_id": "D1", "building": "B",
    }  # fmt: skip
    result = sensor.parse(json.dumps({"alarms": [alarm]}).encode())
    assert result.alerts == []
    assert "give smoke_density or temperature_c (or both)" in result.rejections[0].reason


@pytest.mark.parametrize(
    ("level", "severity"), [(1, "Minor"), (2, "Moderate"), (3, "Severe"), (4, "Extreme")]
)
def test_level_to_severity(level: int, severity: str) -> None:
    alarm = {
        "alarm_id": 7, "family": "thermal", "device_id": "D", "occurred_at": "2025-07-01T23:20:00+08:00",
        "lon": 106.0, "lat": 29.8, "level": level, "status": "active",
        "camera_id": "C", "max_temperature_c": 90, "threshold_c": 80,
    }  # fmt: skip
    (alert,) = sensor.parse(json.dumps({"alarms": [alarm]}).encode()).alerts
    assert (alert.severity, alert.external_id) == (severity, "7")


def test_device_message_becomes_the_description_as_text() -> None:
    alarm = {
        "alarm_id": "M-1", "family": "thermal", "device_id": "IR-1",
        "occurred_at": "2025-07-01T23:20:00+08:00",
        "lon": 106.0, "lat": 29.8, "level": 2, "status": "active", "address": "变电站",
        "camera_id": "C", "max_temperature_c": 90, "threshold_c": 80, "message": "<b>高温点</b>（90℃）",
    }  # fmt: skip
    (alert,) = sensor.parse(json.dumps({"alarms": [alarm]}).encode()).alerts
    assert alert.description == "<b>高温点</b>（90℃）。设备 IR-1；地址 变电站"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{", "malformed JSON"),
        (b"[]", "not a sensor alarm document"),
        (b'{"alarm": []}', "not a sensor alarm document"),
        (b"", "empty document"),
        (b'\xff\xfe{"alarms": []}', "malformed JSON"),
    ],
)
def test_unusable_documents(body: bytes, reason: str) -> None:
    with pytest.raises(DocumentRejected, match=reason):
        sensor.parse(body)
