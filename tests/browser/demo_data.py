"""Open cases, an alert and risks on a generated (or hand-made) hierarchy, for the browser test and the
README screenshot. Deterministic (seeded)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import AdminUnit, Alert, AlertGrid, Case, Risk
from data.states import OPEN_STATES

XSS = "<img src=x onerror=alert(1)>"
TITLES = (
    "占道经营",
    "噪声扰民",
    "井盖缺失",
    "乱堆乱放",
    "邻里纠纷",
    "物业纠纷",
    "消防通道堵塞",
    "污水外溢",
    "违章搭建",
)
CATEGORIES = (
    "城市管理",
    "生态环境",
    "城市管理",
    "城市管理",
    "矛盾纠纷",
    "矛盾纠纷",
    "安全隐患",
    "生态环境",
    "城市管理",
)


def seed_demo(session: Session, n_cases: int = 400, seed: int = 7) -> tuple[int, tuple[float, float]]:
    """Cases clustered around a few busy streets, one isolated case titled with markup (returned with its
    point), a warning polygon over a street's grids, and some risks."""
    rng = random.Random(seed)
    grids = session.execute(
        select(AdminUnit.code, AdminUnit.label_lon, AdminUnit.label_lat)
        .where(AdminUnit.level == "grid")
        .order_by(AdminUnit.code)
    ).all()
    now = datetime.now(UTC)
    xss_grid = grids[-1]
    lonely = (float(xss_grid.label_lon), float(xss_grid.label_lat))
    busy = [g for g in grids if abs(g.label_lon - lonely[0]) + abs(g.label_lat - lonely[1]) > 0.12]
    hot = rng.sample(sorted({g.code[:9] for g in busy}), k=min(6, len({g.code[:9] for g in busy})))
    states = sorted(OPEN_STATES)

    def case(i: int, grid: str, lon: float, lat: float, title: str, category: str, **kw: object) -> Case:
        c = Case(
            feed_name="demo",
            external_id=f"demo-{i}",
            title=title,
            description=title,
            category_name=category,
            requested_at=now - timedelta(hours=rng.randint(2, 200)),
            accepted_at=now - timedelta(hours=rng.randint(1, 150)),
            deadline_at=now + timedelta(hours=rng.randint(-48, 120)),
            lon=lon,
            lat=lat,
            placement="point",
            address="",
            **kw,
        )
        c.set_place(grid)
        return c

    for i in range(n_cases):
        pool = [g for g in busy if g.code[:9] in hot] if rng.random() < 0.7 else busy
        g = rng.choice(pool)
        k = rng.randrange(len(TITLES))
        overdue = rng.random() < 0.15
        due_soon = not overdue and rng.random() < 0.1
        supervision = ("red" if rng.random() < 0.3 else "yellow") if overdue else "none"
        session.add(
            case(
                i,
                g.code,
                g.label_lon + rng.uniform(-0.003, 0.003),
                g.label_lat + rng.uniform(-0.003, 0.003),
                TITLES[k],
                CATEGORIES[k],
                status=rng.choice(states),
                overdue=overdue,
                due_soon=due_soon,
                supervision=supervision,
                escalation_level="district" if overdue else "community",
            )
        )
    session.add(case(n_cases, xss_grid.code, lonely[0], lonely[1], XSS, "城市管理", status="accepted"))
    session.flush()

    street = hot[0]
    covered = [g for g in grids if g.code.startswith(street)]
    units = session.scalars(
        select(AdminUnit.geometry).where(AdminUnit.code.in_([g.code for g in covered]))
    ).all()
    area = shapely.union_all([shapely.from_wkb(u) for u in units]).convex_hull.buffer(0.01)
    alert = Alert(
        feed_name="weather",
        external_id="cap-demo-1",
        kind="weather",
        event="暴雨",
        severity="Severe",
        colour="orange",
        headline="铜梁区气象台发布暴雨橙色预警信号",
        area_desc="巴川街道及周边",
        geometry=shapely.to_wkb(area),
        lon=area.centroid.x,
        lat=area.centroid.y,
        state="new",
        onset=now - timedelta(hours=1),
        expires=now + timedelta(hours=12),
    )
    alert.set_place(covered[0].code)
    session.add(alert)
    session.flush()
    for g in covered:
        session.add(AlertGrid(alert_id=alert.id, grid_code=g.code))
    for i, g in enumerate(rng.sample(busy, k=min(8, len(busy)))):
        risk = Risk(
            kind=("public_safety", "social_conflict", "public_order")[i % 3],
            level=("high", "medium", "low")[i % 3],
            title=("危房隐患", "劳资纠纷隐患", "易涝点")[i % 3],
            lon=g.label_lon + 0.004,
            lat=g.label_lat - 0.004,
            owner="住房城乡建委",
            due_at=now + timedelta(days=rng.randint(-3, 30)),
        )
        risk.set_place(g.code)
        session.add(risk)
    session.flush()
    return n_cases, lonely
