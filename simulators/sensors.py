"""物联感知: alarms from the district's IoT devices — electronic fences, noise monitors, landslide
monitors, smoke detectors, thermal cameras — raised now and then at plausible places and cleared later.

Envelope (docs/sensors.md, ``workers.feeds.sensor``): ``alarm_id, family, device_id, occurred_at, lon,
lat, level (1-4), status, address`` plus ``updated_at``, ``cleared_at``, ``grid_code``, ``message`` and
the family's own fields.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .places import District, Unit
from .store import Store, from_ts, ts

FAMILIES = ("fence", "noise", "landslide", "smoke", "thermal")
LEVELS = (1, 2, 3, 4)  # 蓝 黄 橙 红 (Minor … Extreme)
FENCE_ZONES = (
    "玄天湖水库一级水源保护区",
    "110千伏变电站周界",
    "危化品仓库周界",
    "中学校园周界",
    "看守所外围警戒区",
)
SMOKE_SITES = ("居民楼{n}单元楼道", "农贸市场{n}号摊区", "养老院{n}楼", "小学食堂", "网吧", "出租屋")
THERMAL_SITES = ("林区", "山林防火监测点", "秸秆堆放点")


class SensorBoard:
    def __init__(self, store: Store, district: District, rng: random.Random, tz: ZoneInfo) -> None:
        self.store = store
        self.district = district
        self.rng = rng
        self.tz = tz
        self._cycle: list[str] = []

    def _place(self, family: str) -> Unit:
        """Landslides and forest fires in the towns (镇), noise in the urban streets (街道)."""
        rural = {s.code for s in self.district.streets if s.name.endswith("镇")}
        leaves = self.district.grids or self.district.communities or self.district.streets
        if family in ("landslide", "thermal"):
            pool = [u for u in leaves if u.code[:9] in rural]
        elif family == "noise":
            pool = [u for u in leaves if u.code[:9] not in rural]
        else:
            pool = []
        return self.rng.choice(pool or leaves)

    def raise_alarm(self, now: datetime, family: str | None = None) -> str:
        if family is None:
            if not self._cycle:
                self._cycle = self.rng.sample(FAMILIES, k=len(FAMILIES))
            family = self._cycle.pop()
        unit = self._place(family)
        lon, lat = self.district.random_point_in(unit.code, self.rng)
        level = self.rng.choices(LEVELS, weights=(3, 4, 2, 1))[0]
        readings, message, site = self._readings(family, level, now)
        device = f"{family.upper()}-{self.district.code}-{self.rng.randint(1, 80):04d}"
        clear_at = now + timedelta(minutes=self.rng.uniform(5, 30))
        with self.store.tx() as conn:
            alarm_id = self.store.next_id(conn, "IOT", now.astimezone(self.tz).year)
            doc: dict[str, Any] = {
                "alarm_id": alarm_id,
                "family": family,
                "device_id": device,
                "occurred_at": self._time(now),
                "updated_at": self._time(now),
                "lon": lon,
                "lat": lat,
                "level": level,
                "status": "active",
                "cleared_at": None,
                "address": self.district.address(unit.code, self.rng) + site,
                "grid_code": unit.code if len(unit.code) == 15 else "",
                "message": message,
                **readings,
            }
            conn.execute(
                "INSERT INTO alarm (alarm_id, family, device_id, occurred_at, updated_at, clear_at, doc) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    alarm_id,
                    family,
                    device,
                    ts(now),
                    ts(now),
                    ts(clear_at),
                    json.dumps(doc, ensure_ascii=False),
                ),
            )
        return alarm_id

    def _readings(self, family: str, level: int, now: datetime) -> tuple[dict[str, Any], str, str]:
        """The family's own fields (docs/sensors.md), a Chinese message and a site added to the address."""
        rng, k = self.rng, level - 1
        n = rng.randint(1, 80)
        fields: dict[str, Any]
        if family == "fence":
            zone = rng.choice(FENCE_ZONES)
            fields = {"fence_id": f"FENCE-{n:03d}", "zone": zone, "intrusion_at": self._time(now)}
            return fields, f"{zone}电子围栏检测到人员闯入", ""
        if family == "noise":
            limit = rng.choice((55, 60, 65))
            db = round(limit + 5 + 5 * k + rng.uniform(0, 5), 1)
            minutes = rng.choice((10, 15, 30))
            fields = {
                "db_level": db,
                "limit_db": limit,
                "duration_minutes": minutes,
                "min_duration_minutes": 5,
            }
            return fields, f"噪声监测点连续{minutes}分钟超标（{db} dB，限值{limit} dB）", ""
        if family == "landslide":
            threshold = 10.0 + 15 * k
            disp = round(threshold + rng.uniform(0.5, 10), 1)
            rain = round(rng.uniform(40, 160), 1)
            point = f"{rng.choice(('后山', '村道', '学校后'))}边坡{n}号监测点"
            fields = {
                "monitor_point": point,
                "displacement_mm": disp,
                "rainfall_mm_24h": rain,
                "displacement_threshold_mm": threshold,
                "rainfall_threshold_mm_24h": 50.0,
            }
            return fields, f"{point}位移{disp}毫米，24小时降雨{rain}毫米，超过阈值", point
        if family == "smoke":
            site = rng.choice(SMOKE_SITES).format(n=rng.randint(1, 6))
            fields = {
                "detector_id": f"SMOKE-{n:04d}",
                "building": site,
                "smoke_density": round(2 + 2 * k + rng.uniform(0, 2), 1),
                "temperature_c": rng.randint(40, 90),
            }
            return fields, f"{site}烟感探测器报警", site
        site = rng.choice(THERMAL_SITES)
        temp = round(80 + 60 * k + rng.uniform(0, 40), 1)
        fields = {"camera_id": f"THERMAL-{n:03d}", "max_temperature_c": temp, "threshold_c": 80.0}
        return fields, f"{site}热成像发现高温点（{temp}℃）", site

    def clear_due(self, now: datetime) -> int:
        """Clear the alarms whose time has come (``status: cleared``, ``updated_at`` = now)."""
        with self.store.tx() as conn:
            rows = conn.execute(
                "SELECT alarm_id, doc FROM alarm WHERE clear_at IS NOT NULL AND clear_at <= ?", (ts(now),)
            ).fetchall()
            for alarm_id, raw in rows:
                doc = json.loads(raw)
                doc.update(status="cleared", cleared_at=self._time(now), updated_at=self._time(now))
                conn.execute(
                    "UPDATE alarm SET doc = ?, updated_at = ?, clear_at = NULL WHERE alarm_id = ?",
                    (json.dumps(doc, ensure_ascii=False), ts(now), alarm_id),
                )
        return len(rows)

    def alarms(self, since: datetime | None, limit: int = 1000) -> list[dict[str, Any]]:
        """Alarms raised or changed at or after ``since``, oldest change first."""
        rows = self.store.query(
            "SELECT doc FROM alarm WHERE updated_at >= ? ORDER BY updated_at, alarm_id LIMIT ?",
            (ts(since) if since else "", limit),
        )
        return [json.loads(r[0]) for r in rows]

    def last_modified(self) -> datetime | None:
        value = self.store.scalar("SELECT max(updated_at) FROM alarm")
        return from_ts(value) if value else None

    def _time(self, when: datetime) -> str:
        return when.astimezone(self.tz).replace(microsecond=0).isoformat()

    @staticmethod
    def previous_version(doc: dict[str, Any]) -> dict[str, Any] | None:
        """A cleared alarm as it was while active (for the ``out_of_order`` fault)."""
        if doc.get("status") != "cleared":
            return None
        return {**doc, "status": "active", "cleared_at": None, "updated_at": doc["occurred_at"]}
