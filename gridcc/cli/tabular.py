"""What ``gridcc risks`` and ``gridcc staff`` share: load a table (all rows or none, each bad row with
its reason, exit status 1) and export one (CSV or XLSX by the suffix, ``-`` for CSV on stdout)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from data import migrate as migrations
from data import text
from data.db import make_engine, make_sessionmaker, transaction
from data.settings import Settings
from data.tabular import ImportReport, write_table

from .geo import announce_units_changed


def load_table(
    settings: Settings, file: Path, loader: Callable[[Session, Path], ImportReport], changed: Sequence[str]
) -> None:
    """Run ``loader`` in one transaction, print its report, and tell the screens ``changed`` layers moved."""
    engine = make_engine(settings)
    migrations.upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        report = loader(session, file)
    for line in report.lines(settings.language):
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)
    announce_units_changed(settings, tuple(changed))


def export_table(
    settings: Settings,
    output: str,
    header: Sequence[str],
    rows: Callable[[Session], Iterable[Sequence[Any]]],
    sheet: str,
    written_key: str,
) -> None:
    """Write ``rows`` under ``header``; the count goes to stderr in the configured language."""
    engine = make_engine(settings)
    migrations.upgrade(engine)
    with make_sessionmaker(engine)() as session:
        found = list(rows(session))
    path = None if output == "-" else Path(output)
    body = write_table(path, header, found, sheet)
    if path is None:
        click.echo(body, nl=False)
    else:
        click.echo(text.t(written_key, settings.language, n=len(found), output=output), err=True)
