"""The district meteorological office: CAP 1.2 warnings (暴雨/大风/高温/雷电/地质灾害) over part of
the district, later updated or cancelled, served as an ATOM index plus one document per message."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import shapely
from shapely.geometry.base import BaseGeometry

from . import capxml
from .places import District, Unit
from .store import Store, from_ts, ts

SEVERITIES = ("Minor", "Moderate", "Severe", "Extreme")

# event: (CAP category, description with {area} and {v} per severity, the values, instruction)
EVENTS: dict[str, tuple[str, str, tuple[str, str, str, str], str]] = {
    "暴雨": (
        "Met",
        "预计未来{v}{area}降雨量将达50毫米以上，局地伴有雷电和短时强降水，请注意防范。",
        ("12小时内", "6小时内", "3小时内", "3小时内（局地100毫米以上）"),
        "注意防范城乡积涝和山洪、滑坡等次生灾害；切断低洼地带危险室外电源；暂停户外作业。",
    ),
    "大风": (
        "Met",
        "预计未来24小时内{area}可能受大风影响，平均风力可达{v}，请注意防范。",
        ("6级以上", "8级以上", "10级以上", "12级以上"),
        "加固围板、棚架、广告牌等易被风吹动的搭建物；行人尽量少骑自行车，刮风时不要在广告牌、临时搭建物等下面逗留。",
    ),
    "高温": (
        "Met",
        "预计未来24小时{area}最高气温将升至{v}，请注意防暑降温。",
        ("35℃以上", "35℃以上（连续三天）", "37℃以上", "40℃以上"),
        "避免在高温时段进行户外活动；注意防范因用电量过高引起的电线、变压器等电力设施火灾。",
    ),
    "雷电": (
        "Met",
        "预计未来{v}{area}可能发生雷电活动，可能会造成雷电灾害事故。",
        ("12小时内", "6小时内", "2小时内", "1小时内"),
        "人员应留在室内，并关好门窗；户外人员应躲入有防雷设施的建筑物或汽车内。",
    ),
    "地质灾害": (
        "Geo",
        "受持续降雨影响，{area}发生地质灾害的风险{v}，请加强巡查和群测群防。",
        ("较高", "高", "很高", "极高"),
        "加强地质灾害隐患点巡查监测，必要时组织受威胁群众转移避让。",
    ),
}


class WeatherOffice:
    def __init__(self, store: Store, district: District, rng: random.Random, tz: ZoneInfo) -> None:
        self.store = store
        self.district = district
        self.rng = rng
        self.tz = tz
        self.sender = f"qxt-{district.code}@cma.gov.cn"
        self.sender_name = f"{district.name}气象台"

    # the flow

    def active(self, now: datetime) -> list[str]:
        rows = self.store.query(
            "SELECT id FROM warning WHERE state = 'active' AND expires > ? ORDER BY onset", (ts(now),)
        )
        return [r[0] for r in rows]

    def tick(self, now: datetime) -> str:
        """One scheduled move: a new warning, an update or a cancellation; returns the identifier."""
        self.store.query(
            "UPDATE warning SET state = 'expired' WHERE state = 'active' AND expires <= ?", (ts(now),)
        )
        active = self.active(now)
        x = self.rng.random()
        if not active or (x < 0.3 and len(active) < 3):
            return self.issue(now)
        if x < 0.7:
            return self.update(now, self.rng.choice(active))
        return self.cancel(now, self.rng.choice(active))

    def issue(
        self, now: datetime, event: str | None = None, severity: str | None = None, circle: bool | None = None
    ) -> str:
        """A new warning (random event, severity and area unless given; ``circle`` forces the shape)."""
        event = event or self.rng.choice(list(EVENTS))
        severity = severity or self.rng.choices(SEVERITIES, weights=(4, 4, 2, 1))[0]
        area_desc, polygon, circle_text = self._area(circle)
        expires = now + timedelta(hours=self.rng.uniform(3, 12))
        with self.store.tx() as conn:
            identifier = self.store.next_id(conn, "TLQX", now.astimezone(self.tz).year)
            conn.execute(
                "INSERT INTO warning (id, event, severity, area_desc, polygon, circle, onset, expires, "
                "state, last_identifier, refs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, '[]')",
                (
                    identifier,
                    event,
                    severity,
                    area_desc,
                    polygon,
                    circle_text,
                    ts(now),
                    ts(expires),
                    identifier,
                ),
            )
            self._message(conn, identifier, identifier, "Alert", now)
        return identifier

    def update(self, now: datetime, warning_id: str, severity: str | None = None) -> str:
        row = self.store.query("SELECT severity, expires FROM warning WHERE id = ?", (warning_id,))[0]
        if severity is None:
            i = SEVERITIES.index(row["severity"]) + self.rng.choice((-1, 1))
            severity = SEVERITIES[min(max(i, 0), len(SEVERITIES) - 1)]
        expires = max(from_ts(row["expires"]), now) + timedelta(hours=self.rng.uniform(1, 6))
        with self.store.tx() as conn:
            identifier = self.store.next_id(conn, "TLQX", now.astimezone(self.tz).year)
            conn.execute(
                "UPDATE warning SET severity = ?, expires = ? WHERE id = ?",
                (severity, ts(expires), warning_id),
            )
            self._message(conn, warning_id, identifier, "Update", now)
        return identifier

    def cancel(self, now: datetime, warning_id: str) -> str:
        with self.store.tx() as conn:
            identifier = self.store.next_id(conn, "TLQX", now.astimezone(self.tz).year)
            self._message(conn, warning_id, identifier, "Cancel", now)
            conn.execute("UPDATE warning SET state = 'cancelled' WHERE id = ?", (warning_id,))
        return identifier

    def _message(
        self, conn: sqlite3.Connection, warning_id: str, identifier: str, msg_type: str, now: datetime
    ) -> None:
        w = conn.execute("SELECT * FROM warning WHERE id = ?", (warning_id,)).fetchone()
        refs: list[str] = json.loads(w["refs"])
        category, template, values, instruction = EVENTS[w["event"]]
        colour = capxml.SEVERITY_COLOUR[w["severity"]]
        v = values[SEVERITIES.index(w["severity"])]
        verb = {"Alert": "发布", "Update": "更新", "Cancel": "解除"}[msg_type]
        expires = now if msg_type == "Cancel" else from_ts(w["expires"])
        message = capxml.CapMessage(
            identifier=identifier,
            sender=self.sender,
            sent=now,
            msg_type=msg_type,
            references=refs if msg_type != "Alert" else [],
            event=w["event"],
            category=category,
            urgency="Past"
            if msg_type == "Cancel"
            else ("Immediate" if w["severity"] in ("Severe", "Extreme") else "Expected"),
            severity=w["severity"],
            certainty="Likely",
            onset=from_ts(w["onset"]),
            expires=expires,
            sender_name=self.sender_name,
            headline=f"{self.sender_name}{verb}{w['event']}{colour}预警信号",
            description=(
                f"{self.sender_name}{now.astimezone(self.tz):%m月%d日%H时%M分}解除{w['event']}预警信号。"
                if msg_type == "Cancel"
                else template.format(area=w["area_desc"], v=v)
            ),
            instruction=instruction,
            area_desc=w["area_desc"],
            polygon=w["polygon"],
            circle=w["circle"],
            parameters={"预警信号": f"{w['event']}{colour}", "signal_colour": colour},
        )
        doc = capxml.render_alert(message, self.tz).decode()
        refs.append(f"{self.sender},{identifier},{capxml.cap_time(now, self.tz)}")
        conn.execute(
            "INSERT INTO cap_message (identifier, warning_id, msg_type, sent, expires, headline, doc) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (identifier, warning_id, msg_type, ts(now), ts(expires), message.headline, doc),
        )
        conn.execute(
            "UPDATE warning SET last_identifier = ?, refs = ? WHERE id = ?",
            (identifier, json.dumps(refs), warning_id),
        )

    def _area(self, circle: bool | None = None) -> tuple[str, str, str]:
        """(areaDesc, polygon, circle): a few neighbouring streets as a polygon, now and then a circle."""
        streets = self.district.streets
        first = self.rng.choice(streets)
        if circle if circle is not None else self.rng.random() < 0.2:
            centre = first.geometry.representative_point()
            radius = round(self.rng.uniform(3, 8), 1)
            return f"{first.name}及周边{radius}公里范围", "", f"{centre.y:.4f},{centre.x:.4f} {radius}"
        near = [s for s in streets if s is not first and s.geometry.buffer(0.001).intersects(first.geometry)]
        chosen: list[Unit] = [first, *self.rng.sample(near, k=min(len(near), self.rng.randint(1, 3)))]
        hull: BaseGeometry = shapely.union_all([s.geometry for s in chosen]).convex_hull.simplify(0.002)
        ring = list(hull.exterior.coords) if hull.geom_type == "Polygon" else []
        if len(ring) < 4:
            minx, miny, maxx, maxy = first.geometry.bounds
            ring = [(minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy), (minx, miny)]
        polygon = " ".join(f"{lat:.4f},{lon:.4f}" for lon, lat in ring)
        names = "、".join(s.name for s in chosen)
        return f"{self.district.name}{names}", polygon, ""

    # serving

    def index_entries(self, now: datetime) -> list[capxml.IndexEntry]:
        """Messages of warnings still active, and any message of the last 48 hours; newest first."""
        rows = self.store.query(
            "SELECT m.identifier, m.headline, m.sent, m.msg_type FROM cap_message m JOIN warning w "
            "ON w.id = m.warning_id WHERE (w.state = 'active' AND w.expires > ?) OR m.sent >= ? "
            "ORDER BY m.sent DESC, m.identifier DESC LIMIT 100",
            (ts(now), ts(now - timedelta(hours=48))),
        )
        return [capxml.IndexEntry(r[0], r[1], from_ts(r[2]), r[3]) for r in rows]

    def document(self, identifier: str) -> bytes | None:
        doc = self.store.scalar("SELECT doc FROM cap_message WHERE identifier = ?", (identifier,))
        return None if doc is None else str(doc).encode()

    def last_modified(self) -> datetime | None:
        value = self.store.scalar("SELECT max(sent) FROM cap_message")
        return from_ts(value) if value else None
