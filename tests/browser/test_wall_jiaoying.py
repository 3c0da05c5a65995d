"""预警叫应 on the wall in real Chromium at 1920×1080, against the shared demo stack (its RQ workers,
rq cron, the weather office's CAP feed and the grid patrol desk), signed in as the wall display:

a 橙色 warning is issued at the weather office (its ``/_control/warnings``); the workers poll it, call
every covered grid's worker through the grid patrol app's endpoint, and the simulated workers answer
(most within seconds at the demo's scale, some late, a few never). The wall's ticker shows the warning's
chip — ``已叫应 a/b 网格`` — with ``a`` rising by itself, flashing while grids are silent, and the map
draws the silent grids flashing (``path.call-silent``), the answered ones outlined.
``screenshots/wall-jiaoying.png`` is the wall so.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select

from data.db import make_engine, make_sessionmaker
from data.models import Alert, AlertCall
from data.settings import Settings
from tests.browser.conftest import PageLog, screenshot
from tests.browser.test_wall import _no_scrollbars, _wait_ready
from tests.stack import Demo

COUNT = re.compile(r"已叫应 (\d+)/(\d+) 网格")

CHIP = """id => {
  const chip = document.querySelector(`#wall-ticker .ticker-call[data-alert="${id}"]`);
  if (!chip) return null;
  const r = chip.getBoundingClientRect();
  const text = chip.querySelector('.ticker-text');
  return {
    text: chip.innerText, flashing: chip.classList.contains('flash'),
    animation: getComputedStyle(chip).animationName,
    font: parseFloat(getComputedStyle(text).fontSize),
    inside: r.left >= 0 && r.right <= window.innerWidth + 1 && r.bottom <= window.innerHeight + 1,
  };
}"""

GRIDS = """() => {
  const silent = [...document.querySelectorAll('path.call-silent')];
  return {
    silent: silent.length,
    answered: document.querySelectorAll('path.call-answered').length,
    animation: silent.length ? getComputedStyle(silent[0]).animationName : '',
  };
}"""


def _wait(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout} s")


def _weather_url(stack: Demo) -> str:
    import tomllib

    feeds = tomllib.loads((stack.data_dir / "feeds.toml").read_text(encoding="utf-8"))
    url = next(f["url"] for f in feeds["feed"] if f["protocol"] == "cap")
    return str(url).split("/cap/", 1)[0]


def _alert_and_calls(stack: Demo, identifier: str) -> tuple[int, int] | None:
    """(the alert's id, its calls) once the warning is stored and has called its grids."""
    engine = make_engine(Settings(data_dir=stack.data_dir))
    try:
        with make_sessionmaker(engine)() as session:
            alert_id = session.scalar(select(Alert.id).where(Alert.external_id == identifier))
            if alert_id is None:
                return None
            calls = len(session.scalars(select(AlertCall.id).where(AlertCall.alert_id == alert_id)).all())
            return (int(alert_id), calls) if calls else None
    finally:
        engine.dispose()


def _diagnose(stack: Demo, page: Any, alert_id: int) -> str:
    from data.scope import AreaScope
    from layers.wall_payload import build_ticker

    engine = make_engine(Settings(data_dir=stack.data_dir))
    try:
        with make_sessionmaker(engine)() as session:
            alert = session.get(Alert, alert_id)
            calls = session.scalars(select(AlertCall).where(AlertCall.alert_id == alert_id)).all()
            ticker = build_ticker(session, AreaScope.of("500151"), datetime.now(UTC), "none")
            said = (alert.state, alert.severity, alert.expires) if alert else None
            ended = sum(1 for c in calls if c.ended_at is not None)
            return (
                f"alert {said}; {len(calls)} calls, {ended} ended; payload {ticker['calls']}; page: "
                + (page.inner_text("#wall-ticker")[:500])
            )
    finally:
        engine.dispose()


def test_the_wall_counts_the_grids_that_answered_and_flashes_the_silent(
    stack: Demo, page_and_log: tuple[Any, PageLog]
) -> None:
    page, log = page_and_log
    _wait_ready(page, stack)
    answer = httpx.post(
        _weather_url(stack) + "/_control/warnings",
        json={"event": "暴雨", "severity": "Severe", "circle": False},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    identifier = answer.json()["identifier"]
    alert_id, calls = _wait(lambda: _alert_and_calls(stack, identifier), 120, "the warning's calls")
    assert calls >= 2

    # the chip appears; its count of grids that answered rises by itself while the wall is on
    try:
        chip = _wait(lambda: page.evaluate(CHIP, alert_id), 180, "the warning's chip on the ticker")
    except AssertionError as exc:  # say what the wall and the database held
        raise AssertionError(_diagnose(stack, page, alert_id)) from exc
    first = COUNT.search(chip["text"])
    assert first is not None, chip
    start, total = int(first.group(1)), int(first.group(2))
    assert total == calls or total <= calls, (chip, calls)  # the wall counts the grids in its scope

    def risen() -> dict[str, Any] | None:
        now = page.evaluate(CHIP, alert_id)
        found = COUNT.search(now["text"]) if now else None
        return now if found and start < int(found.group(1)) < int(found.group(2)) else None

    chip = _wait(risen, 120, "the count of grids that answered rising, some still silent")
    assert chip["flashing"] and chip["animation"] == "wall-flash", chip
    assert chip["inside"] and chip["font"] >= 0.025 * 1080, chip  # 2.5 % of the height: read across the room

    # the map: the silent grids flash, the answered ones are outlined
    grids = _wait(
        lambda: (lambda g: g if g["silent"] and g["answered"] else None)(page.evaluate(GRIDS)),
        60,
        "silent and answered grids on the map",
    )
    assert grids["animation"] == "gridcc-call-flash", grids
    page.wait_for_timeout(2000)  # let clusters, labels and charts settle for the picture
    screenshot(page, "wall-jiaoying")
    _no_scrollbars(page)
    assert "13" not in "".join(re.findall(r"1[3-9]\d{9}", page.inner_text("#wall-root")))  # no phone
    log.assert_clean()
