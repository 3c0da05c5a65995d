"""``gridcc migrate``, ``gridcc seed`` and ``gridcc db`` (maintenance of what is kept beside the rows)."""

from __future__ import annotations

import click

from data import case_daily, first_response, text
from data import migrate as migrations
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
        migrations.upgrade(engine, revision, settings.phone_search_key_bytes())
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


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("rebuild-aggregates")
@click.option("--batch", type=click.IntRange(min=1), default=first_response.BATCH, show_default=True)
@click.pass_obj
def rebuild_aggregates(settings: Settings, batch: int) -> None:
    """Recompute what is stored per case from the timeline (the first response), in batches of case
    ids, each committed on its own, after the daily aggregates (``case_daily``) from the cases in one
    transaction; run it after a bulk load. A second run changes nothing."""
    engine = make_engine(settings)
    cases = changed = 0
    try:
        # the aggregates first: the first-response corrections below then move them through the triggers
        with engine.begin() as conn:
            rows = case_daily.rebuild(conn)
        click.echo(text.t("agg_rebuild_done", settings.language, rows=rows))
        with engine.connect() as conn:
            for step in first_response.rebuild(conn, batch):
                conn.commit()
                cases += step.cases
                changed += step.changed
                click.echo(
                    text.t(
                        "ranking_rebuild_batch",
                        settings.language,
                        first=step.first_id,
                        last=step.last_id,
                        cases=step.cases,
                        changed=step.changed,
                    )
                )
    finally:
        engine.dispose()
    click.echo(text.t("ranking_rebuild_done", settings.language, cases=cases, changed=changed))


@db.command("rebuild-search")
@click.option("--phones", is_flag=True)
@click.pass_obj
def rebuild_search(settings: Settings, phones: bool) -> None:
    """Fill the case search's columns (the texts' terms, the phones' keyed hashes) of cases written
    without them, e.g. by a bulk load; with --phones recompute them all. A second run changes nothing."""
    from data.search.backfill import backfill

    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            written = backfill(conn, settings.phone_search_key_bytes(), only_missing=not phones)
    finally:
        engine.dispose()
    click.echo(text.t("search_rebuilt", settings.language, cases=written))
