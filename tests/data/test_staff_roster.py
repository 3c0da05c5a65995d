"""``gridcc staff load|export`` through the real command (all or nothing), and the 网格力量 query."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from data.auth import audit_rows
from data.models import GridStaff
from data.queries import AreaScope, grid_force
from data.roster import load_roster
from gridcc.cli import main
from tests.data.helpers import Units, build_units


@pytest.fixture
def units(session_factory: sessionmaker[Session]) -> Units:
    with session_factory() as session, session.begin():
        return build_units(session)  # 2 streets × 2 communities × 2 grids, a worker and a chief each


def _env(database_url: str, tmp_path: Path, lang: str = "en") -> dict[str, str]:
    """The command's environment; the report in English unless ``lang`` says otherwise."""
    data_dir = str(tmp_path / "var")
    return {"GRIDCC_DATABASE_URL": database_url, "GRIDCC_DATA_DIR": data_dir, "GRIDCC_LANGUAGE": lang}


def _staff(factory: sessionmaker[Session]) -> list[tuple[str, str, str, str | None, bool]]:
    with factory() as session:
        rows = session.execute(
            select(
                GridStaff.unit_code, GridStaff.role, GridStaff.name, GridStaff.phone, GridStaff.synthetic
            ).order_by(GridStaff.unit_code, GridStaff.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# The report of the bad roster below, in each language: each bad row with its number and reason.
BAD_ROSTER = {
    "en": [
        "ERROR   row 3 (grid {g0}): bad phone '1381234': an 11-digit mobile or a landline",
        "ERROR   row 4 (grid 500151999999999): unknown grid code '500151999999999': "
        "no such grid in the database",
        "ERROR   row 5 (grid {g0}): duplicate: 张伟 is already 网格员 of this grid on row 2",
        "ERROR   row 6 (grid {g1}): missing name",
        "ERROR   row 7 (grid {g1}): unknown role '组长': 网格员, 网格长 or 网格党支部",
        "{path}: 5 error(s) in 7 rows; nothing loaded",
    ],
    "zh-CN": [
        "错误  第 3 行（网格 {g0}）：电话「1381234」不正确：应为 11 位手机号或固定电话",
        "错误  第 4 行（网格 500151999999999）：未知网格编码「500151999999999」：数据库中没有这个网格",
        "错误  第 5 行（网格 {g0}）：重复：张伟已在第 2 行登记为本网格的网格员",
        "错误  第 6 行（网格 {g1}）：缺少姓名",
        "错误  第 7 行（网格 {g1}）：未知角色「组长」：应为网格员、网格长或网格党支部",
        "{path}：7 行中有 5 处错误，未导入任何数据",
    ],
}
NO_PHONE_COLUMN = {
    "en": "ERROR   file: missing required column(s): phone (电话/手机/手机号/联系电话)",
    "zh-CN": "错误  文件：缺少必填列：电话/手机/手机号/联系电话（phone）",
}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_bad_roster_reports_every_bad_row_and_loads_nothing(
    units: Units, session_factory: sessionmaker[Session], database_url: str, tmp_path: Path, lang: str
) -> None:
    """Every bad row with its number and reason, in GRIDCC_LANGUAGE (today's English words in ``en``);
    the report keeps each reason's code; nothing is written."""
    before = _staff(session_factory)
    g = units.grids
    bad = _csv(
        tmp_path / "roster.csv",
        ["网格编码", "角色", "姓名", "电话", "所属党支部"],
        [
            [g[0], "网格员", "张伟", "13812345678", "一支部"],  # good
            [g[0], "网格长", "李娜", "1381234", ""],  # bad phone
            ["500151999999999", "网格员", "王强", "13912345678", ""],  # unknown grid code
            [g[0], "网格员", "张伟", "13812345678", ""],  # duplicate of row 2
            [g[1], "网格员", "", "13912345670", ""],  # missing name
            [g[1], "组长", "赵敏", "13912345671", ""],  # unknown role
            [g[2], "grid_chief", "孙丽", "023-65432100", ""],  # good: a landline, a role code
        ],
    )
    result = CliRunner().invoke(main, ["staff", "load", str(bad)], env=_env(database_url, tmp_path, lang))
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        line.format(g0=g[0], g1=g[1], path=bad) for line in BAD_ROSTER[lang]
    ]
    assert _staff(session_factory) == before
    with session_factory() as session:
        report = load_roster(session, bad)
    assert [(i.row, i.key, i.reason) for i in report.errors] == [
        (3, g[0], "bad_phone"),
        (4, "500151999999999", "unknown_grid"),
        (5, g[0], "duplicate_person"),
        (6, g[1], "missing_person_name"),
        (7, g[1], "unknown_role"),
    ]

    no_phone = _csv(tmp_path / "no_phone.csv", ["grid_code", "role", "name"], [[g[0], "网格员", "张伟"]])
    result = CliRunner().invoke(
        main, ["staff", "load", str(no_phone)], env=_env(database_url, tmp_path, lang)
    )
    assert result.exit_code == 1
    assert NO_PHONE_COLUMN[lang] in result.output.splitlines()
    assert _staff(session_factory) == before


def test_a_good_roster_replaces_the_staff_of_its_grids_and_exports_back(
    units: Units, session_factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    g = units.grids
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["网格编码", "角色", "姓名", "手机号", "所属党支部"])
    sheet.append([int(g[0]), "网格员", "张伟", 13812345678, "巴川一支部"])  # numbers, as Excel keeps them
    sheet.append([g[1], "网格员", "张伟", "138 1234 5678", "巴川一支部"])  # one worker over two grids
    sheet.append([g[1], "网格长", "李娜", "+8613912345678", ""])
    sheet.append([g[2], "网格长", "孙丽", "023-65432100", ""])  # a grid left with no worker
    sheet.append([g[2], "网格党支部", "巴川二支部", "", ""])
    path = tmp_path / "roster.xlsx"
    book.save(path)
    env = _env(database_url, tmp_path)
    result = CliRunner().invoke(main, ["staff", "load", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"{path}: 5 staff rows, 7 loaded, 6 replaced"
    staff = _staff(session_factory)
    assert [s for s in staff if s[0] in g[:3]] == [
        (g[0], "grid_worker", "张伟", "13812345678", False),
        (g[0], "party_branch", "巴川一支部", None, False),
        (g[1], "grid_worker", "张伟", "13812345678", False),
        (g[1], "grid_chief", "李娜", "13912345678", False),
        (g[1], "party_branch", "巴川一支部", None, False),
        (g[2], "grid_chief", "孙丽", "023-65432100", False),
        (g[2], "party_branch", "巴川二支部", None, False),
    ]
    assert [s[4] for s in staff if s[0] == g[3]] == [True, True]  # other grids keep their staff
    with session_factory() as session:
        (entry,) = audit_rows(session, action="staff_load")
        assert (entry.actor, entry.target) == ("cli", "file:roster.xlsx")

        force = grid_force(session, AreaScope.district(units.district))
        first = force.streets[0]
        assert (first.street_code, first.street_name) == (units.streets[0], units.names[units.streets[0]])
        # street 1: grids 0-3; workers 张伟 (grids 0, 1) and 网格员4; chiefs 李娜, 孙丽, 网格长4
        assert (first.grids, first.workers, first.chiefs, first.branches) == (4, 2, 3, 2)
        assert (first.grids_without_worker, first.workers_over_grids, first.synthetic) == (1, 1, False)
        assert force.streets[1].synthetic and force.streets[1].grids_without_worker == 0
        assert (force.total.grids, force.total.workers, force.total.grids_without_worker) == (8, 6, 1)
        assert force.grids_without_worker == [g[2]]
        assert force.workers_over_grids == [("张伟", [g[0], g[1]])]
        assert grid_force(session, AreaScope.of(units.streets[1])).workers_over_grids == []

    out = tmp_path / "export.csv"
    result = CliRunner().invoke(
        main, ["staff", "export", "--area", units.streets[0], "-o", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    exported = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert exported[0] == ["grid_code", "grid_name", "role", "name", "phone", "party_branch"]
    assert exported[1] == [g[0], units.names[g[0]], "网格员", "张伟", "13812345678", "巴川一支部"]
    assert len(exported) == 1 + 7 + 2
    before = _staff(session_factory)
    result = CliRunner().invoke(main, ["staff", "load", str(out)], env=env)  # the export loads back
    assert result.exit_code == 0, result.output
    assert sorted(s[:4] for s in _staff(session_factory)) == sorted(s[:4] for s in before)

    xlsx = tmp_path / "export.xlsx"
    result = CliRunner().invoke(main, ["staff", "export", "-o", str(xlsx)], env=env)
    assert result.exit_code == 0, result.output
    rows = list(load_workbook(xlsx).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("grid_code", "grid_name", "role", "name", "phone", "party_branch")
    assert len(rows) == 1 + 7 + 2 + 4 * 2
