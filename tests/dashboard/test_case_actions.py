"""The action panel (dashboard/act) on the real app, sign-in required, the real test database and Redis,
through Flask's test client — the requests Dash's renderer sends, and forged ones:

- a street's duty officer whistles (吹哨) to a lead and a helper through the panel's callback: the
  instruction, its recipients, the outbox rows, the timeline line, the audit row and the workers' job
  are there; the case page then reads the loop in words (department names, roles, 已送达, 已报到), after a
  real delivery mark and real signed answers through ``/api/loop/answers``;
- a forged case id of the other street is "not found" and writes nothing; a wall account, a duty
  officer asking for 督办, a request without the CSRF token, bad input: refused, nothing written;
- a leader's 督办 carries its text and reply deadline onto the timeline and into the audit log;
- /duty's and /overdue's buttons open the panel only on a case in the viewer's scope.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rq import Queue
from sqlalchemy import func, select

from dashboard.loop_delivery import DEFAULT_QUEUE, DELIVER_JOB
from data.auth import audit_rows, create_user
from data.db import transaction
from data.loop import outbox
from data.models import AuditLog, CaseEvent, Instruction, OutboxMessage, Recipient
from data.seed import seed_catalogue
from layers import versions
from tests.dashboard.test_access_scope import callback_body, post_callback, route, token
from tests.dashboard.test_auth_web import ADDR, PASSWORD, page_text, sign_in
from tests.layers.hierarchy import STREETS, add_case
from tests.loop._loop_helpers import ENV, SECRETS, signed_answer, write_endpoints

WEST, EAST = STREETS


@pytest.fixture
def web(settings, redis_url, redis_conn, engine, session_factory, grids, monkeypatch) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """Every page, sign-in required; a case in each street; the departments' endpoints and secrets."""
    from dashboard.app import create_app
    from dashboard.services import services

    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    feeds = settings.data_dir.parent / "feeds.toml"
    write_endpoints(feeds, {code: "http://127.0.0.1:9" for code in SECRETS})
    with transaction(session_factory) as session:
        seed_catalogue(session)
        west = add_case(session, grids[0], external_id="west", title="西边的案件")
        east = add_case(session, grids[4], external_id="east", title="东边的案件")
        create_user(session, "street1", PASSWORD, "duty", WEST)
        create_user(session, "leader", PASSWORD, "leader", "500151")
        create_user(session, "wall1", PASSWORD, "wall", "500151")
        ids = {"west": west.id, "east": east.id}
    versions.bump(redis_conn, ["units", "cases", "alerts", "risks"])
    update = {"redis_url": redis_url, "auth_required": True, "feeds_file": feeds}
    app = create_app(settings.model_copy(update=update))
    app.server.config["GRIDCC_TEST_IDS"] = ids
    yield app
    services(app.server).close()


def client_of(web: Any, username: str) -> Any:
    client = web.server.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDR
    sign_in(client, username)
    return client


def ids_of(web: Any) -> dict[str, int]:
    return dict(web.server.config["GRIDCC_TEST_IDS"])


def act_body(client: Any, case_id: Any, token: str | None = None, **fields: Any) -> dict[str, Any]:
    values = {
        "act-submit.n_clicks": 1,
        "act-case.data": case_id,
        "gridcc-url.search": "",
        "act-token.data": token,
    }
    names = {"kind": "act-kind", "department": "act-department", "hours": "act-hours", "lead": "act-lead"}
    names |= {
        "helpers": "act-helpers",
        "urgency": "act-urgency",
        "reply": "act-reply",
        "reason": "act-reason",
    }
    names |= {"text": "act-text"}
    for key, value in fields.items():
        values[f"{names[key]}.value"] = value
    return callback_body(client, "act-msg.children", values, "act-submit.n_clicks")


def act(client: Any, case_id: Any, token: str | None = None, **fields: Any) -> dict[str, Any]:
    response = post_callback(client, act_body(client, case_id, token, **fields))
    assert response.status_code == 200, response.status_code
    return dict(response.get_json()["response"])


def written(session_factory: Any) -> tuple[int, int, int, int, int]:
    """Instructions, recipients, outbox rows, instruction events, loop audit rows."""
    with session_factory() as session:
        return (
            session.scalar(select(func.count()).select_from(Instruction)) or 0,
            session.scalar(select(func.count()).select_from(Recipient)) or 0,
            session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
            session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "instruction"))
            or 0,
            session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action.like("loop_%")))
            or 0,
        )


def deliver_jobs(redis_conn: Any) -> int:
    queue = Queue(DEFAULT_QUEUE, connection=redis_conn)
    return sum(1 for job in queue.jobs if job.func_name == DELIVER_JOB)


def case_page(client: Any, case_id: int) -> str:
    return page_text(route(client, f"/cases/{case_id}"))


def test_duty_officer_whistles_and_the_case_page_reads_the_loop(web, session_factory, redis_conn) -> None:  # type: ignore[no-untyped-def]
    ids = ids_of(web)
    client = client_of(web, "street1")
    shown = case_page(client, ids["west"])
    assert "处置" in shown and "吹哨" in shown and "交办" in shown
    assert "督办指令" not in shown  # a duty officer: no 督办 among the actions (leaders only)
    jobs = deliver_jobs(redis_conn)
    answer = act(
        client, ids["west"], kind="whistle", lead="police", helpers=["city_management"], urgency="urgent",
        text="请公安、城管到场联合处置<b>现场</b>",
    )  # fmt: skip
    assert answer["act-msg"]["children"] == "已吹哨，正在送达。"
    assert answer["act-done"]["data"]["case"] == ids["west"]
    assert deliver_jobs(redis_conn) == jobs + 1  # delivery starts at once, not at the next cron run
    with session_factory() as session:
        instruction = session.scalars(select(Instruction)).one()
        assert (instruction.kind, instruction.actor, instruction.case_id) == (
            "whistle",
            "street1",
            ids["west"],
        )
        assert instruction.text == "请公安、城管到场联合处置<b>现场</b>" and instruction.urgency == "urgent"
        recipients = {r[0]: r[1] for r in session.execute(select(Recipient.department_code, Recipient.role))}
        assert recipients == {"police": "lead", "city_management": "helper"}
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
        row = audit_rows(session, action="loop_whistle")[0]
        assert (row.actor, row.target, row.remote_addr) == ("street1", f"case:{ids['west']}", ADDR)
        messages = dict(
            session.execute(select(OutboxMessage.department_code, OutboxMessage.message_id)).all()
        )
        police_row = session.scalar(select(OutboxMessage.id).where(OutboxMessage.department_code == "police"))
    # the page after the action (the refresh the act-done store triggers): the instruction in words
    refreshed = post_callback(
        client,
        callback_body(
            client,
            "case-loop-box.children",
            {
                "act-done.data": {"case": ids["west"]},
                "case-page-case.data": ids["west"],
                "gridcc-url.search": "",
            },
            "act-done.data",
        ),
    ).get_json()["response"]
    timeline = json.dumps(refreshed["case-timeline-box"], ensure_ascii=False)
    assert "→ 区公安分局（牵头）、区城市管理局（协办）" in timeline
    assert "whistle:" not in timeline and "police(lead)" not in timeline
    card = page_text_of(refreshed["case-loop-box"])
    assert "区公安分局" in card and "牵头" in card and "协办" in card and "待送达" in card
    # the text is a plain string child: Dash escapes it (no markup made of it)
    assert "请公安、城管到场联合处置<b>现场</b>" in card
    # delivery (the workers' mark) and the departments' signed answers (the real inbound endpoint)
    with transaction(session_factory) as session:
        outbox.mark_delivered(session, police_row, datetime.now(UTC))
    for department, kind in (("police", "accepted"), ("city_management", "accepted")):
        body, headers = signed_answer(department, messages[department], kind)
        assert (
            web.server.test_client().post("/api/loop/answers", data=body, headers=headers).status_code == 200
        )
    page = route(client, f"/cases/{ids['west']}").get_json()["response"]["gridcc-page"]["children"]
    rows = events_of(page)
    loop_rows = [(kind, word, detail, actor) for kind, word, detail, actor in rows if kind != "created"]
    assert loop_rows[0][:2] == ("instruction", "吹哨")
    assert ("delivered", "已送达", "区公安分局 · 吹哨指令", "系统") in loop_rows
    assert ("answer", "已报到", "区公安分局 · 吹哨指令 · 办理人：王建国", "区公安分局") in loop_rows
    assert ("delivered", "已送达", "区城市管理局 · 吹哨指令", "系统") in loop_rows  # the answer proves it
    card = page_text(route(client, f"/cases/{ids['west']}"))
    assert card.count("已报到") >= 2 and "王建国" in card


def page_text_of(node: Any) -> str:
    return page_text(_Fake({"response": node}))


class _Fake:
    def __init__(self, doc: Any) -> None:
        self.doc = doc

    def get_json(self) -> Any:
        return self.doc


def events_of(node: Any) -> list[tuple[str, str, str, str]]:
    """(kind, event word, detail, actor) of each timeline row in a layout, in order."""
    found: list[tuple[str, str, str, str]] = []

    def text(n: Any) -> str:
        if isinstance(n, str):
            return n
        if isinstance(n, list):
            return "".join(text(x) for x in n)
        if isinstance(n, dict):
            return text(n.get("props", {}).get("children"))
        return ""

    def walk(n: Any) -> None:
        if isinstance(n, list):
            for x in n:
                walk(x)
        elif isinstance(n, dict):
            props = n.get("props", {})
            if "case-event" in str(props.get("className", "")):
                cells = props["children"]
                found.append((props["data-kind"], text(cells[1]), text(cells[3]), text(cells[5])))
                return
            for value in props.values():
                walk(value)

    walk(node)
    return found


def test_a_forged_case_of_another_street_is_not_found_and_nothing_is_written(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    ids = ids_of(web)
    client = client_of(web, "street1")
    for fields in (
        {"kind": "whistle", "lead": "police", "helpers": [], "text": "x"},
        {"kind": "dispatch", "department": "police", "text": "x"},
        {"kind": "report_up", "reason": "y"},
    ):
        answer = act(client, ids["east"], **fields)
        assert answer["act-msg"]["children"] == "在您的管辖范围内找不到此案件。"
        assert "act-done" not in answer
    for forged in ("1; drop", 10**30, True, None, [ids["west"]]):
        assert act(client, forged, kind="whistle", lead="police")["act-msg"]["children"] == (
            "在您的管辖范围内找不到此案件。"
        )
    assert written(session_factory) == (0, 0, 0, 0, 0)
    # /duty's and /overdue's buttons: the overlay opens on a case of the scope only
    opened = open_panel(client, ids["east"], "whistle")
    assert "在您的管辖范围内找不到此案件。" in page_text_of(opened) and "act-submit" not in json.dumps(opened)
    opened = open_panel(client, ids["west"], "whistle")
    assert "act-submit" in json.dumps(opened) and "west" in page_text_of(opened)
    words = page_text_of(opened)
    dumped = json.dumps(opened, ensure_ascii=False)
    assert "紧急 30 分钟内报到" in words and '"label": "紧急"' in dumped  # urgencies in words, not codes
    assert '"label": "urgent"' not in dumped


def open_panel(client: Any, case_id: int, kind: str) -> Any:
    body = callback_body(
        client,
        "act-body.children",
        {"act-open-request.data": {"case": str(case_id), "kind": kind, "at": 1}, "gridcc-url.search": ""},
        "act-open-request.data",
    )
    return post_callback(client, body).get_json()["response"]["act-body"]["children"]


def test_wall_and_wrong_roles_are_refused_and_nothing_is_written(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    ids = ids_of(web)
    wall = client_of(web, "wall1")
    assert "act-submit" not in json.dumps(route(wall, f"/cases/{ids['west']}").get_json())
    answer = act(wall, ids["west"], kind="whistle", lead="police", text="x")
    assert answer["act-msg"]["children"] == "您的角色不能这样处置案件。"
    assert "您的角色不能这样处置案件。" in page_text_of(open_panel(wall, ids["west"], "whistle"))
    duty = client_of(web, "street1")
    answer = act(duty, ids["west"], kind="supervise", text="限期办结", reply="24")
    assert answer["act-msg"]["children"] == "您的角色不能这样处置案件。"
    assert written(session_factory) == (0, 0, 0, 0, 0)


def test_without_the_csrf_token_nothing_is_done(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    ids = ids_of(web)
    client = client_of(web, "street1")
    body = act_body(client, ids["west"], kind="whistle", lead="police", text="x")
    response = post_callback(client, body, csrf=False)
    assert response.status_code in (400, 403), response.status_code
    bad = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token(client) + "x"})
    assert bad.status_code in (400, 403)
    assert written(session_factory) == (0, 0, 0, 0, 0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "whistle", "lead": None, "text": "x"}, "请选择牵头部门。"),
        (
            {"kind": "whistle", "lead": "police", "helpers": ["police"]},
            "同一部门不能既牵头又协办，也不能重复。",
        ),
        ({"kind": "whistle", "lead": "police", "helpers": ["nobody"]}, "没有这个部门。"),
        ({"kind": "whistle", "lead": "police", "helpers": "police"}, None),  # not a list: no helpers
        (
            {"kind": "dispatch", "department": "police", "hours": "12; drop"},
            "办理时限应为 1 小时到一年之间的整数小时。",
        ),
        (
            {"kind": "dispatch", "department": "police", "hours": 0},
            "办理时限应为 1 小时到一年之间的整数小时。",
        ),
        (
            {"kind": "dispatch", "department": "police", "hours": float("inf")},  # JSON's Infinity
            "办理时限应为 1 小时到一年之间的整数小时。",
        ),
        (
            {"kind": "dispatch", "department": "police", "hours": float("nan")},
            "办理时限应为 1 小时到一年之间的整数小时。",
        ),
        ({"kind": "dispatch", "department": None}, "请选择部门。"),
        ({"kind": "redispatch", "department": "police", "reason": "  "}, "请填写理由。"),
        ({"kind": "send_down", "reason": "社区能办"}, "案件已在社区办理：无下级可派。"),
        ({"kind": "whistle", "lead": "police", "text": "长" * 2001}, "内容太长。"),
        ({"kind": "delete_everything"}, "您的角色不能这样处置案件。"),
    ],
)
def test_bad_input_is_refused_in_words(web, session_factory, fields, message) -> None:  # type: ignore[no-untyped-def]
    ids = ids_of(web)
    client = client_of(web, "street1")
    answer = act(client, ids["west"], **fields)
    if message is None:
        assert answer["act-msg"]["children"] == "已吹哨，正在送达。"
        with session_factory() as session:
            assert session.scalars(select(Recipient.department_code)).all() == ["police"]
        return
    assert answer["act-msg"]["children"] == message
    assert written(session_factory) == (0, 0, 0, 0, 0)


def test_dispatch_takes_the_category_default_and_report_up_moves_the_level(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    ids = ids_of(web)
    client = client_of(web, "street1")
    assert (
        act(client, ids["west"], kind="dispatch", department="city_management", text="请处置")["act-msg"][
            "children"
        ]
        == "已交办，正在送达。"
    )
    assert act(client, ids["west"], kind="dispatch", department="police", hours=6)["act-msg"]["children"] == (
        "已交办，正在送达。"
    )
    assert (
        act(client, ids["west"], kind="report_up", reason="社区无法协调")["act-msg"]["children"] == "已上报。"
    )
    with session_factory() as session:
        rows = session.execute(
            select(Instruction.kind, Instruction.limit_hours).order_by(Instruction.id)
        ).all()
        assert [r[0] for r in rows] == ["dispatch", "dispatch", "report_up"]
        assert rows[1][1] == 6
        from data.models import Case

        assert session.get(Case, ids["west"]).escalation_level == "street"  # type: ignore[union-attr]


def test_leader_supervises_with_text_on_the_timeline_and_in_the_audit(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    ids = ids_of(web)
    leader = client_of(web, "leader")
    shown = case_page(leader, ids["west"])
    assert "督办" in shown and "发黄牌督办" in shown  # the panel beside the existing card buttons
    before = datetime.now(UTC)
    answer = act(
        leader,
        ids["west"],
        kind="supervise",
        department="city_management",
        text="请于明日前办结并回复",
        reply="8",
    )
    assert answer["act-msg"]["children"] == "已督办，正在送达。"
    with session_factory() as session:
        instruction = session.scalars(select(Instruction)).one()
        assert instruction.text == "请于明日前办结并回复"
        assert instruction.reply_by is not None
        assert timedelta(hours=7, minutes=59) < instruction.reply_by - before < timedelta(hours=8, minutes=1)
        row = audit_rows(session, action="loop_supervise")[0]
        assert row.actor == "leader" and "请于明日前办结并回复" in row.detail
    rows = events_of(route(leader, f"/cases/{ids['west']}").get_json()["response"]["gridcc-page"]["children"])
    assert ("instruction", "督办") in [(r[0], r[1]) for r in rows]
    assert any("请于明日前办结并回复" in r[2] and "区城市管理局（承办）" in r[2] for r in rows)
    # a bad reply deadline is refused
    assert act(leader, ids["west"], kind="supervise", text="x", reply="9999")["act-msg"]["children"] == (
        "请选择回复期限。"
    )


def test_loop_lines_read_as_words_even_without_the_instruction() -> None:
    from dashboard.case.loop_events import loop_words

    names = {"police": "区公安分局", "city_management": "区城市管理局"}
    failed = loop_words("undelivered", "police:12: 8 attempt(s); HTTP 500", names, {}, "zh-CN")
    assert failed is not None and (failed.label, failed.detail) == (
        "未送达",
        "区公安分局 · 8 次尝试 · HTTP 500",
    )
    late = loop_words("report_overdue", "city_management:12", names, {}, "zh-CN")
    assert late is not None and (late.label, late.detail) == ("超时未报到", "区城市管理局")
    sent = loop_words(
        "instruction", "whistle:12 → police(lead), city_management(helper); 请到场", names, {}, "zh-CN"
    )
    assert sent is not None and sent.label == "吹哨"
    assert sent.detail == "区公安分局（牵头）、区城市管理局（协办） · 请到场"
    refused = loop_words("answer", "refused:police:12: 不属于本部门", names, {}, "en")
    assert refused is not None and (refused.label, refused.detail) == ("Refused", "区公安分局 · 不属于本部门")
    assert loop_words("created", "x", names, {}, "zh-CN") is None


def test_overdue_rows_and_the_duty_selection_carry_the_buttons_for_who_may_act(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    from data.models import Case

    ids = ids_of(web)
    with transaction(session_factory) as session:
        case = session.get(Case, ids["west"])
        assert case is not None
        case.deadline_at = datetime.now(UTC) - timedelta(hours=5)
    wanted = {"type": "act-open", "case": ids["west"], "kind": ""}
    duty = client_of(web, "street1")
    shown = route(duty, "/overdue", f"?unit={WEST}").get_json()
    assert wanted in buttons_of(shown) and "处置" in page_text(route(duty, "/overdue", f"?unit={WEST}"))
    wall = client_of(web, "wall1")
    assert not [b for b in buttons_of(route(wall, "/overdue", f"?unit={WEST}").get_json()) if b]
    # /duty's selected row: one button per action the role may take
    body = callback_body(
        duty,
        "duty-selected.children",
        {"duty-grid.selectedRows": [{"id": ids["west"], "number": "west"}], "gridcc-url.search": ""},
        "duty-grid.selectedRows",
    )
    selected = post_callback(duty, body).get_json()
    kinds = [b["kind"] for b in buttons_of(selected)]
    assert kinds == ["dispatch", "redispatch", "whistle", "report_up", "send_down"]
    body_wall = callback_body(
        wall,
        "duty-selected.children",
        {"duty-grid.selectedRows": [{"id": ids["west"], "number": "west"}], "gridcc-url.search": ""},
        "duty-grid.selectedRows",
    )
    assert buttons_of(post_callback(wall, body_wall).get_json()) == []


def buttons_of(node: Any) -> list[dict[str, Any]]:
    """The ids of the act-open buttons in a callback's answer."""
    found: list[dict[str, Any]] = []

    def walk(n: Any) -> None:
        if isinstance(n, list):
            for x in n:
                walk(x)
        elif isinstance(n, dict):
            props = n.get("props", {})
            pid = props.get("id") if isinstance(props, dict) else None
            if isinstance(pid, dict) and pid.get("type") == "act-open":
                found.append(pid)
            for value in props.values() if isinstance(props, dict) else []:
                walk(value)
            for key, value in n.items():
                if key != "props" and isinstance(value, dict | list):
                    walk(value)

    walk(node)
    return found


def test_without_sign_in_nobody_may_act(settings, redis_url, session_factory, grids) -> None:  # type: ignore[no-untyped-def]
    """A kiosk deployment with sign-in off: no panel, and a forged press is refused (nobody to audit)."""
    from dashboard.app import create_app
    from dashboard.services import services

    with transaction(session_factory) as session:
        seed_catalogue(session)
        case_id = add_case(session, grids[0], external_id="kiosk").id
    app = create_app(settings.model_copy(update={"redis_url": redis_url, "auth_required": False}))
    try:
        client = app.server.test_client()
        layout = client.post(
            "/_dash-update-component",
            json={
                "output": "gridcc-page.children",
                "outputs": {"id": "gridcc-page", "property": "children"},
                "inputs": [{"id": "gridcc-url", "property": "pathname", "value": f"/cases/{case_id}"}],
                "state": [{"id": "gridcc-url", "property": "search", "value": ""}],
            },
        ).get_json()
        assert "act-submit" not in json.dumps(layout) and "case-loop-box" in json.dumps(layout)
        answer = client.post(
            "/_dash-update-component", json=act_body(client, case_id, kind="whistle", lead="police")
        ).get_json()["response"]
        assert answer["act-msg"]["children"] == "您的角色不能这样处置案件。"
        assert written(session_factory) == (0, 0, 0, 0, 0)
    finally:
        services(app.server).close()


def test_the_same_form_sent_twice_acts_once(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    """A double click on 发出 (two requests with the form's token) sends one instruction; after a success
    the form gets a new token and empty texts, so a deliberate second instruction goes; a refused one
    (no reason for 转办) does not use the token up."""
    ids = ids_of(web)
    client = client_of(web, "street1")
    token = uuid.uuid4().hex
    refused = act(client, ids["west"], token, kind="redispatch", department="police", reason="")
    assert refused["act-msg"]["children"] == "请填写理由。" and written(session_factory)[0] == 0
    first = act(client, ids["west"], token, kind="dispatch", department="police", text="请核查")
    assert first["act-msg"]["children"] == "已交办，正在送达。"
    fresh = first["act-token"]["data"]
    assert fresh != token and len(fresh) == 32
    assert first["act-text"]["value"] == "" and first["act-reason"]["value"] == ""
    again = act(client, ids["west"], token, kind="dispatch", department="police", text="请核查")
    assert again["act-msg"]["children"] == "这条指令已经发出，请勿重复提交；如需再发一条，请重新填写。"
    assert "act-done" not in again
    assert written(session_factory)[:3] == (1, 1, 1)
    second = act(client, ids["west"], fresh, kind="dispatch", department="city_management", text="请协助")
    assert second["act-msg"]["children"] == "已交办，正在送达。"
    assert written(session_factory)[:3] == (2, 2, 2)
