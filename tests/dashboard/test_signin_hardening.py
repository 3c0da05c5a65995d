"""Sign-in that holds under attack, on the real app, database and Redis (issue 9, findings 10–12):

- 40 wrong passwords sent at once check at most ``max_failures`` of them against the account's hash,
  and the right password afterwards is refused (the lock-out counters are one atomic update);
- sign-out ends the session on the server: a copied cookie is refused afterwards on pages, callbacks,
  layers, the API and the export; a new wall link ends the sessions opened with the old one;
- every kind of response (page, asset, bundle, layer, API, callback, export, errors) carries the
  security headers;
- malformed input gets 400, and ``GET /signout`` or an empty wall token never get the Dash shell.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import argon2
import pytest
from flask import jsonify

from data.auth import audit_rows, create_user, disable_user, make_wall_link
from data.auth.users import get_user
from data.db import transaction
from tests.dashboard.test_auth_web import PASSWORD, csrf_of, route_callback, sign_in


@pytest.fixture
def web(settings, redis_url, redis_conn, engine, session_factory, grids) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from dashboard.services import services

    with transaction(session_factory) as session:
        create_user(session, "admin", PASSWORD, "admin", "500151")
        create_user(session, "street1", PASSWORD, "duty", "500151001")
        create_user(session, "wall1", PASSWORD, "wall", "500151")
    from dashboard.app import create_app
    from dashboard.auth import current_user
    from dashboard.page import PageRegistry
    from dashboard.wall.page import PAGE as WALL_PAGE

    app = create_app(
        settings.model_copy(update={"redis_url": redis_url, "auth_required": True}),
        pages=PageRegistry([WALL_PAGE]),
    )

    @app.server.get("/api/test-whoami")
    def whoami() -> Any:
        user = current_user()
        return jsonify({"user": user.username if user else None})

    yield app
    services(app.server).close()


@pytest.fixture
def hash_checks(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The stored hashes argon2 verified a password against, in order (every check, from any thread)."""
    seen: list[str] = []
    lock = threading.Lock()
    original = argon2.PasswordHasher.verify

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # type: ignore[no-untyped-def]
        with lock:
            seen.append(hash if isinstance(hash, str) else hash.decode())
        return original(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", verify)
    return seen


def _stored_hash(session_factory, username: str) -> str:  # type: ignore[no-untyped-def]
    with session_factory() as session:
        user = get_user(session, username)
        assert user is not None
        return user.password_hash


def test_forty_parallel_wrong_passwords_check_at_most_five(web, session_factory, hash_checks) -> None:  # type: ignore[no-untyped-def]
    real_hash = _stored_hash(session_factory, "street1")
    clients = []
    for i in range(40):  # forty machines (each address stays under the per-address slow-down)
        c = web.server.test_client()
        c.environ_base["REMOTE_ADDR"] = f"198.51.100.{i + 1}"
        clients.append((c, csrf_of(c)))
    hash_checks.clear()
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def guess(i: int) -> None:
        c, token = clients[i]
        start.wait()
        data = {"csrf_token": token, "username": "street1", "password": f"wrong guess {i:02d}", "next": "/"}
        statuses.append(c.post("/signin", data=data).status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(clients))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(set(statuses)) == [401] and len(statuses) == 40
    checked = [h for h in hash_checks if h == real_hash]
    assert len(checked) <= 5, f"{len(checked)} of 40 parallel guesses were checked against the password"
    with session_factory() as session:
        wrong = [
            r for r in audit_rows(session, action="signin_failed", limit=100) if "wrong password" in r.detail
        ]
        assert len(wrong) == len(checked)

    later = web.server.test_client()
    later.environ_base["REMOTE_ADDR"] = "198.51.100.200"
    assert sign_in(later, "street1").status_code == 401  # the right password: refused while locked
    assert later.get("/api/test-whoami").status_code == 401
    assert len([h for h in hash_checks if h == real_hash]) == len(checked)  # not even looked at


def _signed_in(web, username: str, addr: str = "203.0.113.50") -> Any:  # type: ignore[no-untyped-def]
    c = web.server.test_client()
    c.environ_base["REMOTE_ADDR"] = addr
    assert sign_in(c, username).status_code == 302
    return c


def _copy(web, victim) -> Any:  # type: ignore[no-untyped-def]
    thief = web.server.test_client()
    thief.environ_base["REMOTE_ADDR"] = "192.0.2.99"
    for name in ("gridcc_session", "_csrf_token"):
        cookie = victim.get_cookie(name)
        assert cookie is not None
        thief.set_cookie(name, cookie.value)
    return thief


def _refused_everywhere(c) -> None:  # type: ignore[no-untyped-def]
    assert c.get("/api/test-whoami").status_code == 401
    assert c.get("/").status_code == 302  # a page: off to the sign-in form
    assert c.get("/layers/alerts.json").status_code == 401
    assert c.get("/api/versions").status_code == 401
    assert c.get("/export/cases.csv").status_code in (302, 401)  # a download: off to sign in too
    token = c.get_cookie("_csrf_token").value
    callback = c.post("/_dash-update-component", json=route_callback("/"), headers={"X-CSRFToken": token})
    assert callback.status_code == 401


def test_a_copied_cookie_is_refused_after_sign_out(web) -> None:  # type: ignore[no-untyped-def]
    victim = _signed_in(web, "admin")
    thief = _copy(web, victim)
    assert thief.get("/api/test-whoami").get_json()["user"] == "admin"  # the copy works while signed in
    assert thief.get("/export/cases.csv").status_code == 200
    token = victim.get_cookie("_csrf_token").value
    assert victim.post("/signout", headers={"X-CSRFToken": token}).status_code == 302
    _refused_everywhere(thief)
    assert victim.get_cookie("gridcc_session") is None  # the browser forgot it too


def test_sign_out_ends_only_that_session(web) -> None:  # type: ignore[no-untyped-def]
    first, second = _signed_in(web, "street1"), _signed_in(web, "street1", addr="203.0.113.51")
    first.post("/signout", headers={"X-CSRFToken": first.get_cookie("_csrf_token").value})
    assert first.get("/api/test-whoami").status_code == 401
    assert second.get("/api/test-whoami").get_json()["user"] == "street1"  # another screen stays in


def test_disabling_an_account_ends_its_sessions(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    c = _signed_in(web, "admin")
    with transaction(session_factory) as session:
        disable_user(session, "admin", actor="other")
    _refused_everywhere(c)
    with transaction(session_factory) as session:
        disable_user(session, "admin", actor="other", enable=True)
    assert c.get("/api/test-whoami").status_code == 401  # re-enabling does not revive the old session


def test_a_new_wall_link_ends_sessions_opened_with_the_old_one(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    from dashboard.services import services

    secret = services(web.server).settings.effective_secret_key()
    with transaction(session_factory) as session:
        old = make_wall_link(session, "wall1", secret, actor="admin")
    screen = web.server.test_client()
    assert screen.get("/signin/token/" + old).status_code == 302
    assert screen.get("/api/test-whoami").get_json()["user"] == "wall1"
    with transaction(session_factory) as session:
        new = make_wall_link(session, "wall1", secret, actor="admin")
    assert screen.get("/api/test-whoami").status_code == 401
    assert screen.get("/layers/alerts.json").status_code == 401
    assert screen.get("/signin/token/" + old).status_code == 403
    fresh = web.server.test_client()
    assert fresh.get("/signin/token/" + new).status_code == 302
    assert fresh.get("/api/test-whoami").get_json()["user"] == "wall1"


HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy")


def _assert_secure_headers(response, what: str) -> None:  # type: ignore[no-untyped-def]
    for name in HEADERS:
        assert response.headers.get(name), f"{what}: no {name}"
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp, what
    assert "object-src 'none'" in csp or "default-src 'none'" in csp, what
    assert response.headers["X-Frame-Options"] == "DENY", what
    assert response.headers["X-Content-Type-Options"] == "nosniff", what


def test_every_kind_of_response_carries_the_security_headers(web) -> None:  # type: ignore[no-untyped-def]
    anonymous = web.server.test_client()
    for url in ("/", "/layers/alerts.json", "/signin", "/signin/token/x.y.z"):
        _assert_secure_headers(anonymous.get(url), f"anonymous GET {url}")
    c = _signed_in(web, "admin")
    shell = c.get("/")
    assert shell.status_code == 200
    _assert_secure_headers(shell, "page")
    scripts = re.search(r"script-src ([^;]*)", shell.headers["Content-Security-Policy"])
    assert scripts is not None and "unsafe" not in scripts.group(1)  # inline scripts by hash only
    assert len(re.findall(r"'sha256-", scripts.group(1))) >= 2  # Dash's renderer start, clientside fns
    bundles = re.findall(r'src="(/_dash-component-suites/[^"]+)"', shell.get_data(as_text=True))
    assert bundles
    token = c.get_cookie("_csrf_token").value
    csrf = {"X-CSRFToken": token}
    responses = {
        "bundle": c.get(bundles[0]),
        "asset": c.get("/assets/gridcc.css"),
        "dash layout": c.get("/_dash-layout"),
        "dash dependencies": c.get("/_dash-dependencies"),
        "callback": c.post(
            "/_dash-update-component", json=route_callback("/"), headers={"X-CSRFToken": token}
        ),
        "layer": c.get("/layers/alerts.json"),
        "tile layer": c.get("/layers/units/street.pbf"),
        "api": c.get("/api/versions"),
        "wall api": c.post("/api/wall", json={"want": {}, "have": None}, headers=csrf),
        "export": c.get("/export/cases.csv"),
        "bad request": c.get("/layers/grids.pbf?bbox=nonsense"),
        "csrf refusal": c.post("/api/wall", json={"want": {}}),
    }
    for what, response in responses.items():
        assert response.status_code < 500, what
        _assert_secure_headers(response, what)


def test_malformed_input_gets_400_not_500(web) -> None:  # type: ignore[no-untyped-def]
    c = _signed_in(web, "admin")
    token = {"X-CSRFToken": c.get_cookie("_csrf_token").value}
    bad_bodies: list[Any] = [
        {"want": {"scale": "abc"}, "have": None},
        {"want": {"scale": "nan", "minute": 1}, "have": None},
        {"want": {"scale": 1, "minute": "x"}, "have": None},
        {"want": {"scale": [1], "minute": 1}, "have": None},
        {"want": {"minute": {"a": 1}}, "have": {}},
        {"want": {"scale": 1e308 * 10, "minute": 1}, "have": None},
        {"want": {"minute": 10**30}, "have": None},
        {"want": {"minute": 1}, "have": None, "lang": {"x": 1}},
        ["not", "an", "object"],
        "text",
    ]
    for body in bad_bodies:
        response = c.post("/api/wall", json=body, headers=token)
        assert response.status_code == 400, (body, response.status_code)
        assert response.is_json and "error" in response.get_json()
    not_json = c.post("/api/wall", data="{oops", content_type="application/json", headers=token)
    assert not_json.status_code == 400

    good = route_callback("/")
    bad_callbacks: list[Any] = [
        {},
        [],
        "text",
        {**good, "output": 1},
        {**good, "output": "no-such.children"},
        {**good, "inputs": "x"},
        {**good, "inputs": [{"value": "/"}]},
        {**good, "inputs": []},  # fewer inputs than the callback takes
        {**good, "outputs": {}},
        {**good, "state": [1]},
        {**good, "changedPropIds": [1]},
    ]
    for body in bad_callbacks:
        response = c.post("/_dash-update-component", json=body, headers=token)
        assert response.status_code == 400, (body, response.status_code)
    assert c.post("/_dash-update-component", json=good, headers=token).status_code == 200


def test_get_signout_and_an_empty_wall_token_are_not_the_dash_shell(web) -> None:  # type: ignore[no-untyped-def]
    anonymous = web.server.test_client()
    for c in (anonymous, _signed_in(web, "street1")):
        signout = c.get("/signout")
        assert signout.status_code in (302, 303, 405), signout.status_code
        assert "_dash-renderer" not in signout.get_data(as_text=True)
        empty = c.get("/signin/token/")
        assert empty.status_code == 404
        assert "_dash-renderer" not in empty.get_data(as_text=True)
    assert c.get("/api/test-whoami").get_json()["user"] == "street1"  # GET /signout signs nobody out


def test_unknown_and_locked_accounts_run_the_same_password_check(web, session_factory, hash_checks) -> None:  # type: ignore[no-untyped-def]
    with transaction(session_factory) as session:
        create_user(session, "locked1", PASSWORD, "duty", "500151001")
    c = web.server.test_client()
    for i in range(5):
        sign_in(c, "locked1", password=f"wrong guess {i}")
    hash_checks.clear()
    for username in ("locked1", "nobody-at-all"):
        before = len(hash_checks)
        assert sign_in(c, username).status_code == 401
        assert len(hash_checks) == before + 1, f"{username}: no password hash was checked"


def test_the_page_policy_allows_the_basemap_and_each_inline_script_by_hash() -> None:
    from dashboard.headers import inline_script_hashes, page_policy, tile_origin
    from data.settings import Settings

    assert tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    assert tile_origin("http://tiles.local:8080/{z}/{x}/{y}.png") == "http://tiles.local:8080"
    assert tile_origin("") == "" and tile_origin("javascript:alert(1)") == ""
    html = (
        '<script type="application/json">{"x":1}</script><script src="/a.js"></script>'
        "<script>var renderer = new DashRenderer();</script>"
    )
    # the SHA-256 of "var renderer = new DashRenderer();" as browsers compute it
    assert inline_script_hashes(html) == ["'sha256-jZlsGVOhUAIcH+4PVs7QuGZkthRMgvT2n0ilH6/zTM0='"]
    policy = page_policy(Settings(tile_url="https://tiles.example.org/{z}/{x}/{y}.png"), [])
    assert "img-src 'self' data: blob: https://tiles.example.org;" in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


def test_a_wall_session_in_use_is_renewed_on_the_server_too(web, session_factory) -> None:  # type: ignore[no-untyped-def]
    """A wall's session slides (renewed daily while in use): its server-side row is renewed with it,
    so the pruning of sessions older than 30 days never signs out a wall that is on."""
    import time

    from dashboard.auth.sessions import SINCE
    from dashboard.services import services
    from data.models import UserSession

    secret = services(web.server).settings.effective_secret_key()
    with transaction(session_factory) as session:
        link = make_wall_link(session, "wall1", secret, actor="admin")
    screen = web.server.test_client()
    assert screen.get("/signin/token/" + link).status_code == 302
    with session_factory() as session:
        (row,) = session.query(UserSession).all()
        started = row.renewed_at
    with screen.session_transaction() as cookie:
        cookie[SINCE] = time.time() - 2 * 24 * 3600  # signed in two days ago
    assert screen.get("/api/test-whoami").get_json()["user"] == "wall1"
    with session_factory() as session:
        (row,) = session.query(UserSession).all()
        assert row.renewed_at > started and row.via == "link"
