"""``gridcc risks``: load and export the risk ledger (风险台账)."""

from __future__ import annotations

from pathlib import Path

import click

from data import migrate as migrations
from data import text
from data.db import make_engine, make_sessionmaker, transaction
from data.ledger import EXPORT_HEADER, ledger_rows, load_ledger
from data.settings import Settings
from data.tabular import write_table

from .geo import announce_units_changed


@click.group()
def risks() -> None:
    """Load and export the risk ledger (风险台账)."""


@risks.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def load(settings: Settings, file: Path) -> None:
    """Import a ledger (CSV or XLSX): all rows or none; a row whose ref (台账编号) is known updates that risk.

    Columns kind (风险类别), level (风险等级), title, area_code (a street, community or grid), owner
    (责任单位), owner_person (责任人), owner_phone, due (销号时限); ref, measures, description, lon, lat,
    closed, evidence optional. Exit status 1 when any row is bad (each is reported with its reason).
    """
    engine = make_engine(settings)
    migrations.upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        report = load_ledger(session, file)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)
    announce_units_changed(settings, ("risks", "kpis"))


@risks.command("export")
@click.option("--area", default=None, metavar="CODE")
@click.option("--open", "open_only", is_flag=True)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
)
@click.pass_obj
def export(settings: Settings, area: str | None, open_only: bool, output: str) -> None:
    """Write the ledger as CSV or XLSX (by the suffix; - for CSV on stdout); it loads back as updates."""
    engine = make_engine(settings)
    migrations.upgrade(engine)
    with make_sessionmaker(engine)() as session:
        rows = list(ledger_rows(session, area, include_closed=not open_only))
    path = None if output == "-" else Path(output)
    body = write_table(path, EXPORT_HEADER, rows, "risks")
    if path is None:
        click.echo(body, nl=False)
    else:
        click.echo(text.t("cli_risks_written", settings.language, n=len(rows), output=output), err=True)
