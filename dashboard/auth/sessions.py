"""The signed session cookie: HttpOnly, SameSite=Lax, Secure over HTTPS (or when a setting says so),
lasting as long as the account's role allows (a wall 30 days, everyone else 12 hours).

The cookie holds the account id, its ``session_epoch`` at sign-in, the role, the sign-in time and the
CSRF token; :func:`dashboard.auth.viewer.current_user` checks all of them against the database on
every request, so disabling an account or changing its password ends its sessions at once.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from flask import Flask, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface, SessionMixin

from data.auth import session_lifetime
from data.models import UserAccount
from data.settings import Settings

COOKIE = "gridcc_session"
UID, EPOCH, ROLE, SINCE, CSRF = "uid", "epoch", "role", "since", "csrf"


class RoleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with a per-role lifetime and a request-dependent Secure flag."""

    def get_cookie_secure(self, app: Flask) -> bool:
        forced = bool(app.config.get("SESSION_COOKIE_SECURE"))
        return forced or (has_request_context() and request.is_secure)

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        if not session.permanent:
            return None
        return datetime.now(UTC) + session_lifetime(session.get(ROLE))


def configure_sessions(server: Flask, settings: Settings) -> None:
    server.config.update(
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=session_lifetime("wall"),  # the longest; each role's is checked too
    )
    server.session_interface = RoleSessionInterface()


def cookie_secure(server: Flask) -> bool:
    interface = server.session_interface
    return interface.get_cookie_secure(server) if isinstance(interface, RoleSessionInterface) else False


def start_session(user: UserAccount) -> None:
    """Sign ``user`` in on this browser: a fresh session (never the one from before sign-in) with a
    new CSRF token."""
    session.clear()
    session.permanent = True
    session[UID] = user.id
    session[EPOCH] = user.session_epoch
    session[ROLE] = user.role
    session[SINCE] = time.time()
    session[CSRF] = secrets.token_urlsafe(32)


def end_session() -> None:
    session.clear()
