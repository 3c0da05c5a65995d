"""Sensor alarm documents (JSON) → :class:`AlertRecord`, one pydantic model per device family.

A document is ``{"alarms": [...]}``; each alarm is a common envelope plus its family's fields. The
schemas, with an example each, are documented in ``docs/sensors.md``. Each alarm is validated on its
own: a bad one becomes a :class:`Rejection` carrying pydantic's message, the others go in.

Mapping to an AlertRecord: ``kind`` = family, ``severity`` from ``level`` (1 Minor 蓝, 2 Moderate 黄,
3 Severe 橙, 4 Extreme 红), a Point geometry, a Chinese ``event`` and ``headline``. An ``active``
alarm is ``msg_type="Alert"`` with ``external_id=alarm_id``; a ``cleared`` one is a ``Cancel`` with
``external_id="<alarm_id>:cleared"`` and ``references=(alarm_id,)``, like a CAP Cancel naming the
alert it ends.
"""

from __future__ import annotations

import json
from datetime import UTC
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from . import _json
from .cap import colour
from .records import AlertRecord, DocumentRejected, ParseResult, Rejection

SEVERITIES = {1: "Minor", 2: "Moderate", 3: "Severe", 4: "Extreme"}
Text = Annotated[str, Field(min_length=1, max_length=500)]


class Envelope(BaseModel):
    """Fields every alarm carries, whatever its family."""

    model_config = ConfigDict(
        extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=True, allow_inf_nan=False
    )

    alarm_id: Text
    device_id: Text
    occurred_at: AwareDatetime
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    level: int = Field(ge=1, le=4)
    status: Literal["active", "cleared"]
    address: str = Field("", max_length=500)
    message: str = Field("", max_length=2000)  # the device system's own text, kept as plain text


class FenceAlarm(Envelope):
    """电子围栏入侵: someone crossed an electronic fence around a restricted area."""

    family: Literal["fence"]
    fence_id: Text
    zone: Text
    intrusion_at: AwareDatetime
    snapshot_url: str | None = Field(None, max_length=2000)  # kept as text, never fetched


class NoiseAlarm(Envelope):
    """噪声超标: the sound level stayed over the limit for at least ``min_duration_minutes``."""

    family: Literal["noise"]
    db_level: float = Field(ge=0, le=200)
    limit_db: float = Field(gt=0, le=200)
    duration_minutes: int = Field(ge=1)
    min_duration_minutes: int = Field(5, ge=1)

    @model_validator(mode="after")
    def _over_limit(self) -> NoiseAlarm:
        if self.status == "active":
            if self.db_level <= self.limit_db:
                raise ValueError(f"db_level {self.db_level} is not over limit_db {self.limit_db}")
            if self.duration_minutes < self.min_duration_minutes:
                raise ValueError(
                    f"duration_minutes {self.duration_minutes} is under min_duration_minutes "
                    f"{self.min_duration_minutes}"
                )
        return self


class LandslideAlarm(Envelope):
    """滑坡监测预警: a monitoring point's displacement and/or 24-hour rainfall against its thresholds."""

    family: Literal["landslide"]
    monitor_point: Text
    displacement_mm: float = Field(ge=0)
    rainfall_mm_24h: float = Field(ge=0)
    displacement_threshold_mm: float = Field(gt=0)
    rainfall_threshold_mm_24h: float = Field(gt=0)


class SmokeAlarm(Envelope):
    """烟感火警: a smoke / heat detector in a building; at least one reading is given."""

    family: Literal["smoke"]
    detector_id: Text
    building: Text
    smoke_density: float | None = Field(None, ge=0)  # %obs/m
    temperature_c: float | None = Field(None, ge=-50, le=1500)

    @model_validator(mode="after")
    def _has_reading(self) -> SmokeAlarm:
        if self.smoke_density is None and self.temperature_c is None:
            raise ValueError("give smoke_density or temperature_c (or both)")
        return self


class ThermalAlarm(Envelope):
    """热成像高温告警: a thermal camera saw a temperature over its threshold."""

    family: Literal["thermal"]
    camera_id: Text
    max_temperature_c: float = Field(ge=-50, le=2000)
    threshold_c: float = Field(ge=-50, le=2000)


Alarm = Annotated[
    FenceAlarm | NoiseAlarm | LandslideAlarm | SmokeAlarm | ThermalAlarm, Field(discriminator="family")
]
FAMILIES = ("fence", "noise", "landslide", "smoke", "thermal")
EVENTS = {
    "fence": "电子围栏入侵",
    "noise": "噪声超标",
    "landslide": "滑坡监测预警",
    "smoke": "烟感火警",
    "thermal": "热成像高温告警",
}


@lru_cache(maxsize=1)
def _adapter() -> TypeAdapter[Any]:
    return TypeAdapter(Alarm)


def parse(body: bytes) -> ParseResult:
    """Parse a ``{"alarms": [...]}`` document. A document that is not one raises DocumentRejected."""
    doc = _json.load_records(body, "alarms")
    if not isinstance(doc, dict) or not isinstance(doc.get("alarms"), list):
        raise DocumentRejected('not a sensor alarm document: expected {"alarms": [...]}')
    result = ParseResult()
    for item in doc["alarms"]:
        if isinstance(item, _json.TooDeep):
            result.rejections.append(Rejection("alarm nested too deeply to be read", item.raw, None))
            continue
        try:
            result.alerts.append(_alarm(item, result))
        except _Rejected:
            continue
        except Exception as exc:  # noqa: BLE001 - one alarm's fault costs that alarm only
            raw = _raw_text(item)
            reason = f"alarm could not be read ({type(exc).__name__}): {exc}"
            result.rejections.append(Rejection(reason, raw, _raw_id(item)))
    return result


class _Rejected(Exception):
    """The alarm was rejected (the rejection is already on the result)."""


def _alarm(item: Any, result: ParseResult) -> AlertRecord:
    raw = json.dumps(item, ensure_ascii=False)
    ext = _raw_id(item)
    if not isinstance(item, dict):
        result.rejections.append(Rejection("alarm is not a JSON object", raw, ext))
        raise _Rejected
    try:
        alarm = _adapter().validate_python(item)
    except ValidationError as exc:
        result.rejections.append(Rejection(_message(exc), raw, ext))
        raise _Rejected from None
    return to_record(alarm, raw)


def _raw_text(item: Any) -> str:
    try:
        return json.dumps(item, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError):
        return repr(item)[: _json.RAW_LIMIT]


def to_record(alarm: Envelope, raw: str = "") -> AlertRecord:
    """A validated alarm as an AlertRecord (see the module docstring)."""
    family: str = getattr(alarm, "family", "other")
    severity = SEVERITIES[alarm.level]
    headline = headline_for(alarm)
    cleared = alarm.status == "cleared"
    detail = f"设备 {alarm.device_id}" + (f"；地址 {alarm.address}" if alarm.address else "")
    if isinstance(alarm, FenceAlarm) and alarm.snapshot_url:
        detail += f"；抓拍 {alarm.snapshot_url}"
    return AlertRecord(
        external_id=f"{alarm.alarm_id}:cleared" if cleared else alarm.alarm_id,
        msg_type="Cancel" if cleared else "Alert",
        kind=family,
        event=EVENTS.get(family, family),
        severity=severity,
        colour=colour(severity),
        urgency="Past" if cleared else "Immediate",
        certainty="Observed",
        sent=alarm.occurred_at.astimezone(UTC),
        onset=alarm.occurred_at.astimezone(UTC),
        headline=("已解除：" if cleared else "") + headline,
        description=f"{alarm.message or headline}。{detail}",
        area_desc=alarm.address,
        geometry={"type": "Point", "coordinates": [alarm.lon, alarm.lat]},
        references=(alarm.alarm_id,) if cleared else (),
        raw=raw,
    )


def headline_for(alarm: Envelope) -> str:
    """A one-line Chinese headline from the alarm's own fields."""
    if isinstance(alarm, FenceAlarm):
        return f"电子围栏入侵：{alarm.zone}（围栏 {alarm.fence_id}）"
    if isinstance(alarm, NoiseAlarm):
        return (
            f"噪声超标：{alarm.db_level:g} 分贝（限值 {alarm.limit_db:g} 分贝），"
            f"持续 {alarm.duration_minutes} 分钟"
        )
    if isinstance(alarm, LandslideAlarm):
        return (
            f"滑坡监测预警：{alarm.monitor_point} 位移 {alarm.displacement_mm:g} 毫米"
            f"（阈值 {alarm.displacement_threshold_mm:g}），24 小时降雨 {alarm.rainfall_mm_24h:g} 毫米"
            f"（阈值 {alarm.rainfall_threshold_mm_24h:g}）"
        )
    if isinstance(alarm, SmokeAlarm):
        readings = []
        if alarm.smoke_density is not None:
            readings.append(f"烟雾浓度 {alarm.smoke_density:g} %obs/m")
        if alarm.temperature_c is not None:
            readings.append(f"温度 {alarm.temperature_c:g} ℃")
        return f"烟感火警：{alarm.building}（{'，'.join(readings)}）"
    if isinstance(alarm, ThermalAlarm):
        return (
            f"热成像高温告警：摄像机 {alarm.camera_id} 最高温度 {alarm.max_temperature_c:g} ℃"
            f"（阈值 {alarm.threshold_c:g} ℃）"
        )
    return EVENTS.get(getattr(alarm, "family", ""), "传感器告警")


def _raw_id(item: Any) -> str | None:
    if isinstance(item, dict):
        value = item.get("alarm_id")
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


def _message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    return "; ".join(parts)
