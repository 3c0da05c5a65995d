"""Per-unit counts of open and overdue cases at one level: the fill colours of the unit layers."""

from __future__ import annotations

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from data.models import AdminUnit, Case
from data.models.places import LEVELS
from data.scope import AreaScope

from .units import BBox, bbox_clause, check_level


def unit_counts(
    session: Session, scope: AreaScope, level: str, bbox: BBox | None = None
) -> dict[str, dict[str, int]]:
    """``{unit code: {"open": n, "overdue": m}}`` for every unit of ``level`` with an open case in scope.

    Units without open cases are left out (the map draws them as zero). With ``bbox``, only the units
    whose box intersects it (those a viewport-loaded layer can hold), so a change at city scale costs
    kilobytes instead of an entry for each of ~81,000 grids.
    """
    check_level(level, LEVELS)
    column = getattr(Case, f"{level}_code")
    query = (
        select(column, func.count(), func.coalesce(func.sum(cast(Case.overdue, Integer)), 0))
        .where(Case.is_open.is_(True), column.is_not(None), scope.clause(Case))
        .group_by(column)
    )
    if bbox is not None:
        query = query.join(AdminUnit, AdminUnit.code == column).where(
            AdminUnit.level == level, bbox_clause(bbox)
        )
    rows = session.execute(query)
    return {code: {"open": int(n), "overdue": int(late)} for code, n, late in rows}
