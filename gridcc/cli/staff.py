"""``gridcc staff``: load and export the real roster of grid workers, grid chiefs and party branches."""

from __future__ import annotations

from pathlib import Path

import click

from data.roster import EXPORT_HEADER, load_roster, roster_rows
from data.settings import Settings

from .tabular import export_table, load_table


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
    load_table(settings, file, load_roster, ("units", "alerts"))


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
    export_table(
        settings, output, EXPORT_HEADER, lambda s: roster_rows(s, area), "staff", "cli_staff_written"
    )
