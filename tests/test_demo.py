"""`gridcc demo` started in a subprocess: it answers HTTP, runs real Redis and RQ worker processes,
stops every process it started on SIGTERM, and reuses its data on a second start."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.stack import Demo

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = Demo(tmp_path / "var")
    yield d
    d.kill_all()


def test_demo_serves_runs_workers_and_stops_cleanly(demo: Demo) -> None:
    url = demo.start()
    # sign-in is on: the URL printed is the wall's sign-in link, which lands on the wall, signed in
    assert url.startswith(f"http://127.0.0.1:{demo.port}/signin/token/") and url == demo.wall_link
    assert httpx.get(demo.url, timeout=10).headers["Location"].startswith("/signin")
    response = httpx.get(url, timeout=10, follow_redirects=True)
    assert response.status_code == 200 and str(response.url) == demo.url
    assert "gridcc" in response.text.lower() or "dash" in response.text.lower()
    accounts = demo.accounts()
    assert {a: (v["role"], v["scope"]) for a, v in accounts.items()} == {
        "admin": ("admin", "500151"),
        "leader": ("leader", "500151"),
        "duty": ("duty", "500151001"),
        "wall": ("wall", "500151"),
    }
    assert (demo.data_dir / "demo-accounts.json").stat().st_mode & 0o777 == 0o600
    assert all(accounts[a]["password"] in "\n".join(demo.lines) for a in accounts)  # printed once

    # real Redis and real RQ worker processes
    redis_line = next(line for line in demo.lines if line.strip().startswith("redis"))
    redis_url = redis_line.split()[1]
    rq = Path(sys.executable).parent / "rq"
    deadline = time.monotonic() + 30
    while True:
        info = subprocess.run([str(rq), "info", "--url", redis_url], capture_output=True, text=True)
        workers = [line for line in info.stdout.splitlines() if "gridcc-worker-" in line]
        if len(workers) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(workers) >= 2, info.stdout + info.stderr
    names = {p.name() for p in demo.descendants()}
    assert any("redis-server" in n for n in names), names

    children = demo.descendants()
    assert len(children) >= 6  # redis, simulators, 2 workers, cron, web (+ gunicorn workers)
    assert demo.stop() == 0
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, [(p.pid, p.name()) for p in alive]
    assert demo.say("cli_demo_stopped") in demo.lines[-1]


def test_second_start_reuses_the_data(demo: Demo) -> None:
    first = demo.start()
    # each line's words before its value (the district code, the accounts file)
    generated = demo.say("cli_demo_generated", code="\0").split("\0")[0].strip()
    made = demo.say("cli_demo_accounts_made", path="\0").split("\0")[0].strip()
    exist = demo.say("cli_demo_accounts_exist", path="\0").split("\0")[0].strip()
    assert any(generated in line for line in demo.lines), demo.lines
    assert any(made in line for line in demo.lines), demo.lines
    passwords = {a: v["password"] for a, v in demo.accounts().items()}
    assert demo.stop() == 0
    again = demo.start()
    assert not any(generated in line for line in demo.lines)
    assert any(exist in line for line in demo.lines), demo.lines
    assert not any(p in "\n".join(demo.lines) for p in passwords.values())  # not printed again
    assert {a: v["password"] for a, v in demo.accounts().items()} == passwords
    assert again == first  # the same wall link still signs the wall in
    assert httpx.get(again, timeout=10, follow_redirects=True).status_code == 200
    assert demo.stop() == 0
