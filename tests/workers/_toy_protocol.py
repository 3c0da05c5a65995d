"""A toy feed protocol, as a new one is written: one module, one class, nothing else of workers/ edited.

Its documents are text, one alarm a line: ``id,level,lon,lat,time`` (time ISO-8601); the cursor is
asked for as ``?after=<cursor>``. Everything else (the conditional GET, the budget, the outbound rules,
the storable screen, the ingest, the cursor's move) is the base's and the poll's.
"""

from __future__ import annotations

from typing import Any

from workers.feeds._times import parse_time
from workers.feeds.fetch import Cursor
from workers.feeds.records import AlertRecord, DocumentRejected, ParseResult, Rejection
from workers.protocols.base import FeedProtocol

COLOURS = {1: "blue", 2: "yellow", 3: "orange", 4: "red"}
SEVERITIES = {1: "Minor", 2: "Moderate", 3: "Severe", 4: "Extreme"}


class Toy(FeedProtocol):
    name = "toy"
    summary = "a toy: one alarm a line, id,level,lon,lat,time"

    def query(self, cursor: Cursor) -> dict[str, Any] | None:
        return {"after": cursor.cursor} if cursor.cursor else None

    def parse(self, body: bytes, content_type: str | None) -> ParseResult:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise DocumentRejected("not UTF-8 text") from None
        result = ParseResult()
        for line in filter(None, (raw.strip() for raw in text.splitlines())):
            try:
                ident, level, lon, lat, when = line.split(",")
                result.alerts.append(
                    AlertRecord(
                        external_id=ident, msg_type="Alert", kind="noise", event="噪声超标",
                        severity=SEVERITIES[int(level)], colour=COLOURS[int(level)],
                        sent=parse_time(when), headline=f"toy alarm {ident}",
                        geometry={"type": "Point", "coordinates": [float(lon), float(lat)]}, raw=line,
                    )
                )  # fmt: skip
            except (ValueError, KeyError) as exc:
                result.rejections.append(Rejection(f"bad line: {exc}", line, line.split(",")[0] or None))
        return result
