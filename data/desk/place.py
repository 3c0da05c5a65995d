"""Where a case filed at the desk lies: a unit chosen (street, community or grid), a point, or an
address — always inside the acting account's own scope, whatever the form says."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..geo.placement import GridLocator
from ..models import AdminUnit
from ..scope import AreaScope
from .errors import DeskRefused

UNIT_LENGTHS = (9, 12, 15)  # a street, a community, a grid


@dataclass(frozen=True)
class Place:
    code: str
    method: str  # code | point | address
    lon: float | None = None
    lat: float | None = None


def _coordinate(value: object, low: float, high: float, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        raise DeskRefused("bad_point", f"{name} {value!r} is not a number", field=name) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise DeskRefused("bad_point", f"{name} {value!r} is out of range", field=name)
    return number


def _unit(session: Session, scope: AreaScope, code: object) -> str | None:
    if code is None or code == "":
        return None
    text = str(code).strip()
    if len(text) not in UNIT_LENGTHS or not (text.isascii() and text.isdigit()):
        raise DeskRefused("bad_place", f"{text[:20]!r} is not a street, community or grid code")
    if not scope.contains(text):
        raise DeskRefused("place_out_of_scope", f"{text} is outside the account's area")
    if session.scalar(select(AdminUnit.code).where(AdminUnit.code == text)) is None:
        raise DeskRefused("bad_place", f"no unit {text}")
    return text


def resolve_place(
    session: Session, scope: AreaScope, code: object, address: str, lon: object = None, lat: object = None
) -> Place:
    """The case's place: the point's grid (inside the chosen unit, if one was chosen), else the chosen
    unit, else the unit the address names; :class:`DeskRefused` when it is outside ``scope``, unknown,
    or not given at all."""
    unit = _unit(session, scope, code)
    x = _coordinate(lon, -180, 180, "lon")
    y = _coordinate(lat, -90, 90, "lat")
    if (x is None) != (y is None):
        raise DeskRefused("bad_point", "give both longitude and latitude, or neither", field="lon")
    if x is not None and y is not None:
        grid = GridLocator(session, scope).locate(x, y)
        if grid is None:
            raise DeskRefused("point_out_of_scope", f"({x}, {y}) lies in no grid of the account's area")
        if unit is not None and not grid.startswith(unit):
            raise DeskRefused("point_outside_place", f"({x}, {y}) lies in grid {grid}, outside {unit}")
        return Place(grid, "point", x, y)
    if unit is not None:
        return Place(unit, "code")
    found = GridLocator(session, scope).by_address(address) if address else None
    if found is None or not scope.contains(found):
        raise DeskRefused("no_place", "choose a street, community or grid (or an address naming one)")
    return Place(found, "address")
