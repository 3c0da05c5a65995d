"""The loop's outbox: instructions per second from a 交办 to "delivered" at a local department desk,
beside a plain loop of signed HTTP POSTs of the same messages to the same desk, in the same run (the
outbox's price for never losing one).

    python benchmarks/bench_outbox.py [--instructions 300] [--database-url URL]

Runs in a temporary folder: SQLite (or the given URL, an empty database), the catalogue, one case and
one duty officer, and a department desk (``simulators.desk``, the demo's) on 127.0.0.1 that checks
every signature and deduplicates on the idempotency key. Outbox: each 交办 is its own transaction as
the web tier would write it (instruction + timeline event + recipient + outbox row + audit), then the
delivery run (``workers.outbox.deliver.run_delivery``, what the RQ job calls, in this process: RQ's
own overhead is not counted) claims, signs, posts and records each one. Plain: the same number of
bodies signed and posted in a loop over one HTTP client, nothing recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from data import migrate
from data.auth import create_user, get_user
from data.db import make_engine, make_sessionmaker, transaction
from data.loop import actions, signing
from data.loop.endpoints import load_endpoints
from data.models import Case, OutboxMessage
from data.seed import seed_catalogue
from data.settings import Settings
from simulators.desk import Desk
from simulators.runner import Serving
from workers.outbox.deliver import run_delivery

SECRET = "bench-secret-0123456789"
ENV = "GRIDCC_BENCH_LOOP_SECRET"


def setup(url: str) -> tuple[sessionmaker[Session], int]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        seed_catalogue(session)
        create_user(session, "duty1", "correct horse 9", "duty", "500151001")
        case = Case(feed_name="bench", external_id="B1", requested_at=datetime.now(UTC), title="占道经营",
                    category_code="city.clutter", priority="normal", status="accepted")  # fmt: skip
        case.set_place("500151001001001")
        session.add(case)
        session.flush()
        return factory, case.id


def outbox_run(
    factory: sessionmaker[Session], settings: Settings, case_id: int, n: int
) -> tuple[float, float]:
    started = time.perf_counter()
    for i in range(n):
        with transaction(factory) as session:
            duty = get_user(session, "duty1")
            assert duty is not None
            actions.dispatch(session, settings, duty, case_id, "police", f"第{i}号指令", datetime.now(UTC))
    written = time.perf_counter()
    endpoints = load_endpoints(settings.effective_feeds_file)
    while True:
        counts = run_delivery(factory, settings, endpoints, budget_seconds=600)
        if counts.delivered == 0 and counts.retrying == 0:
            break
    done = time.perf_counter()
    with factory() as session:
        delivered = session.scalar(select(func.count()).where(OutboxMessage.state == "delivered"))
    assert delivered == n, f"{delivered} of {n} delivered"
    return written - started, done - written


def plain_run(url: str, n: int) -> float:
    started = time.perf_counter()
    with httpx.Client(trust_env=False) as client:
        for i in range(n):
            key = f"plain-{i}"
            body = json.dumps(
                {"message_id": key, "kind": "dispatch", "text": f"第{i}号指令"}, ensure_ascii=False
            ).encode()
            headers = {
                signing.IDEMPOTENCY_KEY: key,
                signing.MESSAGE_ID: key,
                "Content-Type": "application/json",
            }
            headers |= signing.signed_headers(SECRET, str(int(time.time())), body)
            response = client.post(url, content=body, headers=headers)
            assert response.status_code == 200, response.text
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instructions", type=int, default=300)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    n = args.instructions
    os.environ[ENV] = SECRET
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
        desk = Desk("police", SECRET)
        with Serving(desk) as base:
            feeds = folder / "feeds.toml"
            feeds.write_text(
                f'[[endpoint]]\ndepartment = "police"\nurl = "{base}/loop/instructions"\n'
                f'signing = "signed-json"\nsecret_env = "{ENV}"\n',
                encoding="utf-8",
            )
            settings = Settings(data_dir=folder, database_url=url, feeds_file=feeds)
            factory, case_id = setup(url)
            plain = plain_run(f"{base}/loop/instructions", n)
            write, deliver = outbox_run(factory, settings, case_id, n)
            counts = desk.counts.as_dict()
        total = write + deliver
        print(f"database: {url.split(':', 1)[0]}, {n} instructions, one department desk on 127.0.0.1")
        lines = [
            f"plain signed POST loop:  {n / plain:7.1f} /s ({plain:.2f} s)",
            f"outbox, delivery only:   {n / deliver:7.1f} /s ({deliver:.2f} s: claim, sign, POST, record)",
            f"outbox, 交办 + delivery: {n / total:7.1f} /s ({write:.2f} s writing + {deliver:.2f} s sending)",
            f"outbox time vs plain:    {deliver / plain:7.2f} × (delivery), {total / plain:.2f} × (all)",
            f"desk: received {counts['received']}, unique {counts['unique']}, "
            f"duplicates {counts['duplicates']}, bad signatures {counts['bad_signatures']}",
        ]
        print("\n".join(lines))


if __name__ == "__main__":
    main()
