"""The ``gridcc`` command. Each group lives in its own module."""

from __future__ import annotations

import click

from data.settings import Settings

from .. import __version__
from .audit import audit
from .db import migrate, seed
from .feeds import feeds
from .feeds_admin import disable as feeds_disable
from .feeds_admin import enable as feeds_enable
from .geo import geo
from .loop import loop
from .risks import risks
from .serve import cron, demo, web, worker
from .simulate import simulators
from .staff import staff
from .users import users


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gridcc")
@click.pass_context
def main(ctx: click.Context) -> None:
    """gridcc: the command-centre dashboard of a district's grids, cases and alerts.

    Settings come from GRIDCC_* environment variables (see the README).
    """
    ctx.obj = Settings()


for command in (
    migrate,
    seed,
    geo,
    staff,
    risks,
    feeds,
    simulators,
    web,
    worker,
    cron,
    demo,
    users,
    audit,
    loop,
):
    main.add_command(command)
feeds.add_command(feeds_enable)  # gridcc feeds enable|disable NAME: pause and resume, audited
feeds.add_command(feeds_disable)
