"""The area scope of the current request.

For now every viewer sees the whole configured district(s): the units of level ``district`` in the
database (or ``settings.default_district`` when none is stored yet). Access control (issue 5) narrows
it per user here, in this one function; every layer route and page goes through it.
"""

from __future__ import annotations

from sqlalchemy import select

from data.models import AdminUnit
from data.scope import AreaScope

from .services import services


def current_scope() -> AreaScope:
    """The scope of the viewer of the current Flask request."""
    svc = services()
    with svc.sessions() as session:
        codes = session.scalars(select(AdminUnit.code).where(AdminUnit.level == "district")).all()
    if codes:
        return AreaScope.of(codes)
    return AreaScope.district(svc.settings.default_district)
