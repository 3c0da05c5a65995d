"""The sign-in blueprint: ``GET/POST /signin``, ``POST /signout``, ``GET /signin/token/<token>``."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, redirect, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from data.auth import audit, authenticate, user_for_link
from data.db import transaction

from ..services import services
from .csrf import csrf_ok, csrf_token
from .form import HEADERS, lang_of, signin_page
from .guard import safe_next
from .sessions import end_session, start_session
from .setup import any_account, first_admin_command
from .viewer import current_user


def _page(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers.update(HEADERS)
    return response


def _lang() -> str:
    return lang_of(request.args.get("lang"), services().settings.language)


def _addr() -> str:
    return request.remote_addr or ""


def _first_admin() -> str:
    """The command that adds the first admin while no account exists (then nobody can sign in)."""
    svc = services()
    try:
        with svc.sessions() as db:
            return "" if any_account(db) else first_admin_command(svc.settings)
    except SQLAlchemyError:  # no schema yet: the command alone would not work either
        return ""


def make_auth_blueprint() -> Blueprint:
    bp = Blueprint("gridcc_auth", __name__)

    @bp.get("/signin")
    def signin_form() -> Response:
        next_path = safe_next(request.args.get("next"))
        page = signin_page(lang=_lang(), csrf=csrf_token(), next_path=next_path, first_admin=_first_admin())
        return _page(page)

    @bp.post("/signin")
    def signin() -> BaseResponse:
        lang = _lang()
        next_path = safe_next(request.form.get("next"))
        username = (request.form.get("username") or "").strip()[:100]
        if not csrf_ok():
            page = signin_page(
                lang=lang, csrf=csrf_token(), next_path=next_path, username=username, error="csrf"
            )
            return _page(page, 403)
        password = request.form.get("password") or ""
        user = authenticate(services().sessions, username, password, _addr(), datetime.now(UTC))
        if user is None:
            page = signin_page(
                lang=lang,
                csrf=csrf_token(),
                next_path=next_path,
                username=username,
                error="failed",
                first_admin=_first_admin(),
            )
            return _page(page, 401)
        start_session(user)
        response = redirect(next_path)
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.post("/signout")
    def signout() -> BaseResponse:
        if not csrf_ok():
            return _page(signin_page(lang=_lang(), csrf=csrf_token(), next_path="/", error="csrf"), 403)
        user = current_user()
        if user is not None:
            with transaction(services().sessions) as db:
                audit(db, user.username, "signout", f"user:{user.username}", "", _addr(), datetime.now(UTC))
        end_session()
        response = redirect("/signin")
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.get("/signout")
    def signout_get() -> BaseResponse:
        """Signing out changes state, so it is a POST (with the CSRF token); a GET (a typed or
        followed link) signs nobody out and goes to the start page (the sign-in form if signed out)."""
        response = redirect("/", code=303)
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.get("/signin/token/")
    def signin_link_empty() -> Response:
        """No token at all: not found (rather than Dash's page shell)."""
        return _page(signin_page(lang=_lang(), csrf=csrf_token(), next_path="/", error="link_failed"), 404)

    @bp.get("/signin/token/<token>")
    def signin_link(token: str) -> BaseResponse:
        now = datetime.now(UTC)
        secret = services().settings.effective_secret_key()
        with transaction(services().sessions) as db:
            user = user_for_link(db, token, secret)
            if user is None:
                audit(db, "?", "signin_failed", "wall-link", "bad or revoked wall link", _addr(), now)
            else:
                user.last_sign_in_at = now
                audit(db, user.username, "signin", f"user:{user.username}", "wall link", _addr(), now)
        if user is None:
            return _page(
                signin_page(lang=_lang(), csrf=csrf_token(), next_path="/", error="link_failed"), 403
            )
        start_session(user, via="link")
        response = redirect("/")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return bp
