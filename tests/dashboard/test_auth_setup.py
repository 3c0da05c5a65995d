"""A fresh installation: sign-in is on, no account exists yet, and both the server's log and the sign-in
page say how to add the first admin; with sign-in switched off, the log says so loudly."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from data import migrate
from data.auth import create_user, disable_user
from data.db import make_engine, transaction
from data.settings import Settings
from tests.dashboard.test_auth_web import PASSWORD, make_app

COMMAND = "gridcc users add admin --role admin --scope 500151"


def test_notes_for_a_fresh_database_then_accounts(settings, session_factory, engine) -> None:  # type: ignore[no-untyped-def]
    from dashboard.auth.setup import startup_notes

    (note,) = startup_notes(settings)
    assert "no account exists yet" in note and COMMAND in note
    with transaction(session_factory) as session:
        create_user(session, "duty1", PASSWORD, "duty", "500151001")
    (note,) = startup_notes(settings)
    assert "no enabled admin" in note and "--role admin" in note
    with transaction(session_factory) as session:
        create_user(session, "boss", PASSWORD, "admin", "500151")
    assert startup_notes(settings) == []
    with transaction(session_factory) as session:
        disable_user(session, "boss")
    assert "no enabled admin" in startup_notes(settings)[0]


def test_notes_before_migrating(settings) -> None:  # type: ignore[no-untyped-def]
    from dashboard.auth.setup import startup_notes

    (note,) = startup_notes(settings)  # the fixture's database is empty: no table at all
    assert "gridcc migrate" in note and COMMAND in note


def test_sign_in_off_is_loud(settings) -> None:  # type: ignore[no-untyped-def]
    from dashboard.auth.setup import startup_notes

    (note,) = startup_notes(settings.model_copy(update={"auth_required": False}))
    assert note.startswith("!!! SIGN-IN IS OFF (GRIDCC_AUTH_REQUIRED=false) !!!")
    assert "kiosk" in note


def test_wsgi_entry_logs_the_first_admin_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from dashboard.services import services
    from dashboard.wsgi import create_wsgi

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(make_engine(url))
    for name in ("GRIDCC_AUTH_REQUIRED", "GRIDCC_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRIDCC_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GRIDCC_DATABASE_URL", url)
    with caplog.at_level(logging.WARNING, logger="gridcc.web"):
        server = create_wsgi()
    assert any(COMMAND in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    try:
        client = server.test_client()
        assert client.get("/").status_code == 302  # built from the environment: sign-in on
        page = client.get("/signin").get_data(as_text=True)
        assert "尚未创建任何账号" in page and f"<code>{COMMAND}</code>" in page
    finally:
        services(server).close()


def test_sign_in_page_shows_the_hint_only_while_no_account_exists(
    settings: Settings, redis_url: str, redis_conn: Any, engine: Any, session_factory: Any
) -> None:
    from dashboard.services import services

    app = make_app(settings, redis_url)
    try:
        client = app.server.test_client()
        english = client.get("/signin?lang=en").get_data(as_text=True)
        assert "No account exists yet" in english and f"<code>{COMMAND}</code>" in english
        with transaction(session_factory) as session:
            create_user(session, "duty1", PASSWORD, "duty", "500151001")
        page = client.get("/signin").get_data(as_text=True)
        assert "用户名" in page and "尚未创建任何账号" not in page and COMMAND not in page
    finally:
        services(app.server).close()
