"""``/risks`` on the real app with sign-in required (the real test database and Redis), its callbacks
posted through Flask's test client as the renderer posts them — with the session's CSRF token, and as an
attacker with a valid session would forge them: another street's risk id or place, a wall account, no
token, the same form twice, bad values in every form; the import's bad files and its good file; the
overdue risks on ``/overdue``; the 网格力量 tab; the wall's chip."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from data.auth import audit_rows, create_user
from data.db import transaction
from data.models import AuditLog, GridStaff, Risk
from data.seed import seed_catalogue
from layers import versions
from tests.dashboard.test_access_scope import post_callback, route
from tests.dashboard.test_auth_web import ADDR, PASSWORD, page_text, sign_in
from tests.layers.hierarchy import STREETS

WEST, EAST = STREETS
NOW = datetime.now(UTC)
DAY = timedelta(days=1)
TOKEN = "0123456789abcdef0123456789abcdef"


def _risk(session: Any, area: str, title: str, due: datetime, **kw: Any) -> Risk:
    risk = Risk(
        ref=kw.pop("ref", None),
        kind=kw.pop("kind", "public_safety"),
        level=kw.pop("level", "high"),
        title=title,
        description="",
        owner="应急办",
        owner_person="张伟",
        owner_phone="13812345678",
        measures="专人巡查",
        evidence="",
        due_at=due,
        created_by="test",
        created_at=NOW,
        modified_at=NOW,
        lon=106.0,
        lat=29.8,
        **kw,
    )
    risk.set_place(area)
    session.add(risk)
    session.flush()
    risk.ref = risk.ref or f"FX{risk.id:06d}"
    return risk


@pytest.fixture
def web(settings, redis_url, redis_conn, engine, session_factory, grids) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from dashboard.app import create_app
    from dashboard.services import services

    with transaction(session_factory) as session:
        seed_catalogue(session)
        west = _risk(session, grids[0], "燃气管道老化", NOW + 30 * DAY)
        late = _risk(session, grids[1], "危岩滑坡隐患", NOW - 3 * DAY, kind="public_order", level="medium")
        east = _risk(session, grids[4], "东城电动车违规充电", NOW + 10 * DAY)
        east_late = _risk(session, grids[5], "东城超期矛盾", NOW - 5 * DAY, kind="social_conflict")
        create_user(session, "street1", PASSWORD, "duty", WEST)
        create_user(session, "leader", PASSWORD, "leader", "500151")
        create_user(session, "wall1", PASSWORD, "wall", "500151")
        create_user(session, "admin1", PASSWORD, "admin", "500151")
        ids = {"west": west.id, "late": late.id, "east": east.id, "east_late": east_late.id}
    versions.bump(redis_conn, ["units", "cases", "alerts", "risks"])
    app = create_app(settings.model_copy(update={"redis_url": redis_url, "auth_required": True}))
    app.server.config["GRIDCC_TEST_IDS"] = ids
    yield app
    services(app.server).close()


def ids_of(web: Any) -> dict[str, int]:
    return dict(web.server.config["GRIDCC_TEST_IDS"])


def client_as(web: Any, username: str) -> Any:
    client = web.server.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDR
    assert sign_in(client, username).status_code == 302
    return client


def body_for(client: Any, trigger: str, values: dict[str, Any]) -> dict[str, Any]:
    """The renderer's request for the callback fired by ``trigger`` (``id.property``), with ``values``."""
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if any(f"{i['id']}.{i['property']}" == trigger for i in d["inputs"]))

    def spec(item: dict[str, Any]) -> dict[str, Any]:
        key = f"{item['id']}.{item['property']}"
        return {"id": item["id"], "property": item["property"], "value": values.get(key)}

    outputs = []
    for part in dep["output"].strip(".").split("..."):
        ident, prop = part.rsplit(".", 1)
        outputs.append({"id": ident, "property": prop.split("@")[0]})
    return {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": [spec(i) for i in dep["inputs"]],
        "state": [spec(s) for s in dep["state"]],
        "changedPropIds": [trigger],
    }


def answer(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.status_code
    return dict(response.get_json()["response"])


def written(session_factory) -> tuple[Any, ...]:  # type: ignore[no-untyped-def]
    with session_factory() as session:
        risks = session.execute(select(Risk).order_by(Risk.id)).scalars().all()
        audit = session.scalar(select(func.count()).select_from(AuditLog)) or 0
        shape = tuple(
            (r.id, r.title, r.owner, r.owner_person, r.owner_phone, r.closed_at, r.due_at, r.kind, r.level)
            for r in risks
        )
        return (shape, audit)


CREATE = {
    "risks-f-kind.value": "public_safety",
    "risks-f-level.value": "high",
    "risks-f-title.value": "老旧小区燃气管道<script>alert(1)</script>",
    "risks-f-street.value": WEST,
    "risks-f-community.value": WEST + "001",
    "risks-f-due.value": (NOW + 20 * DAY).date().isoformat(),
    "risks-f-owner.value": "巴川街道应急办",
    "risks-f-person.value": "李强",
    "risks-f-phone.value": "139-1234-5678",
    "risks-f-measures.value": "设置警示标识",
    "risks-submit.n_clicks": 1,
}


def submit(
    client: Any,
    mode: str,
    risk: int | str | None,
    changes: dict[str, Any],
    csrf: bool = True,
    token: str | None = None,
) -> Any:
    values = {**CREATE, **changes, "risks-mode.data": {"mode": mode, "risk": risk}, "risks-token.data": token}
    values = {k: v for k, v in values.items() if v is not ...}
    return post_callback(client, body_for(client, "risks-submit.n_clicks", values), csrf=csrf)


def message(response: Any) -> str:
    out = answer(response)
    return str(out.get("risks-message", {}).get("children", ""))


# ------------------------------------------------------------------------------------------- reading


def test_a_duty_officer_sees_their_street_only_with_phones(web) -> None:  # type: ignore[no-untyped-def]
    client = client_as(web, "street1")
    text = page_text(route(client, "/risks"))
    assert "燃气管道老化" in text and "危岩滑坡隐患" in text
    assert "东城" not in text.replace("东城街道", "")  # no risk of the other street
    assert "13812345678" in text  # a duty officer may see the owner's phone
    assert "超期未销号" in text and "登记风险" in text


def test_a_leader_sees_the_district_with_phones_masked_and_filters_from_the_url(web) -> None:  # type: ignore[no-untyped-def]
    client = client_as(web, "leader")
    text = page_text(route(client, "/risks"))
    assert "东城电动车违规充电" in text and "燃气管道老化" in text
    assert "13812345678" not in text and "138****5678" in text
    only = page_text(route(client, "/risks", "?state=overdue&street=" + EAST))
    assert "东城超期矛盾" in only and "燃气管道老化" not in only and "危岩滑坡隐患" not in only
    # the filter callback writes the URL
    out = answer(
        post_callback(
            client,
            body_for(
                client,
                "risks-kind.value",
                {
                    "risks-kind.value": "social_conflict",
                    "gridcc-url.pathname": "/risks",
                    "gridcc-url.search": "",
                },
            ),
        )
    )
    assert out["gridcc-url"]["search"] == "?kind=social_conflict"
    assert "东城超期矛盾" in json.dumps(out, ensure_ascii=False)
    assert "燃气管道老化" not in json.dumps(out, ensure_ascii=False)


@pytest.mark.parametrize("user", ["wall1", "admin1"])
def test_a_wall_or_admin_is_refused_the_ledger(web, session_factory, user: str) -> None:  # type: ignore[no-untyped-def]
    client = client_as(web, user)
    text = page_text(route(client, "/risks"))
    assert "无权查看" in text and "燃气管道老化" not in text and "13812345678" not in text
    before = written(session_factory)
    assert "无权维护风险台账" in message(submit(client, "create", None, {}))
    assert "无权维护风险台账" in message(
        submit(
            client, "close", ids_of(web)["west"], {"risks-f-evidence.value": "x", "risks-f-done.value": "y"}
        )
    )
    assert written(session_factory) == before


# ------------------------------------------------------------------------------------------- writing


def test_create_needs_the_csrf_token_and_is_audited(web, session_factory, redis_conn) -> None:  # type: ignore[no-untyped-def]
    client = client_as(web, "street1")
    before = written(session_factory)
    assert submit(client, "create", None, {}, csrf=False).status_code == 403
    assert written(session_factory) == before
    seen = versions.read(redis_conn)["risks"]
    out = answer(submit(client, "create", None, {}, token=TOKEN))
    assert out["risks-dialog"]["hidden"] is True
    assert "已登记风险 FX" in json.dumps(out, ensure_ascii=False)
    with session_factory() as session:
        risk = session.scalars(select(Risk).where(Risk.created_by == "street1")).one()
        assert (risk.title, risk.community_code, risk.owner_phone) == (
            "老旧小区燃气管道<script>alert(1)</script>",
            WEST + "001",
            "13912345678",
        )
        assert [(r.actor, r.remote_addr) for r in audit_rows(session, action="risk_add")] == [
            ("street1", ADDR)
        ]
    assert versions.read(redis_conn)["risks"] > seen
    # the same form again (a double click): refused by its token, nothing written
    after = written(session_factory)
    assert "已提交过" in message(submit(client, "create", None, {}, token=TOKEN))
    assert written(session_factory) == after


FORGED = [
    ("edit", "east", {}),
    ("assign", "east", {}),
    ("close", "east", {"risks-f-done.value": "已处置", "risks-f-evidence.value": "照片"}),
    ("close", "x' OR 1=1", {"risks-f-done.value": "已处置", "risks-f-evidence.value": "照片"}),
]


@pytest.mark.parametrize(("mode", "which", "changes"), FORGED, ids=[f"{m}-{w}" for m, w, _ in FORGED])
def test_another_streets_risk_is_not_found_and_nothing_is_written(
    web, session_factory, mode: str, which: str, changes: dict[str, Any]
) -> None:  # type: ignore[no-untyped-def]
    client = client_as(web, "street1")
    before = written(session_factory)
    risk = ids_of(web).get(which, which)
    assert "管辖范围内没有这条风险" in message(submit(client, mode, risk, changes))
    assert written(session_factory) == before


BAD = [
    ("create", {"risks-f-street.value": EAST, "risks-f-community.value": EAST + "001"}, "不在您的管辖范围内"),
    ("create", {"risks-f-kind.value": "x' OR '1'"}, "请选择风险类别"),
    ("create", {"risks-f-level.value": None}, "请选择风险等级"),
    ("create", {"risks-f-street.value": None, "risks-f-community.value": None}, "请选择所在镇街"),
    ("create", {"risks-f-due.value": "明天"}, "销号时限不是有效日期"),
    ("create", {"risks-f-due.value": ""}, "请填写销号时限"),
    ("create", {"risks-f-due.value": "2020-01-01"}, "不能早于今天"),
    ("create", {"risks-f-phone.value": "12345"}, "联系电话不正确"),
    ("create", {"risks-f-title.value": "  "}, "请填写风险名称"),
    ("create", {"risks-f-title.value": "长" * 10_000}, "风险名称过长：最多 200 字"),
    ("create", {"risks-f-owner.value": ""}, "请填写责任单位"),
    ("assign", {"risks-f-person.value": ""}, "请填写责任人"),
    ("assign", {"risks-f-phone.value": "0000"}, "联系电话不正确"),
    ("close", {"risks-f-done.value": "已处置", "risks-f-evidence.value": ""}, "请填写销号佐证"),
    ("close", {"risks-f-done.value": "", "risks-f-evidence.value": "照片"}, "请填写管控措施"),
    ("edit", {"risks-f-measures.value": "措" * 5000}, "管控措施过长"),
]


@pytest.mark.parametrize(
    ("mode", "changes", "words"), BAD, ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(BAD)]
)
def test_bad_input_is_refused_in_words_and_writes_nothing(
    web, session_factory, mode: str, changes: dict[str, Any], words: str
) -> None:  # type: ignore[no-untyped-def]
    client = client_as(web, "street1")
    before = written(session_factory)
    risk = None if mode == "create" else ids_of(web)["west"]
    assert words in message(submit(client, mode, risk, changes))
    assert written(session_factory) == before


def test_edit_reassign_and_close_in_scope(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    client = client_as(web, "street1")
    west = ids_of(web)["west"]
    with session_factory() as session:
        risk = session.get(Risk, west)
        assert risk is not None
        day = (risk.due_at.replace(tzinfo=UTC) if risk.due_at.tzinfo is None else risk.due_at).astimezone(UTC)
    from data.ledger import local_day

    same = {
        "risks-f-title.value": "燃气管道老化（已更换一段）",
        "risks-f-street.value": WEST,
        "risks-f-community.value": WEST + "001",
        "risks-f-grid.value": WEST + "001001",
        "risks-f-due.value": local_day(day),
        "risks-f-measures.value": "专人巡查",
        "risks-f-level.value": "medium",
    }
    assert "已保存" in json.dumps(answer(submit(client, "edit", west, same)), ensure_ascii=False)
    out = answer(
        submit(
            client,
            "assign",
            west,
            {
                "risks-f-owner.value": "巴川街道城管办",
                "risks-f-person.value": "王芳",
                "risks-f-phone.value": "023-45678901",
            },
        )
    )
    assert "已转交" in json.dumps(out, ensure_ascii=False)
    out = answer(
        submit(
            client,
            "close",
            west,
            {"risks-f-done.value": "已整体更换管道", "risks-f-evidence.value": "验收单 2026-031"},
        )
    )
    assert "已销号" in json.dumps(out, ensure_ascii=False)
    with session_factory() as session:
        risk = session.get(Risk, west)
        assert risk is not None
        assert (risk.title, risk.level, risk.owner_person, risk.owner_phone) == (
            "燃气管道老化（已更换一段）",
            "medium",
            "王芳",
            "023-45678901",
        )
        assert (risk.measures, risk.evidence, risk.closed_by) == (
            "已整体更换管道",
            "验收单 2026-031",
            "street1",
        )
        edit = audit_rows(session, action="risk_edit")[0]
        assert edit.detail == "level, title"  # only what changed
    # a closed risk: no more changes
    assert "已销号，不能再修改" in message(submit(client, "assign", west, {"risks-f-person.value": "赵六"}))


def test_the_dialog_opens_only_on_a_risk_in_scope(web) -> None:  # type: ignore[no-untyped-def]
    client = client_as(web, "street1")
    ids = ids_of(web)

    def open_(risk: Any, mode: str) -> dict[str, Any]:
        values = {"risks-open-request.data": {"risk": str(risk), "mode": mode, "at": 1}}
        return answer(post_callback(client, body_for(client, "risks-open-request.data", values)))

    out = open_(ids["west"], "edit")
    assert out["risks-dialog"]["hidden"] is False and out["risks-f-title"]["value"] == "燃气管道老化"
    assert out["risks-f-grid"]["value"] == WEST + "001001"
    out = open_(ids["east"], "edit")
    assert "risks-f-title" not in out and "管辖范围内没有这条风险" in json.dumps(out, ensure_ascii=False)


# ------------------------------------------------------------------------------------------- import


def upload(client: Any, name: str, text: str | bytes) -> dict[str, Any]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    contents = "data:text/csv;base64," + base64.b64encode(data).decode()
    values = {"risks-upload.contents": contents, "risks-upload.filename": name}
    return answer(post_callback(client, body_for(client, "risks-upload.contents", values)))


HEADER = "风险类别,风险等级,风险名称,区划编码,责任单位,责任人,联系电话,管控措施,销号时限\n"


def test_a_bad_ledger_shows_every_bad_row_and_loads_nothing(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    client = client_as(web, "street1")
    before = written(session_factory)
    rows = [
        f"公共安全,高,好行,{WEST}001001,应急办,张三,13812345678,巡查,2030-01-01",
        f"公共安全,高,坏电话,{WEST}001001,应急办,张三,12345,巡查,2030-01-01",
        f"公共安全,高,未知网格,{WEST}009009,应急办,张三,13812345678,巡查,2030-01-01",
        f"公共安全,高,好行,{WEST}001001,应急办,张三,13812345678,巡查,2030-01-01",
        f"公共安全,高,别的街道,{EAST}001001,应急办,张三,13812345678,巡查,2030-01-01",
    ]
    out = upload(client, "台账.csv", HEADER + "\n".join(rows) + "\n")
    text = json.dumps(out, ensure_ascii=False)
    assert "电话「12345」不正确" in text and "第 3 行" in text
    assert f"未知区域编码「{WEST}009009」" in text and "第 4 行" in text
    assert "与第 2 行重复" in text and "第 5 行" in text
    assert "不在您的管辖范围内" in text and "第 6 行" in text
    assert "台账.csv" in text and "risks-done" not in out
    assert written(session_factory) == before
    missing = upload(client, "缺列.csv", "风险类别,风险等级,风险名称\n公共安全,高,x\n")
    assert "缺少" in json.dumps(missing, ensure_ascii=False)
    assert written(session_factory) == before
    assert "不是 XLSX 或 CSV" in json.dumps(upload(client, "../../etc/passwd", "x"), ensure_ascii=False)
    # updating another area's risk by its number: a bad row too
    with session_factory() as session:
        east_ref = session.get(Risk, ids_of(web)["east"]).ref  # type: ignore[union-attr]
    stolen = upload(
        client,
        "t.csv",
        "台账编号,"
        + HEADER
        + f"{east_ref},公共安全,高,改别人的,{WEST}001001,应急办,张三,13812345678,巡查,2030-01-01\n",
    )
    assert "已被其他区域的风险使用" in json.dumps(stolen, ensure_ascii=False)
    assert written(session_factory) == before


def test_a_good_ledger_loads(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    client = client_as(web, "street1")
    rows = [
        f"社会矛盾,中,物业纠纷集中,{WEST}001002,巴川街道司法所,赵敏,023-45678901,调解,2030-06-30",
        f"网络安全,低,网吧实名制,{WEST}002,巴川派出所,钱进,13900001111,检查,2030-06-30",
    ]
    out = upload(client, "good.xlsx.csv", HEADER + "\n".join(rows) + "\n")
    assert "risks-done" in out
    with session_factory() as session:
        titles = set(session.scalars(select(Risk.title).where(Risk.created_by == "street1")))
        assert titles == {"物业纠纷集中", "网吧实名制"}
        assert audit_rows(session, action="risks_load")[0].actor == "street1"


# ------------------------------------------------------------------------------------------- elsewhere


def test_overdue_risks_on_overdue_in_scope(web) -> None:  # type: ignore[no-untyped-def]
    text = page_text(route(client_as(web, "street1"), "/overdue"))
    assert "超期风险" in text and "危岩滑坡隐患" in text and "东城超期矛盾" not in text
    assert "燃气管道老化" not in text  # not overdue
    leader = page_text(route(client_as(web, "leader"), "/overdue"))
    assert "危岩滑坡隐患" in leader and "东城超期矛盾" in leader


def test_the_force_tab_counts_and_flags(web, session_factory, grids) -> None:  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        session.execute(delete(GridStaff).where(GridStaff.unit_code == grids[1]))
        for g in grids[2:4]:
            session.add(
                GridStaff(unit_code=g, role="grid_worker", name="多格员", phone="13700000000", **_place(g))
            )
        session.add(
            GridStaff(
                unit_code=grids[0], role="grid_chief", name="格长", phone="13700000001", **_place(grids[0])
            )
        )
        session.add(
            GridStaff(
                unit_code=grids[0], role="party_branch", name="第一党支部", phone=None, **_place(grids[0])
            )
        )
    client = client_as(web, "street1")
    text = page_text(route(client, "/risks", "?tab=force"))
    # street1's street: 4 grids, 3 workers of their own + 多格员, 1 chief, 1 branch
    assert "共 4 个网格，配备网格员 4 名、网格长 1 名，网格党支部 1 个" in text
    assert "无网格员的网格（1）" in text and grids[1] in text
    assert "多格员（13700000000）" in text and "负责 2 个网格" in text
    leader = page_text(route(client_as(web, "leader"), "/risks", "?tab=force"))
    assert "共 8 个网格" in leader and "137****0000" in leader and "13700000000" not in leader


def _place(code: str) -> dict[str, str]:
    from data.geo.rows import place_columns

    return place_columns(code)


def test_the_wall_ticker_counts_overdue_risks(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    from dashboard.wall.ticker import ticker_items
    from data.scope import AreaScope
    from layers.wall_payload import build_ticker

    with session_factory() as session:
        district = build_ticker(session, AreaScope.of(["500151"]), NOW)
        street = build_ticker(session, AreaScope.of([WEST]), NOW)
    assert (district["risks_overdue"], street["risks_overdue"]) == (2, 1)
    chips = json.dumps(
        [c.to_plotly_json() for c in ticker_items(district, "zh-CN", "Asia/Shanghai")],
        default=str,
        ensure_ascii=False,
    )
    assert "超期风险 2 项" in chips
    none = json.dumps(
        [
            c.to_plotly_json()
            for c in ticker_items({"items": [], "loop": [], "risks_overdue": 0}, "zh-CN", "Asia/Shanghai")
        ],
        default=str,
        ensure_ascii=False,
    )
    assert "超期风险" not in none
