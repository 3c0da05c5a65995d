"""``gridcc simulators``: the department feed simulators of the demo."""

from __future__ import annotations

import click


@click.command()
def simulators() -> None:
    """Serve the department feed simulators."""
