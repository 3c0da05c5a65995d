"""The alert popup's grid workers (``/layers/alerts.json``) by role, signed in on the real app: phones in
full for a duty officer (who calls the grid workers a warning covers), masked for a leader and an admin,
absent (not even masked) for a wall. The three variants are cached apart, per scope."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from data.auth import audit_rows, create_user
from data.db import transaction
from layers import versions
from tests.dashboard.test_auth_web import ADDR, PASSWORD, sign_in
from tests.layers.hierarchy import STREETS, add_alert

WEST, _EAST = STREETS
PHONE = re.compile(r"(?<![\d.*])1[3-9]\d{9}(?!\d)")
MASKED = re.compile(r"^1\d\d\*{4}\d{4}$")


@pytest.fixture
def client(settings, redis_url, redis_conn, engine, session_factory, grids) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from dashboard.app import create_app
    from dashboard.services import services

    with transaction(session_factory) as session:
        add_alert(session, grids[:2], headline="西边预警")  # over two grids, each with a grid worker
        create_user(session, "leader", PASSWORD, "leader", "500151")
        create_user(session, "admin", PASSWORD, "admin", "500151")
        create_user(session, "duty1", PASSWORD, "duty", WEST)
        create_user(session, "wall1", PASSWORD, "wall", "500151")
    versions.bump(redis_conn, ["alerts"])
    app = create_app(settings.model_copy(update={"redis_url": redis_url, "auth_required": True}))
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDR
    yield client
    services(app.server).close()


def workers_of(client: Any) -> tuple[str, list[dict[str, Any]]]:
    response = client.get("/layers/alerts.json")
    assert response.status_code == 200
    features = response.get_json()["features"]
    assert [f["properties"]["headline"] for f in features] == ["西边预警"]
    workers = [w for f in features for g in f["properties"]["grids"] for w in g.get("workers", [])]
    assert len(workers) == 2 and all(w["name"].startswith("网格员") for w in workers)
    return response.get_data(as_text=True), workers


@pytest.mark.parametrize("username", ["leader", "admin"])
def test_phones_in_the_alert_popup_are_masked(client, session_factory, username: str) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, username).status_code == 302
    raw, workers = workers_of(client)
    assert all(MASKED.match(w["phone"]) for w in workers), workers
    assert PHONE.findall(raw) == []  # no phone in full anywhere in the payload
    assert "138****0000" in raw
    with session_factory() as session:
        assert audit_rows(session, action="personal_view") == []  # nothing personal was shown


def test_a_duty_officer_gets_the_phones_in_full(client) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "leader").status_code == 302
    masked_raw, _ = workers_of(client)  # the masked variant is in the cache first
    duty = client.application.test_client()
    duty.environ_base["REMOTE_ADDR"] = ADDR
    assert sign_in(duty, "duty1").status_code == 302
    raw, workers = workers_of(duty)
    assert sorted(w["phone"] for w in workers) == ["13800000000", "13800000001"]
    assert PHONE.findall(masked_raw) == []  # and the leader's payload never had them
    assert PHONE.findall(workers_of(client)[0]) == []  # nor has it now that the full variant is cached


def test_a_wall_gets_the_names_without_any_phone(client) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "wall1").status_code == 302
    raw, workers = workers_of(client)
    assert all("phone" not in w for w in workers)
    assert PHONE.findall(raw) == [] and "****" not in raw
