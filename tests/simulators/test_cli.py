"""``gridcc simulators`` as the demo supervisor runs it: a real subprocess that writes the feeds file
before saying it is ready, serves every simulator, honours --faults and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

from simulators import SPECS, write_feeds_file
from tests.ports import free_port_range
from tests.simulators.test_support import add_district, get, get_json
from workers.feeds.config import load_feeds

REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDCC_")}
    env.update(GRIDCC_DATA_DIR=str(tmp_path / "var"), GRIDCC_DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
    return env


def test_write_feeds_file_gives_the_agreed_format(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    write_feeds_file(path, "127.0.0.1", 8600)
    feeds = load_feeds(path)  # the feed engineer's loader and validation
    assert [f.name for f in feeds] == [s.name for s in SPECS]
    by_name = {f.name: f for f in feeds}
    assert by_name["hotline12345"].url == "http://127.0.0.1:8600/requests.xml"
    assert by_name["grid_patrol"].url == "http://127.0.0.1:8601/requests.json"
    assert (
        by_name["weather"].url == "http://127.0.0.1:8612/cap/index.atom"
        and by_name["weather"].protocol == "cap"
    )
    assert (
        by_name["sensors"].url == "http://127.0.0.1:8613/alarms.json"
        and by_name["sensors"].department == "emergency"
    )
    assert by_name["hotline12345"].interval == by_name["grid_patrol"].interval == 5
    assert all(10 <= f.interval <= 30 for f in feeds if f.name not in ("hotline12345", "grid_patrol"))
    assert all(f.enabled for f in feeds)


def test_the_command_serves_every_feed_and_stops_on_sigterm(
    tmp_path: Path, engine: Engine, database_url: str
) -> None:
    add_district(engine)
    base = free_port_range(len(SPECS))
    feeds_file = tmp_path / "feeds.toml"
    args = [
        sys.executable,
        "-m",
        "gridcc",
        "simulators",
        "--port",
        str(base),
        "--feeds-file",
        str(feeds_file),
    ]
    args += ["--faults", "police=error500,weather=malformed", "--seed", "5"]
    proc = subprocess.Popen(
        args,
        cwd=REPO,
        env=_env(tmp_path, database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("simulators ready"):
                break
        assert lines and lines[-1].startswith("simulators ready"), (lines, proc.stderr and proc.stderr.read())
        # the feeds file is there before "ready", pointing at the servers
        feeds = load_feeds(feeds_file)
        assert [f.url.split("/")[2] for f in feeds] == [f"127.0.0.1:{base + i}" for i in range(len(SPECS))]
        printed = "".join(lines)
        for i, spec in enumerate(SPECS):
            assert f"http://127.0.0.1:{base + i}" in printed and spec.name in printed
            assert get_json(f"http://127.0.0.1:{base + i}/_health") == {"ok": True, "feed": spec.name}
        assert get(f"http://127.0.0.1:{base + 2}/requests.xml")[0] == 500  # police=error500
        assert get(f"http://127.0.0.1:{base + 12}/cap/index.atom")[2].rstrip().endswith(b"junk")  # weather
        status, _h, body = get(feeds[0].url + "?page_size=5")
        assert status == 200 and body.count(b"<request>") == 5
        assert (tmp_path / "var" / "simulators.sqlite").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "simulators stopped" in out
    with socket.socket() as s:  # nothing listens there any more (TIME_WAIT connections aside)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", base))


def test_without_the_district_it_says_what_to_run(tmp_path: Path, engine: Engine, database_url: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gridcc", "simulators", "--port", "0"],
        cwd=REPO,
        env=_env(tmp_path, database_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "gridcc geo generate" in proc.stderr


def test_a_bad_faults_option_is_refused(tmp_path: Path, engine: Engine, database_url: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gridcc", "simulators", "--faults", "police=explode"],
        cwd=REPO,
        env=_env(tmp_path, database_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "unknown fault mode" in proc.stderr
