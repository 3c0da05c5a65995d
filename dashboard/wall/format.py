"""Formatting shared by the wall's components: counts, rates and local times; ``—`` where there is no data."""

from __future__ import annotations

from typing import Any

from data.queries import DASH, format_rate


def data_attr(name: str, value: object) -> dict[str, Any]:
    """A ``data-<name>`` attribute for a Dash html component (``**data_attr("alert", 3)``)."""
    return {f"data-{name}": str(value)}


def count(value: int | float | None) -> str:
    """``6,195``; ``—`` for no value."""
    if value is None:
        return DASH
    return f"{int(value):,}"


def rate(value: float | None) -> str:
    """``99.9%``; ``—`` when the rate is undefined (nothing to divide by)."""
    return format_rate(value, 1)


def hours(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value:.1f}"


def minutes(value: float | None) -> str:
    """``18`` (whole minutes, e.g. a mean 报到 time), ``0.4`` under ten; ``—`` for no value."""
    if value is None:
        return DASH
    return f"{value:.1f}" if value < 9.95 else f"{value:,.0f}"
