"""The case page's layout from a real test database: facts, timeline order and labels, place path,
masked staff, not-found outside the scope, English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from shapely.geometry import Polygon

from data.db import transaction
from data.models import Case, CaseEvent, Feed
from data.scope import AreaScope
from data.seed import seed_catalogue
from tests.dashboard.test_case_support import (
    PHONE,
    all_pages_app,
    as_json,
    by_class,
    render,
    text,
    texts,
    walk,
)
from tests.layers.hierarchy import STREETS, add_case, add_pointless_case, grid_box


@pytest.fixture
def app(engine, database_url, redis_url, redis_conn, tmp_path, grids) -> Iterator[Any]:
    """The app with every page (overrides the map-only ``app`` of conftest)."""
    yield from all_pages_app(database_url, redis_url, tmp_path)


@pytest.fixture
def case_id(app, session_factory, grids) -> int:
    """An overdue case in the first grid with a full timeline, inserted out of time order."""
    now = datetime.now(UTC)
    with transaction(session_factory) as session:
        seed_catalogue(session)
        case = add_case(session, grids[0], external_id="H-1", title="噪声扰民", overdue=True)
        case.description = "夜间施工噪声扰民，持续三天"
        case.address = "巴川街道中兴路 18 号"
        case.category_code = "environment.noise"
        case.department_code = "ecology"
        case.priority = "urgent"
        case.deadline_at = now - timedelta(hours=30)
        case.escalation_level = "street"
        day = now - timedelta(days=3)
        events = [
            (day + timedelta(hours=5), "supervision", None, None, "yellow", "system", None),
            (day, "created", None, "reported", "", "feed:hotline", "hotline"),
            (day + timedelta(hours=1), "status", "reported", "accepted", "受理", "feed:hotline", "hotline"),
            (
                day + timedelta(hours=2),
                "illegal_transition",
                "accepted",
                "closed",
                "bad",
                "feed:hotline",
                "hotline",
            ),
            (
                day + timedelta(hours=3),
                "due_soon",
                None,
                None,
                "deadline 2024-01-01T00:00:00Z",
                "system",
                None,
            ),
            (
                day + timedelta(hours=4),
                "overdue",
                None,
                None,
                "deadline 2024-01-01T00:00:00Z",
                "system",
                None,
            ),
            (day + timedelta(hours=6), "escalation", None, None, "community→street", "system", None),
        ]
        for at, kind, frm, to, detail, actor, feed in events:
            session.add(
                CaseEvent(
                    case_id=case.id,
                    at=at,
                    kind=kind,
                    from_status=frm,
                    to_status=to,
                    detail=detail,
                    actor=actor,
                    feed_name=feed,
                )
            )
        return case.id


def test_timeline_in_time_order_with_chinese_labels(app, case_id) -> None:
    layout = render(app, f"/cases/{case_id}")
    rows = by_class(layout, "case-event")
    kinds = [text(by_class(r, "kind")[0]) for r in rows]
    assert kinds == ["创建", "状态变更", "非法状态变更（已拒绝）", "临期", "超期", "黄牌督办", "升级"]
    change = [text(by_class(r, "change")[0]) for r in rows]
    assert change[0] == "待受理"
    assert change[1] == "待受理  →  已受理"
    assert change[2] == "已受理  →  已归档"
    assert text(by_class(rows[6], "detail")[0]) == "社区 → 镇街"
    assert [text(by_class(r, "feed")[0]) for r in rows[:2]] == ["hotline", "hotline"]
    assert text(by_class(rows[0], "actor")[0]) == "hotline"
    assert text(by_class(rows[3], "actor")[0]) == "系统"
    times = [text(by_class(r, "time")[0]) for r in rows]
    assert times == sorted(times)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t) for t in times)


def test_facts_place_and_people(app, case_id) -> None:
    layout = render(app, f"/cases/{case_id}")
    all_text = text(layout)
    assert f"案件 {case_id}" in all_text
    assert "噪声扰民" in all_text  # category (seeded catalogue)
    for word in ("超期", "黄牌督办", "紧急", "已受理", "镇街"):
        assert word in all_text, word
    clock = text(by_class(layout, "case-clock")[0])
    assert clock.startswith("已超期 1 天 6 小时") or clock.startswith("已超期 1 天 5 小时"), clock
    assert by_class(layout, "case-description")[0].children == "夜间施工噪声扰民，持续三天"
    assert by_class(layout, "case-address")[0].children == "巴川街道中兴路 18 号"
    links = by_class(layout, "unit-link")
    assert [link.href for link in links] == [
        "/overdue?unit=500151",
        f"/overdue?unit={STREETS[0]}",
        f"/overdue?unit={STREETS[0]}001",
        f"/overdue?unit={STREETS[0]}001001",
    ]
    assert [texts(link)[-1] for link in links] == ["铜梁区", "巴川街道", "巴川南社区", "第1网格"]
    staff = by_class(layout, "staff")
    assert [text(by_class(s, "phone")[0]) for s in staff] == ["138****0000"]
    assert not re.search(PHONE, as_json(layout))
    assert by_class(layout, "case-map")  # the small map is there


def test_reported_time_shown_in_shanghai(app, session_factory, case_id) -> None:
    with session_factory() as session:
        requested = session.get(Case, case_id).requested_at  # type: ignore[union-attr]
    layout = render(app, f"/cases/{case_id}")
    local = (requested.replace(tzinfo=UTC) + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    facts = {text(f).split(" ", 1)[0]: text(f) for f in by_class(layout, "fact")}
    assert facts["上报时间"] == f"上报时间 {local}"


def test_outside_the_scope_is_not_found(app, case_id) -> None:
    layout = render(app, f"/cases/{case_id}", scope=AreaScope.of([STREETS[1]]))
    all_text = text(layout)
    assert "未找到该案件" in all_text
    assert "夜间施工" not in as_json(layout)
    assert "巴川街道中兴路" not in as_json(layout)
    inside = render(app, f"/cases/{case_id}", scope=AreaScope.of([STREETS[0]]))
    assert "夜间施工噪声扰民，持续三天" in text(inside)


@pytest.mark.parametrize("raw", ["999999", "abc", "-1", "1e3", "0x10", "²", "1²", "１２"])
def test_unknown_or_malformed_id_is_not_found(app, case_id, raw) -> None:
    layout = render(app, f"/cases/{raw}")
    assert "未找到该案件" in text(layout)
    assert by_class(layout, "page-back")[0].href == "/"


def test_english(app, case_id) -> None:
    layout = render(app, f"/cases/{case_id}", lang="en", query={"lang": "en"})
    all_text = text(layout)
    for word in (
        "Case",
        "Timeline",
        "Accepted",
        "Illegal state change (rejected)",
        "Yellow card",
        "Deadline",
    ):
        assert word in all_text, word
    assert "办理过程" not in all_text
    assert "Noise" in all_text  # the catalogue's English category name
    assert by_class(layout, "unit-link")[0].href == "/overdue?unit=500151&lang=en"
    switch = by_class(layout, "lang-option")
    assert [(s.children, s.href) for s in switch] == [
        ("中文", f"/cases/{case_id}"),
        ("English", f"/cases/{case_id}?lang=en"),
    ]


def _map_parts(layout: Any) -> tuple[list[Any], list[Any]]:
    """The small map's polygons (unit outlines) and circle markers (the case's own point)."""
    parts = list(walk(by_class(layout, "case-map")[0]))
    polygons = [c for c in parts if type(c).__name__ == "Polygon"]
    markers = [c for c in parts if type(c).__name__ == "CircleMarker"]
    return polygons, markers


def test_case_without_a_point_shows_its_unit_marked_approximate(app, session_factory, grids, case_id) -> None:
    with transaction(session_factory) as session:
        by_grid = add_pointless_case(session, grids[1], external_id="G-1", title="只给了网格")
        by_community = add_pointless_case(session, grids[1][:12], external_id="C-1", placement="address")
        ids = by_grid.id, by_community.id
    layout = render(app, f"/cases/{ids[0]}")
    polygons, markers = _map_parts(layout)
    assert len(polygons) == 1 and markers == []  # the grid's outline, no invented point
    ring = [(lon, lat) for lat, lon in polygons[0].positions]
    assert Polygon(ring).hausdorff_distance(grid_box(grids[1])) < 1e-6  # coordinates rounded to 6 places
    assert (
        text(by_class(layout, "case-map-approx")[0])
        == "按网格定位：该案件没有自己的坐标，地图所示为所在网格的范围"
    )
    layout = render(app, f"/cases/{ids[1]}", lang="en", query={"lang": "en"})
    polygons, markers = _map_parts(layout)
    assert len(polygons) == 1 and markers == []
    assert text(by_class(layout, "case-map-approx")[0]).startswith("Located by community:")
    # a case with its own point: its marker, and no such note
    own = render(app, f"/cases/{case_id}")
    assert len(_map_parts(own)[1]) == 1
    assert by_class(own, "case-map-approx") == []


def test_sources_by_their_department_and_no_grid_staff_without_a_grid(
    app, session_factory, grids, case_id
) -> None:
    with transaction(session_factory) as session:
        session.add(
            Feed(name="hotline", department_code="ecology", protocol="open311", url="http://x.invalid/")
        )
        case = session.get(Case, case_id)
        assert case is not None
        case.source = "ecology"
        session.add(
            CaseEvent(
                case_id=case_id,
                at=datetime.now(UTC),
                kind="status",
                from_status="accepted",
                to_status="in_progress",
                detail="in_progress",  # the feed's word is our state's code: the change column says it
                actor="feed:hotline",
                feed_name="hotline",
            )
        )
        by_community = add_pointless_case(session, grids[1][:12], external_id="C-2", placement="address")
        community_case = by_community.id
    layout = render(app, f"/cases/{case_id}")
    rows = by_class(layout, "case-event")
    assert text(by_class(rows[0], "feed")[0]) == "区生态环境局"
    assert text(by_class(rows[0], "actor")[0]) == "区生态环境局"
    assert text(by_class(rows[1], "detail")[0]) == "受理"  # a word of the feed's own stays
    assert text(by_class(rows[-1], "detail")[0]) == ""
    assert "区生态环境局" in text(by_class(layout, "case-facts")[0])  # 来源, by name
    english = render(app, f"/cases/{case_id}", lang="en", query={"lang": "en"})
    assert "ecology" not in [text(by_class(r, "feed")[0]) for r in by_class(english, "case-event")]
    unplaced = render(app, f"/cases/{community_case}")
    assert "未定位到网格，无网格员信息" in text(unplaced)
    assert "该网格暂无登记人员" not in text(unplaced)


@pytest.mark.parametrize(
    ("kind", "detail", "to_status", "lang", "shown"),
    [
        # the feed said in_progress; gridcc walked the case through 已受理 first: the reader sees the
        # department's word in their own words, not `in_progress`
        ("status", "in_progress", "accepted", "zh-CN", "部门系统状态：处置中"),
        ("status", "in_progress", "in_progress", "zh-CN", ""),  # the change column says it already
        ("created", "open", "reported", "zh-CN", "部门系统状态：未关闭"),
        ("created", "Open", "reported", "en", "the department's system says: open"),
        ("status", "Waiting for parts", "reported", "zh-CN", "部门系统状态：Waiting for parts"),
        ("status", "回访：满意", "closed", "zh-CN", "回访：满意"),  # a note in words stays as it came
        ("update", "expected_at", None, "zh-CN", "预计办结时间"),
        ("update", "description, lon, lat, category_code, category_name", None, "zh-CN", "描述、位置、类别"),
        ("update", "expected_at, priority", None, "en", "expected completion, priority"),
    ],
)
def test_the_feeds_own_words_read_as_words(
    kind: str, detail: str, to_status: str | None, lang: str, shown: str
) -> None:
    from dashboard.components.format import event_detail

    assert event_detail(kind, detail, lang, to_status) == shown
