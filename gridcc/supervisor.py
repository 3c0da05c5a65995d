"""The process supervisor behind ``gridcc demo``: starts the parts, restarts a part that dies, stops all.

Each child runs in its own session (process group) so that stopping it stops what it started
(gunicorn's workers, say), and asks the kernel to send it SIGTERM if the supervisor itself dies, so
no child is ever left behind.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from data import text

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    os.setsid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except OSError:
            pass


@dataclass
class Child:
    """One supervised process: a name, its command line, and where its output goes."""

    name: str
    argv: Sequence[str] | Callable[[], Sequence[str]]  # a callable is asked again at every (re)start
    log_path: Path
    restart: bool = True
    stop_last: bool = False  # what the others need to stop cleanly (Redis): stopped after them
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    restart_at: float | None = None  # when a dead child is due to be started again
    _log: object = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, env: dict[str, str]) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self._log = log
        argv = self.argv() if callable(self.argv) else self.argv
        self.process = subprocess.Popen(
            list(argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - setsid + PDEATHSIG, nothing else
        )
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def close_log(self) -> None:
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]
            self._log = None


class Supervisor:
    """Start children in order, watch them, restart the ones that die, stop them in reverse order."""

    def __init__(
        self, env: dict[str, str], echo: Callable[[str], None] = print, lang: str = text.DEFAULT
    ) -> None:
        self.env = env
        self.echo = echo
        self.lang = lang  # the language of the lines it echoes
        self.children: list[Child] = []
        self._stopping = False

    def add(self, child: Child) -> Child:
        self.children.append(child)
        child.start(self.env)
        self.echo(text.t("cli_child_started", self.lang, name=f"{child.name:<12}", pid=child.pid))
        return child

    def request_stop(self, *_: object) -> None:
        self._stopping = True

    @property
    def stopping(self) -> bool:
        return self._stopping

    def watch_once(self) -> None:
        """Restart any child that has exited, after a pause that grows while it keeps dying.

        Each dead child waits on its own clock: one in a long pause (a worker that cannot reach Redis)
        does not hold up the restart of another (Redis itself).
        """
        now = time.monotonic()
        for child in self.children:
            if self._stopping or child.alive() or not child.restart:
                continue
            if child.restart_at is None:
                code = child.process.returncode if child.process else None
                ran_for = now - child.started_at
                child.restarts = 0 if ran_for > 60 else child.restarts + 1
                pause = min(30.0, 0.5 * 2**child.restarts)
                child.restart_at = now + pause
                self.echo(
                    text.t(
                        "cli_child_exited",
                        self.lang,
                        name=child.name,
                        code=code,
                        pause=f"{pause:.1f}",
                        log=child.log_path,
                    )
                )
            elif now >= child.restart_at:
                child.restart_at = None
                child.close_log()
                child.start(self.env)
                self.echo(text.t("cli_child_restarted", self.lang, name=f"{child.name:<10}", pid=child.pid))

    def run_until_stopped(self, poll_s: float = 0.2) -> None:
        while not self._stopping:
            self.watch_once()
            time.sleep(poll_s)

    def stop_all(self, grace_s: float = 15.0) -> None:
        """SIGTERM every child's process group (newest first), then SIGKILL what is left; the children
        marked ``stop_last`` only once the others are gone."""
        self._stopping = True
        self._stop([c for c in reversed(self.children) if not c.stop_last], grace_s)
        self._stop([c for c in reversed(self.children) if c.stop_last], grace_s)

    def _stop(self, children: list[Child], grace_s: float) -> None:
        for child in children:
            if child.alive():
                child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in children:
            if child.process is None:
                continue
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(remaining)
            except subprocess.TimeoutExpired:
                self.echo(text.t("cli_child_killed", self.lang, name=child.name))
                child.signal_group(signal.SIGKILL)
                child.process.wait()
            # whatever the child started in its group goes too
            child.signal_group(signal.SIGKILL)
            child.close_log()
