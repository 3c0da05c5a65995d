"""Sensor alarms (JSON, one family schema each: docs/sensors.md): one document, ``?since=<cursor>``."""

from __future__ import annotations

from typing import Any

from ..feeds import sensor
from ..feeds.fetch import Cursor
from ..feeds.records import ParseResult
from .base import FeedProtocol


class Sensor(FeedProtocol):
    name = "sensor"
    summary = "sensor alarm JSON (docs/sensors.md), asked for since the cursor"

    def query(self, cursor: Cursor) -> dict[str, Any] | None:
        return {"since": cursor.cursor} if cursor.cursor else None

    def parse(self, body: bytes, content_type: str | None) -> ParseResult:
        return sensor.parse(body)
