"""Browser tests: real Chromium (Debian's /usr/bin/chromium) driven by Playwright, against the demo stack
(`gridcc demo` in a subprocess, started once for the whole browser-test session).

Each `page` records console errors and every request that would leave 127.0.0.1; tests assert on both.
Sign-in is required in the demo: a test signs its page in first (:func:`signed_in` posts the /signin
form with one of the demo's accounts, :func:`wall_signed_in` opens the wall's sign-in link), and reads
payloads outside the browser through :func:`http_client` (an httpx client signed in the same way).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from tests.stack import Demo

CHROMIUM = os.environ.get("GRIDCC_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


# Leaflet is a global: keep a handle on every map it makes (test instrumentation: lets the test move the
# view to one case, as a person with a mouse would).
KEEP_MAPS = """
(() => {
  let real;
  Object.defineProperty(window, 'L', {
    configurable: true,
    get() { return real; },
    set(v) {
      real = v;
      if (v && v.Map && v.Map.addInitHook) {
        v.Map.addInitHook(function () { (window.__maps = window.__maps || []).push(this); });
      }
    },
  });
})();
"""


@dataclass
class PageLog:
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    bytes_received: int = 0

    def assert_clean(self) -> None:
        assert not self.page_errors, self.page_errors
        assert not self.console_errors, self.console_errors
        assert not self.offsite, self.offsite


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The whole demo (embedded Redis, RQ workers, rq cron, simulators, web), started once."""
    demo = Demo(tmp_path_factory.mktemp("stack") / "var")
    demo.start()
    yield demo
    try:
        demo.stop()
    finally:
        demo.kill_all()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def open_page(
    browser: object, width: int = 1920, height: int = 1080, *, enforce_csp: bool = False
) -> tuple[object, PageLog]:
    """A new page in its own context, with a log of errors and of requests that leave 127.0.0.1.

    The app's Content-Security-Policy allows no ``eval``, and Playwright's ``wait_for_function`` runs
    its predicate through ``eval`` in the page: so test pages bypass the policy, except with
    ``enforce_csp=True`` (``tests/browser/test_csp.py`` opens every screen so, with no such waits)."""
    log = PageLog()
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": width, "height": height}, locale="zh-CN", bypass_csp=not enforce_csp
    )
    page = context.new_page()
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))

    def on_request(request: object) -> None:
        url = request.url  # type: ignore[attr-defined]
        log.requests.append(url)
        host = urlparse(url).hostname or ""
        if urlparse(url).scheme in ("http", "https", "ws", "wss") and host not in LOCAL_HOSTS:
            log.offsite.append(url)

    def on_response(response: object) -> None:
        try:
            log.bytes_received += len(response.body())  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - redirects and aborted requests have no body
            pass

    page.on("request", on_request)
    page.on("response", on_response)
    return page, log


@pytest.fixture
def page_and_log(browser: object) -> Iterator[tuple[object, PageLog]]:
    page, log = open_page(browser)
    yield page, log
    page.context.close()  # type: ignore[attr-defined]


def screenshot(page: object, name: str) -> Path:
    """Save a screenshot under screenshots/ (committed: the README and the closing notes show them)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))  # type: ignore[attr-defined]
    return path


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def signed_in(page: object, username: str, password: str, base_url: str) -> object:
    """Sign ``page``'s browser context in as ``username``: GET /signin for the form's CSRF token, then
    POST the form, as a person pressing 登录 would (through the context's own request API, so the
    session cookie lands in the browser and no extra page is rendered)."""
    api = page.request  # type: ignore[attr-defined]
    base = base_url.rstrip("/")
    form = api.get(base + "/signin")
    match = CSRF_FIELD.search(form.text())
    assert form.status == 200 and match, form.text()[:300]
    answer = api.post(
        base + "/signin",
        form={"csrf_token": match.group(1), "username": username, "password": password, "next": "/"},
        max_redirects=0,
    )
    assert answer.status == 302, f"sign-in as {username} refused: {answer.status}"
    return page


def sign_in_as(page: object, stack: Demo, username: str) -> object:
    """:func:`signed_in` with the password of one of the demo's accounts (admin, leader, duty, wall)."""
    return signed_in(page, username, stack.password(username), stack.url)


def wall_signed_in(page: object, stack: Demo) -> object:
    """Sign ``page`` in as the wall display, through the sign-in link the demo printed."""
    answer = page.request.get(stack.wall_link, max_redirects=0)  # type: ignore[attr-defined]
    assert answer.status == 302 and answer.headers["location"] == "/", answer.status
    return page


@functools.cache
def _client(base_url: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=20)
    form = client.get("/signin")
    match = CSRF_FIELD.search(form.text)
    assert match
    answer = client.post(
        "/signin", data={"csrf_token": match.group(1), "username": username, "password": password}
    )
    assert answer.status_code == 302, f"sign-in as {username} refused: {answer.status_code}"
    return client


def http_client(stack: Demo, username: str) -> httpx.Client:
    """An httpx client signed in to the stack as one of the demo's accounts (made once per account)."""
    return _client(stack.url, username, stack.password(username))


def file_case(stack: Demo, description: str, address: str, lon: float, lat: float) -> None:
    """A resident's case filed through the 12345 simulator's Open311 ``POST /requests.json``."""
    base = stack.simulator_url(0)
    services = httpx.get(base + "/services.json", timeout=10).json()
    code = services[0]["service_code"]
    answer = httpx.post(
        base + "/requests.json",
        data={
            "service_code": code,
            "description": description,
            "address_string": address,
            "lat": f"{lat:.6f}",
            "long": f"{lon:.6f}",
        },
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
