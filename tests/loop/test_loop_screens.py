"""The loop on the wall (issue 11 item 4): the wall's payload carries the loop's figures for today and
this year (吹哨 / 交办 sent, 报到率, mean 报到 time, 超时未报到 and 未送达 now), its ticker names an
instruction unanswered (department, case number, kind, how late) and its department ranking the mean 报到
time — counts and codes only: an instruction's text (here holding a phone) never reaches the wall. The
payload's cache key follows the ``loop`` layer version, which an action (``deliver_soon``), an answer,
the delivery job and the deadlines job bump."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dashboard.loop_delivery import deliver_soon
from dashboard.services import Services
from dashboard.wall import format as fmt
from dashboard.wall.kpis import NOW_KPIS, PERIOD_KPIS
from dashboard.wall.loop import loop_band
from dashboard.wall.rankings import department_figure
from dashboard.wall.ticker import ticker_items
from data.db import transaction
from data.loop import actions, answers, outbox
from data.loop.clock import mark_overdue
from data.models import OutboxMessage
from data.scope import AreaScope
from data.settings import Settings
from layers import versions, wall_payload
from tests.dashboard.test_wall_components import by_id, texts
from tests.leaks import find_leaks
from workers.jobs.deadlines import run_deadlines
from workers.jobs.deliver import changed_layers
from workers.outbox.deliver import RunCounts

from .conftest import NOW, STREET_1, World, case_of

DISTRICT = AreaScope.of("500151")
TZ = "Asia/Shanghai"
SECRET_TEXT = "请联系报案人张三 13912345678 到场，身份证 500101199001011234"


def _whistle(world: World, case_id: int, user: str = "duty1") -> dict[str, str]:
    """A 吹哨 to police (lead) and city_management (helper), its text holding a phone and an ID number."""
    with transaction(world.factory) as session:
        case = case_of(session, case_id)
        case.title = "张三 13900001111 占道经营"  # a case title with a phone: no business of the wall's
        sent = actions.whistle(
            session, world.settings, world.user(session, user), case_id, "police", ["city_management"],
            SECRET_TEXT, NOW, urgency="urgent",
        )  # fmt: skip
        return {m.department_code: m.message_id for m in sent.messages}


def _accept(world: World, message_id: str, minutes: int) -> None:
    parsed = answers.Parsed(f"ans-{message_id}", message_id, "accepted", "王建国", "")
    with transaction(world.factory) as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.message_id == message_id)).one()
        answers._apply(session, row.department_code, parsed, NOW, NOW + timedelta(minutes=minutes))


def _loop_world(world: World) -> dict[str, str]:
    """吹哨 on the street-1 case; police 报到 after 12 minutes; city_management never (超时未报到 at
    NOW + 40 min, 30 minutes being the urgent deadline); a 交办 on the street-2 case, 未送达."""
    ids = _whistle(world, world.mine)
    _accept(world, ids["police"], 12)
    with transaction(world.factory) as session:
        sent = actions.dispatch(
            session, world.settings, world.user(session, "duty2"), world.theirs, "ecology", SECRET_TEXT, NOW
        )
        outbox.mark_failed(session, sent.messages[0].id, NOW, "HTTP 500 token=abc", 8, 5.0, final=True)
        ids["ecology"] = sent.messages[0].message_id
    with world.factory() as session, session.begin():
        assert mark_overdue(session.connection(), NOW + timedelta(minutes=40)) == 1
    return ids


def test_the_wall_payload_carries_the_loop_figures_and_never_the_text(world: World) -> None:
    _loop_world(world)
    now = NOW + timedelta(minutes=45)
    with world.factory() as session:
        for mode in ("full", "masked", "none"):
            stats = wall_payload.build_stats(session, DISTRICT, now, TZ, mode)
            ticker = wall_payload.build_ticker(session, DISTRICT, now, mode)
            body = json.dumps([stats, ticker], ensure_ascii=False)
            # counts and codes only: the instruction's text, the case's title, the reporter — none of them
            assert find_leaks(body) == [], mode
            for secret in ("张三", "到场", "占道经营", "13912345678", "abc"):
                assert secret not in body, (mode, secret)
        street = wall_payload.build_stats(session, AreaScope.of(STREET_1), now, TZ, "none")
    today, year = stats["loop"]["today"], stats["loop"]["year"]
    for period in (today, year):
        assert (period["whistle"], period["dispatch"]) == (1, 1)
        # due: police (报到) and city_management (late); ecology's 一般 deadline is 2 hours away
        assert (period["recipients"], period["due"], period["reported"]) == (3, 2, 1)
        assert period["report_rate"] == pytest.approx(0.5)
        assert period["mean_report_minutes"] == pytest.approx(12.0)
        assert (period["overdue_now"], period["undelivered_now"]) == (1, 1)
    # a street sees its own: the 交办 on the other street's case is not counted
    assert street["loop"]["today"]["dispatch"] == 0 and street["loop"]["today"]["undelivered_now"] == 0
    # the ranking carries each department's mean 报到 time (police answered in 12 minutes)
    [late] = ticker["loop"]
    assert late == {
        "case_id": world.mine,
        "case_number": "mine",
        "department": late["department"],
        "kind": "whistle",
        "role": "helper",
        "late_minutes": 15.0,
    }
    assert late["department"] and late["department"] != "city_management"  # its name, from the catalogue


def test_the_department_ranking_shows_the_mean_report_time(world: World) -> None:
    ids = _whistle(world, world.mine)
    _accept(world, ids["police"], 12)
    with transaction(world.factory) as session:
        # police holds the case this year, with a response measured (accepted → resolved: 2 hours)
        case = case_of(session, world.mine)
        case.department_code = "police"
        case.requested_at = case.accepted_at = NOW - timedelta(hours=2)
        case.resolved_at = NOW
    with world.factory() as session:
        stats = wall_payload.build_stats(session, DISTRICT, NOW + timedelta(hours=1), TZ, "none")
    [police] = [d for d in stats["departments"] if d["report_minutes"] is not None]
    assert police["hours"] == pytest.approx(2.0) and police["report_minutes"] == pytest.approx(12.0)
    figure = department_figure(stats, "zh-CN")
    assert any(text.startswith("2.0 小时  ·  报到 12 分钟") for text in figure["data"][0]["text"])


STATS: dict[str, Any] = {
    "loop": {
        "today": {
            "whistle": 3, "dispatch": 12, "report_rate": 0.75, "mean_report_minutes": 18.4,
            "overdue_now": 2, "undelivered_now": 0,
        },
        "year": {
            "whistle": 1204, "dispatch": 5321, "report_rate": 0.9312, "mean_report_minutes": 22.0,
            "overdue_now": 2, "undelivered_now": 0,
        },
    },
    "departments": [
        {"name": "区公安分局", "hours": 3.5, "overdue": 1, "open": 4, "received": 9, "report_minutes": 12.0},
        {"name": "区城管局", "hours": 7.6, "overdue": 0, "open": 2, "received": 5, "report_minutes": None},
    ],
}  # fmt: skip


def test_loop_band_figures_in_the_kpi_columns() -> None:
    band = loop_band(STATS, "zh-CN")
    assert len(band) == len(PERIOD_KPIS) + len(NOW_KPIS)  # one tile under each KPI tile
    words = texts(band)
    for word in (
        "吹哨",
        "交办",
        "报到率",
        "平均报到（分钟）",
        "超时未报到",
        "未送达",
        "今日",
        "本年",
        "当前",
    ):
        assert word in words, word
    assert by_id(band, "wall-loop-today-whistle").children == "3"
    assert by_id(band, "wall-loop-year-dispatch").children == "5,321"
    assert by_id(band, "wall-loop-year-report_rate").children == "93.1%"
    assert by_id(band, "wall-loop-today-mean_report_minutes").children == "18"
    assert by_id(band, "wall-loop-now-overdue_now").children == "2"
    assert "loop-alarm" in band[-2].className  # 超时未报到 > 0: red
    assert "loop-alarm" not in band[-1].className  # 未送达 0
    assert [fmt.minutes(m) for m in (0.42, 9.94, 9.96, 1234.4, None)] == ["0.4", "9.9", "10", "1,234", "—"]
    empty = loop_band(None, "en")
    assert by_id(empty, "wall-loop-today-whistle").children == "—"
    assert "Whistles" in texts(empty) and "Mean report (min)" in texts(empty)


def test_ticker_names_the_unanswered_instruction() -> None:
    ticker = {
        "items": [],
        "loop": [
            {"case_id": 7, "case_number": "TL12345-2026-000123", "department": "区城管局", "kind": "whistle",
             "role": "lead", "late_minutes": 95.2},
        ],
    }  # fmt: skip
    chips = ticker_items(ticker, "zh-CN", TZ)
    assert texts(chips) == ["【超时未报到】", "区城管局 · 超时1小时35分 · 吹哨（牵头） · TL12345-2026-000123"]
    assert "sig-red" in chips[0].className
    assert texts(ticker_items({"items": [], "loop": []}, "zh-CN", TZ)) == ["暂无生效预警"]
    en = texts(ticker_items(ticker, "en", TZ))
    assert en[-1] == "区城管局 · 1 h 35 min late · Whistle (Lead) · TL12345-2026-000123"


def test_the_loop_version_moves_the_wall_payload(
    world: World, redis_conn: Any, redis_url: str, tmp_path: Path
) -> None:
    """The stats part is cached per versions: a 吹哨 shows once the ``loop`` version moved — and an action
    (``deliver_soon``), a delivery run and the deadlines job each bump it."""
    now = NOW + timedelta(minutes=1)
    svc = Services(Settings(data_dir=tmp_path / "var", redis_url=redis_url))

    def stats(current: dict[str, int]) -> dict[str, Any]:
        return wall_payload.load(
            "stats", sessions=world.factory, conn=redis_conn, scope=DISTRICT, versions=current, now=now,
            tz=TZ, stale_after_polls=3, text_mode="none",
        )  # fmt: skip

    before = versions.read(redis_conn)
    assert stats(before)["loop"]["today"]["whistle"] == 0
    _whistle(world, world.mine)
    assert stats(before)["loop"]["today"]["whistle"] == 0  # cached for these versions
    assert deliver_soon(svc) is not None  # what the web does after an action
    after = versions.read(redis_conn)
    assert after["loop"] == before["loop"] + 1
    assert wall_payload.part_key("stats", after) != wall_payload.part_key("stats", before)
    assert wall_payload.part_key("ticker", after) != wall_payload.part_key("ticker", before)
    assert stats(after)["loop"]["today"]["whistle"] == 1
    # the delivery job: a delivery or a 未送达 moves the loop (and 未送达 /feeds)
    assert changed_layers(RunCounts()) == set()
    assert changed_layers(RunCounts(delivered=1)) == {"loop"}
    assert changed_layers(RunCounts(undelivered=1)) == {"loop", "feeds"}


def test_the_deadlines_job_bumps_the_loop_version_on_a_late_report(rq_world: Any) -> None:
    world, rt = rq_world.world, rq_world.runtime
    _whistle(world, world.mine)
    before = versions.read(rt.redis)["loop"]
    assert run_deadlines(rt, NOW + timedelta(minutes=10))["loop_report_overdue"] == 0
    assert versions.read(rt.redis)["loop"] == before  # nothing late yet: nothing to redraw
    assert run_deadlines(rt, NOW + timedelta(minutes=31))["loop_report_overdue"] == 2
    assert versions.read(rt.redis)["loop"] == before + 1
