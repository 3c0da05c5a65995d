"""``gridcc audit``: the newest audit-log rows as a table (who, what, when, from where)."""

from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import inspect

from data import text
from data.auth import audit_rows
from data.db import make_engine, make_sessionmaker
from data.settings import Settings


@click.command()
@click.option("--actor", default=None)
@click.option("--action", default=None)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.pass_obj
def audit(settings: Settings, actor: str | None, action: str | None, limit: int) -> None:
    """The audit log, newest first: sign-ins and failures, account, supervision and alert actions."""
    engine = make_engine(settings)
    try:
        if not inspect(engine).has_table("audit_log"):
            raise click.ClickException(text.t("cli_no_database", settings.language))
        with make_sessionmaker(engine)() as session:
            rows = audit_rows(session, actor=actor, action=action, limit=limit)
    finally:
        engine.dispose()
    table = Table(title=text.t("cli_audit_title", settings.language))
    for key in ("time", "actor", "action", "target", "detail", "from"):
        table.add_column(text.t(f"cli_col_{key}", settings.language), overflow="fold")
    for row in rows:
        table.add_row(
            text.local_time(row.at, settings.tz, settings.language, "second"),
            escape(row.actor),
            escape(row.action),
            escape(row.target),
            escape(row.detail),
            escape(row.remote_addr),
        )
    Console(width=200, soft_wrap=False).print(table)
    if not rows:
        click.echo(text.t("cli_audit_none", settings.language))
