"""``gridcc feeds disable|enable NAME``: pause and resume a feed from the console, audited as
``console:<os user>`` from this host. The feeds file is left as it is (its ``enabled`` says whether a
feed is polled at all; a pause is the operator's, kept in the database)."""

from __future__ import annotations

import socket

import click
from sqlalchemy.orm import Session

from data import text
from data.auth.feed_admin import FeedNotFound, set_feed_paused
from data.db import make_engine, make_sessionmaker, transaction
from data.models import Feed
from data.settings import Settings
from workers.feeds.config import FeedConfigError, load_feeds, sync_feeds

from .users import console_actor


def _where() -> str:
    try:
        return f"console@{socket.gethostname()}"
    except OSError:
        return "console"


def _ensure_row(session: Session, settings: Settings, name: str) -> None:
    """A feed the file lists but that was never polled has no row yet: sync the file's rows first."""
    if session.get(Feed, name) is not None:
        return
    path = settings.effective_feeds_file
    try:
        configs = load_feeds(path)
    except FeedConfigError:
        return  # the row is not there and the file cannot say more: "no feed named …"
    if any(c.name == name for c in configs):
        sync_feeds(session, configs, source=str(path))


def _set(settings: Settings, name: str, paused: bool) -> bool:
    engine = make_engine(settings)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            _ensure_row(session, settings, name)
            return set_feed_paused(session, name, paused, actor=console_actor(), remote_addr=_where())
    except FeedNotFound as exc:
        raise click.ClickException(text.t("cli_feed_unknown", settings.language, error=exc)) from None
    finally:
        engine.dispose()


@click.command("disable")
@click.argument("name")
@click.pass_obj
def disable(settings: Settings, name: str) -> None:
    """Pause a feed: its polls are skipped (shown as paused, never stale) until `gridcc feeds enable`."""
    if _set(settings, name, True):
        click.echo(text.t("cli_feed_paused", settings.language, name=name))
    else:
        click.echo(text.t("cli_feed_already_paused", settings.language, name=name))


@click.command("enable")
@click.argument("name")
@click.pass_obj
def enable(settings: Settings, name: str) -> None:
    """Resume a paused feed: polled again from its next turn."""
    if _set(settings, name, False):
        click.echo(text.t("cli_feed_resumed", settings.language, name=name))
    else:
        click.echo(text.t("cli_feed_not_paused", settings.language, name=name))
