"""From a 吹哨 click on the case page to "已送达" on the same page's timeline, in headless Chromium,
through the whole ``gridcc demo`` stack (web server, embedded Redis, real RQ workers, ``rq cron``, the
simulators' department desks), median and p95.

    python benchmarks/bench_whistle_click.py [--whistles 30]

A duty officer (the demo's ``duty``, signed in as a person would) opens a case of its own street and,
for each whistle: loads the case page, picks 吹哨, the lead department (区公安分局), 紧急, an
instruction, and presses 发送. The clock starts at the click and stops when the page's timeline shows
one more 已送达 line than before. Beside it, from the same whistles, the server's own figures: the
``delivered`` event's time (written by the worker) minus the click's time, which is what the page
cannot beat; the gap between the two is the page's own lag (the long poll hearing the ``loop`` version
move, one callback reading the timeline, the redraw). Before the case page followed the versions it
re-read its timeline every 5 s, which alone cost up to 5 s (2.5 s on average) on top of the delivery.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.stack and the browser tests' helpers
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_latency import wait_ready  # noqa: E402 - the sibling script, found through sys.path

from data.db import make_engine, make_sessionmaker  # noqa: E402
from data.models import CaseEvent  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, sign_in_as  # noqa: E402
from tests.browser.test_access import _fresh_case  # noqa: E402
from tests.stack import Demo  # noqa: E402

DELIVERED = ".case-event[data-kind='delivered']"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def whistle(page: object, url: str, i: int, timeout_s: float = 60) -> tuple[float | None, datetime]:
    """One whistle from the case page: seconds from the click to one more 已送达 line (None when none
    came within ``timeout_s``); the click's time."""
    # a fresh page each time (the same URL with its #act would only scroll, keeping the last form's choices)
    page.goto("about:blank")  # type: ignore[attr-defined]
    page.goto(url)  # type: ignore[attr-defined]
    page.wait_for_selector("#act .act-kinds", timeout=60000)  # type: ignore[attr-defined]
    page.locator("#act .act-kinds").get_by_text("吹哨", exact=True).click()  # type: ignore[attr-defined]
    page.wait_for_selector("#act-form.kind-whistle", timeout=10000)  # type: ignore[attr-defined]
    page.click("#act-lead")  # type: ignore[attr-defined]
    page.get_by_role("option", name="区公安分局", exact=True).click()  # type: ignore[attr-defined]
    page.locator(".act-urgency-choice").get_by_text("紧急", exact=True).click()  # type: ignore[attr-defined]
    page.fill("#act-text", f"基准测试第{i}号吹哨，请到场处置")  # type: ignore[attr-defined]
    before = page.locator(DELIVERED).count()  # type: ignore[attr-defined]
    clicked_at = datetime.now(UTC)
    started = time.perf_counter()
    page.click("#act-submit")  # type: ignore[attr-defined]
    try:
        page.wait_for_function(  # type: ignore[attr-defined]
            'n => document.querySelectorAll("' + DELIVERED.replace('"', '\\"') + '").length > n',
            arg=before,
            timeout=timeout_s * 1000,
            polling=10,
        )
    except Exception:  # noqa: BLE001 - Playwright's TimeoutError: counted, and the server asked why
        return None, clicked_at
    return time.perf_counter() - started, clicked_at


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--whistles", type=int, default=30)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        demo = Demo(Path(tmp) / "var")
        demo.start()
        try:
            engine = make_engine(demo.database_url)
            # the first polls bring in a year of history and keep the workers busy: measure after them
            feeds = tomllib.loads((demo.data_dir / "feeds.toml").read_text(encoding="utf-8"))["feed"]
            wait_ready(engine, [f["name"] for f in feeds])
            case_id = _fresh_case(demo)
            url = f"{demo.url}cases/{case_id}#act"
            factory = make_sessionmaker(engine)
            seen: list[float] = []
            server: list[float] = []
            missed: list[str] = []
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
                page = context.new_page()
                sign_in_as(page, demo, "duty")
                whistle(page, url, -1, 180)  # warm-up: the workers' first delivery imports the code
                for i in range(args.whistles):
                    took, clicked_at = whistle(page, url, i)
                    with factory() as session:
                        at = session.scalar(
                            select(func.max(CaseEvent.at)).where(
                                CaseEvent.case_id == case_id, CaseEvent.kind == "delivered"
                            )
                        )
                    at = at if at is None or at.tzinfo else at.replace(tzinfo=UTC)
                    if took is None or at is None or at < clicked_at:
                        missed.append(
                            f"whistle {i}: delivered on the server: {at is not None and at >= clicked_at}"
                        )
                        continue
                    seen.append(took)
                    server.append((at - clicked_at).total_seconds())
                browser.close()
            engine.dispose()
        finally:
            try:
                demo.stop()
            finally:
                demo.kill_all()
    print(f"{args.whistles} whistles from the case page (Chromium, gridcc demo stack, SQLite)")
    print(f"not seen within 60 s: {len(missed)}", *missed, sep="\n  ")
    for name, values in (
        ("click -> 已送达 on the page", seen),
        ("click -> delivered (server)", server),
    ):
        print(
            f"{name:30} median {statistics.median(values) * 1000:7.0f} ms   p95 {p95(values) * 1000:7.0f} ms"
            f"   min {min(values) * 1000:6.0f} ms   max {max(values) * 1000:6.0f} ms"
        )
    lag = [a - b for a, b in zip(seen, server, strict=True)]
    print(
        f"{'the page own lag':30} median {statistics.median(lag) * 1000:7.0f} ms   "
        f"p95 {p95(lag) * 1000:7.0f} ms"
    )


if __name__ == "__main__":
    main()
