"""The signed session cookie: HttpOnly, SameSite=Lax, Secure over HTTPS (or when a setting says so),
lasting as long as the account's role allows (a wall 30 days, everyone else 12 hours).

The cookie holds the account id, its ``session_epoch`` at sign-in, the key of its server-side session
(:mod:`data.auth.user_sessions`), the role, the sign-in time and the CSRF token;
:func:`dashboard.auth.viewer.current_user` checks all of them against the database on every request,
so signing out, disabling an account, changing its password or making a new wall link ends its
sessions at once, for every copy of the cookie too.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from flask import Flask, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface, SessionMixin

from data.auth import close_session, longest_session, open_session, session_lifetime
from data.db import transaction
from data.models import UserAccount
from data.settings import Settings

from ..services import services

COOKIE = "gridcc_session"
UID, EPOCH, KEY, ROLE, SINCE, CSRF = "uid", "epoch", "sid", "role", "since", "csrf"


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
        PERMANENT_SESSION_LIFETIME=longest_session(),  # each role's is checked too
        # The cookie is written when the session changes (sign-in, a wall's daily renewal, a role
        # change: each sets the expiry anew), not on every response: the layers are answered with
        # ``Vary: Cookie``, so a cookie rewritten by every answer made the browser revalidate each layer
        # it had just prefetched (one more round trip before a new case's marker is drawn).
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    server.session_interface = RoleSessionInterface()


def cookie_secure(server: Flask) -> bool:
    interface = server.session_interface
    return interface.get_cookie_secure(server) if isinstance(interface, RoleSessionInterface) else False


def start_session(user: UserAccount, via: str = "password") -> None:
    """Sign ``user`` in on this browser: a fresh session (never the one from before sign-in), known on
    the server, with a new CSRF token. ``via``: ``password`` or ``link`` (a wall's sign-in link)."""
    with transaction(services().sessions) as db:
        key = open_session(db, user, via, datetime.now(UTC))
    session.clear()
    session.permanent = True
    session[UID] = user.id
    session[EPOCH] = user.session_epoch
    session[KEY] = key
    session[ROLE] = user.role
    session[SINCE] = time.time()
    session[CSRF] = secrets.token_urlsafe(32)


def end_session() -> None:
    """Sign this browser out: its server-side session ends (a copy of the cookie stops working too)."""
    key = session.get(KEY)
    if key:
        with transaction(services().sessions) as db:
            close_session(db, key)
    session.clear()
