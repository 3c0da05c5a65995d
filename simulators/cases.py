"""The Open311 departments' cases: this year's history, new cases as time goes on, and every case
moving through its states by the plan drawn when it was filed (see :mod:`.plans`)."""

from __future__ import annotations

import json
import math
import random
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import plans, texts
from .places import District, short_name
from .specs import SPECS, Catalogue, Category, SimSpec
from .store import Store, from_ts, ts

CASES_PER_YEAR = 6195  # DESIGN §3: a real district's yearly count
# Recurring matters (类案): a few fixed places in the district where the same category keeps coming
# back (a night market's vending, a bar street's noise ...), so the hotspot analysis has something real.
HOTSPOTS = 6
P_HOTSPOT = 0.08
HOTSPOT_CATEGORIES = (
    "city.street_vending",
    "environment.noise",
    "city.clutter",
    "environment.garbage",
    "safety.fire_lane",
    "dispute.property",
)

PLACEMENT_MIX = (
    ("full", 0.70),  # grid code, point and address
    ("point_only", 0.06),
    ("point_address", 0.08),
    ("address_only", 0.08),
    ("grid_only", 0.05),
    ("none", 0.03),  # neither grid nor point: a vague street-level address
)
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 12, 9, 10, 12, 12, 11, 10, 9, 8, 6, 4, 3, 2)

COLUMNS = (
    "id",
    "feed",
    "service_code",
    "service_name",
    "description",
    "address",
    "lon",
    "lat",
    "grid_code",
    "priority",
    "limit_hours",
    "requested_at",
    "accepted_at",
    "status",
    "updated_at",
    "satisfaction",
    "status_notes",
    "service_notice",
    "plan",
    "applied",
    "next_at",
)
# built from the constant column list above, no outside input
INSERT = f"INSERT INTO request ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"  # noqa: S608


@dataclass(frozen=True)
class Query:
    """The Open311 ``GET requests`` parameters the simulators honour."""

    start: datetime | None = None  # on requested_datetime
    end: datetime | None = None
    updated_after: datetime | None = None  # on updated_datetime, inclusive
    status: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    page: int = 1
    page_size: int = 200


class CaseBook:
    def __init__(
        self,
        store: Store,
        district: District,
        catalogue: Catalogue,
        rng: random.Random,
        *,
        speed: float = 60.0,
        tz: ZoneInfo | None = None,
    ) -> None:
        self.store = store
        self.district = district
        self.catalogue = catalogue
        self.rng = rng
        self.speed = speed
        self.tz = tz or ZoneInfo("Asia/Shanghai")
        self.specs = [s for s in SPECS if s.protocol == "open311"]
        self._hot: list[tuple[Any, Category]] | None = None

    # filing

    def hotspots(self) -> list[tuple[Any, Category]]:
        """The district's recurring (place, category) pairs: the same ones after every restart."""
        if self._hot is None:
            r = random.Random(f"hotspots:{self.district.code}")
            cats = [
                self.catalogue.categories[c] for c in HOTSPOT_CATEGORIES if c in self.catalogue.categories
            ]
            self._hot = (
                [(self.district.random_leaf(r), r.choice(cats)) for _ in range(HOTSPOTS)] if cats else []
            )
        return self._hot

    def _draw(self, requested_at: datetime, spec: SimSpec | None = None) -> tuple[SimSpec, dict[str, Any]]:
        rng = self.rng
        hot = self.hotspots()
        if spec is None and hot and rng.random() < P_HOTSPOT:
            # a recurring matter, reported to the hotline or found by the grid patrol
            leaf, category = rng.choice(hot)
            spec = rng.choice(self.specs[:2])
        else:
            spec = spec or rng.choices(self.specs, weights=[s.weight for s in self.specs])[0]
            category = rng.choice(self.catalogue.for_spec(spec))
            leaf = self.district.random_leaf(rng)
        community = self.district.community_of(leaf.code) or self.district.street_of(leaf.code)
        fields: dict[str, Any] = {
            "service_code": category.code,
            "service_name": category.name,
            "description": texts.description(category.code, short_name(community.name), rng),
            "priority": plans.pick(rng, plans.PRIORITY_MIX),
            "address": "",
            "lon": None,
            "lat": None,
            "grid_code": "",
        }
        placement = plans.pick(rng, PLACEMENT_MIX)
        if placement in ("full", "point_only", "point_address"):
            fields["lon"], fields["lat"] = self.district.random_point_in(leaf.code, rng)
        if placement in ("full", "grid_only"):
            fields["grid_code"] = leaf.code
        if placement in ("full", "point_address", "address_only"):
            fields["address"] = self.district.address(leaf.code, rng)
        if placement == "none":
            fields["address"] = self.district.address(leaf.code, rng, with_community=False)
        return spec, fields

    def _row(
        self,
        conn: sqlite3.Connection,
        spec: SimSpec,
        fields: dict[str, Any],
        requested_at: datetime,
        plan: list[plans.Step],
        now: datetime,
        *,
        live: bool,
    ) -> tuple[Any, ...]:
        category = self.catalogue.categories[fields["service_code"]]
        applied = plans.state_at(plan, now)
        step = plan[applied - 1]
        rid = self.store.next_id(conn, spec.prefix, requested_at.astimezone(self.tz).year)
        accepted = next((s.at for s in plan[:applied] if s.state == "accepted"), None)
        row = {
            "id": rid,
            "feed": spec.name,
            "limit_hours": category.limit_hours(fields["priority"]),
            "requested_at": ts(requested_at),
            "accepted_at": ts(accepted) if accepted else None,
            "status": step.state,
            "updated_at": ts(now if live else step.at),
            "satisfaction": step.satisfaction,
            "status_notes": texts.STATUS_NOTES[step.state],
            "service_notice": fields.pop("service_notice", ""),
            "plan": json.dumps([s.to_json() for s in plan]),
            "applied": applied,
            "next_at": ts(plan[applied].at) if applied < len(plan) else None,
            **fields,
        }
        return tuple(row[c] for c in COLUMNS)

    def _plan(
        self, requested_at: datetime, category: Category, priority: str, speed: float
    ) -> list[plans.Step]:
        return plans.make_plan(
            requested_at,
            category.limit_hours(priority),
            self.rng,
            outcome=plans.draw_outcome(self.rng),
            returned=self.rng.random() < plans.P_RETURNED,
            speed=speed,
        )

    def new_case(self, now: datetime, spec: SimSpec | None = None) -> str:
        """File one case now (live), returning its id."""
        spec, fields = self._draw(now, spec)
        with self.store.tx() as conn:
            if spec.name == "hotline12345" and self.store.get_meta("xss_case") is None:
                fields["description"] = texts.XSS_DESCRIPTION
            category = self.catalogue.categories[fields["service_code"]]
            plan = self._plan(now, category, fields["priority"], self.speed)
            row = self._row(conn, spec, fields, now, plan, now, live=True)
            conn.execute(INSERT, row)
            if fields["description"] == texts.XSS_DESCRIPTION:
                self.store.set_meta(conn, "xss_case", row[0])
        return str(row[0])

    def file_posted(
        self, fields: dict[str, Any], now: datetime, feed: str = "hotline12345", key: str = ""
    ) -> tuple[str, bool]:
        """File a case posted to ``feed`` (fields already validated); returns its id and whether it is
        new. A ``key`` (the poster's idempotency key) seen before on that feed files nothing and returns
        the request filed the first time."""
        spec = next(s for s in self.specs if s.name == feed)
        category = self.catalogue.categories[fields["service_code"]]
        fields = {"priority": "normal", "grid_code": "", "service_name": category.name, **fields}
        with self.store.tx() as conn:
            if key:
                seen = conn.execute(
                    "SELECT request_id FROM posted WHERE feed = ? AND key = ?", (feed, key)
                ).fetchone()
                if seen is not None:
                    return str(seen[0]), False
            plan = self._plan(now, category, fields["priority"], self.speed)
            row = self._row(conn, spec, fields, now, plan, now, live=True)
            conn.execute(INSERT, row)
            if key:
                conn.execute(
                    "INSERT INTO posted (key, feed, request_id) VALUES (?, ?, ?)", (key, feed, row[0])
                )
        return str(row[0]), True

    # history

    def backfill(self, now: datetime, start: datetime | None = None) -> int:
        """File this year's cases (from 1 January, local time) once; returns how many (0 if done)."""
        if self.store.get_meta("backfilled") is not None:
            return 0
        if start is None:
            local = now.astimezone(self.tz)
            start = datetime(local.year, 1, 1, tzinfo=self.tz).astimezone(UTC)
        days = max((now - start).total_seconds() / 86400, 0.0)
        mean = CASES_PER_YEAR * days / 365
        count = max(0, round(self.rng.gauss(mean, math.sqrt(mean)))) if mean > 0 else 0
        times = sorted(self._backfill_time(start, now) for _ in range(count))
        drafts = []
        for at in times:
            spec, fields = self._draw(at)
            category = self.catalogue.categories[fields["service_code"]]
            drafts.append((spec, fields, at, self._plan(at, category, fields["priority"], 1.0)))
        self._ensure_overdue(drafts, now)
        hotline = [d for d in drafts if d[0].name == "hotline12345"]
        with self.store.tx() as conn:
            if hotline:
                hotline[-1][1]["description"] = texts.XSS_DESCRIPTION
            for spec, fields, at, plan in drafts:
                row = self._row(conn, spec, fields, at, plan, now, live=False)
                conn.execute(INSERT, row)
                if fields["description"] == texts.XSS_DESCRIPTION:
                    self.store.set_meta(conn, "xss_case", row[0])
            self.store.set_meta(conn, "backfilled", ts(now))
        return len(drafts)

    def _backfill_time(self, start: datetime, now: datetime) -> datetime:
        span_days = (now - start).total_seconds() / 86400
        for _ in range(20):
            day = start.astimezone(self.tz) + timedelta(days=int(self.rng.random() * span_days))
            hour = self.rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
            local = day.replace(hour=hour, minute=self.rng.randrange(60), second=self.rng.randrange(60))
            at = local.astimezone(UTC)
            if start <= at < now:
                return at
        return start + (now - start) * self.rng.random()

    def _ensure_overdue(
        self, drafts: list[tuple[SimSpec, dict[str, Any], datetime, list[plans.Step]]], now: datetime
    ) -> None:
        """A real district always has a few old cases still open and overdue: make sure of it."""
        old = [d for d in drafts if d[2] < now - timedelta(days=20)]
        stuck = [d for d in old if d[3][-1].state == "in_progress"]
        want = min(3, len(old) // 300)
        for _spec, _fields, _at, plan in self.rng.sample(old, k=max(0, want - len(stuck))):
            del plan[4:]

    # time passing

    def step(self, now: datetime) -> int:
        """Apply every transition due by ``now``; the changed records get ``updated_datetime = now``."""
        changed = 0
        with self.store.tx() as conn:
            due = conn.execute(
                "SELECT id, plan, applied FROM request WHERE next_at IS NOT NULL AND next_at <= ?", (ts(now),)
            ).fetchall()
            for rid, plan_json, applied in due:
                plan = [plans.Step.from_json(s) for s in json.loads(plan_json)]
                n = max(plans.state_at(plan, now), applied)
                s = plan[n - 1]
                accepted = next((p.at for p in plan[:n] if p.state == "accepted"), None)
                conn.execute(
                    "UPDATE request SET status = ?, satisfaction = ?, status_notes = ?, accepted_at = ?, "
                    "updated_at = ?, applied = ?, next_at = ? WHERE id = ?",
                    (
                        s.state,
                        s.satisfaction,
                        texts.STATUS_NOTES[s.state],
                        ts(accepted) if accepted else None,
                        ts(now),
                        n,
                        ts(plan[n].at) if n < len(plan) else None,
                        rid,
                    ),
                )
                changed += 1
        return changed

    # the loop: a department's desk answered an instruction about one of these cases

    def take_over(self, feed: str, rid: str, kind: str, now: datetime) -> str | None:
        """A department 报到'd (``accepted``) or 办结'd (``done``) an instruction about case ``rid`` of
        ``feed``: the record shows it in the department's hands — 报到 moves an open case not yet in
        hand to ``in_progress`` (its later steps keep their times), 办结 resolves and closes it now — with
        ``updated_datetime = now``, so gridcc's next poll moves the case. Returns the new status, or
        None when nothing changes (no such record on that feed, or it is there already)."""
        with self.store.tx() as conn:
            found = conn.execute(
                "SELECT plan, applied, accepted_at FROM request WHERE id = ? AND feed = ?", (rid, feed)
            ).fetchone()
            if found is None:
                return None
            plan = [plans.Step.from_json(s) for s in json.loads(found["plan"])]
            n = max(plans.state_at(plan, now), int(found["applied"]))
            done, future, state = plan[:n], plan[n:], plan[n - 1].state
            if kind == "accepted" and state in ("reported", "accepted", "assigned", "returned"):
                i = next((i for i, step in enumerate(future) if step.state == "in_progress"), len(future))
                later = [plans.Step(x.state, max(x.at, now), x.satisfaction) for x in future[i + 1 :]]
                steps = [plans.Step("in_progress", now), *later]
            elif kind == "done" and state != "closed":
                steps = [] if state == "resolved" else [plans.Step("resolved", now)]
                steps.append(plans.Step("closed", now, "satisfied"))
            else:
                return None
            plan = done + steps
            applied = len(done) + (1 if kind == "accepted" else len(steps))
            last = plan[applied - 1]
            conn.execute(
                "UPDATE request SET status = ?, satisfaction = ?, status_notes = ?, accepted_at = ?, "
                "updated_at = ?, plan = ?, applied = ?, next_at = ? WHERE id = ?",
                (
                    last.state,
                    last.satisfaction,
                    texts.STATUS_NOTES[last.state],
                    found["accepted_at"] or ts(now),
                    ts(now),
                    json.dumps([s.to_json() for s in plan]),
                    applied,
                    ts(plan[applied].at) if applied < len(plan) else None,
                    rid,
                ),
            )
        return last.state

    # reading

    def find(self, feed: str, q: Query) -> list[dict[str, Any]]:
        sql = ["SELECT * FROM request WHERE feed = ?"]
        args: list[Any] = [feed]
        if q.start is not None:
            sql.append("AND requested_at >= ?")
            args.append(ts(q.start))
        if q.end is not None:
            sql.append("AND requested_at <= ?")
            args.append(ts(q.end))
        if q.updated_after is not None:
            sql.append("AND updated_at >= ?")
            args.append(ts(q.updated_after))
        for column, values in (("status", q.status), ("service_code", q.service_codes), ("id", q.ids)):
            if values:
                sql.append(f"AND {column} IN ({', '.join('?' * len(values))})")
                args.extend(values)
        sql.append("ORDER BY updated_at, id LIMIT ? OFFSET ?")
        args.extend([q.page_size, (q.page - 1) * q.page_size])
        return [dict(r) for r in self.store.query(" ".join(sql), args)]

    def last_modified(self, feed: str) -> datetime | None:
        value = self.store.scalar("SELECT max(updated_at) FROM request WHERE feed = ?", (feed,))
        return from_ts(value) if value else None

    def get(self, rid: str) -> dict[str, Any] | None:
        rows = self.store.query("SELECT * FROM request WHERE id = ?", (rid,))
        return dict(rows[0]) if rows else None

    @staticmethod
    def previous_version(row: dict[str, Any]) -> dict[str, Any] | None:
        """The record as it was one state earlier (for the ``out_of_order`` fault), or None."""
        applied = int(row["applied"])
        if applied < 2:
            return None
        plan = [plans.Step.from_json(s) for s in json.loads(row["plan"])]
        prev = plan[applied - 2]
        accepted = next((p.at for p in plan[: applied - 1] if p.state == "accepted"), None)
        return {
            **row,
            "status": prev.state,
            "satisfaction": prev.satisfaction,
            "status_notes": texts.STATUS_NOTES[prev.state],
            "accepted_at": ts(accepted) if accepted else None,
            "updated_at": ts(min(prev.at, from_ts(row["updated_at"]) - timedelta(seconds=1))),
        }
