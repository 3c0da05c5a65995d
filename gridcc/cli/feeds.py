"""``gridcc feeds``: list the department feeds with their health, parse a payload offline."""

from __future__ import annotations

import click


@click.group()
def feeds() -> None:
    """The department feeds."""
