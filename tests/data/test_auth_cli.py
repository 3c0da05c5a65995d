"""``gridcc users …`` and ``gridcc audit`` through click's CliRunner on the real test database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from data import migrate, text
from data.auth import audit_rows, get_user, scope_of, user_for_link, verify_password
from data.db import make_engine, make_sessionmaker
from data.scope import AreaScope
from data.settings import Settings
from gridcc.cli import main

PASSWORD = "correct horse 9"


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()
    return {"GRIDCC_DATABASE_URL": database_url, "GRIDCC_DATA_DIR": str(tmp_path / "var")}


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), env=env, input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def fails(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), env=env, input=stdin)
    assert result.exit_code != 0, result.output
    return result.output


def user(env: dict[str, str], username: str):  # type: ignore[no-untyped-def]
    engine = make_engine(env["GRIDCC_DATABASE_URL"])
    try:
        with make_sessionmaker(engine)() as session:
            return get_user(session, username)
    finally:
        engine.dispose()


def test_users_lifecycle(env: dict[str, str]) -> None:
    out = run(env, "users", "add", "admin", "--role", "admin", "--scope", "500151", "--password-stdin",
              stdin=PASSWORD + "\n")  # fmt: skip
    assert "已添加 admin" in out and PASSWORD not in out
    # prompted twice without echo when not given on stdin
    out = run(env, "users", "add", "jiedao1", "--role", "duty", "--scope", "500151001", "--name", "李值班",
              stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert PASSWORD not in out
    account = user(env, "jiedao1")
    assert account is not None and account.display_name == "李值班"
    assert verify_password(account.password_hash, PASSWORD)[0]

    out = run(env, "users", "list")
    assert "jiedao1" in out and "值班员" in out and "500151001" in out and "argon2" not in out

    run(env, "users", "set-scope", "jiedao1", "500151001,500151002")
    run(env, "users", "set-role", "jiedao1", "leader")
    run(env, "users", "set-password", "jiedao1", "--password-stdin", stdin="a new pass 77\n")
    run(env, "users", "disable", "jiedao1")
    account = user(env, "jiedao1")
    assert account is not None
    assert scope_of(account) == AreaScope.of("500151001,500151002")
    assert account.role == "leader" and account.disabled
    assert verify_password(account.password_hash, "a new pass 77")[0]
    assert "已停用" in run(env, "users", "list")
    assert "disabled" in run({**env, "GRIDCC_LANGUAGE": "en"}, "users", "list")

    out = run(env, "audit", "--limit", "20")
    for action in ("user_add", "user_scope", "user_role", "user_password", "user_disable"):
        assert action in out
    assert "console:" in out
    out = run(env, "audit", "--action", "user_role")
    assert "user_role" in out and "user_scope" not in out
    assert "没有符合条件的审计记录" in run(env, "audit", "--actor", "somebody-else")
    assert "no audit rows match" in run({**env, "GRIDCC_LANGUAGE": "en"}, "audit", "--actor", "somebody-else")


def test_users_errors_are_clear(env: dict[str, str]) -> None:
    assert "too short" in fails(env, "users", "add", "x1", "--role", "duty", "--scope", "500151",
                                "--password-stdin", stdin="short\n")  # fmt: skip
    assert "not a district/street/community/grid code" in fails(
        env,
        "users",
        "add",
        "x1",
        "--role",
        "duty",
        "--scope",
        "12ab",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert "Invalid value" in fails(env, "users", "add", "x1", "--role", "king", "--scope", "500151",
                                    "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert "no such user" in fails(env, "users", "disable", "ghost")


def test_wall_link(env: dict[str, str]) -> None:
    run(env, "users", "add", "wall1", "--role", "wall", "--scope", "500151", "--password-stdin",
        stdin=PASSWORD + "\n")  # fmt: skip
    out = run(env, "users", "wall-link", "wall1", "--base-url", "https://cc.example.cn/")
    url = out.strip()
    assert url.startswith("https://cc.example.cn/signin/token/")
    token = url.rsplit("/", 1)[1]
    settings = Settings(data_dir=Path(env["GRIDCC_DATA_DIR"]), database_url=env["GRIDCC_DATABASE_URL"])
    engine = make_engine(env["GRIDCC_DATABASE_URL"])
    try:
        with make_sessionmaker(engine)() as session:
            found = user_for_link(session, token, settings.effective_secret_key())
            assert found is not None and found.username == "wall1"
            assert audit_rows(session, action="wall_link")[0].target == "user:wall1"
    finally:
        engine.dispose()
    english = {**env, "GRIDCC_LANGUAGE": "en"}
    assert "wall link revoked" in run(english, "users", "wall-link", "wall1", "--revoke")
    account = user(env, "wall1")
    assert account is not None and account.link_nonce is None
    run(env, "users", "add", "duty1", "--role", "duty", "--scope", "500151", "--password-stdin",
        stdin=PASSWORD + "\n")  # fmt: skip
    assert "only wall accounts" in fails(env, "users", "wall-link", "duty1")


@pytest.mark.parametrize("lang", text.LANGUAGES)
def test_cli_tables_and_messages_speak_the_configured_language(env: dict[str, str], lang: str) -> None:
    """Issue #10: the CLI's headers, states and messages come from the catalogue, in GRIDCC_LANGUAGE."""
    env = {**env, "GRIDCC_LANGUAGE": lang}
    other = text.other(lang)
    out = run(env, "users", "add", "admin", "--role", "admin", "--scope", "500151", "--password-stdin",
              stdin=PASSWORD + "\n")  # fmt: skip
    assert out.strip() == text.t("cli_user_added", lang, username="admin", role="admin", scope="500151")
    listed = run(env, "users", "list")
    keys = ("user", "display_name", "role", "scope", "state", "wall_link", "last_sign_in", "created")
    header = next(line for line in listed.splitlines() if text.t("cli_col_last_sign_in", lang) in line)
    words = [text.t(f"cli_col_{key}", lang) for key in keys]
    assert [w for w in words if w in header] == words, header
    assert text.t("cli_users_title", lang) in listed and text.t("cli_user_state_ok", lang) in listed
    assert text.t("cli_col_last_sign_in", other) not in listed
    audit = run(env, "audit", "--actor", "somebody-else")
    assert text.t("cli_audit_none", lang) in audit and text.t("cli_col_actor", lang) in audit
    assert text.t("cli_audit_none", other) not in audit
