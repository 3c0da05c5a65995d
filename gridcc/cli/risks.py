"""``gridcc risks``: load and export the risk ledger (风险台账)."""

from __future__ import annotations

from pathlib import Path

import click

from data.ledger import EXPORT_HEADER, ledger_rows, load_ledger
from data.settings import Settings

from .tabular import export_table, load_table


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
    load_table(settings, file, load_ledger, ("risks", "kpis"))


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
    export_table(
        settings,
        output,
        EXPORT_HEADER,
        lambda s: ledger_rows(s, area, include_closed=not open_only),
        "risks",
        "cli_risks_written",
    )
