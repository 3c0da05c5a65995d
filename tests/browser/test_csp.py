"""The app's Content-Security-Policy in real Chromium, enforced (other browser tests bypass it for
Playwright's ``eval``-based waits): every screen renders, as the wall, a duty officer and an admin,
with no policy violation and no console error. A violation is logged by Chromium as a console error
("Refused to …"), and a ``securitypolicyviolation`` listener added before any page script runs
reports each one as well."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import open_page, sign_in_as, wall_signed_in
from tests.stack import Demo

REPORT = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI);
});
"""

SCREENS = {  # path → what shows that it rendered (its data arrived through callbacks and layers)
    "/": "#wall-kpi-now-open",
    "/map": "path.unit-street",
    "/duty": ".ag-row",
    "/overdue": ".overdue-top[data-level='district']",
    "/feeds": ".feed-row",
    "/audit": ".audit-table",
    "/risks": ".risks-row",  # a duty officer's or a leader's (an admin is told it is not theirs)
    "/reports": "#report-kpis td[data-key='received']",
    "/reports/print?period=week": "section.report-kpis td[data-key='received']",  # the A4 print view
}
REPORTS = ("/reports", "/reports/print?period=week")  # duty officers and leaders, not admins


def _open(browser: object, stack: Demo, who: str) -> tuple[Any, Any]:
    page, log = open_page(browser, enforce_csp=True)
    page.context.add_init_script(REPORT)  # type: ignore[attr-defined]
    if who == "wall":
        wall_signed_in(page, stack)
    else:
        sign_in_as(page, stack, who)
    return page, log


def _visit(page: Any, stack: Demo, path: str, selector: str) -> None:
    response = page.goto(stack.url.rstrip("/") + path)
    policy = response.headers.get("content-security-policy", "")
    assert (
        "frame-ancestors 'none'" in policy and "unsafe" not in policy.split("script-src", 1)[1].split(";")[0]
    )
    page.wait_for_selector(selector, timeout=60000)


def test_every_screen_renders_under_the_policy(stack: Demo, browser: object) -> None:
    admin = [p for p in list(SCREENS)[1:] if p != "/risks" and p not in REPORTS]
    for who, paths in (("wall", ["/"]), ("duty", ["/duty", "/risks", *REPORTS]), ("admin", admin)):
        page, log = _open(browser, stack, who)
        try:
            for path in paths:
                _visit(page, stack, path, SCREENS[path])
            page.wait_for_timeout(2000)  # a moment for late callbacks and lazy bundles (plotly)
            log.assert_clean()
        finally:
            page.context.close()


def test_a_case_page_renders_under_the_policy(stack: Demo, browser: object) -> None:
    page, log = _open(browser, stack, "admin")
    try:
        _visit(page, stack, "/cases/1", ".case-event")
        page.wait_for_selector(".case-map .leaflet-container path.leaflet-interactive", timeout=30000)
        log.assert_clean()
    finally:
        page.context.close()
