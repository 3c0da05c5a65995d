"""The loop on the wall in real Chromium at 1920×1080, against the shared demo stack (its RQ workers, rq
cron and the simulators' department desks), signed in as the wall display:

- a duty officer's 吹哨 (``data.loop.actions.whistle`` on the stack's database, as the web action
  writes it) raises the wall's 吹哨 count for today by itself: the workers deliver it to the desks and
  bump the ``loop`` version, the wall's tick sees it;
- an instruction its department has not answered in time (the police desk answering 500 meanwhile) is
  marked 超时未报到 by the deadlines job: the band's 超时未报到 turns red and the ticker names it
  (department, case number, kind, how late) — never the instruction's text, which holds a phone here;
- the loop band reads from across the room (its figures ≥ 3.5 % of the screen's height), every figure
  inside its tile, nothing overlapping; ``screenshots/wall.png`` is the wall so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from data.auth import get_user
from data.auth.users import scope_of
from data.db import make_engine, make_sessionmaker, transaction
from data.loop import actions
from data.loop.endpoints import load_endpoints
from data.models import Case
from data.settings import Settings
from tests.browser.conftest import PageLog, screenshot
from tests.browser.test_wall import _no_scrollbars, _wait_ready
from tests.stack import Demo

TEXT = "请联系报案人 13912345678 到场处置"

LAYOUT = """() => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const tiles = [...document.querySelectorAll('#wall-loop .loop-tile')];
  const cut = tiles.filter(t => t.scrollWidth > t.clientWidth + 1 || t.scrollHeight > t.clientHeight + 1)
                   .map(t => t.className);
  const outside = [];
  tiles.forEach(t => {
    const [l, tp, r, b] = box(t);
    t.querySelectorAll('.loop-label, .loop-value, .loop-period, .loop-unit').forEach(e => {
      const [el, et, er, eb] = box(e);
      if (el < l - 1 || er > r + 1 || et < tp - 1 || eb > b + 1) outside.push(e.className);
    });
  });
  const overlaps = [];
  for (let i = 0; i < tiles.length; i++) for (let j = i + 1; j < tiles.length; j++) {
    const [a, b] = [box(tiles[i]), box(tiles[j])];
    if (a[0] < b[2] - 1 && b[0] < a[2] - 1 && a[1] < b[3] - 1 && b[1] < a[3] - 1) overlaps.push([i, j]);
  }
  const band = box(document.querySelector('#wall-loop'));
  const kpis = box(document.querySelector('#wall-kpis'));
  const main = box(document.querySelector('.wall-main'));
  const kpiTiles = [...document.querySelectorAll('#wall-kpis .kpi')].map(e => box(e)[0]);
  // the panels under the band: no row of the hotspot list half shown (a whole row, or none)
  const list = box(document.querySelector('#wall-hotspots'));
  const halfRows = [...document.querySelectorAll('#wall-hotspots .hotspot')].map(e => box(e))
    .filter(r => r[0] < list[2] - 1 && r[3] > list[3] + 1).length;
  const shownRows = [...document.querySelectorAll('#wall-hotspots .hotspot')].map(e => box(e))
    .filter(r => r[0] < list[2] - 1 && r[3] <= list[3] + 1).length;
  return {
    tiles: tiles.length, cut, outside, overlaps, halfRows, shownRows,
    hotspots: document.querySelectorAll('#wall-hotspots .hotspot').length,
    listHeight: list[3] - list[1],
    rowHeights: [...document.querySelectorAll('#wall-hotspots .hotspot')].map(e => box(e)[3] - box(e)[1]),
    between: kpis[3] <= band[1] + 0.5 && band[3] <= main[1] + 0.5,
    columns: tiles.map(t => box(t)[0]).every((x, i) => Math.abs(x - kpiTiles[i]) < 1.5),
    value: Math.min(...[...document.querySelectorAll('#wall-loop .loop-value')]
                        .map(e => parseFloat(getComputedStyle(e).fontSize))),
  };
}"""


def _count(page: Any, ident: str) -> int:
    text = page.inner_text(f"#{ident}").replace(",", "").strip()
    return int(text) if text.isdigit() else 0


def _wait(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout} s")


def _desk(stack: Demo, department: str) -> str:
    return load_endpoints(stack.data_dir / "feeds.toml")[department].url.rsplit("/loop/", 1)[0]


def _whistle(stack: Demo, lead: str, helpers: list[str], at: datetime) -> tuple[int, str]:
    """The demo's duty officer whistles on an open case of its street (the district's leader, who may do
    what a duty officer does, on one of the district's when the street has none open): at ``at``;
    (case id, number)."""
    settings = Settings(data_dir=stack.data_dir)
    engine = make_engine(settings)
    try:
        factory = make_sessionmaker(engine)

        def a_case() -> tuple[str, int, str] | None:
            with factory() as session:
                for username in ("duty", "leader"):
                    user = get_user(session, username)
                    if user is None:
                        continue
                    row = session.execute(
                        select(Case.id, Case.external_id)
                        .where(Case.is_open.is_(True), scope_of(user).clause(Case))
                        .order_by(Case.id.desc())
                    ).first()
                    if row is not None:
                        return username, int(row[0]), str(row[1])
            return None

        username, case_id, number = _wait(a_case, 240, "an open case in the district")
        with transaction(factory) as session:
            actor = get_user(session, username)
            assert actor is not None
            actions.whistle(session, settings, actor, case_id, lead, helpers, TEXT, at, urgency="urgent")
        return case_id, number
    finally:
        engine.dispose()


def test_the_wall_shows_the_loop_and_its_count_rises(stack: Demo, page_and_log: tuple[Any, PageLog]) -> None:
    page, log = page_and_log
    _wait_ready(page, stack)
    page.wait_for_selector("#wall-loop-today-whistle", timeout=30000)
    before = _count(page, "wall-loop-today-whistle")

    # a 吹哨 now: delivered by the workers to the desks, which bumps the loop's version
    _whistle(stack, "police", ["city_management"], datetime.now(UTC))
    page.wait_for_function(
        "n => parseInt(document.querySelector('#wall-loop-today-whistle').textContent.replace(/,/g, '')) > n",
        arg=before,
        timeout=90000,
    )
    assert _count(page, "wall-loop-today-whistle") == before + 1
    assert _count(page, "wall-loop-year-whistle") >= before + 1

    # a 吹哨 half an hour ago that police cannot take (its desk answers 500): 超时未报到 at the
    # deadlines job's next run — red on the band, named on the ticker
    desk = _desk(stack, "police")
    assert httpx.post(
        f"{desk}/loop/_faults", json={"mode": "error500", "seconds": 180}, timeout=10
    ).is_success
    try:
        late_at = datetime.now(UTC) - timedelta(minutes=31)
        # it counts for today only when it was today in Asia/Shanghai (not between 16:00 and 16:31 UTC)
        today = ZoneInfo("Asia/Shanghai")
        late_today = late_at.astimezone(today).date() == datetime.now(today).date()
        _case_id, number = _whistle(stack, "police", [], late_at)
        chip = page.locator("#wall-ticker .ticker-loop .ticker-text", has_text=number)
        chip.first.wait_for(timeout=120000)
        page.wait_for_selector("#wall-loop .loop-overdue_now.loop-alarm", timeout=30000)
        assert _count(page, "wall-loop-now-overdue_now") >= 1
        words = chip.first.inner_text()
        assert "吹哨（牵头）" in words and "超时" in words and "公安" in words, words
        assert _count(page, "wall-loop-today-whistle") == before + 1 + int(late_today)

        shown = page.inner_text("#wall-root")
        assert "13912345678" not in shown and "到场处置" not in shown  # the text never reaches the wall
        for word in ("吹哨", "交办", "报到率", "平均报到（分钟）", "超时未报到", "未送达"):
            assert word in page.inner_text("#wall-loop"), word

        page.wait_for_timeout(2500)  # let clusters, labels and charts settle for the picture
        screenshot(page, "wall")
        at = page.evaluate(LAYOUT)
        assert at["tiles"] == 6 and at["columns"] and at["between"], at
        assert at["cut"] == [] and at["outside"] == [] and at["overlaps"] == [], at
        assert at["halfRows"] == 0 and at["shownRows"] >= min(3, at["hotspots"]), at
        assert at["value"] >= 0.034 * 1080, at  # 3.5 % of the height at least: read across the room
        _no_scrollbars(page)
    finally:
        httpx.post(f"{desk}/loop/_faults", json={"mode": "none"}, timeout=10)
    log.assert_clean()
