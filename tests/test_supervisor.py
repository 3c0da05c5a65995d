"""The supervisor behind ``gridcc demo``, on plain processes: a dead child is restarted on its own clock
(another child's long back-off does not hold it up), and ``stop_last`` children outlive the others."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil

from gridcc.supervisor import Child, Supervisor

SLEEP = [sys.executable, "-c", "import time; time.sleep(600)"]


def _until(what: str, probe, deadline_s: float = 60) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + deadline_s
    while not probe():
        assert time.monotonic() < end, what
        time.sleep(0.05)


def test_a_dead_child_is_not_held_up_by_another_childs_back_off(tmp_path: Path) -> None:
    starts = tmp_path / "crashing-starts"
    die = [sys.executable, "-c", f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(3)"]
    sup = Supervisor({}, echo=lambda _: None)
    try:
        crashing = sup.add(Child("crashing", die, tmp_path / "crashing.log"))
        crashing.restarts = 6  # it has been dying for a while: its next pause is 30 s
        steady = sup.add(Child("steady", SLEEP, tmp_path / "steady.log"))
        _until("crashing exited", lambda: not crashing.alive())
        first = steady.pid
        assert first is not None
        psutil.Process(first).kill()
        _until("steady exited", lambda: not steady.alive())

        def restarted() -> bool:
            sup.watch_once()
            return steady.alive() and steady.pid != first

        _until("steady restarted", restarted)
        # ...while the crashing child still waits out its pause: started once, not again
        assert starts.read_text() == "x"
    finally:
        sup.stop_all(grace_s=5)


def test_stop_last_children_stop_after_the_others(tmp_path: Path) -> None:
    # "web" takes a second to stop on SIGTERM; "redis", told to stop, notes whether web had gone by then
    web_done, redis_saw = tmp_path / "web-done", tmp_path / "redis-saw"
    web_argv = [
        sys.executable,
        "-c",
        "import pathlib, signal, sys, time\n"
        "def stop(*_):\n"
        f"    time.sleep(1); pathlib.Path({str(web_done)!r}).touch(); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "time.sleep(600)",
    ]
    redis_argv = [
        sys.executable,
        "-c",
        "import pathlib, signal, sys, time\n"
        "def stop(*_):\n"
        f"    pathlib.Path({str(redis_saw)!r}).write_text(str(pathlib.Path({str(web_done)!r}).exists()))\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "time.sleep(600)",
    ]
    sup = Supervisor({}, echo=lambda _: None)
    sup.add(Child("redis", redis_argv, tmp_path / "redis.log", stop_last=True))
    sup.add(Child("web", web_argv, tmp_path / "web.log"))
    time.sleep(1)  # let both install their handlers
    sup.stop_all(grace_s=10)
    assert redis_saw.read_text() == "True"
