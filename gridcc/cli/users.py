"""``gridcc users``: accounts, roles, area scopes, passwords and wall sign-in links."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from data import text
from data.auth import (
    Role,
    UserError,
    WeakPassword,
    create_user,
    disable_user,
    list_users,
    make_wall_link,
    revoke_wall_link,
    role_label,
    set_password,
    set_role,
    set_scope,
)
from data.db import make_engine, make_sessionmaker, transaction
from data.models import UserAccount
from data.settings import Settings

T = TypeVar("T")
ROLE_CHOICE = click.Choice([r.value for r in Role], case_sensitive=False)


def console_actor() -> str:
    """Who runs the command (the console's user), for the audit log."""
    try:
        return f"console:{getpass.getuser()}"
    except (KeyError, OSError):
        return "console"


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _run(settings: Settings, action: Callable[[Session], T]) -> T:
    try:
        with _session(settings) as session:
            return action(session)
    except (UserError, WeakPassword) as exc:
        raise click.ClickException(str(exc)) from None


def _read_password(from_stdin: bool, lang: str) -> str:
    """From one line of stdin, or typed twice at a prompt that does not echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt(text.t("cli_password_prompt", lang), hide_input=True, confirmation_prompt=True))


def _local(value: datetime | None, settings: Settings) -> str:
    return text.local_time(value, settings.tz, settings.language) or text.EMPTY


@click.group()
def users() -> None:
    """Sign-in accounts: role (wall | duty | leader | admin) and area scope (district/street/grid codes)."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=ROLE_CHOICE)
@click.option("--scope", "codes", required=True)
@click.option("--name", "display_name", default="")
@click.option("--password-stdin", is_flag=True)
@click.pass_obj
def add(
    settings: Settings, username: str, role: str, codes: str, display_name: str, password_stdin: bool
) -> None:
    """Add an account. Without --password-stdin, asks for the password (twice, not echoed)."""
    password = _read_password(password_stdin, settings.language)
    _run(
        settings,
        lambda s: create_user(
            s, username, password, role, codes, display_name=display_name, actor=console_actor()
        ),
    )
    click.echo(text.t("cli_user_added", settings.language, username=username, role=role, scope=codes))


@users.command("list")
@click.pass_obj
def list_(settings: Settings) -> None:
    """Every account with its role, scope and state."""

    lang = settings.language

    def rows(session: Session) -> list[tuple[str, ...]]:
        return [
            (
                u.username,
                u.display_name,
                f"{u.role} {role_label(u.role, settings.language)}",
                u.scope_codes,
                text.t(f"cli_user_state_{_state(u)}", lang),
                text.t("yes", lang) if u.link_nonce else "",
                _local(u.last_sign_in_at, settings),
                _local(u.created_at, settings),
            )
            for u in list_users(session)
        ]

    table = Table(title=text.t("cli_users_title", lang))
    for key in ("user", "display_name", "role", "scope", "state", "wall_link", "last_sign_in", "created"):
        table.add_column(text.t(f"cli_col_{key}", lang), overflow="fold")
    for row in _run(settings, rows):
        table.add_row(*(escape(v) for v in row))
    Console(width=160, soft_wrap=False).print(table)


def _state(user: UserAccount) -> str:
    return "disabled" if user.disabled else "locked" if user.locked_until else "ok"


@users.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True)
@click.pass_obj
def disable(settings: Settings, username: str, enable: bool) -> None:
    """Disable an account (its open sessions end at once)."""
    _run(settings, lambda s: disable_user(s, username, actor=console_actor(), enable=enable))
    key = "cli_user_enabled" if enable else "cli_user_disabled"
    click.echo(text.t(key, settings.language, username=username))


@users.command("set-scope")
@click.argument("username")
@click.argument("codes")
@click.pass_obj
def set_scope_(settings: Settings, username: str, codes: str) -> None:
    """Give an account a new area scope (comma-separated district/street/community/grid codes)."""
    user = _run(settings, lambda s: set_scope(s, username, codes, actor=console_actor()))
    click.echo(text.t("cli_user_scope", settings.language, username=username, scope=user.scope_codes))


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=ROLE_CHOICE)
@click.pass_obj
def set_role_(settings: Settings, username: str, role: str) -> None:
    """Give an account a new role."""
    _run(settings, lambda s: set_role(s, username, role, actor=console_actor()))
    click.echo(text.t("cli_user_role", settings.language, username=username, role=role))


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True)
@click.pass_obj
def set_password_(settings: Settings, username: str, password_stdin: bool) -> None:
    """Set a new password (ends the account's sessions and lifts a lock-out)."""
    password = _read_password(password_stdin, settings.language)
    _run(settings, lambda s: set_password(s, username, password, actor=console_actor()))
    click.echo(text.t("cli_user_password_set", settings.language, username=username))


@users.command("wall-link")
@click.argument("username")
@click.option("--base-url", default="")
@click.option("--revoke", is_flag=True)
@click.pass_obj
def wall_link(settings: Settings, username: str, base_url: str, revoke: bool) -> None:
    """Print a sign-in link for a wall display (replaces any earlier link and ends the sessions
    opened with it: open the new link on each screen), or revoke it."""
    if revoke:
        _run(settings, lambda s: revoke_wall_link(s, username, actor=console_actor()))
        click.echo(text.t("cli_user_link_revoked", settings.language, username=username))
        return
    secret = settings.effective_secret_key()
    token = _run(settings, lambda s: make_wall_link(s, username, secret, actor=console_actor()))
    base = (base_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    click.echo(f"{base}/signin/token/{token}")
