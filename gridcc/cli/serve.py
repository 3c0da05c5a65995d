"""``gridcc web|worker|cron|demo``: the processes."""

from __future__ import annotations

import click


@click.command()
def web() -> None:
    """Serve the dashboard."""


@click.command()
def worker() -> None:
    """Run an RQ worker."""


@click.command()
def cron() -> None:
    """Run the rq cron scheduler."""


@click.command()
def demo() -> None:
    """Start everything on the embedded defaults."""
