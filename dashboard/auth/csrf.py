"""CSRF protection: a per-session token, required on every POST, PUT, PATCH and DELETE.

The token travels in the ``X-CSRFToken`` header or a ``csrf_token`` form field. It is also set as the
``_csrf_token`` cookie (readable by scripts, SameSite=Lax): Dash's renderer reads exactly that cookie
and sends it back as ``X-CSRFToken`` on every ``/_dash-update-component`` request, so Dash callbacks
carry the token with no script of ours. A forged cross-site request cannot read the cookie, so it
cannot send the header.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, current_app, jsonify, request, session

from .sessions import CSRF, cookie_secure

HEADER = "X-CSRFToken"
FIELD = "csrf_token"
COOKIE = "_csrf_token"  # Dash's default csrf_token_name
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Machine endpoints authenticated by a department's HMAC signature (dashboard.inbound), not by a session:
# no sign-in, no CSRF token (a browser cannot sign).
SIGNED_PATHS = frozenset({"/api/loop/answers"})
# Machine endpoints authenticated by a push key (dashboard.push): no sign-in, no CSRF token.
KEY_PREFIXES = ("/open311/v2/", "/api/push/")


def csrf_token() -> str:
    """The session's token (made on first use)."""
    token = session.get(CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF] = token
    return token


def csrf_ok() -> bool:
    """Whether this request carries the session's token."""
    expected = session.get(CSRF)
    given = request.headers.get(HEADER)
    if not given and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        given = request.form.get(FIELD)
    if not isinstance(expected, str) or not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def refuse() -> Response:
    response = jsonify({"error": "CSRF token missing or wrong: reload the page / 请刷新页面后重试"})
    response.status_code = 403
    response.headers["Cache-Control"] = "no-store"
    return response


def _check() -> Response | None:
    if (
        request.method in UNSAFE
        and request.path not in SIGNED_PATHS
        and not request.path.startswith(KEY_PREFIXES)
        and not csrf_ok()
    ):
        return refuse()
    return None


def _set_cookie(response: Response) -> Response:
    token = session.get(CSRF)
    if isinstance(token, str) and token and request.cookies.get(COOKIE) != token:
        response.set_cookie(
            COOKIE, token, httponly=False, samesite="Lax", secure=cookie_secure(current_app), path="/"
        )
    return response


def install_csrf(server: Flask) -> None:
    """Refuse state-changing requests without the token (403), and hand the token to Dash."""
    server.before_request(_check)
    server.after_request(_set_cookie)
