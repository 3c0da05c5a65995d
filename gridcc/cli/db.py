"""``gridcc migrate`` and ``gridcc seed``."""

from __future__ import annotations

import click

from data import migrate as migrations
from data import text
from data.db import make_engine, make_sessionmaker, transaction
from data.seed import seed_catalogue
from data.settings import Settings


@click.command()
@click.option("--revision", default="head", show_default=True)
@click.option("--down", is_flag=True)
@click.pass_obj
def migrate(settings: Settings, revision: str, down: bool) -> None:
    """Create or upgrade the database schema (Alembic)."""
    engine = make_engine(settings)
    if down:
        migrations.downgrade(engine, "base" if revision == "head" else revision)
    else:
        migrations.upgrade(engine, revision)
    revision = migrations.current_revision(engine) or "base"
    click.echo(text.t("cli_migrated", settings.language, revision=revision))


@click.command()
@click.pass_obj
def seed(settings: Settings) -> None:
    """Load departments and case categories from the catalogue."""
    engine = make_engine(settings)
    with transaction(make_sessionmaker(engine)) as session:
        departments, categories = seed_catalogue(session)
    click.echo(text.t("cli_seeded", settings.language, departments=departments, categories=categories))
