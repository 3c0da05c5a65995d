"""An app on the test database (migrated, with the hand-made hierarchy) and the embedded Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from data.db import transaction
from data.settings import Settings
from tests.layers.hierarchy import build_hierarchy


@pytest.fixture
def grids(session_factory) -> list[str]:  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        return build_hierarchy(session)


@pytest.fixture
def app(engine, database_url: str, redis_url: str, redis_conn, tmp_path: Path, grids) -> Iterator:  # type: ignore[no-untyped-def]
    from dashboard.app import create_app
    from dashboard.map.page import PAGE as MAP_PAGE
    from dashboard.page import PageRegistry
    from dashboard.services import services

    # not about access: sign-in off explicitly (it is on by default; tests/dashboard/test_access_scope.py
    # and test_auth_web.py test it on)
    settings = Settings(
        data_dir=tmp_path / "var", database_url=database_url, redis_url=redis_url, auth_required=False
    )
    dash_app = create_app(settings, pages=PageRegistry([MAP_PAGE]))  # the map alone at /
    yield dash_app
    services(dash_app.server).close()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.server.test_client()
