"""``gridcc geo``: generate, load and export the grid hierarchy."""

from __future__ import annotations

import click


@click.group()
def geo() -> None:
    """Generate, load and export the grid hierarchy."""
