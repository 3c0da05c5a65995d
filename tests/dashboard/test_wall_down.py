"""The wall's "data stopped" line: rendered from the catalogue in the wall's language (hidden until the
map's tick hears that the server cannot reach Redis; tests/browser/test_wall_redis_down.py shows it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from data.db import transaction
from data.settings import Settings
from tests.data.helpers import build_units

from .test_wall_components import by_id


@pytest.fixture
def wall_app(
    engine: Any, database_url: str, redis_url: str, redis_conn: Any, tmp_path: Path, session_factory: Any
) -> Iterator[Any]:
    from dashboard.app import create_app
    from dashboard.services import services

    with transaction(session_factory) as session:
        build_units(session)
    settings = Settings(
        data_dir=tmp_path / "var", database_url=database_url, redis_url=redis_url, auth_required=False
    )
    app = create_app(settings)
    yield app
    services(app.server).close()


@pytest.mark.parametrize(
    ("lang", "text"),
    [("zh-CN", "数据中断 · 画面已停止更新"), ("en", "Data stopped · this screen is not updating")],
)
def test_the_data_stopped_line_is_in_the_wall_header(wall_app: Any, lang: str, text: str) -> None:
    from dashboard.page import PageContext
    from dashboard.scope import current_scope
    from dashboard.services import services
    from dashboard.wall.page import layout

    with wall_app.server.test_request_context("/"):
        svc = services(wall_app.server)
        page = layout(PageContext(settings=svc.settings, services=svc, scope=current_scope(), lang=lang))
    header = by_id(page, "wall-header")
    assert header.className == "wall-header"  # wall.js adds "redis-down" while Redis is away
    down = by_id(header, "wall-down")
    assert down.children == text and down.className == "wall-down"
    assert by_id(header, "wall-banner") is not None
    # the class is the clientside callback's output, driven by the map's versions store
    assert "wall-header.className" in wall_app.callback_map
