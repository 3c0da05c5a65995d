"""``gridcc report``: a leader's report as an XLSX file, for a scheduled job (cron, a systemd timer).

Without ``--date`` it is the last complete period (yesterday, last week, last month …): run on Monday
morning, ``--period week`` is last week's briefing. The console reads the whole deployment (as the other
``gridcc`` commands do); ``--area`` chooses the district, street or community.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click

from data import migrate as migrations
from data import text
from data.db import make_engine, make_sessionmaker
from data.models import AdminUnit
from data.queries.report_periods import PERIOD_KINDS, report_period
from data.queries.reports import build_report
from data.report_book import workbook_bytes
from data.scope import AreaScope
from data.settings import Settings


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(value) from None


@click.command("report")
@click.option("--period", "kind", type=click.Choice(PERIOD_KINDS), default="week", show_default=True)
@click.option("--area", default=None, metavar="CODE")
@click.option("--date", "anchor", default=None, metavar="YYYY-MM-DD")
@click.option("--first", default=None, metavar="YYYY-MM-DD")
@click.option("--last", default=None, metavar="YYYY-MM-DD")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def report(
    settings: Settings,
    kind: str,
    area: str | None,
    anchor: str | None,
    first: str | None,
    last: str | None,
    output: Path,
) -> None:
    """Write the report of an area for a period as XLSX (KPIs with 环比 / 同比, scorecards, charts)."""
    lang = settings.language
    now = datetime.now(UTC)
    try:
        period = report_period(
            kind, now, settings.timezone, anchor=_day(anchor), first=_day(first), last=_day(last)
        )
    except ValueError as exc:
        raise click.UsageError(text.t("cli_report_bad_period", lang, reason=str(exc))) from None
    engine = make_engine(settings)
    migrations.upgrade(engine)
    with make_sessionmaker(engine)() as session:
        districts = session.query(AdminUnit.code).filter(AdminUnit.level == "district").all()
        whole = AreaScope.of([d[0] for d in districts] or [settings.default_district])
        code = area or settings.default_district
        try:
            found = build_report(session, whole, code, period, now, settings.timezone)
        except (PermissionError, ValueError):
            raise click.UsageError(text.t("cli_report_unknown_area", lang, area=code)) from None
    output.write_bytes(workbook_bytes(found, lang, settings.timezone))
    click.echo(
        text.t("cli_report_written", lang, output=str(output), area=found.area_name,
               first=period.first.isoformat(), last=period.last.isoformat()),
        err=True,
    )  # fmt: skip
