"""Sign-in enforced (``auth_required``) on the real app, database and Redis, through Flask's test
client: the form, sessions and their cookies, CSRF on every state-changing request (Dash's callbacks
included), sign-out, 401 for layer and API URLs, redirects for pages, the wall's sign-in link, disabled
accounts, the lock-out, and an audit row for each attempt."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import jsonify

from data.auth import audit_rows, create_user, disable_user, make_wall_link
from data.db import transaction
from data.scope import AreaScope
from data.settings import Settings

PASSWORD = "correct horse 9"
ADDR = "203.0.113.44"


def make_app(settings: Settings, redis_url: str, **update: Any) -> Any:
    from dashboard.app import create_app
    from dashboard.audit.page import PAGE as AUDIT_PAGE
    from dashboard.auth import current_user, scope_for_request
    from dashboard.map.page import PAGE as MAP_PAGE
    from dashboard.page import PageRegistry

    app = create_app(
        settings.model_copy(update={"redis_url": redis_url, **update}),
        pages=PageRegistry([MAP_PAGE, AUDIT_PAGE]),
    )

    @app.server.get("/api/test-whoami")
    def whoami() -> Any:  # a probe of what the helpers answer inside a request
        user = current_user()
        scope = scope_for_request(lambda: AreaScope.of("500151"))
        return jsonify({"user": user.username if user else None, "scope": scope.key})

    return app


@pytest.fixture
def web(settings, redis_url, redis_conn, engine, session_factory, grids) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from dashboard.services import services

    with transaction(session_factory) as session:
        create_user(session, "admin", PASSWORD, "admin", "500151")
        create_user(session, "street1", PASSWORD, "duty", "500151001")
        create_user(session, "wall1", PASSWORD, "wall", "500151")
    app = make_app(settings, redis_url, auth_required=True)
    yield app
    services(app.server).close()


@pytest.fixture
def client(web):  # type: ignore[no-untyped-def]
    client = web.server.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDR  # as if from a machine in the command centre
    return client


def csrf_of(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/signin")
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert match
    return match.group(1)


def sign_in(client, username: str, password: str = PASSWORD, next_path: str = "/") -> Any:  # type: ignore[no-untyped-def]
    token = csrf_of(client)
    return client.post(
        "/signin",
        data={"csrf_token": token, "username": username, "password": password, "next": next_path},
    )


def route_callback(pathname: str) -> dict[str, Any]:
    """The body Dash's renderer posts to ``/_dash-update-component`` for the page router."""
    return {
        "output": "gridcc-page.children",
        "outputs": {"id": "gridcc-page", "property": "children"},
        "inputs": [{"id": "gridcc-url", "property": "pathname", "value": pathname}],
        "state": [{"id": "gridcc-url", "property": "search", "value": ""}],
        "changedPropIds": ["gridcc-url.pathname"],
    }


def page_text(response: Any) -> str:
    """Every string in a Dash callback's JSON answer, joined (what the page would show, and more)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(response.get_json())
    return "\n".join(out)


def test_without_a_session_pages_redirect_and_data_urls_answer_401(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/duty?street=500151001")
    assert page.status_code == 302
    assert page.headers["Location"] == "/signin?next=%2Fduty%3Fstreet%3D500151001"
    for url in ("/layers/alerts.json", "/layers/units/street.pbf", "/layers/cases.pbf", "/api/versions"):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.get_json()["error"].startswith("sign-in required")
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/_dash-update-component", json=route_callback("/")).status_code == 401


def test_sign_in_form_and_success(client, session_factory) -> None:  # type: ignore[no-untyped-def]
    form = client.get("/signin?next=/audit")
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and "用户名" in html and "密码" in html and "Sign in" in html
    assert 'name="next" value="/audit"' in html
    assert "script-src" not in form.headers["Content-Security-Policy"]  # no scripts at all
    assert form.headers["X-Frame-Options"] == "DENY"

    response = sign_in(client, "street1", next_path="/audit")
    assert response.status_code == 302 and response.headers["Location"] == "/audit"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("gridcc_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    expires = datetime.strptime(re.search(r"Expires=([^;]+)", cookie).group(1), "%a, %d %b %Y %H:%M:%S GMT")  # type: ignore[union-attr]
    hours = (expires.replace(tzinfo=UTC) - datetime.now(UTC)) / timedelta(hours=1)
    assert 11.9 < hours <= 12.0  # a duty officer's session: one shift
    assert client.get("/layers/alerts.json").status_code == 200
    assert client.get("/api/test-whoami").get_json() == {"user": "street1", "scope": "500151001"}
    with session_factory() as session:
        row = audit_rows(session, action="signin")[0]
        assert (row.actor, row.target, row.remote_addr, row.detail) == (
            "street1",
            "user:street1",
            ADDR,
            "password",
        )
        assert abs(row.at - datetime.now(UTC)) < timedelta(minutes=1)


def test_wrong_password_is_refused_and_audited(client, session_factory) -> None:  # type: ignore[no-untyped-def]
    response = sign_in(client, "street1", password="not the password")
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "用户名或密码错误" in html and 'value="street1"' in html
    assert client.get("/api/test-whoami").status_code == 401
    with session_factory() as session:
        row = audit_rows(session, action="signin_failed")[0]
        assert (row.actor, row.detail, row.remote_addr) == ("street1", "wrong password", ADDR)


def test_sign_in_form_without_csrf_token_is_refused(client, session_factory) -> None:  # type: ignore[no-untyped-def]
    client.get("/signin")
    response = client.post("/signin", data={"username": "street1", "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/api/test-whoami").status_code == 401
    with session_factory() as session:
        assert audit_rows(session, action="signin") == []


def test_tenth_wrong_password_in_a_minute_then_right_one_refused(client) -> None:  # type: ignore[no-untyped-def]
    for i in range(10):
        assert sign_in(client, "street1", password=f"guess number {i}").status_code == 401
    assert sign_in(client, "street1").status_code == 401
    assert client.get("/api/test-whoami").status_code == 401


def test_dash_callbacks_need_the_csrf_token(client) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "admin").status_code == 302
    refused = client.post("/_dash-update-component", json=route_callback("/audit"))
    assert refused.status_code == 403
    wrong = client.post(
        "/_dash-update-component", json=route_callback("/audit"), headers={"X-CSRFToken": "forged"}
    )
    assert wrong.status_code == 403
    # the renderer sends the _csrf_token cookie back as X-CSRFToken: do what it does
    cookie = client.get_cookie("_csrf_token")
    assert cookie is not None and not cookie.http_only and cookie.same_site == "Lax"
    accepted = client.post(
        "/_dash-update-component", json=route_callback("/audit"), headers={"X-CSRFToken": cookie.value}
    )
    assert accepted.status_code == 200
    body = page_text(accepted)
    assert "审计日志" in body and "新建账号" in body and "user:street1" in body
    assert "登录" in body and ADDR in body  # the admin's own sign-in, from this address


def test_audit_page_is_for_admins_only(client) -> None:  # type: ignore[no-untyped-def]
    assert sign_in(client, "street1").status_code == 302
    token = client.get_cookie("_csrf_token").value
    body = page_text(
        client.post("/_dash-update-component", json=route_callback("/audit"), headers={"X-CSRFToken": token})
    )
    assert "只有管理员可以查看审计日志" in body and ADDR not in body


def test_sign_out(client, session_factory) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "street1")
    assert client.post("/signout").status_code == 403  # no token: a forged sign-out is refused too
    assert client.get("/api/test-whoami").status_code == 200
    response = client.post("/signout", headers={"X-CSRFToken": client.get_cookie("_csrf_token").value})
    assert response.status_code == 302 and response.headers["Location"] == "/signin"
    assert client.get("/api/test-whoami").status_code == 401
    with session_factory() as session:
        row = audit_rows(session, action="signout")[0]
        assert (row.actor, row.remote_addr) == ("street1", ADDR)


def test_disabled_account_cannot_sign_in_and_its_session_ends(client, session_factory) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, "street1")
    assert client.get("/api/test-whoami").status_code == 200
    with transaction(session_factory) as session:
        disable_user(session, "street1", actor="admin")
    assert client.get("/api/test-whoami").status_code == 401
    assert sign_in(client, "street1").status_code == 401
    with session_factory() as session:
        assert audit_rows(session, action="signin_failed")[0].detail == "account disabled"


def test_wall_link_signs_a_wall_in_for_thirty_days(web, client, session_factory) -> None:  # type: ignore[no-untyped-def]
    from dashboard.services import services

    secret = services(web.server).settings.effective_secret_key()
    with transaction(session_factory) as session:
        token = make_wall_link(session, "wall1", secret, actor="admin")
    assert client.get("/signin/token/" + token[:-2] + "xx").status_code == 403
    assert client.get("/api/test-whoami").status_code == 401
    response = client.get("/signin/token/" + token)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("gridcc_session="))
    expires = datetime.strptime(re.search(r"Expires=([^;]+)", cookie).group(1), "%a, %d %b %Y %H:%M:%S GMT")  # type: ignore[union-attr]
    assert (expires.replace(tzinfo=UTC) - datetime.now(UTC)).days >= 29
    assert client.get("/api/test-whoami").get_json() == {"user": "wall1", "scope": "500151"}
    with session_factory() as session:
        ok, bad = audit_rows(session, action="signin")[0], audit_rows(session, action="signin_failed")[0]
        assert (ok.actor, ok.detail, ok.remote_addr) == ("wall1", "wall link", ADDR)
        assert (bad.target, bad.detail) == ("wall-link", "bad or revoked wall link")


def test_next_never_leaves_the_site(client) -> None:  # type: ignore[no-untyped-def]
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = sign_in(client, "street1", next_path=evil)
        assert response.headers["Location"] == "/", evil


def test_cookies_are_secure_over_https(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/signin", base_url="https://localhost")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/signin",
        base_url="https://localhost",
        data={"csrf_token": token, "username": "street1", "password": PASSWORD, "next": "/"},
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert all("Secure" in c for c in cookies) and len(cookies) == 2  # the session and the CSRF token


def test_sign_in_is_on_by_default(settings, redis_url, redis_conn, engine, grids, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An app built from default settings (as ``gridcc web`` and ``dashboard/wsgi.py`` build it) serves
    nothing without a session."""
    from dashboard.services import services

    assert Settings.model_fields["auth_required"].default is True
    monkeypatch.delenv("GRIDCC_AUTH_REQUIRED", raising=False)
    assert Settings().auth_required is True
    app = make_app(settings, redis_url)  # the fixture's settings leave auth_required at its default
    try:
        client = app.server.test_client()
        assert client.get("/").status_code == 302
        assert client.get("/layers/alerts.json").status_code == 401
        assert client.post("/_dash-update-component", json=route_callback("/")).status_code == 401
        assert client.get("/api/test-whoami").status_code == 401
        assert client.get("/signin").status_code == 200
    finally:
        services(app.server).close()


def test_kiosk_opt_out_opens_everything(settings, redis_url, redis_conn, engine, grids, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``GRIDCC_AUTH_REQUIRED=false`` (a closed kiosk network): pages, layers and callbacks are open,
    everyone sees the configured district, nobody is signed in."""
    from dashboard.services import services

    monkeypatch.setenv("GRIDCC_AUTH_REQUIRED", "false")
    assert Settings().auth_required is False
    app = make_app(settings, redis_url, auth_required=False)
    try:
        client = app.server.test_client()
        assert client.get("/").status_code == 200
        assert client.get("/layers/alerts.json").status_code == 200
        assert client.post("/_dash-update-component", json=route_callback("/")).status_code == 200
        assert client.get("/api/test-whoami").get_json() == {"user": None, "scope": "500151"}
        assert client.get("/signin").status_code == 200
    finally:
        services(app.server).close()
