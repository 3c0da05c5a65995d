"""Real ``rq worker`` processes for tests: start them on the test's Redis and database, wait, stop."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rq.job import Job

from workers.queues import QUEUES, WORKER_CLASS

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def wait_until(predicate: Callable[[], object], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def finished(job: Job) -> bool:
    return job.get_status(refresh=True) in ("finished", "failed")


class Stack:
    """The test's processes and servers, all stopped at the end."""

    def __init__(self, env: dict[str, str], redis_url: str, logs: Path) -> None:
        self.env, self.redis_url, self.logs = env, redis_url, logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *argv: str, name: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        argv = [str(BIN / "rq"), "worker", "--url", self.redis_url, "-w", WORKER_CLASS, "--with-scheduler"]
        return self.start(*argv, "--name", f"{name}-{os.getpid()}-{time.monotonic_ns()}", *QUEUES, name=name)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
