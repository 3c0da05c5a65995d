"""Sample data for tests, demos and benchmarks: realistic cases, alerts and risks in real grids.

:func:`make_sample` needs the district's units in the database (``gridcc geo generate`` or a test's
hand-made hierarchy); it seeds the catalogue when it is empty. Cases are spread over the year before
``now``, placed at points inside their grid, and move through the state machine with a timeline of
events; most close on time with a satisfaction rating (the seed district's shape: ~99 % closed, ~98 %
satisfied), a few run late, a few are stuck open and overdue, some recur in the same spot (类案).
Everything is bulk-inserted through Core in batches; the caller commits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import shapely
from shapely import wkb
from shapely.geometry import Point, box
from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from . import first_response
from .deadlines import DUE_SOON_FRACTION, ESCALATE_TO_STREET_FRACTION, RED_CARD_EXTRA_FRACTION, evaluate
from .models import AdminUnit, Alert, AlertEvent, AlertGrid, Case, CaseEvent, Category, Risk
from .models.alerts import RISK_KINDS, SEVERITY_COLOUR
from .names import community_short_name
from .search.terms import search_columns
from .seed import seed_catalogue

BATCH = 5000
SOURCES = (("12345", "sample-12345", 55), ("patrol", "sample-patrol", 35), ("department", "sample-dept", 10))
WEIGHTS = {
    "environment.noise": 9,
    "city.street_vending": 8,
    "city.clutter": 7,
    "dispute.neighbour": 7,
    "dispute.property": 6,
    "environment.garbage": 5,
    "public_order": 4,
    "livelihood.elderly": 3,
    "safety.fire_lane": 3,
}
DETAILS = {
    "dispute": ["邻居之间因{x}发生争执，请求社区调解。", "群众反映{x}问题长期未解决，情绪较大。"],
    "city": ["{x}附近有{y}现象，影响通行。", "群众反映{x}路段{y}，请求处理。"],
    "safety": ["{x}存在{y}隐患，请尽快排查。", "网格员巡查发现{x}{y}，已现场告知。"],
    "environment": ["{x}夜间{y}严重，影响居民休息。", "群众反映{x}{y}，气味较大。"],
    "livelihood": ["{x}居民申请{y}，请协助办理。", "{x}独居老人需要{y}帮扶。"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
KIND_EVENTS = {
    "fence": "电子围栏入侵",
    "noise": "噪声超标",
    "landslide": "地灾监测位移超限",
    "smoke": "烟感报警",
    "thermal": "热成像高温点",
}
WEATHER = ("暴雨", "大风", "高温", "雷电", "地质灾害气象风险")
RISK_TITLES = {
    "political": "重点人员动态管控",
    "public_order": "夜市治安隐患",
    "social_conflict": "征地拆迁矛盾",
    "public_safety": "老旧小区燃气管道老化",
    "cyber": "网络舆情风险",
}


@dataclass(frozen=True)
class SampleSummary:
    cases: int
    events: int
    open: int
    overdue: int
    alerts: int
    alert_grids: int
    risks: int


@dataclass
class _Grid:
    code: str
    name: str
    street_name: str
    community_name: str
    geometry: Any
    bounds: tuple[float, float, float, float]


def _grids(session: Session, district_code: str) -> list[_Grid]:
    names = dict(
        session.execute(
            select(AdminUnit.code, AdminUnit.name).where(
                AdminUnit.level.in_(("street", "community")), AdminUnit.code.startswith(district_code)
            )
        ).all()
    )
    rows = session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.geometry)
        .where(AdminUnit.level == "grid", AdminUnit.code.startswith(district_code))
        .order_by(AdminUnit.code)
    ).all()
    grids = []
    for code, name, geom in rows:
        shape = wkb.loads(geom) if geom else None
        if shape is None or shape.is_empty:
            continue
        shapely.prepare(shape)
        grids.append(
            _Grid(code, name, names.get(code[:9], ""), names.get(code[:12], ""), shape, tuple(shape.bounds))
        )
    if not grids:
        raise ValueError(f"no grids of district {district_code} in the database: generate the units first")
    return grids


def _point_in(
    rng: random.Random, grid: _Grid, near: tuple[float, float] | None = None
) -> tuple[float, float]:
    x0, y0, x1, y1 = grid.bounds
    if near is not None:  # within ~150 m of a spot
        x0, x1 = max(x0, near[0] - 0.0015), min(x1, near[0] + 0.0015)
        y0, y1 = max(y0, near[1] - 0.0013), min(y1, near[1] + 0.0013)
    for _ in range(20):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shapely.contains_xy(grid.geometry, x, y):
            return x, y
    p = grid.geometry.representative_point()
    return p.x, p.y


def _table(model: Any) -> Table:
    """The Core table of a model: bulk inserts go through Core executemany, not the ORM's per-shape path."""
    table: Table = model.__table__
    return table


def _place(code: str) -> dict[str, str | None]:
    return {
        "district_code": code[:6],
        "street_code": code[:9] if len(code) >= 9 else None,
        "community_code": code[:12] if len(code) >= 12 else None,
        "grid_code": code if len(code) >= 15 else None,
    }


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def make_sample(
    session: Session,
    district_code: str,
    n_cases: int,
    now: datetime,
    seed: int = 0,
    *,
    n_alerts: int | None = None,
    n_risks: int | None = None,
    phone_key: bytes | None = None,
) -> SampleSummary:
    """Insert ``n_cases`` cases (with events), alerts (with covered grids) and risks into the
    district's real grids, deterministically for a ``seed``. A second call needs another seed.
    ``phone_key``: the key of the reporters' phone hashes (the case search); without it, none."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rng = random.Random(seed)
    if session.execute(select(func.count()).select_from(Category)).scalar_one() == 0:
        seed_catalogue(session)
    grids = _grids(session, district_code)
    cats = list(session.execute(select(Category)).scalars())
    parents = {c.parent_code for c in cats if c.parent_code}
    leaves = [c for c in cats if c.code not in parents]
    top_of = {c.code: (c.parent_code or c.code) for c in cats}
    names = {c.code: c.name for c in cats}
    weights = [WEIGHTS.get(c.code, 2) for c in leaves]
    spots = [(rng.choice(grids), rng.choices(leaves, weights)[0]) for _ in range(max(3, n_cases // 400))]
    spot_points = [_point_in(rng, g) for g, _ in spots]

    n_events = n_open = n_overdue = 0
    case_rows: list[dict[str, Any]] = []
    pending_events: list[list[dict[str, Any]]] = []

    def flush_cases() -> None:
        nonlocal n_events
        if not case_rows:
            return
        ids = session.execute(
            insert(_table(Case)).returning(_table(Case).c.id, sort_by_parameter_order=True), case_rows
        ).scalars()
        events = [dict(e, case_id=cid) for cid, evs in zip(ids, pending_events, strict=True) for e in evs]
        if events:
            session.execute(insert(_table(CaseEvent)), events)
        n_events += len(events)
        case_rows.clear()
        pending_events.clear()

    for i in range(n_cases):
        if rng.random() < 0.05:  # a recurring problem in a known spot, in the last 60 days
            k = rng.randrange(len(spots))
            grid, cat = spots[k]
            lon, lat = _point_in(rng, grid, spot_points[k])
            requested = now - timedelta(seconds=rng.uniform(0, 60 * 86400))
        else:
            grid, cat = rng.choice(grids), rng.choices(leaves, weights)[0]
            lon, lat = _point_in(rng, grid)
            requested = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
        row, events = _case(rng, i, seed, grid, cat, top_of, names, lon, lat, requested, now)
        row.update(
            search_columns(row["title"], row["description"], row["address"], row["reporter_phone"], phone_key)
        )
        n_open += row["is_open"]
        n_overdue += row["is_open"] and row["deadline_at"] is not None and row["deadline_at"] < now
        case_rows.append(row)
        pending_events.append(events)
        if len(case_rows) >= BATCH:
            flush_cases()
    flush_cases()
    n_alert, n_alert_grids = _alerts(session, rng, grids, now, seed, n_alerts if n_alerts is not None else 6)
    n_risk = _risks(session, rng, grids, now, n_risks if n_risks is not None else 12 + n_cases // 5000)
    session.flush()
    return SampleSummary(n_cases, n_events, n_open, n_overdue, n_alert, n_alert_grids, n_risk)


def _case(
    rng: random.Random,
    i: int,
    seed: int,
    grid: _Grid,
    cat: Category,
    top_of: dict[str, str],
    names: dict[str, str],
    lon: float,
    lat: float,
    requested: datetime,
    now: datetime,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    source, feed, _ = rng.choices(SOURCES, [s[2] for s in SOURCES])[0]
    priority = rng.choices(("urgent", "normal", "complex"), (10, 75, 15))[0]
    limit = cat.limit_hours(priority)
    accepted: datetime | None = requested + timedelta(hours=rng.uniform(0.1, 2.0))
    roll = rng.random()
    fraction: float | None = rng.uniform(0.05, 0.9) if roll < 0.965 else rng.uniform(1.0, 2.0)
    if roll >= 0.99 and now - requested < timedelta(days=45):
        fraction = None  # stuck: still open, running overdue
    events: list[dict[str, Any]] = [_event(requested, "created", None, "reported", feed)]
    resolved = closed = None
    satisfaction = None
    status = "reported"
    assert accepted is not None
    if accepted > now:
        accepted = None
    else:
        status = "accepted"
        events.append(_event(accepted, "status", "reported", "accepted", feed))
        span = timedelta(hours=limit * fraction) if fraction is not None else None
        end = accepted + span if span is not None else None
        resolved = end if end is not None and end <= now else None
        horizon = (resolved or now) - accepted
        for share, to_status in ((0.1, "assigned"), (0.2, "in_progress")):
            at = accepted + (span if resolved and span is not None else timedelta(hours=limit)) * share
            if at <= now:
                events.append(_event(at, "status", status, to_status, feed))
                status = to_status
        _deadline_events(events, accepted, limit, accepted + horizon, feed)
        if resolved is not None:
            events.append(_event(resolved, "status", status, "resolved", feed))
            status = "resolved"
            visit = resolved + timedelta(hours=rng.uniform(2, 48))
            if visit <= now:
                satisfaction = rng.choices(("satisfied", "basic", "unsatisfied"), (93, 5.5, 1.5))[0]
                events.append(_event(visit, "status", "resolved", "closed", feed, f"回访：{satisfaction}"))
                status, closed = "closed", visit
    is_open = resolved is None
    clock = evaluate(accepted, limit, now if is_open else resolved or now, True) if accepted else None
    top = top_of[cat.code]
    verbs = {"dispute": "纠纷", "city": names[cat.code], "safety": names[cat.code], "environment": "噪声"}
    detail = rng.choice(DETAILS.get(top, ["群众反映{x}{y}问题，请处理。"]))
    community = community_short_name(grid.community_name)
    address = f"{grid.street_name}{community}{rng.randint(1, 199)}号"
    row = {
        "feed_name": feed,
        "external_id": f"{seed}-{i}",
        "source": source,
        "department_code": cat.lead_department_code,
        "category_code": cat.code,
        "category_name": names[cat.code],
        "priority": priority,
        "status": status,
        "source_status": status,
        "title": f"{names[cat.code]}：{community}",
        "description": detail.format(x=address, y=verbs.get(top, names[cat.code])),
        "address": address,
        "lon": lon,
        "lat": lat,
        "placement": "point",
        "reporter_name": f"{rng.choice(SURNAMES)}{rng.choice('先生女士')}" if source == "12345" else None,
        "reporter_phone": _phone(rng) if source == "12345" else None,
        "requested_at": requested,
        "accepted_at": accepted,
        "source_updated_at": max(e["at"] for e in events),
        "expected_at": None,
        "deadline_at": accepted + timedelta(hours=limit) if accepted else None,
        "resolved_at": resolved,
        "closed_at": closed,
        "first_response_at": first_response.from_events(events),
        "is_open": is_open,
        "due_soon": bool(clock and is_open and clock.due_soon),
        "overdue": bool(clock and is_open and clock.overdue),
        "escalation_level": clock.escalation_level if clock else "community",
        "supervision": clock.supervision if clock else "none",
        "satisfaction": satisfaction,
        "created_at": requested,
        "modified_at": max(e["at"] for e in events),
        **_place(grid.code),
    }
    return row, events


def _event(
    at: datetime, kind: str, from_status: str | None, to_status: str | None, feed: str, detail: str = ""
) -> dict[str, Any]:
    return {
        "at": at,
        "kind": kind,
        "from_status": from_status,
        "to_status": to_status,
        "detail": detail,
        "actor": "system" if kind not in ("created", "status") else feed,
        "feed_name": feed if kind in ("created", "status") else None,
    }


def _deadline_events(
    events: list[dict[str, Any]], accepted: datetime, limit: float, until: datetime, feed: str
) -> None:
    """Due-soon, escalation and supervision events that fell before ``until`` (resolution or now)."""
    lim = timedelta(hours=limit)
    deadline = f"deadline {(accepted + lim).astimezone(UTC).isoformat()}"
    marks = (  # details as the deadline job writes them (codes: the screens label them)
        (ESCALATE_TO_STREET_FRACTION, "escalation", "community→street"),
        (DUE_SOON_FRACTION, "due_soon", deadline),
        (1.0, "overdue", deadline),
        (1.0, "escalation", "street→district"),
        (1.0, "supervision", "yellow"),
        (1.0 + RED_CARD_EXTRA_FRACTION, "supervision", "red"),
    )
    for share, kind, detail in marks:
        at = accepted + lim * share + timedelta(seconds=1)
        if at < until:
            events.append(_event(at, kind, None, None, feed, detail))


def _alerts(
    session: Session, rng: random.Random, grids: list[_Grid], now: datetime, seed: int, n: int
) -> tuple[int, int]:
    n_grids = 0
    for i in range(n):
        weather = i % 3 == 0
        if weather:
            street = rng.choice(grids).code[:9]
            covered = [g for g in grids if g.code.startswith(street)]
            xs = [g.bounds for g in covered]
            shape = box(
                min(b[0] for b in xs), min(b[1] for b in xs), max(b[2] for b in xs), max(b[3] for b in xs)
            )
            severity = rng.choice(tuple(SEVERITY_COLOUR))
            kind, event = "weather", rng.choice(WEATHER)
            centre = covered[len(covered) // 2]
            headline = f"铜梁区气象台发布{event}{_colour_zh(SEVERITY_COLOUR[severity])}预警信号"
        else:
            centre = rng.choice(grids)
            covered = [centre]
            kind = rng.choice(tuple(KIND_EVENTS))
            event = KIND_EVENTS[kind]
            severity = rng.choice(("Moderate", "Severe"))
            shape = Point(*_point_in(rng, centre))
            headline = f"{centre.name}{event}"
        sent = now - timedelta(minutes=rng.uniform(1, 600) if i < n - 2 else rng.uniform(2000, 5000))
        state = "new" if i % 2 == 0 else "acknowledged"
        if i >= n - 2:
            state = "expired"
        point = shape.representative_point() if weather else shape
        alert_id = session.execute(
            insert(_table(Alert)).returning(_table(Alert).c.id),
            {
                "feed_name": "sample-weather" if weather else "sample-sensors",
                "external_id": f"{seed}-alert-{i}",
                "kind": kind,
                "msg_type": "Alert",
                "references": "",
                "event": event,
                "severity": severity,
                "colour": SEVERITY_COLOUR[severity],
                "urgency": "Immediate",
                "certainty": "Observed" if not weather else "Likely",
                "headline": headline,
                "description": headline,
                "area_desc": f"{centre.street_name}" if weather else centre.name,
                "geometry": shape.wkb,
                "lon": point.x,
                "lat": point.y,
                "sent_at": sent,
                "onset": sent,
                "expires": sent + timedelta(hours=6 if weather else 2)
                if state == "expired"
                else now + timedelta(hours=6),
                "state": state,
                "acknowledged_by": "值班员" if state == "acknowledged" else None,
                "acknowledged_at": sent + timedelta(minutes=3) if state == "acknowledged" else None,
                "created_at": sent,
                "modified_at": sent,
                **_place(centre.code),
            },
        ).scalar_one()
        session.execute(
            insert(_table(AlertGrid)), [{"alert_id": alert_id, "grid_code": g.code} for g in covered]
        )
        session.execute(
            insert(_table(AlertEvent)),
            [{"alert_id": alert_id, "at": sent, "kind": "created", "detail": "", "actor": "system"}],
        )
        n_grids += len(covered)
    return n, n_grids


def _colour_zh(colour: str) -> str:
    return {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}.get(colour, "")


def _risks(session: Session, rng: random.Random, grids: list[_Grid], now: datetime, n: int) -> int:
    rows = []
    for i in range(n):
        grid = rng.choice(grids)
        kind = RISK_KINDS[i % len(RISK_KINDS)]
        created = now - timedelta(days=rng.uniform(10, 200))
        due = created + timedelta(days=rng.choice((30, 60, 90)))
        closed = created + (min(due, now) - created) * 0.8 if i % 3 == 0 else None
        lon, lat = _point_in(rng, grid)
        rows.append(
            {
                "kind": kind,
                "level": rng.choice(("high", "medium", "low")),
                "title": f"{community_short_name(grid.community_name)}{RISK_TITLES[kind]}",
                "description": "",
                "lon": lon,
                "lat": lat,
                "owner": f"{rng.choice(SURNAMES)}网格长",
                "measures": "落实专人盯守，每周研判",
                "due_at": due,
                "closed_at": closed,
                "created_at": created,
                **_place(grid.code),
            }
        )
    if rows:
        session.execute(insert(_table(Risk)), rows)
    return n


# --- the demo's risk ledger (风险台账) -------------------------------------------------------------

LEDGER = {
    "political": (
        ("{c}重点人员稳控", "街道政法委员"),
        ("{c}涉稳群体动态研判", "街道综治中心"),
        ("{c}敏感节点重点场所防控", "街道综治中心"),
    ),
    "public_order": (
        ("{c}夜市治安隐患", "派出所"),
        ("{c}出租屋流动人口管理", "派出所"),
        ("{c}校园周边治安秩序", "派出所"),
        ("{c}电信网络诈骗易发人群宣防", "派出所"),
    ),
    "social_conflict": (
        ("{c}征地拆迁补偿矛盾", "街道信访办"),
        ("{c}农民工工资拖欠", "街道劳动保障所"),
        ("{c}物业服务纠纷", "社区居委会"),
        ("{c}邻里宅基地纠纷", "司法所"),
    ),
    "public_safety": (
        ("{c}老旧小区燃气管道老化", "街道应急办"),
        ("{c}地质灾害隐患点", "街道规建办"),
        ("{c}电动自行车违规充电", "街道应急办"),
        ("{c}危旧房屋安全隐患", "街道规建办"),
        ("{c}山坪塘汛期安全", "街道农服中心"),
    ),
    "cyber": (
        ("{c}网络舆情风险", "街道党政办"),
        ("{c}网格群组信息安全", "街道党政办"),
    ),
}
LEDGER_MEASURES = {
    "political": "落实“一人一档一专班”，每周走访研判，敏感节点专人盯守",
    "public_order": "增加巡逻频次，联合网格员开展清查，落实技防设施",
    "social_conflict": "建立矛盾化解专班，逐户走访，依法依规推动化解",
    "public_safety": "设置警示标识，落实专人巡查，制定整改方案限期整改",
    "cyber": "落实网络信息员值守，建立舆情监测与快速处置机制",
}
LEDGER_EVIDENCE = (
    "现场整改照片及验收记录",
    "化解协议书及回访记录",
    "整改前后对比照片、巡查台账",
    "会议纪要及处置报告",
)


def demo_ledger(session: Session, district_code: str, now: datetime, seed: int = 0, n: int = 36) -> int:
    """A realistic risk ledger for the demo: ``n`` risks over the five kinds in the district's grids,
    numbered ``FX-<year>-<n>``, with owner units and people, measures and 销号 deadlines; about one in
    four closed with evidence, about one in six open past its deadline (挂图作战, 限期销号)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rng = random.Random(seed)
    grids = _grids(session, district_code)
    rows = []
    kinds = [k for k in RISK_KINDS for _ in range(len(LEDGER[k]) * 2)]
    for i in range(n):
        kind = kinds[i % len(kinds)] if i < len(kinds) else rng.choice(RISK_KINDS)
        title, unit = rng.choice(LEDGER[kind])
        grid = rng.choice(grids)
        created = now - timedelta(days=rng.uniform(5, 150))
        fate = rng.random()
        if fate < 0.25:  # closed (销号) before its deadline, with evidence
            due = created + timedelta(days=rng.choice((30, 60, 90)))
            closed: datetime | None = created + (min(due, now) - created) * rng.uniform(0.4, 0.95)
        elif fate < 0.42:  # open past its deadline
            due = now - timedelta(days=rng.uniform(1, 40))
            closed = None
        else:
            due = now + timedelta(days=rng.uniform(3, 90))
            closed = None
        lon, lat = _point_in(rng, grid)
        person = f"{rng.choice(SURNAMES)}{rng.choice('伟芳敏静强磊军洋勇杰涛明超平刚华建国')}"
        unit_name = unit if unit != "社区居委会" else f"{community_short_name(grid.community_name)}社区居委会"
        rows.append(
            {
                "ref": f"FX-{now.year}-{seed:02d}{i + 1:03d}",
                "kind": kind,
                "level": rng.choices(("high", "medium", "low"), (2, 5, 3))[0],
                "title": title.format(c=community_short_name(grid.community_name)),
                "description": f"{grid.street_name}{grid.community_name}{grid.name}排查发现，纳入台账管理。",
                "lon": lon,
                "lat": lat,
                "owner": f"{grid.street_name}{unit_name}"
                if not unit_name.startswith(grid.street_name)
                else unit_name,
                "owner_person": person,
                "owner_phone": _phone(rng),
                "measures": LEDGER_MEASURES[kind],
                "evidence": rng.choice(LEDGER_EVIDENCE) if closed else "",
                "due_at": due,
                "closed_at": closed,
                "closed_by": "demo" if closed else None,
                "created_by": "demo",
                "created_at": created,
                "modified_at": closed or created,
                **_place(grid.code),
            }
        )
    if rows:
        session.execute(insert(_table(Risk)), rows)
    return len(rows)
