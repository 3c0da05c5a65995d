"""``/reports`` in real Chromium against the demo stack, signed in as the district's leader: the week's
report on screen, its XLSX downloaded through the page's link and opened with openpyxl (every KPI equal
to the page's), the print view printed to an A4 PDF whose first page, rendered by ``pdftoppm``, is not
blank and whose text names the area and the KPIs; the controls move to another period; a screenshot.

The week is one a month back: the demo's simulators keep adding cases now, and a past week's cohort no
longer moves between reading the page and downloading the file.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from data.text import t
from tests.browser.conftest import http_client, screenshot, sign_in_as

ZH = "zh-CN"


def _week_day() -> str:
    return ((datetime.now(UTC) + timedelta(hours=8)).date() - timedelta(days=28)).isoformat()


def _pgm(path: Path) -> tuple[int, int, bytes]:
    """Width, height and pixels of a binary PGM (``pdftoppm -gray``'s output)."""
    data = path.read_bytes()
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P5", fields[0]
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[pos + 1 : pos + 1 + width * height]


def _page_figures(page: Any) -> dict[str, float | None]:
    cells = page.locator("#report-kpis td[data-key]")
    out: dict[str, float | None] = {}
    for i in range(cells.count()):
        cell = cells.nth(i)
        raw = cell.get_attribute("data-value") or ""
        out[cell.get_attribute("data-key") or ""] = float(raw) if raw else None
    return out


def test_the_weeks_report_on_screen_in_excel_and_on_a4(stack, page_and_log, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing: install Debian's poppler-utils (scripts/test does)")
    page, log = page_and_log
    sign_in_as(page, stack, "leader")
    page.goto(f"{stack.url}reports?period=week&date={_week_day()}")
    page.wait_for_selector("#report-kpis td[data-key='received']", timeout=60000)
    head = page.locator(".report-head")
    assert head.get_attribute("data-period") == "week"
    first = head.get_attribute("data-first") or ""
    assert datetime.fromisoformat(first).weekday() == 0  # weeks start on Monday
    figures = _page_figures(page)
    assert figures["received"] and figures["received"] > 0, figures
    assert page.locator("#report-units tbody tr").count() >= 2  # the district's streets
    assert page.locator("#report-levels td[data-level]").count() == 3

    # the XLSX, through the page's own link
    with page.expect_download() as info:
        page.locator("#report-xlsx").click()
    xlsx = tmp_path / "week.xlsx"
    info.value.save_as(str(xlsx))
    book = load_workbook(xlsx)
    summary = book[t("report_sheet_summary", ZH)]
    rows = {r[0]: r[1] for r in summary.iter_rows(values_only=True) if r and r[0]}
    for key, value in figures.items():
        cell = rows[t(f"report_kpi_{key}", ZH)]
        if value is None:
            assert cell == "—", (key, cell)
        else:
            assert cell == pytest.approx(value), (key, cell, value)
    assert len(book.worksheets[1]._charts) == 1  # the streets' bar chart, native

    # the print view, printed by Chromium to A4
    href = page.locator("#report-print").get_attribute("href") or ""
    assert href.startswith("/reports/print?")
    printer = page.context.new_page()
    printer.goto(stack.url.rstrip("/") + href)
    printer.wait_for_selector("section.report-kpis td[data-key='received']")
    printed = {
        c.get_attribute("data-key"): c.get_attribute("data-value")
        for c in printer.locator("section.report-kpis td[data-key]").all()
    }
    assert {k: (float(v) if v else None) for k, v in printed.items()} == figures
    printer.emulate_media(media="print")
    pdf = tmp_path / "week.pdf"
    pdf.write_bytes(printer.pdf(format="A4", print_background=True))
    printer.close()
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "40", "-gray", str(pdf), str(tmp_path / "p")],
                   check=True, timeout=60)  # fmt: skip
    width, height, pixels = _pgm(next(tmp_path.glob("p*.pgm")))
    assert abs(width / height - 210 / 297) < 0.01, (width, height)  # A4 portrait
    inked = sum(1 for p in pixels if p < 200) / len(pixels)
    assert 0.01 < inked < 0.6, inked  # neither blank nor a black page
    if shutil.which("pdftotext"):
        words = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True,
                               text=True, check=True, timeout=60).stdout  # fmt: skip
        assert t("report_kpi_received", ZH) in words and t("report_mom", ZH) in words

    # the controls: another period, through the 生成报表 link
    page.get_by_text(t("report_kind_month", ZH), exact=True).click()
    page.wait_for_function(
        "() => (document.getElementById('report-go').getAttribute('href') || '').includes('period=month')"
    )
    page.locator("#report-go").click()
    page.wait_for_selector(".report-head[data-period='month']", timeout=60000)
    page.goto(f"{stack.url}reports?period=week&date={_week_day()}")
    page.wait_for_selector("#report-kpis td[data-key='received']", timeout=60000)
    page.wait_for_timeout(500)
    screenshot(page, "reports")
    log.assert_clean()


def test_a_street_area_of_the_district_and_a_forged_one(stack, page_and_log) -> None:  # type: ignore[no-untyped-def]
    page, log = page_and_log
    sign_in_as(page, stack, "leader")
    page.goto(f"{stack.url}reports?period=week&date={_week_day()}")
    page.wait_for_selector("#report-units td[data-code]", timeout=60000)
    streets = [c.get_attribute("data-code") or "" for c in page.locator("#report-units td[data-code]").all()]
    assert len(streets) >= 2 and all(len(c) == 9 for c in streets)
    page.goto(f"{stack.url}reports?area={streets[1]}&period=week&date={_week_day()}")
    page.wait_for_selector(f".report-head[data-area='{streets[1]}']", timeout=60000)
    communities = [
        c.get_attribute("data-code") or "" for c in page.locator("#report-units td[data-code]").all()
    ]
    assert communities and all(c.startswith(streets[1]) and len(c) == 12 for c in communities)
    forged = page.request.get(f"{stack.url}reports/report.xlsx?area=500152&period=week")  # another district
    assert forged.status == 403 and t("report_refused_area", ZH) in forged.text()
    log.assert_clean()
    # the demo's duty officer holds one street: its own report comes, any other street's is refused
    duty = http_client(stack, "duty")
    own = duty.get("/reports/report.xlsx", params={"period": "week"})
    assert own.status_code == 200
    mine = next(c for c in streets if f"-{c}-" in own.headers["content-disposition"])
    for other in [c for c in streets if c != mine][:3] + [mine[:6]]:
        answer = duty.get("/reports/report.xlsx", params={"period": "week", "area": other})
        assert answer.status_code == 403, other
        assert duty.get("/reports/print", params={"period": "week", "area": other}).status_code == 403
