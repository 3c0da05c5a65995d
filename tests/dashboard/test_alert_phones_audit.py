"""Each body of the alerts layer (``/layers/alerts.json``) that gives a duty officer the grid workers'
phones in full writes one ``personal_view`` audit row — per delivery to a viewer, whether the body was
built or came from the Redis layer cache; a 304 (If-None-Match), a masked, a phone-less or a wall's body
writes none. Signed in on the real app, the real test database and Redis; shown on ``/audit`` and by
``gridcc audit``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete

from dashboard.alert_audit import TARGET
from data.auth import audit_rows, create_user
from data.db import transaction
from data.models import AlertGrid
from data.scope import AreaScope
from layers import versions
from layers.cache import cache_key
from tests.dashboard.test_access_scope import route
from tests.dashboard.test_auth_web import ADDR, PASSWORD, page_text, sign_in
from tests.layers.hierarchy import STREETS, add_alert

WEST, EAST = STREETS
PHONE = re.compile(r"(?<![\d.*])1[3-9]\d{9}(?!\d)")
OTHER_ADDR = "198.51.100.7"


@pytest.fixture
def web(settings, redis_url, redis_conn, engine, session_factory, grids) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """Two warnings over the west street's grids (one grid covered by both), a point warning in the east
    street that covers no grid; duty officers of each street, a leader, an admin, a wall."""
    from dashboard.app import create_app
    from dashboard.services import services

    with transaction(session_factory) as session:
        add_alert(session, grids[:2], headline="西边暴雨预警")
        add_alert(session, grids[1:2], headline="西边大风预警")
        east = add_alert(session, grids[4:5], headline="东边雷电预警")
        session.execute(delete(AlertGrid).where(AlertGrid.alert_id == east.id))  # placed there, covers none
        create_user(session, "duty1", PASSWORD, "duty", WEST)
        create_user(session, "duty2", PASSWORD, "duty", WEST)
        create_user(session, "duty_east", PASSWORD, "duty", EAST)
        create_user(session, "leader", PASSWORD, "leader", "500151")
        create_user(session, "admin", PASSWORD, "admin", "500151")
        create_user(session, "wall1", PASSWORD, "wall", "500151")
    versions.bump(redis_conn, ["alerts"])
    app = create_app(settings.model_copy(update={"redis_url": redis_url, "auth_required": True}))
    yield app
    services(app.server).close()


def signed_in(web: Any, username: str, addr: str = ADDR) -> Any:
    client = web.server.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    assert sign_in(client, username).status_code == 302
    return client


def personal_views(session_factory: Any) -> list[Any]:
    with session_factory() as session:
        return list(reversed(audit_rows(session, action="personal_view")))


def sent(response: Any) -> tuple[int, int]:
    """(alerts, distinct phones) as the client received them."""
    features = response.get_json()["features"]
    phones = {
        w["phone"]
        for f in features
        for g in f["properties"]["grids"]
        for w in g.get("workers", [])
        if PHONE.fullmatch(w.get("phone", ""))
    }
    return len(features), len(phones)


def test_a_duty_fetch_writes_one_row_and_a_304_writes_none(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    duty = signed_in(web, "duty1")
    before = datetime.now(UTC)
    response = duty.get("/layers/alerts.json?v=1")
    after = datetime.now(UTC)
    assert response.status_code == 200
    alerts, phones = sent(response)
    assert (alerts, phones) == (2, 2)  # two warnings; grid 1's worker is listed under both, counted once
    [row] = personal_views(session_factory)
    assert (row.actor, row.target, row.remote_addr) == ("duty1", TARGET, ADDR)
    assert row.detail == "2 alerts, 2 grid worker phones in full"
    assert before <= row.at <= after
    assert not PHONE.search(row.detail)

    # the same body again: the browser revalidates with its ETag, the server sends no body, no new row
    etag = response.headers["ETag"]
    again = duty.get("/layers/alerts.json?v=1", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert len(personal_views(session_factory)) == 1
    # a HEAD sends headers only
    assert duty.head("/layers/alerts.json?v=1").status_code == 200
    assert len(personal_views(session_factory)) == 1
    # a fetch without the ETag is a new delivery
    assert duty.get("/layers/alerts.json?v=1").status_code == 200
    assert len(personal_views(session_factory)) == 2


def test_a_body_from_the_warm_cache_is_audited_for_its_viewer(
    web, redis_conn, session_factory, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from dashboard import routes

    first = signed_in(web, "duty1")
    assert first.get("/layers/alerts.json").status_code == 200
    version = versions.read(redis_conn)["alerts"]
    assert redis_conn.exists(cache_key("alerts", AreaScope.of(WEST), version, "fullphones"))

    def no_build(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the second duty officer's body must come from the cache")

    monkeypatch.setattr(routes, "build_alerts", no_build)
    second = signed_in(web, "duty2", OTHER_ADDR)
    response = second.get("/layers/alerts.json")
    assert response.status_code == 200 and sent(response) == (2, 2)
    rows = personal_views(session_factory)
    assert [(r.actor, r.remote_addr, r.target) for r in rows] == [
        ("duty1", ADDR, TARGET),
        ("duty2", OTHER_ADDR, TARGET),
    ]
    assert rows[1].detail == "2 alerts, 2 grid worker phones in full"


@pytest.mark.parametrize("username", ["leader", "admin", "wall1"])
def test_masked_and_phone_less_variants_write_nothing(web, session_factory, username: str) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(web, username)
    response = client.get("/layers/alerts.json")
    assert response.status_code == 200
    features = response.get_json()["features"]
    workers = [w for f in features for g in f["properties"]["grids"] for w in g["workers"]]
    assert len(features) == 3 and workers  # the warnings and their workers went, phones masked or absent
    assert not PHONE.search(response.get_data(as_text=True))
    assert personal_views(session_factory) == []


def test_a_duty_body_without_any_phone_writes_nothing(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    duty = signed_in(web, "duty_east")
    response = duty.get("/layers/alerts.json")
    assert response.status_code == 200
    features = response.get_json()["features"]
    assert [f["properties"]["headline"] for f in features] == ["东边雷电预警"]
    assert features[0]["properties"]["grids"] == []
    assert personal_views(session_factory) == []


def test_the_row_reads_well_on_the_audit_page_and_the_console(web, settings, database_url) -> None:  # type: ignore[no-untyped-def]
    from gridcc.cli import main

    assert signed_in(web, "duty1").get("/layers/alerts.json").status_code == 200
    admin = signed_in(web, "admin")
    zh = page_text(route(admin, "/audit", "?action=personal_view"))
    assert "查看个人信息" in zh and "地图预警图层" in zh and TARGET in zh
    assert "2 alerts, 2 grid worker phones in full" in zh and ADDR in zh and "duty1" in zh
    en = page_text(route(admin, "/audit", "?action=personal_view&lang=en"))
    assert "Personal data viewed" in en and "Map alerts layer" in en and TARGET in en

    env = {"GRIDCC_DATABASE_URL": database_url, "GRIDCC_DATA_DIR": str(settings.data_dir)}
    result = CliRunner().invoke(main, ["audit", "--action", "personal_view"], env=env)
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if "duty1" in line]
    for part in ("personal_view", TARGET, "2 alerts, 2 grid worker phones in full", ADDR):
        assert part in line, line


def test_no_phone_goes_out_when_the_audit_cannot_be_written(web, session_factory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    from dashboard import alert_audit

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT INTO audit_log", {}, Exception("database is locked"))

    monkeypatch.setattr(alert_audit, "audit", broken)
    response = signed_in(web, "duty1").get("/layers/alerts.json")
    assert response.status_code == 500
    assert not PHONE.search(response.get_data(as_text=True))
    assert personal_views(session_factory) == []
