"""The risk ledger: create, edit, reassign and 销号 in scope (audited); ``gridcc risks load|export``
through the real command (all or nothing); the overdue query; the demo's ledger."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from data import text
from data.auth import NotPermitted, audit_rows, create_user, scope_of
from data.ledger import (
    RiskError,
    RiskFields,
    RiskNotFound,
    close_risk,
    create_risk,
    edit_risk,
    load_ledger,
    reassign_risk,
)
from data.models import RISK_KINDS, Risk, UserAccount
from data.queries import AreaScope, overdue_risks, risk_counts, risks
from data.sample import demo_ledger
from gridcc.cli import main
from tests.data.helpers import Units, build_units

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
DAY = timedelta(days=1)
PASSWORD = "correct horse 9"


@pytest.fixture
def units(session_factory: sessionmaker[Session]) -> Units:
    with session_factory() as session, session.begin():
        u = build_units(session)  # 2 streets × 2 communities × 2 grids
        create_user(session, "duty1", PASSWORD, "duty", u.streets[0])
        create_user(session, "wall1", PASSWORD, "wall", u.streets[0])
        return u


def _user(session: Session, name: str) -> UserAccount:
    return session.scalars(select(UserAccount).where(UserAccount.username == name)).one()


def _fields(area: str, **kw: object) -> RiskFields:
    values: dict[str, object] = {
        "kind": "public_safety",
        "level": "high",
        "title": "老旧小区燃气管道老化",
        "area_code": area,
        "owner": "巴川街道应急办",
        "owner_person": "张伟",
        "owner_phone": "13812345678",
        "due_at": NOW + 30 * DAY,
        "measures": "设置警示标识，专人巡查",
    }
    values.update(kw)
    return RiskFields(**values)  # type: ignore[arg-type]


def test_create_edit_reassign_and_close_in_scope_audited(
    units: Units, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        duty, wall = _user(session, "duty1"), _user(session, "wall1")
        scope = scope_of(duty)
        risk = create_risk(session, scope, _fields(units.grids[0]), duty, NOW)
        assert (risk.ref, risk.grid_code, risk.created_by) == (f"FX{risk.id:06d}", units.grids[0], "duty1")
        assert (risk.lon, risk.lat) == units.centre(units.grids[0])  # on the map at its grid's centre
        late = create_risk(
            session, scope, _fields(units.communities[0], ref="FX-2026-7", due_at=NOW - DAY), duty, NOW
        )
        with pytest.raises(RiskError, match="in scope"):  # street B is not the duty officer's
            create_risk(session, scope, _fields(units.grids[5]), duty, NOW)
        with pytest.raises(RiskError, match="bad phone"):
            create_risk(session, scope, _fields(units.grids[0], owner_phone="12345"), duty, NOW)
        with pytest.raises(RiskError, match="taken"):
            create_risk(session, scope, _fields(units.grids[0], ref="FX-2026-7"), duty, NOW)
        with pytest.raises(NotPermitted):
            create_risk(session, scope, _fields(units.grids[0]), wall, NOW)
        risk_id, late_id = risk.id, late.id

    with session_factory() as session, session.begin():
        duty = _user(session, "duty1")
        scope = scope_of(duty)
        rows = overdue_risks(session, scope, NOW)
        assert [(r.id, r.ref, r.owner_phone) for r in rows] == [(late_id, "FX-2026-7", "138****5678")]
        assert overdue_risks(session, scope, NOW, full_phones=True)[0].owner_phone == "13812345678"
        assert overdue_risks(session, AreaScope.of(units.streets[1]), NOW) == []

        edit_risk(session, scope, risk_id, duty, NOW + DAY, level="medium", area_code=units.grids[1])
        reassign_risk(session, scope, risk_id, duty, NOW + DAY, "巴川街道规建办", "李娜", "023-65432100")
        with pytest.raises(RiskError, match="evidence is required"):
            close_risk(session, scope, late_id, duty, NOW + DAY, "已更换管道", "")
        closed = close_risk(session, scope, late_id, duty, NOW + DAY, "已更换管道", "整改前后对比照片")
        assert (closed.closed_by, closed.evidence) == ("duty1", "整改前后对比照片")
        with pytest.raises(RiskError, match="closed"):
            edit_risk(session, scope, late_id, duty, NOW + DAY, title="x")
        with pytest.raises(RiskNotFound):
            close_risk(session, AreaScope.of(units.streets[1]), risk_id, duty, NOW, "m", "e")

    with session_factory() as session:
        risk = session.get(Risk, risk_id)
        assert risk is not None
        assert (risk.level, risk.grid_code, risk.owner, risk.owner_person) == (
            "medium",
            units.grids[1],
            "巴川街道规建办",
            "李娜",
        )
        assert overdue_risks(session, AreaScope.of(units.streets[0]), NOW + DAY) == []  # 销号: off /overdue
        actions = [(r.action, r.target) for r in reversed(audit_rows(session, actor="duty1"))]
        assert [a for a, _ in actions] == ["risk_add", "risk_add", "risk_edit", "risk_assign", "risk_close"]
        assert actions[-1][1] == f"risk:{late_id}"


def _env(database_url: str, tmp_path: Path, lang: str = "en") -> dict[str, str]:
    """The command's environment; the report in English unless ``lang`` says otherwise."""
    data_dir = str(tmp_path / "var")
    return {"GRIDCC_DATABASE_URL": database_url, "GRIDCC_DATA_DIR": data_dir, "GRIDCC_LANGUAGE": lang}


HEADER = [
    "台账编号",
    "风险类别",
    "风险等级",
    "风险名称",
    "网格编码",
    "责任单位",
    "责任人",
    "联系电话",
    "管控措施",
    "销号时限",
]


def _count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Risk)) or 0


def test_a_bad_ledger_reports_every_bad_row_and_loads_nothing(
    units: Units, session_factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    g = units.grids
    path = tmp_path / "ledger.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(
            [
                [
                    "FX-1",
                    "公共安全",
                    "高",
                    "燃气管道老化",
                    g[0],
                    "应急办",
                    "张伟",
                    "13812345678",
                    "巡查",
                    "2026-04-30",
                ],
                [
                    "FX-2",
                    "社会矛盾",
                    "中",
                    "物业纠纷",
                    g[1],
                    "居委会",
                    "李娜",
                    "1381234",
                    "调解",
                    "2026-04-30",
                ],
                [
                    "FX-3",
                    "社会治安",
                    "低",
                    "夜市治安",
                    "500151999999999",
                    "派出所",
                    "王强",
                    "",
                    "巡逻",
                    "2026-04-30",
                ],
                ["FX-1", "网络安全", "高", "网络舆情", g[2], "党政办", "赵敏", "", "值守", "2026-04-30"],
                ["FX-5", "天气", "特高", "", g[2], "党政办", "赵敏", "", "", "明天"],
            ]
        )
    result = CliRunner().invoke(main, ["risks", "load", str(path)], env=_env(database_url, tmp_path))
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[:-1] == [
        "ERROR   row 3 (FX-2): bad phone '1381234': an 11-digit mobile or a landline",
        "ERROR   row 4 (FX-3): unknown grid code '500151999999999': "
        "no street, community or grid in the database",
        "ERROR   row 5 (FX-1): duplicate of row 2",
        "ERROR   row 6 (FX-5): unknown kind '天气': 政治安全, 社会治安, 社会矛盾, 公共安全 or 网络安全",
        "ERROR   row 6 (FX-5): unknown level '特高': 高, 中 or 低",
        "ERROR   row 6 (FX-5): missing title",
        "ERROR   row 6 (FX-5): bad 销号 date '明天': like 2026-03-31",
    ]
    assert lines[-1] == f"{path}: 7 error(s) in 5 rows; nothing loaded"
    assert _count(session_factory) == 0
    with session_factory() as session:
        report = load_ledger(session, path)
    assert [(i.row, i.key, i.reason, dict(i.values)) for i in report.errors] == [
        (3, "FX-2", "bad_phone", {"phone": "1381234"}),
        (4, "FX-3", "unknown_area", {"area": "500151999999999"}),
        (5, "FX-1", "duplicate_row", {"first": 2}),
        (6, "FX-5", "unknown_kind", {"kind": "天气"}),
        (6, "FX-5", "unknown_level", {"level": "特高"}),
        (6, "FX-5", "missing_title", {}),
        (6, "FX-5", "bad_due", {"due": "明天"}),
    ]
    result = CliRunner().invoke(main, ["risks", "load", str(path)], env=_env(database_url, tmp_path, "zh-CN"))
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        "错误  第 3 行（FX-2）：电话「1381234」不正确：应为 11 位手机号或固定电话",
        "错误  第 4 行（FX-3）：未知区域编码「500151999999999」：数据库中没有这个镇街、社区或网格",
        "错误  第 5 行（FX-1）：与第 2 行重复",
        "错误  第 6 行（FX-5）：未知风险类别「天气」：应为政治安全、社会治安、社会矛盾、公共安全或网络安全",
        "错误  第 6 行（FX-5）：未知风险等级「特高」：应为高、中或低",
        "错误  第 6 行（FX-5）：缺少标题",
        "错误  第 6 行（FX-5）：销号时限「明天」不正确：应写成 2026-03-31 这样的日期",
        f"{path}：5 行中有 7 处错误，未导入任何数据",
    ]
    assert _count(session_factory) == 0

    missing = tmp_path / "missing.csv"
    missing.write_text(",".join(HEADER[:-1]) + "\nFX-1,公共安全,高,x," + g[0] + ",a,b,,c\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["risks", "load", str(missing)], env=_env(database_url, tmp_path))
    assert result.exit_code == 1
    assert "ERROR   file: missing required column(s): due (销号时限/销号期限/期限/due_at)" in result.output
    assert _count(session_factory) == 0


def test_a_good_ledger_loads_exports_and_loads_back_as_updates(
    units: Units, session_factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    g = units.grids
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([*HEADER, "销号日期", "销号佐证"])
    sheet.append(
        [
            "FX-1",
            "公共安全",
            "重大",
            "燃气管道老化",
            int(g[0]),
            "应急办",
            "张伟",
            13812345678,
            "巡查",
            datetime(2026, 2, 1),
        ]
    )
    sheet.append(
        [
            "",
            "网络安全类",
            "一般",
            "网络舆情",
            units.communities[2],
            "党政办",
            "赵敏",
            "",
            "值守",
            "2026/6/30",
        ]
    )
    sheet.append(
        [
            "FX-3",
            "political",
            "medium",
            "重点人员",
            g[1],
            "政法委",
            "孙丽",
            "",
            "走访",
            "2026-01-31",
            "2026-01-20",
            "走访记录",
        ]
    )
    path = tmp_path / "ledger.xlsx"
    book.save(path)
    env = _env(database_url, tmp_path)
    result = CliRunner().invoke(main, ["risks", "load", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"{path}: 3 risks rows, 3 loaded"
    with session_factory() as session:
        rows = risks(session, AreaScope.district(units.district), NOW, include_closed=True)
        assert [(r.ref, r.kind, r.level, r.overdue, r.is_closed) for r in rows] == [
            ("FX-1", "public_safety", "high", True, False),  # due 2026-02-01 (end of that day in China)
            (rows[1].ref, "cyber", "low", False, False),
            ("FX-3", "political", "medium", False, True),
        ]
        assert rows[1].ref.startswith("FX0") and rows[1].street_name == units.names[units.streets[1]]
        assert rows[0].due_at == datetime(2026, 2, 1, 15, 59, 59, tzinfo=UTC)
        assert [
            (r.ref, r.days_left is not None)
            for r in overdue_risks(session, AreaScope.district(units.district), NOW)
        ] == [("FX-1", True)]
        counts = {
            c.kind: (c.open, c.overdue, c.high)
            for c in risk_counts(session, AreaScope.district(units.district), NOW)
        }
        assert counts == {
            "political": (0, 0, 0),
            "public_order": (0, 0, 0),
            "social_conflict": (0, 0, 0),
            "public_safety": (1, 1, 1),
            "cyber": (1, 0, 0),
        }
        (entry,) = audit_rows(session, action="risks_load")
        assert entry.detail == "ledger.xlsx: 3 added, 0 updated"
        before = {
            r.id: (r.ref, r.kind, r.level, r.title, r.due_at, r.closed_at, r.lon, r.lat)
            for r in session.scalars(select(Risk))
        }

    out = tmp_path / "export.csv"
    result = CliRunner().invoke(main, ["risks", "export", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    exported = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert exported[0][:5] == ["ref", "kind", "level", "title", "area_code"]
    assert exported[1][:5] == ["FX-1", "公共安全", "高", "燃气管道老化", g[0]]
    result = CliRunner().invoke(main, ["risks", "load", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"{out}: 3 risks rows, 3 loaded, 3 replaced"
    with session_factory() as session:
        after = {
            r.id: (r.ref, r.kind, r.level, r.title, r.due_at, r.closed_at, r.lon, r.lat)
            for r in session.scalars(select(Risk))
        }
    assert after == before

    xlsx = tmp_path / "open.xlsx"
    result = CliRunner().invoke(
        main, ["risks", "export", "--open", "--area", units.streets[0], "-o", str(xlsx)], env=env
    )
    assert result.exit_code == 0, result.output
    sheet_rows = list(load_workbook(xlsx).worksheets[0].iter_rows(values_only=True))
    assert [r[0] for r in sheet_rows] == ["ref", "FX-1"]


def test_the_demo_ledger_covers_the_five_kinds_with_some_overdue(
    units: Units, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        assert demo_ledger(session, units.district, NOW) == 36
    with session_factory() as session:
        scope = AreaScope.district(units.district)
        rows = risks(session, scope, NOW, include_closed=True)
        assert {r.kind for r in rows} == set(RISK_KINDS)
        closed = [r for r in rows if r.is_closed]
        overdue = overdue_risks(session, scope, NOW)
        assert closed and all(r.evidence and r.measures for r in closed)
        assert 3 <= len(overdue) < len(rows) // 2
        assert all(r.owner and r.owner_person and r.owner_phone for r in rows)
        assert len({r.ref for r in rows}) == 36


def test_the_demo_seeds_its_ledger_on_the_first_start_only(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from data.db import make_engine, make_sessionmaker
    from data.settings import Settings
    from gridcc.cli.serve import prepare_database

    settings = Settings(data_dir=tmp_path / "var", database_url=database_url)
    prepare_database(settings)
    prepare_database(settings)
    seeded = text.t("cli_demo_seeded_risks", settings.language, n=36)
    assert capsys.readouterr().out.count(seeded) == 1
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            scope = AreaScope.district(settings.default_district)
            assert len(risks(session, scope, datetime.now(UTC), include_closed=True)) == 36
            assert overdue_risks(session, scope, datetime.now(UTC))
    finally:
        engine.dispose()
