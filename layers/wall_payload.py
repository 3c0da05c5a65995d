"""The wall's data: three JSON-able parts, each built once per (scope, version) and shared through Redis.

* ``stats`` (versions ``cases`` + ``kpis`` + ``loop``, and the local day): the KPI band for today and this
  year, the loop's figures (吹哨 / 交办 sent, 报到率, mean 报到 time, 超时未报到 and 未送达 now), cases
  by category and the 30-day trend, the street and department rankings (with each department's mean 报到
  time), the hotspots (类案: found again at most every :data:`HOTSPOTS_REUSE_S` — the one query of the
  wall reading every case of 30 days — and meanwhile taken from the last payload built, so a build after
  a new case reads only aggregates and the open cases' index);
* ``ticker`` (versions ``alerts`` + ``loop``, and the minute: alerts expire by the clock): active alerts,
  newest first, and the instructions 超时未报到 (department, case number, kind, role, how late: codes
  and counts, never an instruction's text), the number of the ledger's risks overdue now, and the
  warnings calling their grids (预警叫应: how many covered grids in scope answered of how many — counts,
  never a worker's name);
* ``feeds`` (version ``feeds``, and the minute: staleness is a matter of time): the feeds that are stale
  or failing, and "data as of" (the last successful poll of any feed).

Times travel as epoch seconds (UTC). Feed text travels as plain strings: the components show it as text,
with phones and ID numbers in it masked in the viewer's mode (:func:`data.masking.mask_personal_text`;
a wall's ``"none"``: placeholders, no digit), the mode being a part of the cache key.
A hundred walls asking for the same version cost one build (:func:`layers.cache.load`), and none of
them waits for it: while one builds, the others are answered the previous version, marked stale, and
ask again (stale-while-building).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis
from sqlalchemy.orm import Session

from data import queries as q
from data.masking import mask_personal_text
from data.queries.calls import call_counts
from data.queries.common import department_name, department_names
from data.queries.loop import LoopFigures, department_report_times, loop_figures, unanswered
from data.scope import AreaScope
from layers import cache
from layers.encoding import json_bytes

PARTS = ("stats", "ticker", "feeds")
TTL = {"stats": 3600, "ticker": 120, "feeds": 120}
TOP_CATEGORIES = 8
TOP_STREETS = 6
TOP_DEPARTMENTS = 6
TOP_HOTSPOTS = 6
TICKER_LIMIT = 20
LOOP_TICKER_LIMIT = 5
TREND_DAYS = 30
HOTSPOTS_REUSE_S = 300  # the wall's hotspots are found again at most every 5 minutes


def _epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _kpis(k: q.Kpis) -> dict[str, Any]:
    """Every figure of :class:`data.queries.Kpis` (numbers only): a new tile on the wall picks its key
    in ``dashboard/wall/kpis.py``, with nothing to add here."""
    return asdict(k)


def _loop(f: LoopFigures) -> dict[str, Any]:
    """The loop's figures of a period (numbers only: never an instruction's text)."""
    return {
        "sent": dict(f.sent),
        "whistle": f.sent.get("whistle", 0),
        "dispatch": f.sent.get("dispatch", 0) + f.sent.get("redispatch", 0),
        "recipients": f.recipients,
        "due": f.due,
        "reported": f.reported,
        "report_rate": f.report_rate,
        "mean_report_minutes": f.mean_report_minutes,
        "overdue_now": f.overdue_now,
        "undelivered_now": f.undelivered_now,
    }


def _hotspots(
    session: Session, scope: AreaScope, now: datetime, text_mode: str, previous: dict[str, Any] | None
) -> tuple[float, list[dict[str, Any]]]:
    """(as of, items) of the wall's hotspots: the ``previous`` payload's when they are under
    :data:`HOTSPOTS_REUSE_S` old, else found now (the one query of the wall that reads every case of
    the last 30 days: seconds at a million cases a year, so not once per new case)."""
    if previous is not None:
        at = previous.get("hotspots_at")
        if isinstance(at, int | float) and 0 <= now.timestamp() - at < HOTSPOTS_REUSE_S:
            return float(at), list(previous.get("hotspots", []))
    spots = q.hotspots(session, scope, now, days=TREND_DAYS)
    return (
        now.timestamp(),
        [
            {
                "category": mask_personal_text(h.category_name, text_mode),
                "place": mask_personal_text(h.place_name, text_mode),
                "count": h.count,
                "recent": h.recent,
                "previous": h.previous,
                "trend": h.trend,
                "key": h.key,  # opens /hotspots/<key>: the cases behind it
            }
            for h in spots[:TOP_HOTSPOTS]
        ],
    )


def build_stats(
    session: Session,
    scope: AreaScope,
    now: datetime,
    tz: str,
    text_mode: str = "masked",
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the KPI band, charts, rankings and hotspots show, at ``now``; the hotspots those of
    ``previous`` (the last payload built for this scope and text mode) while they are under
    :data:`HOTSPOTS_REUSE_S` old."""
    today = q.period_today(now, tz)
    year = q.period_year(now, tz)
    month_start = q.period_today(now - timedelta(days=TREND_DAYS - 1), tz).start
    categories = q.cases_by_category(session, scope, month_start, today.end)
    trend = q.daily_trend(session, scope, now, tz, days=TREND_DAYS)
    streets = q.street_ranking(session, scope, year.start, year.end, now)
    departments = q.department_ranking(session, scope, year.start, year.end, now)
    hotspots_at, spots = _hotspots(session, scope, now, text_mode, previous)
    report = {d.department_code: d for d in department_report_times(session, scope, year.start, year.end)}
    return {
        "built_at": now.timestamp(),
        "today": _kpis(q.kpis(session, scope, today.start, today.end, now)),
        "year": _kpis(q.kpis(session, scope, year.start, year.end, now)),
        "loop": {
            "today": _loop(loop_figures(session, scope, today.start, today.end, now)),
            "year": _loop(loop_figures(session, scope, year.start, year.end, now)),
        },
        "categories": [
            {"name": c.name, "name_en": c.name_en, "count": c.count, "open": c.open}
            for c in categories[:TOP_CATEGORIES]
        ],
        "trend": [{"day": p.day.isoformat(), "received": p.received, "closed": p.closed} for p in trend],
        "streets": [
            {
                "name": s.name,
                "overdue": s.overdue,
                "open": s.open,
                "received": s.received,
                "closure_rate": s.closure_rate,
            }
            for s in streets[:TOP_STREETS]
        ],
        "departments": [
            {
                "name": d.name,
                "hours": d.mean_response_hours,
                "overdue": d.overdue,
                "open": d.open,
                "received": d.received,
                # 报到: the department's mean 报到 time this year (None when it was called to none)
                "report_minutes": report[d.code].mean_report_minutes if d.code in report else None,
                "reported": report[d.code].reported if d.code in report else 0,
            }
            for d in sorted(
                (d for d in departments if d.mean_response_hours is not None),
                key=lambda d: (-(d.mean_response_hours or 0.0), d.code),
            )[:TOP_DEPARTMENTS]
        ],
        "hotspots": spots,
        "hotspots_at": hotspots_at,
    }


def build_ticker(
    session: Session, scope: AreaScope, now: datetime, text_mode: str = "masked"
) -> dict[str, Any]:
    items = q.ticker(session, scope, now, limit=TICKER_LIMIT)
    late = unanswered(session, scope, now, limit=LOOP_TICKER_LIMIT)
    names = department_names(session) if late else {}
    risk_counts = q.risk_counts(session, scope, now)
    calls = call_counts(session, scope)[:LOOP_TICKER_LIMIT]
    return {
        # the ledger's risks past their 销号 deadline now (a count: the wall gets no risk's text)
        "risks_overdue": sum(c.overdue for c in risk_counts),
        # 预警叫应: per warning calling its grids, the most silent first (counts only)
        "calls": [
            {
                "alert_id": c.alert_id,
                "kind": c.kind,
                "event": mask_personal_text(c.event, text_mode),
                "colour": c.colour,
                "answered": c.answered,
                "total": c.total,
                "evacuated": c.evacuated,
                "support": c.support,
            }
            for c in calls
        ],
        # 超时未报到, most late first: the department, the case's number, the kind and role, how late —
        # never the instruction's text nor the case's title (the wall receives counts and codes)
        "loop": [
            {
                "case_id": u.case_id,
                "case_number": mask_personal_text(u.case_number, text_mode),
                "department": department_name(names, u.department_code),
                "kind": u.kind,
                "role": u.role,
                "late_minutes": round(u.late_minutes, 1),
            }
            for u in late
        ],
        "items": [
            {
                "id": i.id,
                "at": _epoch(i.at),
                "kind": i.kind,
                "event": mask_personal_text(i.event, text_mode),
                "headline": mask_personal_text(i.headline, text_mode),
                "colour": i.colour,
                "severity": i.severity,
                "new": i.unacknowledged,
                "raised": i.raised,
                "escalated": i.escalated,
            }
            for i in items
        ],
    }


def build_feeds(session: Session, scope: AreaScope, now: datetime, stale_after_polls: int) -> dict[str, Any]:
    rows = q.feed_health(session, scope, now, stale_after_polls)
    successes = [r.last_success_at for r in rows if r.enabled and r.last_success_at is not None]
    return {
        "total": sum(1 for r in rows if r.enabled and r.status != "paused"),  # "N feeds OK": not a paused one
        "bad": [
            {
                "name": r.name,
                "department": r.department_name,
                "status": r.status,
                "last_success": _epoch(r.last_success_at),
            }
            for r in rows
            if r.status in ("stale", "failing")
        ],
        "as_of": max((_epoch(s) or 0.0 for s in successes), default=None),
    }


def part_params(part: str, versions: dict[str, int], now: datetime, tz: str) -> tuple[int, str]:
    """The cache version and params of a part: what makes its payload differ."""
    loop = versions.get("loop", 0)
    if part == "stats":
        day = now.astimezone(ZoneInfo(tz)).date()
        return versions.get("cases", 0), f"k{versions.get('kpis', 0)}:l{loop}:{day}"
    minute = int(now.timestamp() // 60)
    if part == "ticker":
        return versions.get("alerts", 0), f"m{minute}:l{loop}"
    if part == "feeds":
        return versions.get("feeds", 0), f"m{minute}"
    raise ValueError(f"unknown wall part {part!r}")


def part_key(part: str, versions: dict[str, int]) -> str:
    """What the browser compares to know a part changed (the layer versions it depends on)."""
    loop = versions.get("loop", 0)
    if part == "stats":
        return f"{versions.get('cases', 0)}.{versions.get('kpis', 0)}.{loop}"
    if part == "ticker":
        return f"{versions.get('alerts', 0)}.{loop}"
    return str(versions.get({"feeds": "feeds"}[part], 0))


def load(
    part: str,
    *,
    sessions: Callable[[], Session],
    conn: redis.Redis | None,
    scope: AreaScope,
    versions: dict[str, int],
    now: datetime,
    tz: str,
    stale_after_polls: int,
    text_mode: str = "masked",
) -> dict[str, Any]:
    """One part of the wall, from the Redis cache or built (and cached) now; its free text as
    ``text_mode`` says (``"full"``, ``"masked"``, ``"none"``: a part of the cache key).

    While another process builds this version, the previous one is answered, with ``"_stale": True``
    (the caller asks again shortly)."""

    def build() -> bytes:
        with sessions() as session:
            if part == "stats":
                last = cache.latest(conn, "wall-stats", scope, f"t={text_mode}") if conn is not None else None
                previous = json.loads(last) if last is not None else None
                body = build_stats(session, scope, now, tz, text_mode, previous)
            elif part == "ticker":
                body = build_ticker(session, scope, now, text_mode)
            else:
                body = build_feeds(session, scope, now, stale_after_polls)
        return json_bytes(body)

    version, params = part_params(part, versions, now, tz)
    params = f"{params}:t={text_mode}"
    stale = False
    if conn is None:
        raw = build()
    else:
        got = cache.load(
            conn, f"wall-{part}", scope, version, params, build, ttl=TTL[part], stale_family=f"t={text_mode}"
        )
        raw, stale = got.body, got.stale
    data: dict[str, Any] = json.loads(raw)
    if stale:
        data["_stale"] = True
    return data
