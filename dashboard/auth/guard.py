"""``require_signin``: without a signed-in account, a page request goes to ``/signin?next=…`` and a
layer, API or Dash request gets 401. Only the sign-in pages themselves are open, and the departments'
signed endpoints (``csrf.SIGNED_PATHS``), which authenticate each request by its signature, and the
push endpoints (``csrf.KEY_PREFIXES``), by its key."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from .csrf import KEY_PREFIXES, SIGNED_PATHS
from .viewer import current_user

OPEN_PATHS = frozenset({"/signin", "/signout", "/_favicon.ico"})
OPEN_PREFIXES = ("/signin/token/",)
API_PREFIXES = ("/layers/", "/api/", "/_dash-", "/_reload-hash")


def safe_next(value: str | None) -> str:
    """A local path to return to after sign-in (anything else, e.g. ``//evil.example``, becomes ``/``)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value) or len(value) > 2000:
        return "/"
    return value


def unauthorised() -> Response:
    response = jsonify({"error": "sign-in required / 请先登录", "signin": "/signin"})
    response.status_code = 401
    response.headers["Cache-Control"] = "no-store"
    return response


def _guard() -> BaseResponse | None:
    path = request.path
    if path in OPEN_PATHS or path in SIGNED_PATHS or path.startswith((*OPEN_PREFIXES, *KEY_PREFIXES)):
        return None
    if current_user() is not None:
        return None
    if path.startswith(API_PREFIXES) or request.method not in ("GET", "HEAD"):
        return unauthorised()
    wanted = request.full_path.rstrip("?") if request.query_string else path
    response = redirect("/signin?" + urlencode({"next": safe_next(wanted)}))
    response.headers["Cache-Control"] = "no-store"
    return response


def require_signin(server: Flask) -> None:
    """Install the check (``dashboard.auth.install_auth`` does so when ``settings.auth_required``)."""
    server.before_request(_guard)
