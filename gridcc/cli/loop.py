"""``gridcc loop undelivered|resend|deliver``: the loop's outbox from the console.

``resend`` sends an undelivered instruction again (same idempotency key, fresh attempts), audited as
``loop_resend`` by ``console:<os user>``; the delivery job (``rq cron``, every 5 s) picks it up.
``deliver`` runs one delivery in this process (for an operator checking a department's endpoint).
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import click

from data import text
from data.db import make_engine, make_sessionmaker, transaction
from data.loop import outbox
from data.loop.endpoints import EndpointConfigError, load_endpoints
from data.settings import Settings
from workers.outbox.deliver import run_delivery

from .users import console_actor


def _where() -> str:
    try:
        return f"console@{socket.gethostname()}"
    except OSError:
        return "console"


@click.group("loop")
def loop() -> None:
    """The instructions sent to the departments (交办, 吹哨, 督办 …) and their delivery."""


@loop.command("undelivered")
@click.pass_obj
def undelivered(settings: Settings) -> None:
    """List the instructions marked 未送达 (undelivered), newest first, with their last error."""
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            rows = outbox.undelivered(session)
            for row in rows:
                click.echo(f"{row.message_id}\t{row.department_code}\t{row.attempts}\t{row.last_error}")
            if not rows:
                click.echo(text.t("cli_loop_none", settings.language))
    finally:
        engine.dispose()


@loop.command("resend")
@click.argument("message_ids", nargs=-1)
@click.option("--all", "every", is_flag=True)
@click.pass_obj
def resend(settings: Settings, message_ids: tuple[str, ...], every: bool) -> None:
    """Send undelivered instructions again (by message id, or --all)."""
    if not message_ids and not every:
        raise click.UsageError(text.t("cli_loop_name_ids", settings.language))
    engine = make_engine(settings)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            ids = list(message_ids) or [row.message_id for row in outbox.undelivered(session, limit=10_000)]
            now = datetime.now(UTC)
            for message_id in ids:
                try:
                    outbox.resend(session, message_id, console_actor(), now, _where())
                except (LookupError, ValueError) as exc:
                    raise click.ClickException(str(exc)) from None
        click.echo(text.t("cli_loop_queued", settings.language, n=len(ids)))
    finally:
        engine.dispose()


@loop.command("deliver")
@click.pass_obj
def deliver(settings: Settings) -> None:
    """Deliver the due instructions now, in this process; print what happened."""
    try:
        endpoints = load_endpoints(settings.effective_feeds_file)
    except EndpointConfigError as exc:
        raise click.ClickException(str(exc)) from None
    engine = make_engine(settings)
    try:
        counts = run_delivery(make_sessionmaker(engine), settings, endpoints)
    finally:
        engine.dispose()
    click.echo(
        text.t(
            "cli_loop_delivered",
            settings.language,
            delivered=counts.delivered,
            retrying=counts.retrying,
            undelivered=counts.undelivered,
        )
    )
    for error in counts.errors[:5]:
        click.echo(f"  {error}")
