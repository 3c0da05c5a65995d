"""``gridcc keys``: the push keys of departments and reporting apps (``docs`` in the README's "Pushing
to gridcc"): made with the token printed once, listed, revoked; each change audited."""

from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from data import text
from data.models import PUSH_PROTOCOLS
from data.push.keys import DEFAULT_MAX_BODY, DEFAULT_RATE, PushKeyError, create_key, list_keys, revoke_key
from data.settings import Settings

from .users import _local, _session, console_actor


def _feed_protocol(settings: Settings, feed: str) -> str:
    """The protocol of ``feed`` in the feeds file (a key must write to a feed the workers know)."""
    from workers.feeds.config import FeedConfigError, find_feed, load_feeds

    try:
        return find_feed(load_feeds(settings.effective_feeds_file), feed).protocol
    except FeedConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def keys() -> None:
    """Push keys: one per department or reporting app (Open311, CAP, sensor push)."""


@keys.command("create")
@click.argument("name")
@click.option("--department", default="")
@click.option("--app", default="")
@click.option("--feed", required=True)
@click.option("--rate", "rate", type=int, default=DEFAULT_RATE, show_default=True)
@click.option("--max-body", "max_body", type=int, default=DEFAULT_MAX_BODY, show_default=True)
@click.pass_obj
def create(
    settings: Settings, name: str, department: str, app: str, feed: str, rate: int, max_body: int
) -> None:
    """Make a key for a department (--department CODE) or an app (--app NAME) writing to --feed; the key
    is printed once and only its hash is kept."""
    lang = settings.language
    if bool(department) == bool(app):
        raise click.ClickException(text.t("push_cli_owner", lang))
    protocol = _feed_protocol(settings, feed)
    if protocol not in PUSH_PROTOCOLS:
        raise click.ClickException(text.t("push_cli_protocol", lang, feed=feed, protocol=protocol))
    kind, owner = ("department", department) if department else ("app", app)
    try:
        with _session(settings) as session:
            made = create_key(
                session, name, kind, owner, feed, (protocol,), actor=console_actor(),
                rate_per_minute=rate, max_body_bytes=max_body,
            )  # fmt: skip
            token = made.token
    except PushKeyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(text.t("push_cli_created", lang, name=name, feed=feed, protocol=protocol))
    click.echo(token)


@keys.command("list")
@click.pass_obj
def list_(settings: Settings) -> None:
    """Every key: owner, feed, protocols, limits, made and revoked (never the key itself)."""
    lang = settings.language
    table = Table(title=text.t("push_cli_title", lang))
    for col in (
        "name",
        "kind",
        "owner",
        "feed",
        "protocols",
        "prefix",
        "rate",
        "max_body",
        "created",
        "revoked",
    ):
        table.add_column(text.t(f"push_col_{col}", lang), overflow="fold")
    with _session(settings) as session:
        for k in list_keys(session):
            revoked = _local(k.revoked_at, settings) if k.revoked_at else ""
            row = (
                k.name, text.t(f"push_kind_{k.kind}", lang), k.owner, k.feed_name, k.protocols,
                f"{k.key_prefix}…", str(k.rate_per_minute), str(k.max_body_bytes),
                _local(k.created_at, settings), revoked,
            )  # fmt: skip
            table.add_row(*(escape(v) for v in row))
    Console(width=180, soft_wrap=False).print(table)


@keys.command("revoke")
@click.argument("name")
@click.pass_obj
def revoke(settings: Settings, name: str) -> None:
    """Revoke a key: every request with it is refused from now on."""
    try:
        with _session(settings) as session:
            revoke_key(session, name, actor=console_actor())
    except PushKeyError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(text.t("push_cli_revoked", settings.language, name=name))
