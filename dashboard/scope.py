"""The area scope of the current request.

With sign-in required (``settings.auth_required``) it is the signed-in account's scope (an empty one,
seeing nothing, without a session): :func:`dashboard.auth.scope_for_request`. Without it, every viewer
sees the whole configured district(s) (:func:`_default_scope`). Every layer route, page and callback
goes through :func:`current_scope`.
"""

from __future__ import annotations

from sqlalchemy import select

from data.models import AdminUnit
from data.scope import AreaScope

from .auth import scope_for_request
from .services import services

DEFAULT_SCOPE_TTL_S = 10.0  # districts change only with `gridcc geo`: a new one shows within this


def _default_scope() -> AreaScope:
    """The units of level ``district`` in the database (``settings.default_district`` when none yet),
    read at most once per :data:`DEFAULT_SCOPE_TTL_S` per process (every request without sign-in asks)."""
    svc = services()

    def read() -> AreaScope:
        with svc.sessions() as session:
            codes = session.scalars(select(AdminUnit.code).where(AdminUnit.level == "district")).all()
        if codes:
            return AreaScope.of(codes)
        return AreaScope.district(svc.settings.default_district)

    return svc.remembered("default-scope", DEFAULT_SCOPE_TTL_S, read)


def deployment_scope() -> AreaScope:
    """The whole deployment: every district in the database (the configured one when none yet)."""
    return _default_scope()


def current_scope() -> AreaScope:
    """The scope of the viewer of the current Flask request."""
    return scope_for_request(_default_scope)
