"""``gridcc staff``: load and export the real roster of grid workers, grid chiefs and party branches."""

from __future__ import annotations

from pathlib import Path

import click

from data import migrate as migrations
from data import text
from data.db import make_engine, make_sessionmaker, transaction
from data.roster import EXPORT_HEADER, load_roster, roster_rows
from data.settings import Settings
from data.tabular import write_table

from .geo import announce_units_changed


@click.group()
def staff() -> None:
    """Load and export the roster of grid workers (网格员), grid chiefs (网格长) and party branches."""


@staff.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def load(settings: Settings, file: Path) -> None:
    """Import a roster (CSV or XLSX): all rows or none; it replaces the staff of the grids it names.

    Columns grid_code, role (网格员/网格长/网格党支部), name, phone; party_branch optional. Exit status 1
    when any row is bad (each is reported with its reason).
    """
    engine = make_engine(settings)
    migrations.upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        report = load_roster(session, file)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)
    announce_units_changed(settings, ("units", "alerts"))


@staff.command("export")
@click.option("--area", default=None, metavar="CODE")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
)
@click.pass_obj
def export(settings: Settings, area: str | None, output: str) -> None:
    """Write the roster as CSV or XLSX (by the suffix; - for CSV on stdout), with full phones."""
    engine = make_engine(settings)
    migrations.upgrade(engine)
    with make_sessionmaker(engine)() as session:
        rows = list(roster_rows(session, area))
    path = None if output == "-" else Path(output)
    body = write_table(path, EXPORT_HEADER, rows, "staff")
    if path is None:
        click.echo(body, nl=False)
    else:
        click.echo(text.t("cli_staff_written", settings.language, n=len(rows), output=output), err=True)
