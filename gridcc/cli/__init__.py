"""The ``gridcc`` command. Each group lives in its own module."""

from __future__ import annotations

from typing import Any

import click
from pydantic import ValidationError

from data import text
from data.settings import Settings
from data.text import DEFAULT

from .. import __version__
from .audit import audit
from .db import db, migrate, seed
from .feeds import feeds
from .feeds_admin import disable as feeds_disable
from .feeds_admin import enable as feeds_enable
from .geo import geo
from .keys import keys
from .loop import loop
from .report import report
from .risks import risks
from .serve import cron, demo, web, worker
from .simulate import simulators
from .staff import staff
from .users import users


def localise(command: click.Command, lang: str, path: tuple[str, ...] = ()) -> None:
    """Put the help of ``command``, of its options and of every command under it in ``lang``, from the
    catalogue: ``cli_help_<path>`` for a command (``cli_help_users_add``), ``cli_help_<path>__<option>``
    for an option (``cli_help_users_add__role``). The docstrings stay as the code's own documentation."""
    key = "_".join(("cli_help", *path))
    command.help = text.t(key, lang)
    for param in command.params:
        if isinstance(param, click.Option) and text.has(f"{key}__{param.name}"):
            param.help = text.t(f"{key}__{param.name}", lang)
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            localise(sub, lang, (*path, name.replace("-", "_")))


class _Main(click.Group):
    """The ``gridcc`` group: reads the one Settings before parsing, so that ``--help`` at any depth is
    written in ``Settings.language``, and passes it down as the context object."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        settings = extra.pop("obj", None)
        if not isinstance(settings, Settings):
            try:
                settings = Settings()
            except ValidationError:
                # a bad GRIDCC_* value: the help still shows (in the default language); any command
                # then fails on the same error when the group makes its Settings (``main``)
                settings = None
        localise(self, settings.language if settings is not None else DEFAULT)
        return super().make_context(info_name, args, parent, obj=settings, **extra)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gridcc")
@click.pass_context
def main(ctx: click.Context) -> None:
    """gridcc: the command-centre dashboard of a district's grids, cases and alerts.

    Settings come from GRIDCC_* environment variables (see the README).
    """
    ctx.ensure_object(Settings)


for command in (
    migrate,
    seed,
    db,
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
    report,
    keys,
):
    main.add_command(command)
feeds.add_command(feeds_enable)  # gridcc feeds enable|disable NAME: pause and resume, audited
feeds.add_command(feeds_disable)
