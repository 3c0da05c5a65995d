"""The risk ledger in real Chromium against the shared demo stack, signed in as the first street's duty
officer: create a risk in the dialog and see it in the table and on the map (挂图作战), 销号 it (gone
from the map, closed in the table), import a ledger (a bad file shows every bad row and loads nothing;
a good one loads), and the imported overdue risk is on /overdue. Screenshot ``screenshots/risks.png``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from data.db import make_engine
from data.models import AdminUnit, Risk
from tests.browser.conftest import KEEP_MAPS, screenshot, sign_in_as

STREET = "500151001"
ON_MAP = """
id => (window.__maps || []).some(m => {
  let found = false;
  m.eachLayer(l => { if (l.feature && l.feature.properties && l.feature.properties.id === id
                         && l.feature.properties.kind) { found = true; } });
  return found;
})
"""


def _rows(database_url: str, query: Any) -> Any:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(query).all()
    finally:
        engine.dispose()


def _pick(page: Any, selector: str, text: str | None = None) -> None:
    page.click(selector)
    options = page.get_by_role("option")
    if text is not None:
        options = options.filter(has_text=text)
    options.first.wait_for(timeout=15000)
    options.first.click()


def test_a_duty_officer_keeps_the_ledger_on_the_map(stack, page_and_log, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page, log = page_and_log
    page.add_init_script(KEEP_MAPS)
    sign_in_as(page, stack, "duty")
    page.goto(f"{stack.url}risks")
    page.wait_for_selector("#risks-new", state="visible", timeout=60000)
    mark = uuid.uuid4().hex[:6]
    # 登记: the dialog, its place within the officer's street
    page.click("#risks-new")
    page.wait_for_selector("#risks-dialog .desk-dialog", state="visible", timeout=30000)
    _pick(page, "#risks-f-kind", "公共安全")
    _pick(page, "#risks-f-level", "高")
    _pick(page, "#risks-f-street")
    _pick(page, "#risks-f-community")
    page.fill("#risks-f-title", f"老旧小区燃气管道老化 {mark}")
    page.fill("#risks-f-due", (datetime.now(UTC) + timedelta(days=30)).date().isoformat())
    page.fill("#risks-f-owner", "巴川街道应急办")
    page.fill("#risks-f-person", "李强")
    page.fill("#risks-f-phone", "13912345678")
    page.fill("#risks-f-measures", "设置警示标识，专人每日巡查")
    page.click("#risks-submit")
    page.wait_for_selector("#risks-result:has-text('已登记风险')", timeout=30000)
    assert page.locator("#risks-dialog").is_hidden()
    ((risk_id, street),) = _rows(
        stack.database_url, select(Risk.id, Risk.street_code).where(Risk.title.contains(mark))
    )
    assert street == STREET
    row = page.locator(f"tr.risks-row[data-risk='{risk_id}']")
    row.wait_for(timeout=30000)
    assert "13912345678" in row.inner_text() and row.get_attribute("data-state") == "open"
    page.wait_for_function(ON_MAP, arg=risk_id, timeout=30000)  # 挂图作战: on the map
    page.wait_for_timeout(800)
    screenshot(page, "risks")
    # 销号 with the measures taken and the evidence
    row.locator("button.risks-act-close").click()
    page.wait_for_selector("#risks-dialog.mode-close .desk-dialog", state="visible", timeout=30000)
    page.click("#risks-submit")  # empty evidence: refused in words
    page.wait_for_selector("#risks-message:has-text('请填写销号佐证')", timeout=30000)
    page.fill("#risks-f-done", "已整体更换燃气管道")
    page.fill("#risks-f-evidence", "燃气公司验收单 2026-031")
    page.click("#risks-submit")
    page.wait_for_selector("#risks-result:has-text('已销号')", timeout=30000)
    page.wait_for_selector(f"tr.risks-row[data-risk='{risk_id}'][data-state='closed']", timeout=30000)
    page.wait_for_function(f"id => !({ON_MAP})(id)", arg=risk_id, timeout=30000)  # gone from the map
    # 导入: a bad file (every bad row, nothing loaded), then a good one with an overdue risk
    (grid,) = _rows(
        stack.database_url,
        select(AdminUnit.code).where(AdminUnit.level == "grid", AdminUnit.code.startswith(STREET)).limit(1),
    )[0]
    header = "风险类别,风险等级,风险名称,区划编码,责任单位,责任人,联系电话,管控措施,销号时限\n"
    late_day = (datetime.now(UTC) - timedelta(days=4)).date().isoformat()
    good = f"社会矛盾,高,征地补偿信访积案 {mark},{grid},巴川街道信访办,赵敏,13800001111,包案化解,{late_day}\n"
    bad_file = tmp_path / "台账-错误.csv"
    bad_file.write_text(
        header
        + good
        + f"公共安全,高,坏电话 {mark},{grid},应急办,张三,12345,巡查,2030-01-01\n"
        + f"公共安全,高,未知网格 {mark},500151999999999,应急办,张三,13812345678,巡查,2030-01-01\n"
        + good,
        encoding="utf-8",
    )
    count = func.count()
    before = _rows(stack.database_url, select(count).select_from(Risk))[0][0]
    page.set_input_files("#risks-upload input[type=file]", str(bad_file))
    report = page.locator(".risks-report.is-bad")
    report.wait_for(timeout=30000)
    text = report.inner_text()
    assert "电话「12345」不正确" in text and "未知区域编码「500151999999999」" in text
    assert "与第 2 行重复" in text and "台账-错误.csv" in text
    assert _rows(stack.database_url, select(count).select_from(Risk))[0][0] == before
    good_file = tmp_path / "台账.csv"
    good_file.write_text(header + good, encoding="utf-8")
    page.set_input_files("#risks-upload input[type=file]", str(good_file))
    page.locator(".risks-report.is-ok").wait_for(timeout=30000)
    ((late_id,),) = _rows(stack.database_url, select(Risk.id).where(Risk.title == f"征地补偿信访积案 {mark}"))
    page.wait_for_selector(f"tr.risks-row[data-risk='{late_id}'][data-state='overdue']", timeout=30000)
    # the overdue risk is on /overdue
    page.goto(f"{stack.url}overdue")
    page.locator(f"#overdue-risks [data-risk='{late_id}']").wait_for(timeout=60000)
    assert "超期" in page.locator(f"#overdue-risks [data-risk='{late_id}']").inner_text()
    log.assert_clean()


def test_a_wall_is_told_the_ledger_is_not_its(stack, page_and_log) -> None:  # type: ignore[no-untyped-def]
    from tests.browser.conftest import wall_signed_in

    page, log = page_and_log
    wall_signed_in(page, stack)
    page.goto(f"{stack.url}risks")
    page.wait_for_selector(".risks-denied", timeout=60000)
    assert page.locator(".risks-row").count() == 0 and page.locator("#risks-new").count() == 0
    log.assert_clean()


def test_a_leader_sees_the_grid_force_per_street(stack, page_and_log) -> None:  # type: ignore[no-untyped-def]
    page, log = page_and_log
    sign_in_as(page, stack, "leader")
    page.goto(f"{stack.url}risks?tab=force")
    page.wait_for_selector("#force-summary", timeout=60000)
    summary = page.locator("#force-summary").inner_text()
    assert summary.startswith("共 ") and "网格员" in summary and "党支部" in summary
    rows = page.locator(".force-table tbody tr")
    assert rows.count() >= 2  # the district's streets
    assert page.locator("#force-empty").count() == 1 and page.locator("#force-spread").count() == 1
    page.wait_for_timeout(300)
    screenshot(page, "risks-force")
    log.assert_clean()
