"""``/hotspots`` and ``/hotspots/<key>`` on the real app (signed in, real test database and Redis): a
hotspot opens the cases behind it, in the viewer's scope only; a wall sees them with the phone in a title
replaced; a leader supervises the class through the page's callback, a duty officer cannot, and a key
forged into the callback finds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from data.auth import create_user
from data.db import transaction
from data.models import Instruction
from data.seed import seed_catalogue
from layers import versions
from tests.dashboard.test_access_scope import callback_body, post_callback, route
from tests.dashboard.test_alert_phones_audit import signed_in
from tests.dashboard.test_auth_web import PASSWORD, page_text
from tests.layers.hierarchy import STREETS, add_case

WEST, EAST = STREETS


@pytest.fixture
def web(settings, redis_url, redis_conn, engine, session_factory, grids) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """Three 乱堆乱放 cases in one west grid (one title holding a phone), one in an east grid."""
    from dashboard.app import create_app
    from dashboard.services import services

    with transaction(session_factory) as session:
        seed_catalogue(session)
        for i, title in enumerate(("垃圾堆放 13812345678 来电", "楼道堆物", "绿地堆放杂物")):
            case = add_case(session, grids[0], external_id=f"west-{i}", title=title)
            case.category_code, case.department_code = "city.clutter", "city_management"
        east = add_case(session, grids[4], external_id="east-0")
        east.category_code = "city.clutter"
        create_user(session, "duty1", PASSWORD, "duty", WEST)
        create_user(session, "duty_east", PASSWORD, "duty", EAST)
        create_user(session, "leader", PASSWORD, "leader", "500151")
        create_user(session, "wall1", PASSWORD, "wall", "500151")
    versions.bump(redis_conn, ["cases"])
    app = create_app(settings.model_copy(update={"redis_url": redis_url, "auth_required": True}))
    yield app
    services(app.server).close()


def _key(grids: list[str]) -> str:
    return f"grid~city.clutter~{grids[0]}"


def test_the_list_links_each_hotspot_to_its_cases(web: Any, grids: list[str]) -> None:
    text = page_text(route(signed_in(web, "duty1"), "/hotspots"))
    assert "近30天共 1 个类案" in text and "乱堆乱放" in text
    assert f"/hotspots/{_key(grids)}?days=30" in text


def test_a_hotspot_opens_its_three_cases(web: Any, grids: list[str]) -> None:
    text = page_text(route(signed_in(web, "duty1"), f"/hotspots/{_key(grids)}"))
    assert "近30天 3 件，在办 3 件" in text
    assert {"west-0", "west-1", "west-2"} <= set(text.splitlines()) and "east-0" not in text
    assert "垃圾堆放 13812345678 来电" in text  # the duty officer may read personal data
    wall = page_text(route(signed_in(web, "wall1"), f"/hotspots/{_key(grids)}"))
    assert "west-0" in wall and "13812345678" not in wall and "138****5678" not in wall


@pytest.mark.parametrize("who", ["duty_east"])
def test_another_streets_officer_finds_nothing(web: Any, grids: list[str], who: str) -> None:
    text = page_text(route(signed_in(web, who), f"/hotspots/{_key(grids)}"))
    assert "找不到这个类案" in text and "west-0" not in text


@pytest.mark.parametrize(
    "key", ["grid~city.clutter~123", "grid~x", "%3Cscript%3E", "near~city.clutter~-~abc"]
)
def test_a_malformed_key_finds_nothing(web: Any, key: str) -> None:
    text = page_text(route(signed_in(web, "leader"), f"/hotspots/{key}"))
    assert "找不到这个类案" in text


def _supervise(web: Any, who: str, key: str, text: str = "一周内集中整治", hours: Any = 24) -> str:
    client = signed_in(web, who)
    route(client, f"/hotspots/{key}")
    body = callback_body(
        client,
        "hotspot-supervise-msg",
        {
            "hotspot-supervise-send.n_clicks": 1,
            "hotspot-supervise-text.value": text,
            "hotspot-supervise-hours.value": hours,
            "hotspot-supervise-key.data": {"key": key, "days": 30},
            "gridcc-url.search": "",
        },
        "hotspot-supervise-send.n_clicks",
    )
    (body["outputs"],) = body["outputs"]  # one output: the renderer sends it alone, not in a list
    response = post_callback(client, body)
    assert response.status_code == 200, response.status_code
    return page_text(response)


def _instructions(session_factory: Any) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(Instruction)) or 0


def test_a_leader_supervises_the_class_from_the_page(
    web: Any, grids: list[str], session_factory: Any
) -> None:
    assert "已督办 3 件（0 件没有承办部门，未发送）。" in _supervise(web, "leader", _key(grids))
    assert _instructions(session_factory) == 3


@pytest.mark.parametrize(
    ("who", "key", "text", "hours", "said"),
    [
        ("duty1", None, "x", 24, "您的角色不能这样处置案件。"),
        ("wall1", None, "x", 24, "您的角色不能这样处置案件。"),
        ("leader", "grid~city.clutter~500151002001001", "x", 24, "找不到这个类案"),
        ("leader", None, "   ", 24, None),
        ("leader", None, "x", 10**9, None),
        ("leader", None, "x", "24", None),
    ],
)
def test_forged_class_supervision_writes_nothing(
    web: Any,
    grids: list[str],
    session_factory: Any,
    who: str,
    key: str | None,
    text: str,
    hours: Any,
    said: str | None,
) -> None:
    answer = _supervise(web, who, key or _key(grids), text, hours)
    if said:
        assert said in answer
    assert "已督办" not in answer and _instructions(session_factory) == 0


def _two_channels(session_factory: Any, grids: list[str]) -> list[int]:
    """The same 占道经营 reported by 12345 and by the grid app an hour apart, 30 m apart."""
    from datetime import timedelta

    with transaction(session_factory) as session:
        a = add_case(session, grids[1], external_id="hotline-9", title="菜市场门口占道经营摆摊")
        b = add_case(session, grids[1], external_id="patrol-9", title="菜市场门口占道摆摊经营")
        a.feed_name, b.feed_name = "hotline", "grid_patrol"
        b.requested_at = a.requested_at + timedelta(hours=1)
        assert b.lon is not None
        b.lon += 0.0003
        for c in (a, b):
            c.category_code, c.department_code = "city.street_vending", "city_management"
        session.flush()
        return [a.id, b.id]


def _confirm(web: Any, who: str, ids: list[Any]) -> str:
    client = signed_in(web, who)
    route(client, "/hotspots")
    body = callback_body(
        client,
        "hotspot-merge-msg",
        {'{"index":0,"type":"merge-confirm"}.n_clicks': 1, '{"index":0,"type":"merge-ids"}.data': ids},
        '{"index":0,"type":"merge-confirm"}.n_clicks',
    )
    (body["outputs"],) = body["outputs"]
    # pattern-matching (ALL) inputs and states travel as lists of matches
    body["inputs"][0] = [{"id": {"index": 0, "type": "merge-confirm"}, "property": "n_clicks", "value": 1}]
    body["state"][0] = [{"id": {"index": 0, "type": "merge-ids"}, "property": "data", "value": ids}]
    body["changedPropIds"] = ['{"index":0,"type":"merge-confirm"}.n_clicks']
    response = post_callback(client, body)
    assert response.status_code == 200, response.status_code
    return page_text(response)


def _merged(session_factory: Any) -> int:
    from data.models import CaseMerge

    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(CaseMerge)) or 0


def test_a_duty_officer_confirms_a_suggested_merge(web: Any, grids: list[str], session_factory: Any) -> None:
    ids = _two_channels(session_factory, grids)
    text = page_text(route(signed_in(web, "duty1"), "/hotspots"))
    assert "疑似同一事项（多渠道反映）" in text and "hotline-9" in text and "patrol-9" in text
    assert "疑似同一事项" not in page_text(route(signed_in(web, "wall1"), "/hotspots"))
    assert "已合并：hotline-9 为主件，其余 1 件不再重复计入受理。" in _confirm(web, "duty1", ids)
    assert _merged(session_factory) == 1


@pytest.mark.parametrize(
    ("who", "forged", "said"),
    [
        ("duty_east", None, "在您的管辖范围内找不到此案件。"),
        ("wall1", None, "您的角色不能这样处置案件。"),
        ("duty1", "east", "在您的管辖范围内找不到此案件。"),
        ("duty1", "strings", "请选择 2 到 20 件案件合并。"),
        ("duty1", "not_a_list", "请选择 2 到 20 件案件合并。"),
    ],
)
def test_a_forged_merge_writes_nothing(
    web: Any, grids: list[str], session_factory: Any, who: str, forged: str | None, said: str
) -> None:
    ids = _two_channels(session_factory, grids)
    with session_factory() as session:
        from data.models import Case

        east = session.scalar(select(Case.id).where(Case.external_id == "east-0"))
    sent: Any = {
        None: ids,
        "east": [ids[0], east],
        "strings": [str(i) for i in ids],
        "not_a_list": {"ids": ids},
    }[forged]
    assert said in _confirm(web, who, sent)
    assert _merged(session_factory) == 0


def test_the_case_page_names_the_merge_and_a_duty_officer_undoes_it(
    web: Any, grids: list[str], session_factory: Any
) -> None:
    primary, other = _two_channels(session_factory, grids)
    assert "已合并" in _confirm(web, "duty1", [primary, other])
    client = signed_in(web, "duty1")
    text = page_text(route(client, f"/cases/{other}"))
    assert "已并入（同一事项，多渠道反映）：" in text and "hotline-9" in text
    assert "patrol-9" in page_text(route(client, f"/cases/{primary}"))
    body = callback_body(
        client,
        "case-unmerge-msg",
        {"case-unmerge.n_clicks": 1, "case-unmerge-case.data": other, "gridcc-url.search": ""},
        "case-unmerge.n_clicks",
    )
    (body["outputs"],) = body["outputs"]
    forged = dict(body, state=[dict(body["state"][0], value=other), body["state"][1]])
    east = signed_in(web, "duty_east")
    assert "在您的管辖范围内找不到此案件。" in page_text(post_callback(east, forged))  # another street
    assert _merged(session_factory) == 1
    assert "已撤销合并。" in page_text(post_callback(client, body))
    assert _merged(session_factory) == 0


def test_the_hotspots_are_a_map_layer_in_the_viewers_scope(web: Any, grids: list[str]) -> None:
    west = signed_in(web, "duty1").get("/layers/hotspots.json?v=1")
    assert west.status_code == 200, west.status_code
    (feature,) = west.get_json()["features"]
    assert feature["properties"]["key"] == _key(grids) and feature["properties"]["count"] == 3
    assert feature["properties"]["category"] == "乱堆乱放"
    east = signed_in(web, "duty_east").get("/layers/hotspots.json?v=1")
    assert east.get_json()["features"] == []  # the other street's officer: its own (none), never the west's
    assert signed_in(web, "leader").get("/layers/hotspots.json?v=1").get_json()["features"][0]["properties"][
        "key"
    ] == _key(grids)


def test_overdue_lists_the_units_hotspots_each_opening_its_cases(web: Any, grids: list[str]) -> None:
    west = page_text(route(signed_in(web, "duty1"), "/overdue"))
    assert "类案（近30天）" in west and f"/hotspots/{_key(grids)}?days=30" in west
    east = page_text(route(signed_in(web, "duty_east"), "/overdue"))
    assert "类案（近30天）" in east and _key(grids) not in east  # the other street's officer: not the west's
