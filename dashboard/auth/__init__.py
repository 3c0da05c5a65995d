"""Sign-in for the dashboard: sessions, CSRF, the sign-in pages, and who the viewer is.

``install_auth(server, settings)`` is called by ``create_app``. It always registers the sign-in pages
and the session settings; only when ``settings.auth_required`` is true does it also refuse requests
without a signed-in account (:func:`require_signin`) and state-changing requests without the CSRF
token (:func:`install_csrf`). Pages, callbacks and layer routes get the viewer's area scope from
:func:`scope_for_request` (through ``dashboard.scope.current_scope``).
"""

from __future__ import annotations

from flask import Flask

from data.settings import Settings

from .csrf import csrf_ok, csrf_token, install_csrf
from .guard import require_signin, safe_next
from .sessions import configure_sessions, end_session, start_session
from .viewer import (
    auth_required,
    current_user,
    phone_view,
    scope_for_request,
    viewer_may,
    viewer_name,
    viewer_sees_personal,
)
from .views import make_auth_blueprint


def install_auth(server: Flask, settings: Settings) -> None:
    configure_sessions(server, settings)
    server.register_blueprint(make_auth_blueprint())
    if settings.auth_required:
        require_signin(server)
        install_csrf(server)


__all__ = [
    "auth_required",
    "configure_sessions",
    "csrf_ok",
    "csrf_token",
    "current_user",
    "end_session",
    "install_auth",
    "install_csrf",
    "make_auth_blueprint",
    "phone_view",
    "require_signin",
    "safe_next",
    "scope_for_request",
    "start_session",
    "viewer_may",
    "viewer_name",
    "viewer_sees_personal",
]
