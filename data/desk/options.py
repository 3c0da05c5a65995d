"""The desk form's choices from the database, within the account's scope: the streets, communities and
grids a case may be filed into (an ancestor of the scope is offered as a way down to it, never as a
place: :mod:`.place` refuses a unit outside the scope whatever is sent)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..models import AdminUnit
from ..scope import AreaScope

LEVELS = ("street", "community", "grid")


@dataclass(frozen=True)
class PlaceOption:
    code: str
    name: str
    level: str  # street | community | grid
    selectable: bool  # inside the scope (an ancestor of it is not)


def place_options(session: Session, scope: AreaScope, parent: str | None = None) -> list[PlaceOption]:
    """Units under ``parent`` one level down (streets when ``parent`` is None) that overlap ``scope``."""
    if not scope.codes:
        return []
    if parent is None:
        level = "street"
        query = select(AdminUnit.code, AdminUnit.name).where(AdminUnit.level == level)
    else:
        level = {9: "community", 12: "grid"}.get(len(parent), "")
        if not level or not (parent.isascii() and parent.isdigit()):
            return []
        query = select(AdminUnit.code, AdminUnit.name).where(
            AdminUnit.level == level, AdminUnit.code.startswith(parent)
        )
    prefixes = [
        *(AdminUnit.code.startswith(c) for c in sorted(scope.codes)),
        *(AdminUnit.code == c[: len_of(level)] for c in sorted(scope.codes) if len(c) > len_of(level)),
    ]
    rows = session.execute(query.where(or_(*prefixes)).order_by(AdminUnit.code)).all()
    return [PlaceOption(code, name, level, scope.contains(code)) for code, name in rows]


def len_of(level: str) -> int:
    return {"street": 9, "community": 12, "grid": 15}[level]
