"""``gridcc report --period week --area CODE -o FILE.xlsx``: the seeded week of
:mod:`tests.data.test_queries_reports` written as a workbook, its figures read back with openpyxl; an
unknown area and a bad period refused with exit status 2 and nothing written."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from data.text import t
from gridcc.cli import main
from tests.data.helpers import Units
from tests.data.test_queries_reports import world  # noqa: F401 - the seeded week, a fixture


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"GRIDCC_DATABASE_URL": database_url, "GRIDCC_DATA_DIR": str(tmp_path / "var"),
            "GRIDCC_LANGUAGE": "zh-CN"}  # fmt: skip


def test_the_weekly_report_for_a_scheduled_job(world, database_url, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    session, units = world
    assert isinstance(session, Session) and isinstance(units, Units)
    out = tmp_path / "week.xlsx"
    args = ["report", "--period", "week", "--date", "2026-11-25", "--area", units.district, "-o", str(out)]
    result = CliRunner().invoke(main, args, env=_env(database_url, tmp_path))
    assert result.exit_code == 0, result.output
    assert "2026-11-23 – 2026-11-29" in result.output
    book = load_workbook(out)
    summary = book[t("report_sheet_summary", "zh-CN")]
    rows = {r[0]: r[1:] for r in summary.iter_rows(values_only=True) if r and r[0]}
    received = rows[t("report_kpi_received", "zh-CN")]
    assert received[:4] == (4, 2, "+100.0%", 1)  # this week, the week before, 环比, last year
    assert rows[t("report_kpi_closure_rate", "zh-CN")][0] == 0.75
    assert rows[t("report_level_community", "zh-CN")][:2] == (2, 2 / 3)
    assert len(summary._charts) == 1  # the pie of the levels
    streets = book.worksheets[1]
    assert [r[2] for r in streets.iter_rows(min_row=2, values_only=True)] == [3, 1]


def test_an_unknown_area_or_a_bad_period_writes_nothing(world, database_url, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    out = tmp_path / "x.xlsx"
    env = _env(database_url, tmp_path)
    for args in (["--area", "500199"], ["--area", "abc"], ["--period", "day", "--date", "2999-01-01"]):
        result = CliRunner().invoke(main, ["report", *args, "-o", str(out)], env=env)
        assert result.exit_code == 2, (args, result.output)
        assert not out.exists()
