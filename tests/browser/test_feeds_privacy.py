"""``/feeds`` by role in real Chromium against the demo stack (issue 9, finding 5): a quarantined record
holding a phone, an ID number and a key is put where the poller puts one; the admin sees the workers and
the quarantine and views the payload masked, the wall sees the feeds' health only, the one-street duty
officer the health of the feeds of its street. Everything each browser received is scanned
(:mod:`tests.leaks`). Screenshots at 1920×1080 (``GRIDCC_SCREENSHOTS=1`` writes them to screenshots/)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete

from data.db import make_engine, transaction
from data.models import Quarantine
from tests.browser.conftest import SCREENSHOTS, sign_in_as, wall_signed_in
from tests.leaks import find_leaks
from tests.stack import Demo

KEY = "SECRETKEY987"
PHONE, ID_NUMBER = "13987654321", "50010119850505432X"
RAW = json.dumps(
    {"service_request_id": "pii-1", "description": f"居民电话{PHONE} 身份证{ID_NUMBER}", "api_key": KEY},
    ensure_ascii=False,
)
SECRETS = (PHONE, ID_NUMBER, KEY)


@pytest.fixture
def planted(stack: Demo) -> Iterator[int]:
    """A quarantined record of the 12345 hotline's feed, as the poller writes one; removed afterwards."""
    from sqlalchemy.orm import sessionmaker

    engine = make_engine(stack.database_url)
    sessions = sessionmaker(engine)
    with transaction(sessions) as session:
        record = Quarantine(
            feed_name="hotline12345",
            at=datetime.now(UTC),
            external_id="pii-1",
            reason=f"unreadable date; caller {PHONE}",
            raw=RAW,
        )
        session.add(record)
        session.flush()
        record_id = record.id
    try:
        yield record_id
    finally:
        with transaction(sessions) as session:
            session.execute(delete(Quarantine).where(Quarantine.id == record_id))
        engine.dispose()


def shot(page: object, name: str, tmp_path: Path) -> Path:
    folder = SCREENSHOTS if os.environ.get("GRIDCC_SCREENSHOTS") else tmp_path
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))  # type: ignore[attr-defined]
    return path


def received(page: object) -> list[str]:
    """Every text body the page received (documents, scripts' JSON, callback answers)."""
    bodies: list[str] = []

    def keep(response: object) -> None:
        kind = response.headers.get("content-type", "")  # type: ignore[attr-defined]
        if "json" in kind or "html" in kind or "text" in kind:
            try:
                bodies.append(response.text())  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - a redirect or an aborted request has no body
                pass

    page.on("response", keep)  # type: ignore[attr-defined]
    return bodies


def test_admin_sees_the_quarantine_and_views_a_payload_masked(stack, page_and_log, planted, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page, log = page_and_log
    bodies = received(page)
    sign_in_as(page, stack, "admin")
    page.goto(f"{stack.url}feeds")
    row = page.locator(f".quarantine-row[data-record='{planted}']")
    row.wait_for(timeout=60000)
    page.wait_for_function("document.querySelectorAll('.worker-row').length > 0", timeout=60000)
    assert "139****4321" in row.inner_text()  # the reason, masked
    row.locator("button.payload-show").click()
    panel = page.locator(f".quarantine-payload[data-record='{planted}']")
    panel.wait_for(timeout=30000)
    text = panel.inner_text()
    assert "居民电话139****4321 身份证500101********432X" in text, text
    assert '"api_key": "***"' in text
    panel.scroll_into_view_if_needed()
    shot(page, "feeds_admin", tmp_path)
    assert [found for b in bodies for found in find_leaks(b, SECRETS) if "secret" in found] == []
    log.assert_clean()


@pytest.mark.parametrize("who", ["wall", "duty"])
def test_wall_and_street_officer_see_health_only(stack, page_and_log, planted, tmp_path, who: str) -> None:  # type: ignore[no-untyped-def]
    page, log = page_and_log
    bodies = received(page)
    if who == "wall":
        wall_signed_in(page, stack)
    else:
        sign_in_as(page, stack, "duty")  # the demo's duty officer: the district's first street
    page.goto(f"{stack.url}feeds")
    page.wait_for_function("document.querySelectorAll('.feed-row').length > 0", timeout=60000)
    before = page.locator(".feeds-as-of").inner_text()  # the page re-reads when a poll lands …
    page.wait_for_function(
        "t => document.querySelector('.feeds-as-of').textContent !== t", arg=before, timeout=90000
    )  # … so the refresh callback's answer is among the bodies scanned below
    assert page.locator(".quarantine-row").count() == 0
    assert page.locator(".worker-row, .queue-row, button.payload-show").count() == 0
    assert page.locator(".feeds-note").count() == 1
    body = page.locator("body").inner_text()
    assert "hotline12345" in body  # the hotline's cases are everywhere: its health concerns every area
    shot(page, f"feeds_{who}", tmp_path)
    found = {i: f for i, b in enumerate(bodies) if (f := find_leaks(b, SECRETS))}
    assert found == {}
    assert not any(f"quarantine:{planted}" in b or "pii-1" in b for b in bodies)
    log.assert_clean()
