"""Issue 9, finding 7: phones and ID numbers inside free text (a case's description, title and address,
an alert's headline, a risk's title) reach nobody who may not see them — a wall not even masked — in any
payload: layers, page callbacks, ``/api/wall``, the CSV export. The real app, sign-in required, the
test database and Redis, through Flask's test client; every body scanned by :mod:`tests.leaks`."""

from __future__ import annotations

import json
from typing import Any

import geobuf
import pytest
from sqlalchemy import select

from data.auth import audit_rows
from data.db import transaction
from data.models import Case
from layers import versions
from tests.dashboard import test_access_scope as scoped
from tests.dashboard.test_auth_web import page_text, sign_in
from tests.layers.hierarchy import add_alert, add_case, add_risk
from tests.leaks import find_leaks, leaks

web, client = scoped.web, scoped.client  # the fixtures: the real app, sign-in required, and accounts
route, token = scoped.route, scoped.token

PHONE, ID_NUMBER, LANDLINE = "13912345678", "50010119900101123X", "023-61234567"
DESCRIPTION = f"居民反映楼下噪声扰民，电话{PHONE}，身份证{ID_NUMBER}，物业座机{LANDLINE}"
SPOOF = "解放碑\u202e路1号\u202c\u200b"  # a bidi override and a zero-width space in an address (finding 12)


@pytest.fixture
def texts(web, session_factory, redis_conn) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A case in the west street whose free texts hold a phone, an ID number and a landline; an alert
    and a risk with a phone in their titles."""
    with transaction(session_factory) as session:
        grid = session.scalar(select(Case.grid_code).where(Case.external_id == "west"))
        case = add_case(session, grid, external_id="pii", title=f"噪声扰民 电话{PHONE}")
        case.description = DESCRIPTION
        case.address = f"解放碑路1号 身份证{ID_NUMBER}"
        spoofed = add_case(session, grid, external_id="spoof", title=f"地址{SPOOF}")
        spoofed.address = SPOOF
        add_alert(session, [grid], headline=f"暴雨预警 联系人电话{PHONE}")
        add_risk(session, grid, title=f"危房 户主{ID_NUMBER}")
        session.flush()
        ids = {"pii": case.id, "spoof": spoofed.id}
    versions.bump(redis_conn, ["cases", "alerts", "risks"])
    return ids


def _bodies(browser: Any, case_id: int) -> dict[str, str]:
    bodies: dict[str, str] = {}
    for path in ("/", "/map", f"/cases/{case_id}", "/duty", "/overdue"):
        bodies["route " + path] = route(browser, path).get_data(as_text=True)
    for url in ("/", "/_dash-layout", "/layers/alerts.json", "/layers/risks.json"):
        response = browser.get(url)
        assert response.status_code == 200, url
        bodies[url] = response.get_data(as_text=True)
    for url in ("/layers/cases.pbf?v=7", "/layers/cases.pbf?bbox=105.0,29.0,107.0,31.0&v=7"):
        response = browser.get(url)
        assert response.status_code == 200, url
        bodies[url] = json.dumps(geobuf.decode(response.data) or {}, ensure_ascii=False)
    wall = browser.post(
        "/api/wall",
        json={"want": {"minute": 2, "scale": 1}, "have": {}, "lang": "zh-CN"},
        headers={"X-CSRFToken": token(browser)},
    )
    assert wall.status_code == 200
    bodies["/api/wall"] = wall.get_data(as_text=True)
    return bodies


def test_a_wall_receives_no_phone_or_id_number_from_free_text(web, client, texts) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "wall1")
    bodies = _bodies(client, texts["pii"])
    assert leaks(bodies, secrets=(PHONE, ID_NUMBER, "61234567", "123X")) == {}
    # the texts did go out, with a placeholder where the number was
    case_page = page_text(route(client, f"/cases/{texts['pii']}"))
    assert "居民反映楼下噪声扰民，电话[电话]，身份证[身份证号]，物业座机[电话]" in case_page
    layer = bodies["/layers/cases.pbf?v=7"]
    assert "噪声扰民 电话[电话]" in layer and "解放碑路1号 身份证[身份证号]" in layer
    assert "暴雨预警 联系人电话[电话]" in bodies["/api/wall"]  # the ticker
    assert "暴雨预警 联系人电话[电话]" in bodies["/layers/alerts.json"]
    assert "危房 户主[身份证号]" in bodies["/layers/risks.json"]


@pytest.mark.parametrize("username", ["wall1", "leader", "street1"])
def test_bidi_and_zero_width_characters_reach_no_screen(web, client, texts, username: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, username)
    bodies = _bodies(client, texts["spoof"])
    bodies["case"] = page_text(route(client, f"/cases/{texts['spoof']}"))
    assert "解放碑路1号" in bodies["case"]
    invisible = {
        u: [c for c in ("\u202e", "\u202c", "\u200b") if c in b or c.encode("unicode_escape").decode() in b]
        for u, b in bodies.items()
    }
    assert {u: found for u, found in invisible.items() if found} == {}


def test_a_leader_gets_them_masked_and_a_duty_officer_in_full_audited(
    web, client, texts, session_factory
) -> None:  # type: ignore[no-untyped-def]
    other = web.server.test_client()
    sign_in(client, "leader")  # masked
    shown = page_text(route(client, f"/cases/{texts['pii']}"))
    assert "电话139****5678，身份证500101********123X，物业座机023****4567" in shown
    assert PHONE not in shown and ID_NUMBER not in shown
    cases = json.dumps(geobuf.decode(client.get("/layers/cases.pbf?v=7").data), ensure_ascii=False)
    assert "噪声扰民 电话139****5678" in cases and PHONE not in cases
    assert "139****5678" in client.get("/layers/alerts.json").get_data(as_text=True)
    csv = client.get("/export/cases.csv").get_data(as_text=True)
    assert "139****5678" in csv and PHONE not in csv

    sign_in(other, "street1")  # a duty officer of the west street: in full, and audited
    full = page_text(route(other, f"/cases/{texts['pii']}"))
    assert DESCRIPTION in full
    cases = json.dumps(geobuf.decode(other.get("/layers/cases.pbf?v=7").data), ensure_ascii=False)
    assert f"噪声扰民 电话{PHONE}" in cases
    with session_factory() as session:
        rows = audit_rows(session, action="personal_view")
    assert any(
        r.actor == "street1" and r.target == f"case:{texts['pii']}" and "case text" in r.detail for r in rows
    ), [(r.actor, r.target, r.detail) for r in rows]


def test_the_cache_key_and_etag_follow_the_mode(web, client, texts) -> None:  # type: ignore[no-untyped-def]
    """A wall and a leader of the same scope never share a cached body or an ETag of a text layer."""
    leader = web.server.test_client()
    sign_in(client, "wall1")
    sign_in(leader, "leader")
    for url in ("/layers/cases.pbf?v=9", "/layers/risks.json"):
        a, b = leader.get(url), client.get(url)  # the leader's body is cached first
        assert a.headers["ETag"] != b.headers["ETag"], url
        assert a.data != b.data, url
        assert find_leaks(b.get_data(as_text=True) if url.endswith("json") else "") == []
