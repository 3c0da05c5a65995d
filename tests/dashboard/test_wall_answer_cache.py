"""``POST /api/wall`` renders its answer once per question, whatever the number of walls asking it.

On the real database and Redis: a second wall asking what the first asked gets the answer kept in Redis
(the same bytes, without rendering again); a version bump is a new question, answered with the new
figures; an answer that holds a part still building elsewhere is not kept, so the walls that ask again
get the new figures as soon as they exist.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from data.scope import AreaScope
from layers import versions, wall_payload
from layers.cache import PREFIX, cache_key

from .test_wall_components import by_id
from .test_wall_page import _cases, _layout
from .test_wall_page import units as units  # noqa: F401 - a fixture
from .test_wall_page import wall_app as wall_app  # noqa: F401 - a fixture


def _ask(client: Any, have: dict[str, Any]) -> bytes:
    csrf = client.get_cookie("_csrf_token")
    answer = client.post(
        "/api/wall",
        json={"want": dict(have), "have": None, "lang": "zh-CN"},
        headers={"X-CSRFToken": csrf.value if csrf else ""},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return bytes(answer.get_data())


def _received_today(body: bytes) -> str:
    from dashboard.wall.page import OUTPUTS

    outputs = dict(zip(OUTPUTS, json.loads(body)["outputs"], strict=True))
    kpis = outputs[("wall-kpis", "children")]
    found = [c for c in _walk(kpis) if c.get("props", {}).get("id") == "wall-kpi-today-received"]
    assert found
    return str(found[0]["props"]["children"])


def _walk(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        out.append(node)
        for value in node.get("props", {}).values():
            out += _walk(value)
    elif isinstance(node, list):
        for item in node:
            out += _walk(item)
    return out


def _answers_kept(redis_conn: Any) -> list[bytes]:
    return list(redis_conn.scan_iter(f"{PREFIX}wall-answer:*", count=500))


@pytest.fixture
def rendered(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """How many times :func:`dashboard.wall.page.refresh` rendered an answer."""
    from dashboard.wall import page

    calls: list[int] = []
    real = page.refresh

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(page, "refresh", counting)
    return calls


def test_one_render_per_question(wall_app, session_factory, units, redis_conn, rendered) -> None:  # type: ignore[no-untyped-def]
    for key in _answers_kept(redis_conn):
        redis_conn.delete(key)
    have = by_id(_layout(wall_app), "wall-have").data
    walls = [wall_app.server.test_client() for _ in range(3)]
    for client in walls:
        client.get("/")  # the page sets the CSRF cookie
    _cases(session_factory, units, datetime.now(UTC))
    versions.bump(redis_conn, ["cases", "kpis"])

    first = [_ask(client, have) for client in walls]
    assert len(rendered) == 1  # three walls, one render
    assert first[1] == first[0] and first[2] == first[0]
    assert _received_today(first[0]) == "2"
    assert len(_answers_kept(redis_conn)) == 1

    versions.bump(redis_conn, ["cases", "kpis"])  # a new version is a new question
    _ask(walls[0], have)
    _ask(walls[1], have)
    assert len(rendered) == 2


def test_an_answer_with_a_part_still_building_is_not_kept(
    wall_app, session_factory, units, redis_conn, rendered
) -> None:  # type: ignore[no-untyped-def]
    have = by_id(_layout(wall_app), "wall-have").data
    client = wall_app.server.test_client()
    client.get("/")
    _cases(session_factory, units, datetime.now(UTC))
    versions.bump(redis_conn, ["cases", "kpis"])
    # another process holds the build lock of the new figures (as test_wall_stale_while_building)
    current = versions.read(redis_conn)
    version, params = wall_payload.part_params("stats", current, datetime.now(UTC), "Asia/Shanghai")
    lock = cache_key("wall-stats", AreaScope.district(units.district), version, f"{params}:t=masked")
    redis_conn.set(lock + ":building", "another-process", px=30000)

    stale = _ask(client, have)
    assert _received_today(stale) == "0"  # the previous figures, at once
    assert json.loads(stale)["outputs"][-1]["stats"] == "building"
    redis_conn.delete(lock + ":building")
    fresh = _ask(client, have)  # the same question again: rendered again, now with the new figures
    assert len(rendered) == 2
    assert _received_today(fresh) == "2"
